// Framing of IMAP literals: a session that has read one command line (without its CRLF) asks
// TrailingLiteral() whether the line ends with a literal marker, and so whether it must read N
// more octets (after a "+" continuation request when the literal is synchronizing) and then the
// next line. Grammar: RFC 9051 §4.3 and §9 (literal, literal8), RFC 7888 (LITERAL+ "{N+}",
// LITERAL- 4096-octet limit), RFC 3516 §4.3 and RFC 4466 ("~{N}", "~{N+}").
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace postern::imap {

// number64 (RFC 9051 §9): the largest octet count a literal may declare.
inline constexpr uint64_t kMaxLiteralSize = 9'223'372'036'854'775'807ULL;
// At most this many digits in a literal's octet count; more is refused without conversion.
inline constexpr size_t kMaxLiteralDigits = 19;

enum class LiteralStatus {
  kOk,
  // The count is well formed but above the caller's limit. Reply "NO [TOOBIG]" (RFC 7888 §4) to a
  // synchronizing literal and send no continuation: the client then abandons the command.
  kTooLarge,
  // The count has more than 19 digits or exceeds 2^63-1, so its value is unknown. Reply BAD.
  kInvalidSize,
};

struct LiteralMarker {
  uint64_t size = 0;          // declared octet count; 0 when status is kInvalidSize
  bool synchronizing = true;  // "{N}": send "+ ..." before reading; false for "{N+}"
  bool literal8 = false;      // "~{N}" / "~{N+}": binary octets, NUL allowed (RFC 3516)
  LiteralStatus status = LiteralStatus::kOk;
  size_t offset = 0;  // index in the line of the marker's first byte ("{" or "~")

  bool ok() const { return status == LiteralStatus::kOk; }

  // True when the session cannot stay in step with the client and must send
  // "* BYE [TOOBIG] ..." and close: the literal is refused, but a non-synchronizing literal's
  // octets are on their way regardless (RFC 7888 §4 option 2). Reading and discarding them
  // instead is only possible when the size is known; this library does not recommend it.
  bool MustCloseConnection() const { return !synchronizing && status != LiteralStatus::kOk; }
};

struct LiteralLimits {
  // Any literal above this is kTooLarge.
  uint64_t max_size = kMaxLiteralSize;
  // Non-synchronizing literals above this are kTooLarge: 4096 under LITERAL- and IMAP4rev2
  // (RFC 7888 §5, RFC 9051 §4.3).
  uint64_t max_non_synchronizing = kMaxLiteralSize;
};

// If `line` (one line as read, without CRLF) ends with "{N}", "{N+}", "~{N}" or "~{N+}" where N
// is 1*DIGIT, returns the marker; otherwise nullopt (the line completes the command). Only the
// end of the line is examined: whether the marker stands where a string may is for ParseCommand
// to judge once the whole command is read.
std::optional<LiteralMarker> TrailingLiteral(std::string_view line,
                                             const LiteralLimits& limits = {});

}  // namespace postern::imap
