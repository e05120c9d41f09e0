// The retry policy, kept pure: when to try a deferred delivery again and when
// to give up. Exponential backoff from `retry_min`, capped at `retry_max`;
// after `max_age` since arrival the next failure is final.
#pragma once

#include <cstdint>

namespace postern::queue {

struct RetryPolicy {
  int64_t retry_min = 60;
  int64_t retry_max = 3600;
  int64_t max_age = 5 * 86400;
};

// The next attempt after `attempts` failed ones (1 = the first failed).
int64_t NextAttempt(const RetryPolicy& policy, int64_t now, int attempts);
// True when a temporary failure at `now` must become permanent.
bool IsLastChance(const RetryPolicy& policy, int64_t created, int64_t now);

}  // namespace postern::queue
