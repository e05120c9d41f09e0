#include "message/codec.h"

#include <array>
#include <cstdint>

#include "base/strings.h"

namespace postern::message {
namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0..63 for the RFC 2045 §6.8 alphabet, kNotBase64 for everything else
// ('=' included: the caller checks for it first).
constexpr uint8_t kNotBase64 = 0xff;
constexpr std::array<uint8_t, 256> MakeBase64Table() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kNotBase64;
  for (uint8_t i = 0; i < 64; ++i) table[static_cast<uint8_t>(kBase64Alphabet[i])] = i;
  return table;
}
constexpr std::array<uint8_t, 256> kBase64Table = MakeBase64Table();

// Hex digit value (either case), or -1.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool IsLineSpace(char c) { return c == ' ' || c == '\t'; }

// Decodes the "=XX" escape at in[i] (in[i] == '=') into *out; false if it is
// not a well-formed escape.
bool DecodeEscape(std::string_view in, size_t i, char* out) {
  if (i + 2 >= in.size()) return false;
  int hi = HexValue(in[i + 1]);
  int lo = HexValue(in[i + 2]);
  if (hi < 0 || lo < 0) return false;
  *out = static_cast<char>((hi << 4) | lo);
  return true;
}

}  // namespace

std::string DecodeBase64(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3 + 3);
  uint32_t accumulator = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    uint8_t v = kBase64Table[static_cast<uint8_t>(c)];
    if (v == kNotBase64) continue;
    accumulator = (accumulator << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((accumulator >> bits) & 0xff));
    }
  }
  // Left-over bits (fewer than 8) are the padding of a partial group.
  return out;
}

std::string EncodeBase64(std::string_view in, size_t line_length) {
  const size_t encoded_size = (in.size() + 2) / 3 * 4;
  std::string out;
  out.reserve(encoded_size + (line_length > 0 ? encoded_size / line_length * 2 : 0));
  size_t column = 0;
  auto put = [&](char c) {
    if (line_length > 0 && column == line_length) {
      out += "\r\n";
      column = 0;
    }
    out.push_back(c);
    ++column;
  };
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    put(kBase64Alphabet[(n >> 18) & 63]);
    put(kBase64Alphabet[(n >> 12) & 63]);
    put(kBase64Alphabet[(n >> 6) & 63]);
    put(kBase64Alphabet[n & 63]);
  }
  const size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (rest == 2) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    put(kBase64Alphabet[(n >> 18) & 63]);
    put(kBase64Alphabet[(n >> 12) & 63]);
    put(rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=');
    put('=');
  }
  return out;
}

std::string DecodeQuotedPrintable(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t pos = 0;
  while (pos < in.size()) {
    // One line: [pos, content_end) is its text, [content_end, next) its line
    // end (CRLF, LF or nothing at the end of the input).
    size_t newline = in.find('\n', pos);
    size_t next = newline == std::string_view::npos ? in.size() : newline + 1;
    size_t content_end = newline == std::string_view::npos ? in.size() : newline;
    if (content_end > pos && in[content_end - 1] == '\r' && newline != std::string_view::npos) {
      --content_end;
    }
    // Rule 3: transport may have added trailing whitespace; it is not data.
    size_t text_end = content_end;
    while (text_end > pos && IsLineSpace(in[text_end - 1])) --text_end;

    // "=" as the last character is a soft line break (RFC 2045 §6.7 rule 5).
    bool soft_break = text_end > pos && in[text_end - 1] == '=';
    if (soft_break) --text_end;
    std::string_view line = in.substr(pos, text_end - pos);
    size_t i = 0;
    while (i < line.size()) {
      size_t equals = line.find('=', i);
      if (equals == std::string_view::npos) {
        out.append(line.substr(i));
        break;
      }
      out.append(line.substr(i, equals - i));
      char decoded;
      if (DecodeEscape(line, equals, &decoded)) {
        out.push_back(decoded);
        i = equals + 3;
      } else {
        out.push_back('=');  // malformed escape: kept literally
        i = equals + 1;
      }
    }
    if (!soft_break) out.append(in.substr(content_end, next - content_end));
    pos = next;
  }
  return out;
}

std::string DecodeQEncoding(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    char decoded;
    if (c == '_') {
      out.push_back(' ');
    } else if (c == '=' && DecodeEscape(in, i, &decoded)) {
      out.push_back(decoded);
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool IsKnownTransferEncoding(std::string_view encoding) {
  encoding = TrimWhitespace(encoding);
  return EqualsIgnoreCase(encoding, "7bit") || EqualsIgnoreCase(encoding, "8bit") ||
         EqualsIgnoreCase(encoding, "binary") || EqualsIgnoreCase(encoding, "base64") ||
         EqualsIgnoreCase(encoding, "quoted-printable");
}

std::string DecodeTransferEncoding(std::string_view encoding, std::string_view body) {
  encoding = TrimWhitespace(encoding);
  if (EqualsIgnoreCase(encoding, "base64")) return DecodeBase64(body);
  if (EqualsIgnoreCase(encoding, "quoted-printable")) return DecodeQuotedPrintable(body);
  return std::string(body);
}

}  // namespace postern::message
