// The SMTP command grammar (RFC 5321 §4.1, plus the ESMTP parameters of
// RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 3030 CHUNKING, RFC 6531 SMTPUTF8,
// RFC 3461 DSN, RFC 4954 AUTH=). Pure and fuzzed (fuzz_command.cc).
// A parse failure carries the exact reply the server should send.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "smtp/address.h"
#include "smtp/reply.h"

namespace postern::smtp {

enum class Verb {
  kHelo,
  kEhlo,
  kLhlo,
  kMail,
  kRcpt,
  kData,
  kBdat,
  kRset,
  kNoop,
  kQuit,
  kHelp,
  kVrfy,
  kExpn,
  kStartTls,
  kAuth,
  kNotImplemented,  // a known verb this server does not offer: ETRN, TURN, ATRN, SEND, SOML, SAML
  kUnknown,
};

enum class BodyType { k7Bit, k8BitMime, kBinaryMime };

enum class DsnRet { kUnspecified, kFull, kHeaders };

// RFC 3461 §4.1 NOTIFY as a bit set; 0 means not given.
enum DsnNotify : unsigned {
  kNotifyNever = 1,
  kNotifySuccess = 2,
  kNotifyFailure = 4,
  kNotifyDelay = 8,
};

struct MailParams {
  std::optional<uint64_t> size;     // SIZE=n (RFC 1870)
  BodyType body = BodyType::k7Bit;  // BODY= (RFC 6152, RFC 3030)
  bool body_given = false;
  bool smtputf8 = false;              // SMTPUTF8 (RFC 6531)
  DsnRet ret = DsnRet::kUnspecified;  // RET=FULL|HDRS (RFC 3461)
  std::string envid;                  // ENVID=, xtext-decoded
  std::string auth;                   // AUTH=, xtext-decoded ("<>" kept as is)
  bool requiretls = false;            // REQUIRETLS (RFC 8689)
};

struct RcptParams {
  unsigned notify = 0;     // DsnNotify bits
  std::string orcpt_type;  // ORCPT=type;addr: "rfc822" (lowercased)
  std::string orcpt;       // the xtext-decoded address
};

struct Command {
  Verb verb = Verb::kUnknown;
  std::string verb_text;  // the verb as sent, for logs and replies
  std::string argument;   // HELO/EHLO domain, VRFY/EXPN/HELP argument, AUTH arguments
  Path path;              // MAIL/RCPT
  MailParams mail;
  RcptParams rcpt;
  bool has_parameters = false;  // MAIL/RCPT carried ESMTP parameters
  uint64_t bdat_size = 0;       // BDAT chunk size
  bool bdat_last = false;       // BDAT ... LAST
};

struct ParseOptions {
  // After EHLO: ESMTP parameters are allowed. After HELO they are refused
  // with 555 5.5.4 (RFC 5321 §4.1.1.11).
  bool extended = true;
  // For RCPT: the transaction's MAIL had SMTPUTF8, so UTF-8 paths are allowed.
  bool utf8_transaction = false;
  // Largest declared SIZE the parser accepts as a number; larger numbers are
  // still parsed, capped to max_size_value + 1, so the session can answer 552
  // (`size > limit` stays true).
  uint64_t max_size_value = UINT64_MAX;
};

struct ParsedCommand {
  Command command;
  // Set when the line is not acceptable; the session sends it unchanged.
  // Codes: 500 5.5.2 unknown verb / bad line, 501 5.5.4 bad arguments
  // (including a malformed, missing or duplicate value of a known MAIL/RCPT
  // parameter), 501 5.1.7 bad sender syntax, 501 5.1.3 bad recipient syntax,
  // 553 5.6.7 non-ASCII address without SMTPUTF8, 555 5.5.4 unknown MAIL/RCPT
  // parameter (or any parameter without EHLO), 504 5.5.4 unsupported BODY type.
  std::optional<Reply> error;
};

// `line` is one command line without its CRLF (or bare LF).
ParsedCommand ParseCommand(std::string_view line, const ParseOptions& options);

// RFC 3461 §4 xtext. Decode fails on bad "+XX" escapes or forbidden bytes.
std::optional<std::string> XtextDecode(std::string_view text);
std::string XtextEncode(std::string_view text);

}  // namespace postern::smtp
