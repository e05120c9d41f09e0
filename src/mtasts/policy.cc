#include "mtasts/policy.h"

#include <algorithm>

#include "base/strings.h"

namespace postern::mtasts {
namespace {

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
bool IsWsp(char c) { return c == ' ' || c == '\t'; }

// sts-policy-ext-name and sts-ext-name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
bool IsExtensionName(std::string_view name) {
  if (name.empty() || name.size() > 32 || !IsAlnum(name[0])) return false;
  for (char c : name) {
    if (!IsAlnum(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

// Length of the well-formed UTF-8 sequence of 2 to 4 bytes at s[i], or 0
// (RFC 3629 §4: no overlongs, no surrogates, nothing above U+10FFFF).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return k < s.size() ? static_cast<uint8_t>(s[k]) : 0; };
  auto tail = [&](size_t k) { return (byte(k) & 0xC0) == 0x80; };
  uint8_t b0 = byte(i), b1 = byte(i + 1);
  if (b0 >= 0xC2 && b0 <= 0xDF) return tail(i + 1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 > 0x9F)) return 0;
    return tail(i + 1) && tail(i + 2) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if ((b0 == 0xF0 && b1 < 0x90) || (b0 == 0xF4 && b1 > 0x8F)) return 0;
    return tail(i + 1) && tail(i + 2) && tail(i + 3) ? 4 : 0;
  }
  return 0;
}

// sts-policy-ext-value: vchar [*(SP / vchar) vchar], vchar = %x21-7E / UTF-8.
bool IsExtensionValue(std::string_view value) {
  if (value.empty() || value.front() == ' ' || value.back() == ' ') return false;
  for (size_t i = 0; i < value.size();) {
    auto c = static_cast<uint8_t>(value[i]);
    if (c >= 0x20 && c <= 0x7E) {
      ++i;
    } else if (size_t n = Utf8SequenceLength(value, i)) {
      i += n;
    } else {
      return false;
    }
  }
  return true;
}

// RFC 5321 §4.1.2 Domain: sub-domain *("." sub-domain), sub-domain =
// Let-dig [Ldh-str]; labels of 63 octets at most.
bool IsDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  for (std::string_view label : Split(domain, '.')) {
    if (label.empty() || label.size() > 63 || !IsAlnum(label.front()) || !IsAlnum(label.back())) {
      return false;
    }
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') return false;
    }
  }
  return true;
}

bool IsMxPattern(std::string_view pattern) {
  if (pattern.starts_with("*.")) pattern.remove_prefix(2);
  return IsDomain(pattern);
}

std::string_view TrimTrailingWsp(std::string_view s) {
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Policy> ParsePolicy(std::string_view text) {
  if (text.size() > kMaxPolicySize) {
    return InvalidArgument("MTA-STS policy larger than " + std::to_string(kMaxPolicySize) +
                           " bytes");
  }
  // Lines: LF or CRLF terminated; the last one may lack its terminator.
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines.push_back(line);
    if (lf == std::string_view::npos) break;
    text.remove_prefix(lf + 1);
  }
  while (!lines.empty() && TrimTrailingWsp(lines.back()).empty()) lines.pop_back();
  if (lines.empty()) return InvalidArgument("MTA-STS policy is empty");

  Policy policy;
  bool have_version = false, have_mode = false, have_max_age = false;
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string where = "MTA-STS policy line " + std::to_string(n + 1) + ": ";
    // sts-policy-field *WSP, with field-delim ":" *WSP
    std::string_view line = TrimTrailingWsp(lines[n]);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return InvalidArgument(where + "no \"key:\"");
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && IsWsp(value.front())) value.remove_prefix(1);
    if (!IsExtensionName(key)) return InvalidArgument(where + "malformed key");
    if (!IsExtensionValue(value)) return InvalidArgument(where + "malformed value");
    // Keys are case-sensitive (%s in the ABNF); of repeated fields other
    // than mx, the first counts and the rest are ignored.
    if (key == "version") {
      if (have_version) continue;
      if (value != "STSv1") return InvalidArgument(where + "version is not STSv1");
      have_version = true;
    } else if (key == "mode") {
      if (have_mode) continue;
      if (value == "enforce") {
        policy.mode = Policy::kEnforce;
      } else if (value == "testing") {
        policy.mode = Policy::kTesting;
      } else if (value == "none") {
        policy.mode = Policy::kNone;
      } else {
        return InvalidArgument(where + "mode must be enforce, testing or none");
      }
      have_mode = true;
    } else if (key == "max_age") {
      if (have_max_age) continue;
      // 1*10(DIGIT), at most 31557600.
      if (value.size() > 10 || !std::all_of(value.begin(), value.end(), IsDigit)) {
        return InvalidArgument(where + "max_age must be 1 to 10 digits");
      }
      int64_t max_age = std::stoll(std::string(value));
      if (max_age > kMaxMaxAge) {
        return InvalidArgument(where + "max_age is above " + std::to_string(kMaxMaxAge));
      }
      policy.max_age = max_age;
      have_max_age = true;
    } else if (key == "mx") {
      if (!IsMxPattern(value)) return InvalidArgument(where + "mx is not a host name pattern");
      if (policy.mx.size() == kMaxMxPatterns) {
        return InvalidArgument(where + "more than " + std::to_string(kMaxMxPatterns) +
                               " mx patterns");
      }
      policy.mx.push_back(AsciiToLower(value));
    }
  }
  if (!have_version) return InvalidArgument("MTA-STS policy has no version field");
  if (!have_mode) return InvalidArgument("MTA-STS policy has no mode field");
  if (!have_max_age) return InvalidArgument("MTA-STS policy has no max_age field");
  if (policy.mx.empty() && policy.mode != Policy::kNone) {
    return InvalidArgument("MTA-STS policy has no mx field");
  }
  return policy;
}

bool MxMatches(const Policy& policy, std::string_view mx_host) {
  std::string host = AsciiToLower(mx_host);
  if (host.ends_with('.')) host.pop_back();
  if (host.empty()) return false;
  for (const std::string& pattern : policy.mx) {
    if (pattern.starts_with("*.")) {
      // RFC 8461 §4.1: the wildcard is the whole left-most label, one label.
      std::string_view suffix = std::string_view(pattern).substr(1);  // ".example.net"
      if (host.size() > suffix.size() && host.ends_with(suffix) &&
          host.find('.') == host.size() - suffix.size()) {
        return true;
      }
    } else if (host == pattern) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> ParseTxtId(std::string_view txt) {
  // sts-text-record = sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
  constexpr std::string_view kVersion = "v=STSv1";
  if (!txt.starts_with(kVersion)) return std::nullopt;
  txt.remove_prefix(kVersion.size());
  std::optional<std::string> id;
  size_t fields = 0;
  while (!txt.empty()) {
    // sts-field-delim = *WSP ";" *WSP
    while (!txt.empty() && IsWsp(txt.front())) txt.remove_prefix(1);
    if (txt.empty() || txt.front() != ';') return std::nullopt;
    txt.remove_prefix(1);
    while (!txt.empty() && IsWsp(txt.front())) txt.remove_prefix(1);
    if (txt.empty()) break;  // the optional trailing delimiter
    size_t end = 0;
    while (end < txt.size() && txt[end] != ';' && !IsWsp(txt[end])) ++end;
    std::string_view field = txt.substr(0, end);
    txt.remove_prefix(end);
    size_t eq = field.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view name = field.substr(0, eq);
    std::string_view value = field.substr(eq + 1);
    if (!IsExtensionName(name) || value.empty()) return std::nullopt;
    if (name == "id") {
      // sts-id = "id=" 1*32(ALPHA / DIGIT)
      if (value.size() > 32 || !std::all_of(value.begin(), value.end(), IsAlnum)) {
        return std::nullopt;
      }
      if (!id) id = std::string(value);
    } else {
      // sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
      for (char c : value) {
        if (c < 0x21 || c > 0x7E || c == ';' || c == '=') return std::nullopt;
      }
    }
    ++fields;
  }
  if (fields == 0) return std::nullopt;
  return id;
}

}  // namespace postern::mtasts
