// RFC 5321 §4.1.2 Path / Mailbox parser with the RFC 6531 UTF-8 extensions.
// The parser only ever yields the address shape the grammar gives: relay
// tricks ("a%b@c", "b!a@c", "\"a@b\"@c") stay local parts of the final
// domain, and source routes are dropped (RFC 5321 §4.1.1.3, Appendix C).
#include "smtp/address.h"

#include <optional>
#include <string>

#include "base/strings.h"
#include "smtp/domain_syntax.h"

namespace postern::smtp {
namespace {

// Dot-string = Atom *("." Atom) (RFC 5321 §4.1.2).
bool IsDotString(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  bool previous_dot = false;
  for (unsigned char c : s) {
    if (c == '.') {
      if (previous_dot) return false;
      previous_dot = true;
      continue;
    }
    previous_dot = false;
    if (!IsAtext(c)) return false;
  }
  return !HasNonAscii(s) || IsValidUtf8(s);
}

// qtextSMTP = %d32-33 / %d35-91 / %d93-126 (RFC 5321 §4.1.2), plus
// UTF8-non-ascii (RFC 6531 §3.3).
bool IsQtext(unsigned char c) {
  return (c >= 32 && c <= 126 && c != '"' && c != '\\') || c >= 0x80;
}

struct ParsedMailbox {
  Mailbox mailbox;
  size_t local_wire_length = 0;  // the local part as written, quotes included
  bool bare_dot_string = false;  // no "@": `mailbox.local_part` holds the dot-string
};

// Parses "Local-part @ (Domain / address-literal)" filling all of `text`.
std::optional<AddressError> ParseMailboxText(std::string_view text, ParsedMailbox* parsed) {
  Mailbox& mailbox = parsed->mailbox;
  size_t i = 0;
  if (!text.empty() && text.front() == '"') {
    // Quoted-string = DQUOTE *QcontentSMTP DQUOTE; quoted-pairSMTP = "\" %d32-126.
    i = 1;
    bool closed = false;
    while (i < text.size()) {
      auto c = static_cast<unsigned char>(text[i]);
      if (c == '"') {
        closed = true;
        ++i;
        break;
      }
      if (c == '\\') {
        if (i + 1 >= text.size()) return AddressError::kSyntax;
        auto escaped = static_cast<unsigned char>(text[i + 1]);
        if (escaped < 32 || escaped > 126) return AddressError::kSyntax;
        mailbox.local_part.push_back(static_cast<char>(escaped));
        i += 2;
        continue;
      }
      if (!IsQtext(c)) return AddressError::kSyntax;
      mailbox.local_part.push_back(static_cast<char>(c));
      ++i;
    }
    if (!closed) return AddressError::kSyntax;
    if (HasNonAscii(mailbox.local_part) && !IsValidUtf8(mailbox.local_part)) {
      return AddressError::kSyntax;
    }
    mailbox.local_part_quoted = true;
    if (i == text.size()) return AddressError::kMissingDomain;
    if (text[i] != '@') return AddressError::kSyntax;
  } else {
    i = text.find('@');
    std::string_view local = text.substr(0, i);
    if (!IsDotString(local)) return AddressError::kSyntax;
    mailbox.local_part = std::string(local);
    if (i == std::string_view::npos) {
      parsed->bare_dot_string = true;
      return AddressError::kMissingDomain;
    }
  }
  parsed->local_wire_length = i;
  std::string_view domain = text.substr(i + 1);
  if (domain.empty()) return AddressError::kSyntax;
  if (domain.front() == '[') {
    if (!IsAddressLiteral(domain)) return AddressError::kSyntax;
    mailbox.address_literal = true;
  } else {
    switch (CheckDomain(domain)) {
      case DomainSyntax::kOk:
        break;
      case DomainSyntax::kSyntax:
        return AddressError::kSyntax;
      case DomainSyntax::kTooLong:
        return AddressError::kTooLong;
    }
  }
  // RFC 5321 §4.5.3.1.1 and §4.5.3.1.2.
  if (parsed->local_wire_length > kMaxLocalPartLength || domain.size() > kMaxDomainLength) {
    return AddressError::kTooLong;
  }
  mailbox.domain = std::string(domain);
  return std::nullopt;
}

// A-d-l = At-domain *( "," At-domain ), At-domain = "@" Domain, followed by
// ":" (RFC 5321 §4.1.2). Returns the position after the ':' or an error.
std::optional<AddressError> SkipSourceRoute(std::string_view text, size_t* end) {
  size_t pos = 0;
  while (true) {
    if (pos >= text.size() || text[pos] != '@') return AddressError::kSyntax;
    size_t stop = text.find_first_of(",:", pos + 1);
    if (stop == std::string_view::npos) return AddressError::kSyntax;
    switch (CheckDomain(text.substr(pos + 1, stop - pos - 1))) {
      case DomainSyntax::kOk:
        break;
      case DomainSyntax::kSyntax:
        return AddressError::kSyntax;
      case DomainSyntax::kTooLong:
        return AddressError::kTooLong;
    }
    if (text[stop] == ':') {
      *end = stop + 1;
      return std::nullopt;
    }
    pos = stop + 1;
  }
}

std::string QuoteLocalPart(std::string_view local_part) {
  std::string out = "\"";
  for (char c : local_part) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::string Mailbox::ToString() const {
  if (empty()) return std::string();
  std::string out = IsDotString(local_part) ? local_part : QuoteLocalPart(local_part);
  if (!domain.empty()) {
    out.push_back('@');
    out.append(domain);
  }
  return out;
}

bool Mailbox::IsInternational() const { return HasNonAscii(local_part) || HasNonAscii(domain); }

PathResult ParsePath(std::string_view text, const PathOptions& options) {
  PathResult result;
  auto fail = [&result](AddressError error) {
    result.ok = false;
    result.error = error;
    result.path = Path();
    return result;
  };
  // RFC 5321 §4.5.3.1.3: 256 octets including the punctuation.
  if (text.size() > kMaxPathLength) return fail(AddressError::kTooLong);
  if (text.size() < 2 || text.front() != '<' || text.back() != '>') {
    return fail(AddressError::kSyntax);
  }
  std::string_view inner = text.substr(1, text.size() - 2);
  if (inner.empty()) {
    if (!options.allow_null) return fail(AddressError::kSyntax);
    result.ok = true;
    result.path.null = true;
    return result;
  }
  if (inner.front() == '@') {
    size_t end = 0;
    if (auto error = SkipSourceRoute(inner, &end)) return fail(*error);
    inner.remove_prefix(end);
    result.path.had_source_route = true;
  }
  ParsedMailbox parsed;
  if (auto error = ParseMailboxText(inner, &parsed)) {
    // RFC 5321 §4.1.1.3: "<Postmaster>" (any case) needs no domain.
    if (*error == AddressError::kMissingDomain && parsed.bare_dot_string &&
        !result.path.had_source_route && EqualsIgnoreCase(inner, "postmaster") &&
        options.allow_postmaster) {
      result.ok = true;
      result.path.postmaster = true;
      return result;
    }
    return fail(*error);
  }
  // RFC 6531 §3.4: UTF-8 in a path needs the SMTPUTF8 parameter.
  if (!options.allow_utf8 && HasNonAscii(text)) return fail(AddressError::kNonAscii);
  result.ok = true;
  result.path.mailbox = std::move(parsed.mailbox);
  return result;
}

Result<Mailbox> ParseMailbox(std::string_view text, bool allow_utf8) {
  if (text.size() > kMaxPathLength - 2) return InvalidArgument("address too long");
  ParsedMailbox parsed;
  if (auto error = ParseMailboxText(text, &parsed)) {
    switch (*error) {
      case AddressError::kTooLong:
        return InvalidArgument("address too long (local part 64, domain 255 octets at most)");
      case AddressError::kMissingDomain:
        return InvalidArgument("address has no domain");
      case AddressError::kNonAscii:
      case AddressError::kSyntax:
        break;
    }
    return InvalidArgument("invalid address syntax");
  }
  if (!allow_utf8 && HasNonAscii(text)) return InvalidArgument("non-ASCII address not allowed");
  return std::move(parsed.mailbox);
}

}  // namespace postern::smtp
