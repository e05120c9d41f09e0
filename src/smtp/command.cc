// SMTP command line parser (RFC 5321 §4.1.1, §4.1.2) with the ESMTP MAIL and
// RCPT parameters of RFC 1870, 6152, 3030, 6531, 3461 and 4954. Every failure
// becomes the reply the session sends; reply texts never echo raw bytes.
#include "smtp/command.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "base/strings.h"

namespace postern::smtp {
namespace {

constexpr size_t kMaxDecimalDigits = 20;  // RFC 1870 §3: size-value = 1*20DIGIT
constexpr size_t kMaxEnvidLength = 100;   // RFC 3461 §4.4
constexpr size_t kMaxOrcptLength = 500;   // RFC 3461 §4.2

struct VerbName {
  std::string_view name;
  Verb verb;
};

constexpr VerbName kVerbs[] = {
    {"HELO", Verb::kHelo},
    {"EHLO", Verb::kEhlo},
    {"LHLO", Verb::kLhlo},
    {"MAIL", Verb::kMail},
    {"RCPT", Verb::kRcpt},
    {"DATA", Verb::kData},
    {"BDAT", Verb::kBdat},
    {"RSET", Verb::kRset},
    {"NOOP", Verb::kNoop},
    {"QUIT", Verb::kQuit},
    {"HELP", Verb::kHelp},
    {"VRFY", Verb::kVrfy},
    {"EXPN", Verb::kExpn},
    {"STARTTLS", Verb::kStartTls},
    {"AUTH", Verb::kAuth},
    // Known verbs this server does not offer; the session answers 502.
    {"ETRN", Verb::kNotImplemented},
    {"TURN", Verb::kNotImplemented},
    {"ATRN", Verb::kNotImplemented},
    {"SEND", Verb::kNotImplemented},
    {"SOML", Verb::kNotImplemented},
    {"SAML", Verb::kNotImplemented},
};

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view SkipBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  return s;
}

// Splits on runs of spaces (and tabs); no empty tokens.
std::vector<std::string_view> Tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsBlank(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !IsBlank(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// 1*20DIGIT, saturating at UINT64_MAX (twenty nines do not fit).
std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > kMaxDecimalDigits) return std::nullopt;
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    auto digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) {
      value = UINT64_MAX;
    } else {
      value = value * 10 + digit;
    }
  }
  return value;
}

// For replies: upper case, printable ASCII only, bounded.
std::string Shown(std::string_view s) { return SanitizeForLog(AsciiToUpper(s), 40); }

Reply SyntaxError(std::string text) { return Reply(501, "5.5.4", std::move(text)); }

// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") (RFC 5321 §4.1.2).
bool IsEsmtpKeyword(std::string_view keyword) {
  if (keyword.empty() || keyword.front() == '-') return false;
  return std::all_of(keyword.begin(), keyword.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// The end of "<...>" at the start of `s` (one past '>'), skipping '>' inside
// a quoted local part; npos if there is none.
size_t FindPathEnd(std::string_view s) {
  bool quoted = false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (quoted) {
      if (s[i] == '\\') {
        ++i;
      } else if (s[i] == '"') {
        quoted = false;
      }
    } else if (s[i] == '"') {
      quoted = true;
    } else if (s[i] == '>') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

struct Parameter {
  std::string_view keyword;
  std::string_view value;
  bool has_value = false;
};

// Splits keyword[=value] and checks the keyword; nullopt if malformed.
std::optional<Parameter> SplitParameter(std::string_view token) {
  Parameter p;
  size_t eq = token.find('=');
  p.keyword = token.substr(0, eq);
  if (eq != std::string_view::npos) {
    p.has_value = true;
    p.value = token.substr(eq + 1);
  }
  if (!IsEsmtpKeyword(p.keyword)) return std::nullopt;
  return p;
}

std::optional<Reply> DuplicateOrValue(const Parameter& p, bool* seen, bool needs_value) {
  if (*seen) return SyntaxError("Duplicate parameter " + Shown(p.keyword));
  *seen = true;
  if (needs_value && (!p.has_value || p.value.empty())) {
    return SyntaxError("Parameter " + Shown(p.keyword) + " needs a value");
  }
  if (!needs_value && p.has_value) {
    return SyntaxError("Parameter " + Shown(p.keyword) + " takes no value");
  }
  return std::nullopt;
}

// Decoded xtext that must be printable US-ASCII (RFC 3461 §4.2, §4.4).
std::optional<std::string> DecodePrintableXtext(std::string_view value) {
  std::optional<std::string> decoded = XtextDecode(value);
  if (!decoded || !IsPrintableAscii(*decoded)) return std::nullopt;
  return decoded;
}

// xtext that may also carry raw UTF-8 (utf-8-addr-unitext, RFC 6533 §3).
std::optional<std::string> DecodeUnitext(std::string_view value) {
  if (!IsValidUtf8(value)) return std::nullopt;
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    size_t start = i;
    bool ascii = static_cast<unsigned char>(value[i]) < 0x80;
    while (i < value.size() && (static_cast<unsigned char>(value[i]) < 0x80) == ascii) ++i;
    std::string_view run = value.substr(start, i - start);
    if (!ascii) {
      out.append(run);
      continue;
    }
    std::optional<std::string> decoded = DecodePrintableXtext(run);
    if (!decoded) return std::nullopt;
    out.append(*decoded);
  }
  return out;
}

std::optional<Reply> ParseMailParameter(const Parameter& p, const ParseOptions& options,
                                        MailParams* mail, unsigned* seen_mask) {
  enum Seen : unsigned {
    kSize = 1,
    kBody = 2,
    kUtf8 = 4,
    kRet = 8,
    kEnvid = 16,
    kAuth = 32,
    kRequireTls = 64,
  };
  auto check = [&](Seen bit, bool needs_value) {
    bool seen = (*seen_mask & bit) != 0;
    std::optional<Reply> error = DuplicateOrValue(p, &seen, needs_value);
    *seen_mask |= bit;
    return error;
  };
  if (EqualsIgnoreCase(p.keyword, "SIZE")) {
    if (auto error = check(kSize, true)) return error;
    std::optional<uint64_t> size = ParseDecimal(p.value);
    if (!size) return SyntaxError("Bad SIZE value, expected up to 20 digits");
    // Numbers above the configured ceiling are kept just above it, so the
    // session's "size > limit" comparison still sees the excess (RFC 1870 §6.2).
    if (*size > options.max_size_value) {
      *size = options.max_size_value == UINT64_MAX ? UINT64_MAX : options.max_size_value + 1;
    }
    mail->size = *size;
    return std::nullopt;
  }
  if (EqualsIgnoreCase(p.keyword, "BODY")) {
    if (auto error = check(kBody, true)) return error;
    mail->body_given = true;
    if (EqualsIgnoreCase(p.value, "7BIT")) {
      mail->body = BodyType::k7Bit;
    } else if (EqualsIgnoreCase(p.value, "8BITMIME")) {
      mail->body = BodyType::k8BitMime;
    } else if (EqualsIgnoreCase(p.value, "BINARYMIME")) {
      // RFC 3030 §3: only for servers that offer BINARYMIME, which this one does not.
      mail->body = BodyType::kBinaryMime;
      return Reply(504, "5.5.4", "BODY=BINARYMIME is not supported");
    } else {
      return SyntaxError("Bad BODY value, expected 7BIT or 8BITMIME");
    }
    return std::nullopt;
  }
  if (EqualsIgnoreCase(p.keyword, "SMTPUTF8")) {
    if (auto error = check(kUtf8, false)) return error;
    mail->smtputf8 = true;
    return std::nullopt;
  }
  if (EqualsIgnoreCase(p.keyword, "REQUIRETLS")) {
    if (auto error = check(kRequireTls, false)) return error;
    mail->requiretls = true;
    return std::nullopt;
  }
  if (EqualsIgnoreCase(p.keyword, "RET")) {
    if (auto error = check(kRet, true)) return error;
    if (EqualsIgnoreCase(p.value, "FULL")) {
      mail->ret = DsnRet::kFull;
    } else if (EqualsIgnoreCase(p.value, "HDRS")) {
      mail->ret = DsnRet::kHeaders;
    } else {
      return SyntaxError("Bad RET value, expected FULL or HDRS");
    }
    return std::nullopt;
  }
  if (EqualsIgnoreCase(p.keyword, "ENVID")) {
    if (auto error = check(kEnvid, true)) return error;
    if (p.value.size() > kMaxEnvidLength) return SyntaxError("ENVID longer than 100 characters");
    std::optional<std::string> envid = DecodePrintableXtext(p.value);
    if (!envid) return SyntaxError("Bad ENVID value, expected xtext of printable ASCII");
    mail->envid = std::move(*envid);
    return std::nullopt;
  }
  if (EqualsIgnoreCase(p.keyword, "AUTH")) {
    // RFC 4954 §5: AUTH=<> or AUTH=xtext(addr-spec); "<>" is valid xtext.
    if (auto error = check(kAuth, true)) return error;
    std::optional<std::string> auth = XtextDecode(p.value);
    if (!auth) return SyntaxError("Bad AUTH value, expected xtext");
    mail->auth = std::move(*auth);
    return std::nullopt;
  }
  return Reply(555, "5.5.4", "Unrecognized parameter " + Shown(p.keyword));
}

std::optional<Reply> ParseRcptParameter(const Parameter& p, RcptParams* rcpt, unsigned* seen_mask) {
  enum Seen : unsigned { kNotify = 1, kOrcpt = 2 };
  auto check = [&](Seen bit) {
    bool seen = (*seen_mask & bit) != 0;
    std::optional<Reply> error = DuplicateOrValue(p, &seen, true);
    *seen_mask |= bit;
    return error;
  };
  if (EqualsIgnoreCase(p.keyword, "NOTIFY")) {
    // RFC 3461 §4.1: "NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" ).
    if (auto error = check(kNotify)) return error;
    unsigned notify = 0;
    for (std::string_view item : Split(p.value, ',')) {
      if (EqualsIgnoreCase(item, "NEVER")) {
        notify |= kNotifyNever;
      } else if (EqualsIgnoreCase(item, "SUCCESS")) {
        notify |= kNotifySuccess;
      } else if (EqualsIgnoreCase(item, "FAILURE")) {
        notify |= kNotifyFailure;
      } else if (EqualsIgnoreCase(item, "DELAY")) {
        notify |= kNotifyDelay;
      } else {
        return SyntaxError("Bad NOTIFY value, expected NEVER or SUCCESS,FAILURE,DELAY");
      }
    }
    if ((notify & kNotifyNever) && notify != kNotifyNever) {
      return SyntaxError("NOTIFY=NEVER cannot be combined with other values");
    }
    rcpt->notify = notify;
    return std::nullopt;
  }
  if (EqualsIgnoreCase(p.keyword, "ORCPT")) {
    // RFC 3461 §4.2: addr-type ";" xtext, at most 500 characters.
    if (auto error = check(kOrcpt)) return error;
    if (p.value.size() > kMaxOrcptLength) return SyntaxError("ORCPT longer than 500 characters");
    size_t semicolon = p.value.find(';');
    std::string_view type = p.value.substr(0, semicolon);
    bool type_ok = semicolon != std::string_view::npos && !type.empty() &&
                   std::all_of(type.begin(), type.end(), [](char c) {
                     auto u = static_cast<unsigned char>(c);
                     return u > 32 && u < 127 && u != '(' && u != ')' && u != '<' && u != '>' &&
                            u != '@' && u != ',' && u != ';' && u != ':' && u != '\\' && u != '"' &&
                            u != '.' && u != '[' && u != ']';
                   });
    if (!type_ok) return SyntaxError("Bad ORCPT value, expected addr-type;address");
    std::string lowered_type = AsciiToLower(type);
    std::string_view address = p.value.substr(semicolon + 1);
    // RFC 6533 §3: the utf-8 address type may carry raw UTF-8.
    std::optional<std::string> decoded =
        lowered_type == "utf-8" ? DecodeUnitext(address) : DecodePrintableXtext(address);
    if (!decoded || decoded->empty()) return SyntaxError("Bad ORCPT address, expected xtext");
    rcpt->orcpt_type = std::move(lowered_type);
    rcpt->orcpt = std::move(*decoded);
    return std::nullopt;
  }
  return Reply(555, "5.5.4", "Unrecognized parameter " + Shown(p.keyword));
}

// Address error replies: RFC 3463 §3.2 (X.1.7 sender, X.1.3 recipient) and
// RFC 6531 §3.7.4.1 (553 5.6.7).
Reply AddressReply(AddressError error, bool sender) {
  const char* enhanced = sender ? "5.1.7" : "5.1.3";
  const char* who = sender ? "sender" : "recipient";
  const char* capitalized = sender ? "Sender" : "Recipient";
  switch (error) {
    case AddressError::kTooLong:
      return Reply(501, enhanced, std::string(capitalized) + " address too long");
    case AddressError::kMissingDomain:
      return Reply(501, enhanced, std::string(capitalized) + " address has no domain");
    case AddressError::kNonAscii:
      return Reply(553, "5.6.7", std::string("Non-ASCII ") + who + " address requires SMTPUTF8");
    case AddressError::kSyntax:
      break;
  }
  return Reply(501, enhanced, std::string("Bad ") + who + " address syntax");
}

// MAIL FROM:<path> [params] / RCPT TO:<path> [params]; `rest` is after the verb.
void ParseMailOrRcpt(std::string_view rest, const ParseOptions& options, ParsedCommand* parsed) {
  Command& command = parsed->command;
  const bool sender = command.verb == Verb::kMail;
  const std::string_view prefix = sender ? "FROM:" : "TO:";
  if (!StartsWithIgnoreCase(rest, prefix)) {
    parsed->error = SyntaxError(sender ? "Syntax: MAIL FROM:<address> [parameters]"
                                       : "Syntax: RCPT TO:<address> [parameters]");
    return;
  }
  // RFC 5321 §4.1.2 allows no space after the colon; many clients send one.
  rest = SkipBlanks(rest.substr(prefix.size()));
  size_t path_end =
      rest.empty() || rest.front() != '<' ? std::string_view::npos : FindPathEnd(rest);
  if (path_end == std::string_view::npos) {
    parsed->error = AddressReply(AddressError::kSyntax, sender);
    return;
  }
  std::string_view path_text = rest.substr(0, path_end);
  std::string_view params_text = rest.substr(path_end);
  if (!params_text.empty() && !IsBlank(params_text.front())) {
    parsed->error = AddressReply(AddressError::kSyntax, sender);
    return;
  }
  std::vector<std::string_view> tokens = Tokens(params_text);
  command.has_parameters = !tokens.empty();
  // Parameters first: SMTPUTF8 decides whether the path may hold UTF-8.
  std::optional<Reply> param_error;
  if (command.has_parameters && !options.extended) {
    // RFC 5321 §4.1.1.11: no ESMTP parameters after HELO.
    param_error = Reply(555, "5.5.4", "Parameters not allowed without EHLO");
  }
  unsigned seen = 0;
  for (size_t i = 0; i < tokens.size() && !param_error; ++i) {
    std::optional<Parameter> p = SplitParameter(tokens[i]);
    if (!p) {
      param_error = SyntaxError("Malformed parameter " + Shown(tokens[i]));
    } else if (sender) {
      param_error = ParseMailParameter(*p, options, &command.mail, &seen);
    } else {
      param_error = ParseRcptParameter(*p, &command.rcpt, &seen);
    }
  }
  if (param_error) {
    parsed->error = std::move(param_error);
    return;
  }
  PathOptions path_options;
  path_options.allow_null = sender;
  path_options.allow_postmaster = !sender;
  path_options.allow_utf8 = sender ? command.mail.smtputf8 : options.utf8_transaction;
  PathResult path = ParsePath(path_text, path_options);
  if (!path.ok) {
    parsed->error = AddressReply(path.error, sender);
    return;
  }
  command.path = std::move(path.path);
}

// "BDAT" SP chunk-size [SP end-marker] (RFC 3030 §2).
void ParseBdat(std::string_view rest, ParsedCommand* parsed) {
  std::vector<std::string_view> tokens = Tokens(rest);
  std::optional<uint64_t> size;
  if (!tokens.empty()) size = ParseDecimal(tokens[0]);
  bool last = tokens.size() == 2 && EqualsIgnoreCase(tokens[1], "LAST");
  if (!size || tokens.size() > 2 || (tokens.size() == 2 && !last)) {
    parsed->error = SyntaxError("Syntax: BDAT size [LAST]");
    return;
  }
  parsed->command.bdat_size = *size;
  parsed->command.bdat_last = last;
}

}  // namespace

ParsedCommand ParseCommand(std::string_view line, const ParseOptions& options) {
  ParsedCommand parsed;
  Command& command = parsed.command;
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      parsed.error = Reply(500, "5.5.2", "Syntax error, control characters in command");
      return parsed;
    }
  }
  // Trailing blanks are common ("DATA ") and harmless.
  while (!line.empty() && IsBlank(line.back())) line.remove_suffix(1);
  size_t verb_end = 0;
  while (verb_end < line.size() && !IsBlank(line[verb_end])) ++verb_end;
  std::string_view verb = line.substr(0, verb_end);
  std::string_view rest = SkipBlanks(line.substr(verb_end));
  command.verb_text = std::string(verb);
  for (const VerbName& entry : kVerbs) {
    if (EqualsIgnoreCase(verb, entry.name)) {
      command.verb = entry.verb;
      break;
    }
  }
  switch (command.verb) {
    case Verb::kHelo:
    case Verb::kEhlo:
    case Verb::kLhlo: {
      // RFC 5321 §4.1.1.1 wants a Domain or address-literal; clients call
      // themselves many things, so any single word is taken as it is.
      std::vector<std::string_view> tokens = Tokens(rest);
      if (tokens.empty()) {
        parsed.error = SyntaxError("Syntax: " + AsciiToUpper(verb) + " hostname");
      } else {
        command.argument = std::string(tokens[0]);
      }
      break;
    }
    case Verb::kMail:
    case Verb::kRcpt:
      ParseMailOrRcpt(rest, options, &parsed);
      break;
    case Verb::kData:
    case Verb::kRset:
    case Verb::kQuit:
    case Verb::kStartTls:
      // RFC 5321 §4.1.1.4, §4.1.1.5, §4.1.1.10; RFC 3207 §4.
      if (!rest.empty()) parsed.error = SyntaxError("Syntax: " + AsciiToUpper(verb));
      break;
    case Verb::kNoop:
    case Verb::kHelp:
      // RFC 5321 §4.1.1.8, §4.1.1.9: optional String.
      command.argument = std::string(rest);
      break;
    case Verb::kVrfy:
    case Verb::kExpn:
      // RFC 5321 §4.1.1.6, §4.1.1.7: "VRFY" SP String.
      if (rest.empty()) {
        parsed.error = SyntaxError("Syntax: " + AsciiToUpper(verb) + " address");
      } else {
        command.argument = std::string(rest);
      }
      break;
    case Verb::kBdat:
      ParseBdat(rest, &parsed);
      break;
    case Verb::kAuth:
      // RFC 4954 §4: "AUTH" SP mechanism [SP initial-response].
      if (rest.empty()) {
        parsed.error = SyntaxError("Syntax: AUTH mechanism [initial-response]");
      } else {
        command.argument = std::string(rest);
      }
      break;
    case Verb::kNotImplemented:
      command.argument = std::string(rest);
      break;
    case Verb::kUnknown:
      parsed.error = Reply(500, "5.5.2", "Syntax error, command unrecognized");
      break;
  }
  return parsed;
}

}  // namespace postern::smtp
