// The shared productions of the IMAP grammar (RFC 9051 §9, RFC 3501 §9): strings and literals,
// numbers, sequence sets, mailbox names (RFC 3501 §5.1.3, RFC 6855 §3), dates and flags.
#include "imap/parser.h"

#include <algorithm>
#include <string>
#include <utility>

#include "base/strings.h"
#include "imap/modified_utf7.h"

namespace postern::imap::internal {
namespace {

constexpr size_t kMaxNumberDigits = 10;    // 4294967295
constexpr size_t kMaxNumber64Digits = 19;  // 9223372036854775807
constexpr uint64_t kMaxNumber64 = 9'223'372'036'854'775'807ULL;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsSequenceSetChar(char c) {
  return IsDigit(c) || c == ':' || c == ',' || c == '*' || c == '$';
}

// ASTRING-CHAR = ATOM-CHAR / resp-specials.
bool IsAStringChar(char c) { return IsAtomChar(c) || c == ']'; }

// list-char = ATOM-CHAR / list-wildcards / resp-specials.
bool IsListChar(char c) { return IsAStringChar(c) || c == '%' || c == '*'; }

// Decimal digits to a value, or nullopt above `max`.
std::optional<uint64_t> DigitsValue(std::string_view digits, size_t max_digits, uint64_t max) {
  if (digits.empty() || digits.size() > max_digits) return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) value = value * 10 + static_cast<uint64_t>(c - '0');
  if (value > max) return std::nullopt;
  return value;
}

// Net-Unicode forbids these in mailbox names (RFC 6855 §3, RFC 5198 §2): C0 and C1 controls,
// DEL, U+2028 and U+2029. `name` is valid UTF-8.
bool HasForbiddenNameCharacter(std::string_view name) {
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < name.size()) {
      auto next = static_cast<unsigned char>(name[i + 1]);
      if (next >= 0x80 && next <= 0x9f) return true;
    }
    if (c == 0xe2 && i + 2 < name.size() && static_cast<unsigned char>(name[i + 1]) == 0x80) {
      auto last = static_cast<unsigned char>(name[i + 2]);
      if (last == 0xa8 || last == 0xa9) return true;
    }
  }
  return false;
}

}  // namespace

bool IsAtomChar(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;  // CTL, SP, DEL and 8-bit octets
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']':
      return false;
    default:
      return true;
  }
}

bool IsHeaderFieldName(std::string_view name) {
  // field-name = 1*ftext; ftext = %d33-57 / %d59-126 (RFC 5322 §3.6.8)
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return c > 32 && c < 127 && c != ':'; });
}

std::string Shown(std::string_view s) { return SanitizeForLog(AsciiToUpper(s), 40); }

Status SyntaxError(std::string message) { return InvalidArgument(std::move(message)); }

std::optional<std::string> CanonicalSystemFlag(std::string_view name) {
  static constexpr std::string_view kFlags[] = {"Answered", "Flagged", "Deleted",
                                                "Seen",     "Draft",   "Recent"};
  for (std::string_view flag : kFlags) {
    if (EqualsIgnoreCase(name, flag)) return "\\" + std::string(flag);
  }
  return std::nullopt;
}

bool Parser::AtEnd() const {
  std::string_view rest = in_.substr(pos_);
  return rest.empty() || rest == "\r\n" || rest == "\n";
}

bool Parser::PeekKeyword(std::string_view keyword) const {
  if (in_.size() - pos_ < keyword.size()) return false;
  if (!EqualsIgnoreCase(in_.substr(pos_, keyword.size()), keyword)) return false;
  size_t after = pos_ + keyword.size();
  if (after == in_.size()) return true;
  char c = in_[after];
  return c == ' ' || c == '(' || c == ')' || c == '\r' || c == '\n';
}

bool Parser::PeekText(std::string_view text) const {
  return in_.size() - pos_ >= text.size() && EqualsIgnoreCase(in_.substr(pos_, text.size()), text);
}

bool Parser::Consume(char c) {
  if (!Peek(c)) return false;
  ++pos_;
  return true;
}

bool Parser::ConsumeKeyword(std::string_view keyword) {
  if (!PeekKeyword(keyword)) return false;
  pos_ += keyword.size();
  return true;
}

Status Parser::Expect(char c, std::string_view what) {
  if (Consume(c)) return Status::Ok();
  return SyntaxError("Expected " + std::string(what));
}

Status Parser::Space() {
  if (Consume(' ')) return Status::Ok();
  if (AtEnd()) return SyntaxError("Missing arguments");
  return SyntaxError("Expected SP");
}

Status Parser::End() {
  if (AtEnd()) return Status::Ok();
  return SyntaxError("Unexpected characters after the arguments");
}

std::string_view Parser::TakeWhile(bool (*pred)(char)) {
  size_t start = pos_;
  while (pos_ < in_.size() && pred(in_[pos_])) ++pos_;
  return in_.substr(start, pos_ - start);
}

Result<std::string_view> Parser::Atom(std::string_view what) {
  std::string_view atom = TakeWhile(IsAtomChar);
  if (atom.empty()) return SyntaxError("Expected " + std::string(what));
  return atom;
}

Result<std::string> Parser::Keyword(std::string_view what) {
  PT_ASSIGN_OR_RETURN(std::string_view atom, Atom(what));
  return AsciiToUpper(atom);
}

Result<std::string> Parser::Quoted() {
  PT_RETURN_IF_ERROR(Expect('"', "quoted string"));
  std::string out;
  while (true) {
    if (pos_ >= in_.size()) return SyntaxError("Unterminated quoted string");
    char c = in_[pos_++];
    if (c == '"') break;
    if (c == '\\') {
      // quoted-specials are the only escapes (RFC 9051 §9 QUOTED-CHAR).
      if (pos_ >= in_.size() || (in_[pos_] != '"' && in_[pos_] != '\\')) {
        return SyntaxError("Invalid escape in quoted string");
      }
      out.push_back(in_[pos_++]);
      continue;
    }
    if (c == '\r' || c == '\n') return SyntaxError("Unterminated quoted string");
    if (c == '\0') return SyntaxError("NUL in quoted string");
    out.push_back(c);
  }
  // 8-bit text in quoted strings is UTF-8 or refused (RFC 9051 §9, RFC 6855 §3).
  if (HasNonAscii(out) && !IsValidUtf8(out)) {
    return SyntaxError("Quoted string is not valid UTF-8");
  }
  return out;
}

Result<LiteralValue> Parser::Literal(LiteralUse use) {
  LiteralValue literal;
  if (Consume('~')) {
    literal.literal8 = true;
    if (use != LiteralUse::kMessage) {
      return SyntaxError("Binary literal (~{N}) is only allowed for APPEND data");
    }
  }
  PT_RETURN_IF_ERROR(Expect('{', "literal"));
  std::string_view digits = TakeWhile(IsDigit);
  if (digits.empty()) return SyntaxError("Invalid literal size");
  std::optional<uint64_t> size = DigitsValue(digits, kMaxNumber64Digits, kMaxNumber64);
  if (!size) return SyntaxError("Literal size out of range");
  Consume('+');  // LITERAL+ (RFC 7888): framing is the session's business
  PT_RETURN_IF_ERROR(Expect('}', "} to end the literal size"));
  Consume('\r');  // bare LF is tolerated
  if (!Consume('\n')) return SyntaxError("Expected CRLF after literal size");
  if (*size > in_.size() - pos_) return SyntaxError("Literal is longer than the data sent");
  literal.bytes = in_.substr(pos_, *size);
  pos_ += *size;
  // literal = "{" number64 ["+"] "}" CRLF *CHAR8: no NUL outside literal8 (RFC 9051 §9); message
  // data is passed through and judged by the session.
  if (use == LiteralUse::kString && literal.bytes.find('\0') != std::string_view::npos) {
    return SyntaxError("NUL in literal");
  }
  return literal;
}

Result<std::string> Parser::String(std::string_view what) {
  if (Peek('"')) return Quoted();
  if (Peek('{') || (Peek('~') && pos_ + 1 < in_.size() && in_[pos_ + 1] == '{')) {
    PT_ASSIGN_OR_RETURN(LiteralValue literal, Literal(LiteralUse::kString));
    return std::string(literal.bytes);
  }
  return SyntaxError("Expected " + std::string(what) + " (a quoted string or literal)");
}

Result<std::string> Parser::AString(std::string_view what) {
  // "~" is an ATOM-CHAR, so "~peter" is an atom; only "~{" starts a literal8.
  bool literal8 = Peek('~') && pos_ + 1 < in_.size() && in_[pos_ + 1] == '{';
  if (Peek('"') || Peek('{') || literal8) return String(what);
  std::string_view atom = TakeWhile(IsAStringChar);
  if (atom.empty()) return SyntaxError("Expected " + std::string(what));
  return std::string(atom);
}

Result<std::optional<std::string>> Parser::NString(std::string_view what) {
  if (ConsumeKeyword("NIL")) return std::optional<std::string>();
  PT_ASSIGN_OR_RETURN(std::string s, String(what));
  return std::optional<std::string>(std::move(s));
}

Result<uint32_t> Parser::Number(std::string_view what) {
  std::string_view digits = TakeWhile(IsDigit);
  if (digits.empty()) return SyntaxError("Expected " + std::string(what));
  std::optional<uint64_t> value = DigitsValue(digits, kMaxNumberDigits, UINT32_MAX);
  if (!value) return SyntaxError("Number out of range for " + std::string(what));
  return static_cast<uint32_t>(*value);
}

Result<uint32_t> Parser::NzNumber(std::string_view what) {
  bool leading_zero = Peek('0');
  PT_ASSIGN_OR_RETURN(uint32_t value, Number(what));
  if (leading_zero) return SyntaxError("Expected a non-zero number for " + std::string(what));
  return value;
}

Result<uint64_t> Parser::Number64(std::string_view what, bool nonzero) {
  bool leading_zero = Peek('0');
  std::string_view digits = TakeWhile(IsDigit);
  if (digits.empty()) return SyntaxError("Expected " + std::string(what));
  std::optional<uint64_t> value = DigitsValue(digits, kMaxNumber64Digits, kMaxNumber64);
  if (!value) return SyntaxError("Number out of range for " + std::string(what));
  if (nonzero && leading_zero) {
    return SyntaxError("Expected a non-zero number for " + std::string(what));
  }
  return *value;
}

Result<SequenceSet> Parser::Set(SetRules rules) {
  std::string_view text = TakeWhile(IsSequenceSetChar);
  if (text.empty()) return SyntaxError("Expected a sequence set");
  if (pos_ < in_.size() && IsAtomChar(in_[pos_])) return SyntaxError("Invalid sequence set");
  PT_ASSIGN_OR_RETURN(SequenceSet set, ParseSequenceSet(text, options_.max_sequence_ranges));
  if (set.saved && !rules.allow_saved) return SyntaxError("$ is not allowed here");
  if (set.HasStar() && !rules.allow_star) return SyntaxError("* is not allowed here");
  return set;
}

Result<std::string> Parser::DecodeMailboxName(std::string raw, bool normalize_inbox) const {
  // RFC 9051 §5.1: every case variant of INBOX is INBOX.
  if (normalize_inbox && EqualsIgnoreCase(raw, "INBOX")) return std::string("INBOX");
  std::string name;
  if (options_.utf8) {
    if (!IsValidUtf8(raw)) return SyntaxError("Mailbox name is not valid UTF-8");
    name = std::move(raw);
  } else {
    // IMAP4rev1 names are modified UTF-7, so 7-bit (RFC 3501 §5.1.3).
    if (HasNonAscii(raw)) {
      return SyntaxError("Mailbox name has 8-bit characters without UTF8=ACCEPT");
    }
    Result<std::string> decoded = DecodeModifiedUtf7(raw);
    if (!decoded.ok()) return SyntaxError("Mailbox name is not valid modified UTF-7");
    name = std::move(decoded).value();
  }
  if (HasForbiddenNameCharacter(name)) {
    return SyntaxError("Mailbox name contains control characters");
  }
  return name;
}

Result<std::string> Parser::Mailbox() {
  PT_ASSIGN_OR_RETURN(std::string raw, AString("mailbox name"));
  return DecodeMailboxName(std::move(raw), true);
}

Result<std::string> Parser::Reference() {
  PT_ASSIGN_OR_RETURN(std::string raw, AString("reference name"));
  return DecodeMailboxName(std::move(raw), false);
}

Result<std::string> Parser::ListMailbox() {
  std::string raw;
  if (Peek('"') || Peek('{')) {
    PT_ASSIGN_OR_RETURN(raw, String("mailbox pattern"));
  } else {
    std::string_view chars = TakeWhile(IsListChar);
    if (chars.empty()) return SyntaxError("Expected mailbox pattern");
    raw = std::string(chars);
  }
  return DecodeMailboxName(std::move(raw), false);
}

Result<Date> Parser::SearchDate() {
  std::string text;
  if (Peek('"')) {
    PT_ASSIGN_OR_RETURN(text, Quoted());
  } else {
    PT_ASSIGN_OR_RETURN(std::string_view atom, Atom("date"));
    text = std::string(atom);
  }
  std::optional<Date> date = ParseDate(text);
  if (!date) return SyntaxError("Invalid date, expected d-Mon-yyyy");
  return *date;
}

Result<DateTime> Parser::QuotedDateTime() {
  if (!Peek('"')) return SyntaxError("Expected a quoted date-time");
  PT_ASSIGN_OR_RETURN(std::string text, Quoted());
  std::optional<DateTime> date_time = ParseDateTime(text);
  if (!date_time) return SyntaxError("Invalid date-time, expected \"dd-Mon-yyyy hh:mm:ss +zzzz\"");
  return *date_time;
}

Result<std::string> Parser::Flag() {
  if (Consume('\\')) {
    if (Peek('*')) return SyntaxError("\\* is only valid in PERMANENTFLAGS");
    PT_ASSIGN_OR_RETURN(std::string_view name, Atom("flag name after \\"));
    std::optional<std::string> flag = CanonicalSystemFlag(name);
    if (!flag) return SyntaxError("Unknown system flag \\" + Shown(name));
    // RFC 9051 §9 flag: "Does not include \Recent"; RFC 3501 §2.3.2: clients cannot set it.
    if (*flag == "\\Recent") return SyntaxError("\\Recent cannot be set by a client");
    return *flag;
  }
  PT_ASSIGN_OR_RETURN(std::string_view keyword, Atom("flag"));
  return std::string(keyword);
}

Result<std::vector<std::string>> Parser::FlagList() {
  std::vector<std::string> flags;
  PT_RETURN_IF_ERROR(ParenthesizedList("flag list", true, [&]() -> Status {
    PT_ASSIGN_OR_RETURN(std::string flag, Flag());
    if (std::find(flags.begin(), flags.end(), flag) == flags.end()) flags.push_back(flag);
    return Status::Ok();
  }));
  return flags;
}

Status Parser::CountItem(size_t* count, std::string_view what) const {
  if (++*count > options_.max_list_items) {
    return SyntaxError("Too many items in the " + std::string(what));
  }
  return Status::Ok();
}

}  // namespace postern::imap::internal
