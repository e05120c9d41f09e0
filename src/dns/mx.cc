// MX ordering (RFC 5321 §5.1) and the null MX (RFC 7505).
#include <algorithm>

#include "dns/resolver.h"

namespace postern::dns {

std::vector<MxRecord> OrderMx(std::vector<MxRecord> records, std::mt19937_64& rng) {
  // Shuffle first, then a stable sort: equal preferences keep the random order.
  std::shuffle(records.begin(), records.end(), rng);
  std::stable_sort(records.begin(), records.end(), [](const MxRecord& a, const MxRecord& b) {
    return a.preference < b.preference;
  });
  return records;
}

bool IsNullMx(const std::vector<MxRecord>& records) {
  return records.size() == 1 && records[0].host.empty();
}

}  // namespace postern::dns
