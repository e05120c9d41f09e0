// IMAP sequence sets (RFC 9051 §9 sequence-set, seq-range, seq-number; RFC 5182 "$"): message
// sequence numbers or UIDs as ranges, "*" for the largest number in use, "$" for the result saved
// by the last SEARCH RETURN (SAVE). Values only; thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace postern::imap {

// "*" in a range. Zero, because 0 is never a valid nz-number, so the sentinel cannot collide with
// the legal value 4294967295. Resolve() replaces it with the mailbox's largest number.
inline constexpr uint32_t kStar = 0;

// Default limit on the ranges of one set (ParseOptions::max_sequence_ranges).
inline constexpr size_t kDefaultMaxSequenceRanges = 100'000;

struct SequenceRange {
  uint32_t first = 1;  // as written, either order (RFC 9051 §9: 4:2 means 2:4); kStar for "*"
  uint32_t last = 1;   // equal to `first` for a single number

  bool operator==(const SequenceRange&) const = default;
};

struct SequenceSet {
  std::vector<SequenceRange> ranges;  // as written; empty only when `saved`
  bool saved = false;                 // "$" (RFC 5182 §2.1): the whole set is the saved result

  bool operator==(const SequenceSet&) const = default;

  // True if some range names "*".
  bool HasStar() const;

  // The numbers named, as ascending, disjoint, non-adjacent inclusive ranges (first <= last),
  // with "*" replaced by `largest`: the number of messages for sequence numbers, or the highest
  // UID in use (UIDNEXT - 1 for an empty mailbox, RFC 9051 §9 seq-number). Ranges that resolve
  // to include 0 are clipped to start at 1 and dropped if nothing remains. Empty when `saved`:
  // the session substitutes its saved result itself.
  std::vector<SequenceRange> Resolve(uint32_t largest) const;

  // True if `number` is in Resolve(largest). Linear in the ranges: to test
  // many numbers, resolve once and use RangesContain.
  bool Contains(uint32_t number, uint32_t largest) const;

  // The set in wire form as written: "1:*,5", "$".
  std::string ToString() const;
};

// True if `number` is in `resolved` (ascending, disjoint ranges as Resolve() returns them), in
// O(log ranges).
bool RangesContain(const std::vector<SequenceRange>& resolved, uint32_t number);

// Parses a whole sequence-set token ("2,4:7,9,12:*", "$"). Numbers are nz-number: 1 to
// 4294967295 without leading zeros. Fails (InvalidArgument with a printable message) on any other
// text or when there are more than `max_ranges` ranges.
Result<SequenceSet> ParseSequenceSet(std::string_view text,
                                     size_t max_ranges = kDefaultMaxSequenceRanges);

}  // namespace postern::imap
