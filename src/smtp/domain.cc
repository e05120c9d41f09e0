// Domain and address-literal syntax (RFC 5321 §4.1.2, §4.1.3, RFC 6531 §3.3)
// and NormalizeDomain: IDNA to A-labels with ICU's UTS #46 implementation.
#include <unicode/uidna.h>
#include <unicode/utypes.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/strings.h"
#include "smtp/address.h"
#include "smtp/domain_syntax.h"

namespace postern::smtp {
namespace {

constexpr size_t kMaxLabelLength = 63;  // RFC 1035 §2.3.4

bool IsAsciiAlpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsLetDig(unsigned char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c); }
bool IsHexDigit(unsigned char c) {
  return IsAsciiDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A label holding UTF-8: valid UTF-8, ASCII bytes limited to LDH, no hyphen
// at either end. Whether it is a valid U-label is left to IDNA.
bool IsUtf8Label(std::string_view label) {
  if (label.empty() || label.front() == '-' || label.back() == '-') return false;
  for (unsigned char c : label) {
    if (c < 0x80 && !IsLetDig(c) && c != '-') return false;
  }
  return IsValidUtf8(label);
}

// IPv6-hex *(":" IPv6-hex) or empty; counts the groups.
bool CountHexGroups(std::string_view text, size_t* groups) {
  *groups = 0;
  if (text.empty()) return true;
  for (std::string_view group : Split(text, ':')) {
    if (group.empty() || group.size() > 4) return false;
    for (unsigned char c : group) {
      if (!IsHexDigit(c)) return false;
    }
    ++*groups;
  }
  return true;
}

struct UidnaCloser {
  void operator()(UIDNA* idna) const { uidna_close(idna); }
};

// The UTS #46 processor, created once. ICU documents UIDNA as immutable and
// usable from several threads once opened.
const UIDNA* Uts46() {
  static const std::unique_ptr<UIDNA, UidnaCloser> idna = [] {
    UErrorCode status = U_ZERO_ERROR;
    UIDNA* p = uidna_openUTS46(
        UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ, &status);
    if (U_FAILURE(status)) p = nullptr;
    return std::unique_ptr<UIDNA, UidnaCloser>(p);
  }();
  return idna.get();
}

std::string DescribeIdnaErrors(uint32_t errors) {
  struct Entry {
    uint32_t bit;
    const char* text;
  };
  static constexpr Entry kEntries[] = {
      {UIDNA_ERROR_EMPTY_LABEL, "empty label"},
      {UIDNA_ERROR_LABEL_TOO_LONG, "label longer than 63 octets"},
      {UIDNA_ERROR_DOMAIN_NAME_TOO_LONG, "name longer than 253 octets"},
      {UIDNA_ERROR_LEADING_HYPHEN, "label starts with a hyphen"},
      {UIDNA_ERROR_TRAILING_HYPHEN, "label ends with a hyphen"},
      {UIDNA_ERROR_HYPHEN_3_4, "hyphens in the third and fourth position"},
      {UIDNA_ERROR_LEADING_COMBINING_MARK, "label starts with a combining mark"},
      {UIDNA_ERROR_DISALLOWED, "disallowed character"},
      {UIDNA_ERROR_PUNYCODE, "invalid punycode"},
      {UIDNA_ERROR_LABEL_HAS_DOT, "label contains a dot"},
      {UIDNA_ERROR_INVALID_ACE_LABEL, "invalid A-label"},
      {UIDNA_ERROR_BIDI, "violates the bidi rule (RFC 5893)"},
      {UIDNA_ERROR_CONTEXTJ, "violates the CONTEXTJ rule (RFC 5892)"},
      {UIDNA_ERROR_CONTEXTO_PUNCTUATION, "violates a CONTEXTO punctuation rule"},
      {UIDNA_ERROR_CONTEXTO_DIGITS, "mixes Arabic-Indic digit sets"},
  };
  for (const Entry& entry : kEntries) {
    if (errors & entry.bit) return entry.text;
  }
  return "rejected by IDNA";
}

// ICU's UTS #46 to-ASCII processing. HYPHEN_3_4 is ignored, as with
// CheckHyphens=false in UTS #46 §4.1 (and the WHATWG URL standard): real host
// names such as "r3---sn-x.example" have hyphens there.
Result<std::string> IdnaToAscii(std::string_view domain) {
  const UIDNA* idna = Uts46();
  if (idna == nullptr) return Internal("ICU UTS #46 processor unavailable");
  char buffer[1024];
  UIDNAInfo info = UIDNA_INFO_INITIALIZER;
  UErrorCode status = U_ZERO_ERROR;
  int32_t length = uidna_nameToASCII_UTF8(idna, domain.data(), static_cast<int32_t>(domain.size()),
                                          buffer, sizeof buffer, &info, &status);
  if (status == U_BUFFER_OVERFLOW_ERROR || length > static_cast<int32_t>(sizeof buffer)) {
    return InvalidArgument("invalid domain: name too long");
  }
  if (U_FAILURE(status)) {
    return InvalidArgument(std::string("invalid domain: ") + u_errorName(status));
  }
  uint32_t errors = info.errors & ~static_cast<uint32_t>(UIDNA_ERROR_HYPHEN_3_4);
  if (errors != 0) return InvalidArgument("invalid domain: " + DescribeIdnaErrors(errors));
  return std::string(buffer, static_cast<size_t>(length));
}

// Checks an all-ASCII name label by label (no trailing dot).
Status CheckAsciiName(std::string_view domain) {
  if (domain.empty()) return InvalidArgument("invalid domain: empty name");
  if (domain.size() > kMaxDomainLength) return InvalidArgument("invalid domain: name too long");
  for (std::string_view label : Split(domain, '.')) {
    if (label.empty()) return InvalidArgument("invalid domain: empty label");
    if (label.size() > kMaxLabelLength) {
      return InvalidArgument("invalid domain: label longer than 63 octets");
    }
    if (!IsLdhLabel(label)) {
      return InvalidArgument(
          "invalid domain: labels may hold only letters, digits and inner "
          "hyphens");
    }
  }
  return Status::Ok();
}

}  // namespace

bool IsLdhLabel(std::string_view label) {
  if (label.empty() || !IsLetDig(label.front()) || !IsLetDig(label.back())) return false;
  for (unsigned char c : label) {
    if (!IsLetDig(c) && c != '-') return false;
  }
  return true;
}

DomainSyntax CheckDomain(std::string_view domain) {
  if (domain.empty()) return DomainSyntax::kSyntax;
  bool international = false;
  bool too_long = domain.size() > kMaxDomainLength;
  for (std::string_view label : Split(domain, '.')) {
    if (HasNonAscii(label)) {
      if (!IsUtf8Label(label)) return DomainSyntax::kSyntax;
      international = true;
      continue;
    }
    if (!IsLdhLabel(label)) return DomainSyntax::kSyntax;
    if (label.size() > kMaxLabelLength) too_long = true;
  }
  if (too_long) return DomainSyntax::kTooLong;
  // RFC 6531 §3.3: a U-label must be valid IDNA (RFC 5890); ICU decides.
  if (international && !NormalizeDomain(domain).ok()) return DomainSyntax::kSyntax;
  return DomainSyntax::kOk;
}

bool IsIpv4AddressText(std::string_view text) {
  std::vector<std::string_view> parts = Split(text, '.');
  if (parts.size() != 4) return false;
  for (std::string_view part : parts) {
    if (part.empty() || part.size() > 3) return false;
    int value = 0;
    for (unsigned char c : part) {
      if (!IsAsciiDigit(c)) return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255) return false;
  }
  return true;
}

bool IsIpv6AddressText(std::string_view text) {
  // RFC 5321 §4.1.3: IPv6-full (8 groups), IPv6-comp ("::" plus at most 6
  // groups), IPv6v4-full (6 groups and an IPv4 address), IPv6v4-comp ("::"
  // plus at most 4 groups and an IPv4 address).
  bool has_ipv4 = false;
  size_t last_colon = text.rfind(':');
  if (last_colon == std::string_view::npos) return false;
  std::string_view tail = text.substr(last_colon + 1);
  if (tail.find('.') != std::string_view::npos) {
    if (!IsIpv4AddressText(tail)) return false;
    has_ipv4 = true;
    text = text.substr(0, last_colon + 1);  // keeps the colon before the IPv4 part
    bool ends_with_double = text.size() >= 2 && text[text.size() - 2] == ':';
    if (!ends_with_double) text.remove_suffix(1);
  }
  size_t double_colon = text.find("::");
  size_t groups = 0;
  if (double_colon == std::string_view::npos) {
    if (!CountHexGroups(text, &groups)) return false;
    return groups == (has_ipv4 ? 6u : 8u);
  }
  std::string_view left = text.substr(0, double_colon);
  std::string_view right = text.substr(double_colon + 2);
  size_t left_groups = 0;
  size_t right_groups = 0;
  if (!CountHexGroups(left, &left_groups) || !CountHexGroups(right, &right_groups)) return false;
  return left_groups + right_groups <= (has_ipv4 ? 4u : 6u);
}

bool IsAddressLiteral(std::string_view literal) {
  if (literal.size() < 3 || literal.front() != '[' || literal.back() != ']') return false;
  std::string_view content = literal.substr(1, literal.size() - 2);
  size_t colon = content.find(':');
  if (colon == std::string_view::npos) return IsIpv4AddressText(content);
  std::string_view tag = content.substr(0, colon);
  std::string_view rest = content.substr(colon + 1);
  if (EqualsIgnoreCase(tag, "IPv6")) return IsIpv6AddressText(rest);
  // General-address-literal = Standardized-tag ":" 1*dcontent, where
  // Standardized-tag = Ldh-str (ends in Let-dig) and dcontent = %d33-90 / %d94-126.
  if (tag.empty() || !IsLetDig(tag.back())) return false;
  for (unsigned char c : tag) {
    if (!IsLetDig(c) && c != '-') return false;
  }
  if (rest.empty()) return false;
  for (unsigned char c : rest) {
    if (c < 33 || c > 126 || (c >= 91 && c <= 93)) return false;
  }
  return true;
}

Result<std::string> NormalizeDomain(std::string_view domain) {
  if (domain.empty()) return InvalidArgument("invalid domain: empty name");
  if (domain.front() == '[') {
    if (!IsAddressLiteral(domain)) return InvalidArgument("invalid address literal");
    return AsciiToLower(domain);
  }
  if (domain.back() == '.') domain.remove_suffix(1);  // the root label
  if (!HasNonAscii(domain)) {
    PT_RETURN_IF_ERROR(CheckAsciiName(domain));
    std::string lower = AsciiToLower(domain);
    // Existing A-labels are kept, but must be valid punycode of a valid U-label.
    bool has_a_label = false;
    for (std::string_view label : Split(lower, '.')) {
      if (label.starts_with("xn--")) has_a_label = true;
    }
    if (has_a_label) {
      PT_ASSIGN_OR_RETURN(std::string checked, IdnaToAscii(lower));
      if (checked != lower) return InvalidArgument("invalid domain: A-label not in canonical form");
    }
    return lower;
  }
  if (!IsValidUtf8(domain)) return InvalidArgument("invalid domain: not valid UTF-8");
  PT_ASSIGN_OR_RETURN(std::string ascii, IdnaToAscii(domain));
  // UTS #46 mapping without STD3 rules lets a few ASCII symbols through;
  // a mail domain must still be LDH (RFC 5321 §4.1.2).
  PT_RETURN_IF_ERROR(CheckAsciiName(ascii));
  return ascii;
}

}  // namespace postern::smtp
