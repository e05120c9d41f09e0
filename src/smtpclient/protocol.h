// The client's side of the SMTP grammar: what an EHLO reply offers, the MAIL
// and RCPT command lines for an envelope, and the DATA transparency (dot
// stuffing). Pure, no I/O. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smtpclient/reply.h"

namespace postern::smtpclient {

// What the server offered in its EHLO reply.
struct Extensions {
  bool starttls = false;          // RFC 3207
  bool pipelining = false;        // RFC 2920
  bool dsn = false;               // RFC 3461
  bool smtputf8 = false;          // RFC 6531
  bool eightbitmime = false;      // RFC 6152
  bool requiretls = false;        // RFC 8689
  bool chunking = false;          // RFC 3030
  uint64_t size = 0;              // RFC 1870 SIZE limit; 0: no limit given
  bool size_offered = false;      // SIZE was announced (SIZE= is then sent)
  std::vector<std::string> auth;  // RFC 4954 mechanisms, upper case
};

struct Recipient {
  std::string address;
  unsigned notify = 0;  // smtp::DsnNotify bits
  std::string orcpt;    // "rfc822;addr", decoded, as stored
};

struct Envelope {
  std::string mail_from;           // "" = null reverse path
  uint64_t size = 0;               // for SIZE=; 0: the message's length is used
  std::string body_type = "7BIT";  // or 8BITMIME, BINARYMIME
  bool smtputf8 = false;
  std::string dsn_ret;    // "FULL", "HDRS" or ""
  std::string dsn_envid;  // decoded
  bool requiretls = false;
  std::vector<Recipient> recipients;
};

// The extensions of a positive EHLO reply (its first line is the greeting).
Extensions ParseEhlo(const Reply& reply);

// True if `text` may go into a command line: no CR, LF, NUL or angle
// bracket that would end the path or start another command. (Addresses
// come from our own queue; this is the last line of defence.)
bool SafeForPath(std::string_view text);

// "MAIL FROM:<a@b> SIZE=123 BODY=8BITMIME ..." without CRLF. Parameters only
// for what the server offers (REQUIRETLS whenever asked: the caller checks).
std::string MailCommand(const Envelope& envelope, const Extensions& extensions, uint64_t size);
// "RCPT TO:<a@b> NOTIFY=... ORCPT=rfc822;..." without CRLF; DSN only if offered.
std::string RcptCommand(const Recipient& recipient, const Extensions& extensions);

// DATA transparency (RFC 5321 §4.5.2) over a message given in pieces: a
// '.' at the start of a line is doubled; bare CR and bare LF become CRLF
// (a receiver must never see a line ending it could read differently: SMTP
// smuggling); Finish() ends the last line if needed and adds ".\r\n".
class DotStuffer {
 public:
  void Stuff(std::string_view in, std::string* out);
  void Finish(std::string* out);

 private:
  bool line_start_ = true;
  bool pending_cr_ = false;
};

}  // namespace postern::smtpclient
