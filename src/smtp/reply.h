// SMTP replies (RFC 5321 §4.2) with enhanced status codes (RFC 3463, RFC 2034).
// A Reply is a value; Serialize() gives the wire form. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::smtp {

struct Reply {
  int code = 250;                  // three-digit basic code
  std::string enhanced;            // "2.1.0", or empty when not applicable (greeting, 354)
  std::vector<std::string> lines;  // text lines without codes; at least one
  bool close = false;              // the session closes after sending this reply

  Reply() = default;
  Reply(int c, std::string e, std::string text, bool close_after = false)
      : code(c), enhanced(std::move(e)), lines{std::move(text)}, close(close_after) {}

  bool IsPositive() const { return code >= 200 && code < 400; }
  bool IsTransient() const { return code >= 400 && code < 500; }
  bool IsPermanent() const { return code >= 500; }

  // "250-first\r\n250 2.0.0 last\r\n". The enhanced code is written on every
  // line when present (RFC 2034 §3); control characters in text become '?'.
  std::string Serialize() const;
  // The first line's text with code, for logs: "550 5.1.1 User unknown".
  std::string Summary() const;
};

// Replies said from more than one place.
// 421 4.3.2: the server is shutting down; the session closes.
Reply ShuttingDownReply(const std::string& hostname);
// 552 5.3.4 (RFC 1870): the message is larger than `limit` bytes.
Reply TooBigReply(uint64_t limit);

}  // namespace postern::smtp
