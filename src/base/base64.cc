#include "base/base64.h"

#include <cstdint>

namespace postern {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The 6-bit value of a base64 character, or -1.
int Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string EncodeBase64Strict(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63],
            kAlphabet[n & 63]};
  }
  const size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (rest == 2) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

std::optional<std::string> DecodeBase64Strict(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  if (!in.empty() && in.back() == '=') padding = in[in.size() - 2] == '=' ? 2 : 1;
  const size_t data = in.size() - padding;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  uint32_t accumulator = 0;
  int bits = 0;
  for (size_t i = 0; i < data; ++i) {
    int v = Value(in[i]);
    if (v < 0) return std::nullopt;
    accumulator = (accumulator << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((accumulator >> bits) & 0xff));
    }
  }
  // RFC 4648 §3.5: the pad bits must be zero, so each text has one decoding.
  if ((accumulator & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace postern
