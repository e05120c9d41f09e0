// One io_context per thread: a connection lives on one context for its whole
// life, so its coroutines never run concurrently and need no strand.
// Thread-safe: Next() and Stop() may be called from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "net/asio.h"

namespace postern::net {

class IoContextPool {
 public:
  explicit IoContextPool(size_t threads);
  ~IoContextPool();

  // Round-robin choice of a context for a new connection.
  asio::io_context& Next();
  asio::io_context& First() { return *contexts_[0]; }
  asio::io_context& At(size_t i) { return *contexts_[i]; }
  size_t size() const { return contexts_.size(); }

  void Start();  // runs every context on its own thread
  void Stop();   // stops the contexts and joins the threads
  void Join();   // waits for the threads to end by themselves

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_{0};
};

}  // namespace postern::net
