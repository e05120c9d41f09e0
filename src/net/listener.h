// Listening sockets and connection limits. A Listener binds at creation (so
// the process can drop privileges afterwards) and, once started, accepts on
// every context of the pool, handing each socket to the service on the
// context that accepted it.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "net/asio.h"
#include "net/io_pool.h"

namespace postern::net {

// "192.0.2.1:25", "[2001:db8::1]:25", "0.0.0.0:25", "[::]:25".
Result<asio::ip::tcp::endpoint> ParseEndpoint(const std::string& text);

// Counts live connections overall and per client. IPv6 clients are counted
// per /64, since one host usually holds a whole /64. Thread-safe.
class ConnectionLimiter {
 public:
  enum class Verdict { kOk, kTooManyTotal, kTooManyFromClient };

  ConnectionLimiter(size_t max_total, size_t max_per_client)
      : max_total_(max_total), max_per_client_(max_per_client) {}

  Verdict Acquire(const std::string& client_key);
  void Release(const std::string& client_key);
  size_t total() const;

  static std::string KeyFor(const std::string& ip);

 private:
  mutable std::mutex mu_;
  size_t max_total_;
  size_t max_per_client_;
  size_t total_ = 0;
  std::unordered_map<std::string, size_t> per_client_;
};

class Listener {
 public:
  static Result<std::unique_ptr<Listener>> Bind(asio::io_context& context,
                                                const std::string& endpoint);

  // Accepts until Stop(), on every context of `pool` (which must be the one
  // whose first context the listener was bound on). Every context waits on
  // the same listening socket and the first one awake takes the connection:
  // a session starts on the thread that accepted it, without a hand-off to
  // another thread, and busy threads leave new connections to idle ones.
  // `on_accept` runs on the accepting context.
  void Start(IoContextPool& pool, std::function<void(asio::ip::tcp::socket)> on_accept);
  // Stops accepting (thread-safe).
  void Stop();
  const std::string& endpoint() const { return endpoint_; }
  uint16_t port() const;

 private:
  Listener(asio::io_context& context, std::string endpoint) : endpoint_(std::move(endpoint)) {
    acceptors_.push_back(std::make_unique<asio::ip::tcp::acceptor>(context));
  }
  static asio::awaitable<void> Run(asio::ip::tcp::acceptor& acceptor, std::string endpoint,
                                   std::function<void(asio::ip::tcp::socket)> on_accept);

  // acceptors_[0] owns the bound socket; the others hold duplicates of it,
  // one per further pool context.
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;
  std::string endpoint_;
};

}  // namespace postern::net
