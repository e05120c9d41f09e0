#include "net/io_pool.h"

#include <pthread.h>

#include <string>

namespace postern::net {

IoContextPool::IoContextPool(size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 0; i < threads; ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    guards_.push_back(asio::make_work_guard(*contexts_.back()));
  }
}

IoContextPool::~IoContextPool() { Stop(); }

asio::io_context& IoContextPool::Next() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void IoContextPool::Start() {
  for (size_t i = 0; i < contexts_.size(); ++i) {
    asio::io_context* c = contexts_[i].get();
    threads_.emplace_back([c, i] {
      std::string name = "io-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      c->run();
    });
  }
}

void IoContextPool::Stop() {
  guards_.clear();
  for (auto& ctx : contexts_) ctx->stop();
  Join();
}

void IoContextPool::Join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace postern::net
