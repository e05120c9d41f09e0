// Clock: the time source behind an interface so tests can run on a fake clock.
// SystemClock is thread-safe; FakeClock is thread-safe too (atomic).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace postern {

using SystemTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime Now() const = 0;

  // Seconds since the Unix epoch.
  int64_t NowUnix() const {
    return std::chrono::duration_cast<std::chrono::seconds>(Now().time_since_epoch()).count();
  }
  // The process-wide real clock.
  static Clock& Real();
};

class SystemClock final : public Clock {
 public:
  SystemTime Now() const override { return std::chrono::system_clock::now(); }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t unix_seconds = 1700000000) : micros_(unix_seconds * 1000000) {}
  SystemTime Now() const override { return SystemTime(std::chrono::microseconds(micros_.load())); }
  void Advance(std::chrono::microseconds d) { micros_ += d.count(); }
  void SetUnix(int64_t unix_seconds) { micros_ = unix_seconds * 1000000; }

 private:
  std::atomic<int64_t> micros_;
};

// RFC 5322 §3.3 date-time in local time: "Sat, 21 Nov 2026 14:03:07 +0100".
std::string FormatRfc5322Date(int64_t unix_seconds);
// ISO 8601 / RFC 3339 in UTC: "2026-11-21T13:03:07Z".
std::string FormatIsoUtc(int64_t unix_seconds);

}  // namespace postern
