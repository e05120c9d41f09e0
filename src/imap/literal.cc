// Literal markers at the end of a command line (RFC 9051 §4.3, RFC 7888, RFC 3516 §4.3).
#include "imap/literal.h"

namespace postern::imap {

std::optional<LiteralMarker> TrailingLiteral(std::string_view line, const LiteralLimits& limits) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  size_t end = line.size() - 1;  // the '}'
  LiteralMarker marker;
  if (end > 0 && line[end - 1] == '+') {
    marker.synchronizing = false;
    --end;
  }
  size_t digits_begin = end;
  while (digits_begin > 0 && line[digits_begin - 1] >= '0' && line[digits_begin - 1] <= '9') {
    --digits_begin;
  }
  if (digits_begin == end || digits_begin == 0 || line[digits_begin - 1] != '{') {
    return std::nullopt;
  }
  marker.offset = digits_begin - 1;
  if (marker.offset > 0 && line[marker.offset - 1] == '~') {
    marker.literal8 = true;
    --marker.offset;
  }
  std::string_view digits = line.substr(digits_begin, end - digits_begin);
  if (digits.size() > kMaxLiteralDigits) {
    marker.status = LiteralStatus::kInvalidSize;
    return marker;
  }
  uint64_t size = 0;
  for (char c : digits) size = size * 10 + static_cast<uint64_t>(c - '0');  // < 10^19: no overflow
  if (size > kMaxLiteralSize) {
    marker.status = LiteralStatus::kInvalidSize;
    return marker;
  }
  marker.size = size;
  if (size > limits.max_size || (!marker.synchronizing && size > limits.max_non_synchronizing)) {
    marker.status = LiteralStatus::kTooLarge;
  }
  return marker;
}

}  // namespace postern::imap
