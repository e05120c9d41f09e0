// Sequence sets (RFC 9051 §9 sequence-set; RFC 5182 §2.1 "$").
#include "imap/sequence_set.h"

#include <algorithm>
#include <optional>

namespace postern::imap {
namespace {

// seq-number = nz-number / "*"; nz-number = digit-nz *DIGIT, below 2^32.
std::optional<uint32_t> ParseSeqNumber(std::string_view text) {
  if (text == "*") return kStar;
  if (text.empty() || text.size() > 10 || text.front() < '1' || text.front() > '9') {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(value);
}

void AppendNumber(std::string* out, uint32_t n) {
  if (n == kStar) {
    out->push_back('*');
  } else {
    out->append(std::to_string(n));
  }
}

}  // namespace

bool SequenceSet::HasStar() const {
  return std::any_of(ranges.begin(), ranges.end(),
                     [](const SequenceRange& r) { return r.first == kStar || r.last == kStar; });
}

std::vector<SequenceRange> SequenceSet::Resolve(uint32_t largest) const {
  std::vector<SequenceRange> out;
  out.reserve(ranges.size());
  for (const SequenceRange& r : ranges) {
    uint32_t a = r.first == kStar ? largest : r.first;
    uint32_t b = r.last == kStar ? largest : r.last;
    SequenceRange resolved{std::min(a, b), std::max(a, b)};
    if (resolved.last == 0) continue;
    if (resolved.first == 0) resolved.first = 1;
    out.push_back(resolved);
  }
  std::sort(out.begin(), out.end(),
            [](const SequenceRange& x, const SequenceRange& y) { return x.first < y.first; });
  std::vector<SequenceRange> merged;
  for (const SequenceRange& r : out) {
    // Adjacent ranges merge too: 1:3,4:5 is 1:5. Compare in 64 bits: last may be UINT32_MAX.
    if (!merged.empty() && uint64_t{r.first} <= uint64_t{merged.back().last} + 1) {
      merged.back().last = std::max(merged.back().last, r.last);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

bool SequenceSet::Contains(uint32_t number, uint32_t largest) const {
  if (number == 0) return false;
  for (const SequenceRange& r : ranges) {
    uint32_t a = r.first == kStar ? largest : r.first;
    uint32_t b = r.last == kStar ? largest : r.last;
    if (number >= std::min(a, b) && number <= std::max(a, b)) return true;
  }
  return false;
}

bool RangesContain(const std::vector<SequenceRange>& resolved, uint32_t number) {
  auto it = std::upper_bound(resolved.begin(), resolved.end(), number,
                             [](uint32_t n, const SequenceRange& r) { return n < r.first; });
  return it != resolved.begin() && number <= std::prev(it)->last;
}

std::string SequenceSet::ToString() const {
  if (saved) return "$";
  std::string out;
  for (const SequenceRange& r : ranges) {
    if (!out.empty()) out.push_back(',');
    AppendNumber(&out, r.first);
    if (r.last != r.first) {
      out.push_back(':');
      AppendNumber(&out, r.last);
    }
  }
  return out;
}

Result<SequenceSet> ParseSequenceSet(std::string_view text, size_t max_ranges) {
  SequenceSet set;
  if (text == "$") {  // seq-last-command stands alone (RFC 5182 §4)
    set.saved = true;
    return set;
  }
  if (text.empty()) return InvalidArgument("Empty sequence set");
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    if (set.ranges.size() >= max_ranges) return InvalidArgument("Too many ranges in sequence set");
    size_t colon = item.find(':');
    std::optional<uint32_t> first = ParseSeqNumber(item.substr(0, colon));
    std::optional<uint32_t> last = first;
    if (colon != std::string_view::npos) last = ParseSeqNumber(item.substr(colon + 1));
    if (!first || !last) {
      if (item.find('$') != std::string_view::npos) {
        return InvalidArgument("$ must stand alone as a sequence set");
      }
      return InvalidArgument("Invalid sequence set: numbers are 1 to 4294967295 or *");
    }
    set.ranges.push_back({*first, *last});
    start = comma + 1;
  }
  return set;
}

}  // namespace postern::imap
