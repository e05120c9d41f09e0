#include "queue/schedule.h"

#include <algorithm>

namespace postern::queue {

int64_t NextAttempt(const RetryPolicy& policy, int64_t now, int attempts) {
  int64_t delay = policy.retry_min;
  for (int i = 1; i < attempts && delay < policy.retry_max; ++i) delay *= 2;
  return now + std::min(delay, policy.retry_max);
}

bool IsLastChance(const RetryPolicy& policy, int64_t created, int64_t now) {
  return now - created >= policy.max_age;
}

}  // namespace postern::queue
