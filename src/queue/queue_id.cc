#include "queue/queue_id.h"

#include <atomic>
#include <chrono>
#include <random>

namespace postern::queue {
namespace {

// Crockford's base32: no I, L, O, U (easy to read aloud and to grep).
constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void Append(std::string& out, uint64_t value, int chars) {
  for (int i = chars - 1; i >= 0; --i) out.push_back(kAlphabet[(value >> (5 * i)) & 31]);
}

}  // namespace

std::string NewQueueId() {
  static std::atomic<uint64_t> counter{std::random_device{}()};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t micros = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
  std::string id;
  id.reserve(16);
  Append(id, micros, 11);  // 55 bits: microseconds, ordered
  Append(id, (counter.fetch_add(1) ^ rng()) & ((1u << 25) - 1), 5);  // 25 bits: uniqueness
  return id;
}

bool IsQueueId(const std::string& id) {
  if (id.size() != 16) return false;
  for (char c : id) {
    bool ok = false;
    for (const char* p = kAlphabet; *p; ++p) ok = ok || *p == c;
    if (!ok) return false;
  }
  return true;
}

}  // namespace postern::queue
