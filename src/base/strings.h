// Small string and byte helpers shared by every layer. ASCII-only case rules:
// protocol keywords and domain names are compared this way (RFC 5321 §2.4).
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

inline char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
inline char AsciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

std::string AsciiToLower(std::string_view s);
std::string AsciiToUpper(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);
bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix);

// Removes ASCII spaces and tabs (and CR/LF) from both ends.
std::string_view TrimWhitespace(std::string_view s);

// Splits on every occurrence of `sep`; keeps empty fields.
std::vector<std::string_view> Split(std::string_view s, char sep);

// The parts with `sep` between them ("" for none).
std::string Join(const std::vector<std::string>& parts, std::string_view sep);

// RFC 5322 §3.2.3 atext, and any 8-bit byte (UTF-8 in addresses and names,
// RFC 6531 §3.3 / RFC 6532; the caller checks the UTF-8 as a whole).
bool IsAtext(unsigned char c);

// True if every byte is printable US-ASCII or space (0x20..0x7e).
bool IsPrintableAscii(std::string_view s);
// True if any byte is >= 0x80.
bool HasNonAscii(std::string_view s);
// True if `s` is well-formed UTF-8 without overlongs, surrogates or NUL.
bool IsValidUtf8(std::string_view s);

std::string HexEncode(std::span<const uint8_t> bytes);
std::string HexEncode(std::string_view bytes);

// Human-readable byte count: "4.0 KiB", "12.5 MiB".
std::string FormatBytes(uint64_t bytes);

// Replaces control characters and non-ASCII bytes with '?' so untrusted text
// (a client's EHLO name, a bad command) can go into a log line or a reply.
std::string SanitizeForLog(std::string_view s, size_t max_len = 200);

}  // namespace postern
