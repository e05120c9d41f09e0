// For tests: polls a condition that another thread makes true.
#pragma once

#include <chrono>
#include <thread>

namespace postern {

// Calls `pred` every 10 ms until it returns true or `limit` has passed;
// returns its last answer.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace postern
