// RFC 3461 §4 xtext, the encoding of the ENVID, ORCPT and AUTH= values.
#include <optional>
#include <string>

#include "smtp/command.h"

namespace postern::smtp {
namespace {

int HexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  // RFC 3461 asks for upper case; lower case is accepted when decoding.
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// xchar: "!" (33) to "~" (126) except "+" and "=".
bool IsXchar(unsigned char c) { return c >= 33 && c <= 126 && c != '+' && c != '='; }

}  // namespace

std::optional<std::string> XtextDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '+') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = HexValue(static_cast<unsigned char>(text[i + 1]));
      int low = HexValue(static_cast<unsigned char>(text[i + 2]));
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
      continue;
    }
    if (!IsXchar(c)) return std::nullopt;
    out.push_back(static_cast<char>(c));
  }
  return out;
}

std::string XtextEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (IsXchar(c)) {
      out.push_back(ch);
    } else {
      out.push_back('+');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace postern::smtp
