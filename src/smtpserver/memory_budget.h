// A server-wide cap on message data held in memory by all sessions at once.
// A session charges the budget as its message grows; when the budget is
// spent, that message is refused with 452 4.3.1 (the sender retries later)
// instead of the process running out of memory. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace postern::smtpserver {

class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t limit) : limit_(limit) {}
  bool TryCharge(uint64_t bytes) {
    uint64_t used = used_.load(std::memory_order_relaxed);
    do {
      if (used + bytes > limit_) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  void Release(uint64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }
  uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  uint64_t limit() const { return limit_; }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> used_{0};
};

// What one message holds of the budget; given back when it goes away.
class MemoryReservation {
 public:
  MemoryReservation() = default;
  explicit MemoryReservation(std::shared_ptr<MemoryBudget> budget) : budget_(std::move(budget)) {}
  MemoryReservation(MemoryReservation&& o) noexcept
      : budget_(std::move(o.budget_)), bytes_(o.bytes_) {
    o.bytes_ = 0;
  }
  MemoryReservation& operator=(MemoryReservation&& o) noexcept {
    if (this != &o) {
      Release();
      budget_ = std::move(o.budget_);
      bytes_ = o.bytes_;
      o.bytes_ = 0;
    }
    return *this;
  }
  ~MemoryReservation() { Release(); }

  // Charges `bytes` more; false (and nothing charged) when the budget is spent.
  bool Grow(uint64_t bytes) {
    if (!budget_ || bytes == 0) return true;
    if (!budget_->TryCharge(bytes)) return false;
    bytes_ += bytes;
    return true;
  }
  void Release() {
    if (budget_ && bytes_) budget_->Release(bytes_);
    bytes_ = 0;
  }
  uint64_t bytes() const { return bytes_; }

 private:
  std::shared_ptr<MemoryBudget> budget_;
  uint64_t bytes_ = 0;
};

}  // namespace postern::smtpserver
