// Modified UTF-7 (RFC 3501 §5.1.3; UTF-7 itself is RFC 2152).
#include "imap/modified_utf7.h"

#include <cstdint>

namespace postern::imap {
namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
constexpr uint32_t kReplacement = 0xfffd;

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == ',') return 63;
  return -1;
}

bool IsDirect(uint32_t c) { return c >= 0x20 && c <= 0x7e; }

// One code point of well-formed UTF-8 at s[*i] (NUL included), advancing *i; U+FFFD and one
// byte for anything malformed.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  auto c = static_cast<unsigned char>(s[*i]);
  if (c < 0x80) {
    ++*i;
    return c;
  }
  size_t len;
  uint32_t cp;
  uint32_t min;
  if ((c & 0xe0) == 0xc0) {
    len = 2, cp = c & 0x1f, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3, cp = c & 0x0f, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    ++*i;
    return kReplacement;
  }
  if (*i + len > s.size()) {
    ++*i;
    return kReplacement;
  }
  for (size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(s[*i + k]);
    if ((cc & 0xc0) != 0x80) {
      ++*i;
      return kReplacement;
    }
    cp = (cp << 6) | (cc & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    ++*i;
    return kReplacement;
  }
  *i += len;
  return cp;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Accumulates UTF-16 code units as modified BASE64.
class Base64Writer {
 public:
  explicit Base64Writer(std::string* out) : out_(out) {}

  void Unit(uint16_t unit) {
    if (!open_) {
      out_->push_back('&');
      open_ = true;
    }
    bits_ = (bits_ << 16) | unit;
    nbits_ += 16;
    while (nbits_ >= 6) {
      nbits_ -= 6;
      out_->push_back(kBase64[(bits_ >> nbits_) & 0x3f]);
    }
    bits_ &= (1u << nbits_) - 1;
  }

  void Close() {
    if (!open_) return;
    if (nbits_ > 0) out_->push_back(kBase64[(bits_ << (6 - nbits_)) & 0x3f]);
    out_->push_back('-');
    open_ = false;
    bits_ = 0;
    nbits_ = 0;
  }

 private:
  std::string* out_;
  bool open_ = false;
  uint32_t bits_ = 0;
  int nbits_ = 0;
};

}  // namespace

std::string EncodeModifiedUtf7(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  Base64Writer base64(&out);
  size_t i = 0;
  while (i < utf8.size()) {
    uint32_t cp = NextCodePoint(utf8, &i);
    if (IsDirect(cp)) {
      base64.Close();
      out.append(cp == '&' ? "&-" : std::string(1, static_cast<char>(cp)));
    } else if (cp >= 0x10000) {
      cp -= 0x10000;
      base64.Unit(static_cast<uint16_t>(0xd800 | (cp >> 10)));
      base64.Unit(static_cast<uint16_t>(0xdc00 | (cp & 0x3ff)));
    } else {
      base64.Unit(static_cast<uint16_t>(cp));
    }
  }
  base64.Close();
  return out;
}

Result<std::string> DecodeModifiedUtf7(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool after_shift = false;  // the previous octet closed a BASE64 run
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i++];
    if (!IsDirect(static_cast<unsigned char>(c))) {
      return InvalidArgument("modified UTF-7 has an octet outside printable ASCII");
    }
    if (c != '&') {
      out.push_back(c);
      after_shift = false;
      continue;
    }
    if (i < text.size() && text[i] == '-') {  // "&-" is "&"
      out.push_back('&');
      ++i;
      after_shift = false;
      continue;
    }
    // RFC 3501 §5.1.3: "&U,BTFw-&ZeVnLIqe-" has a superfluous shift.
    if (after_shift) return InvalidArgument("modified UTF-7 has a superfluous shift");
    uint32_t bits = 0;
    int nbits = 0;
    uint32_t high_surrogate = 0;
    while (true) {
      if (i >= text.size()) return InvalidArgument("modified UTF-7 shift is not terminated by -");
      char b = text[i++];
      if (b == '-') break;
      int value = Base64Value(b);
      if (value < 0) return InvalidArgument("modified UTF-7 shift is not terminated by -");
      bits = (bits << 6) | static_cast<uint32_t>(value);
      nbits += 6;
      if (nbits < 16) continue;
      nbits -= 16;
      uint32_t unit = (bits >> nbits) & 0xffff;
      bits &= (1u << nbits) - 1;
      if (high_surrogate != 0) {
        if (unit < 0xdc00 || unit > 0xdfff) {
          return InvalidArgument("modified UTF-7 has an unpaired surrogate");
        }
        AppendUtf8(&out, 0x10000 + ((high_surrogate - 0xd800) << 10) + (unit - 0xdc00));
        high_surrogate = 0;
      } else if (unit >= 0xd800 && unit <= 0xdbff) {
        high_surrogate = unit;
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        return InvalidArgument("modified UTF-7 has an unpaired surrogate");
      } else if (IsDirect(unit)) {
        return InvalidArgument("modified UTF-7 encodes a printable ASCII character");
      } else {
        AppendUtf8(&out, unit);
      }
    }
    if (nbits >= 6 || bits != 0) return InvalidArgument("modified UTF-7 has bad padding bits");
    if (high_surrogate != 0) return InvalidArgument("modified UTF-7 has an unpaired surrogate");
    after_shift = true;
  }
  return out;
}

}  // namespace postern::imap
