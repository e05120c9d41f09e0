// A TCP service: its listeners, connection limits (total and per client),
// one session coroutine per connection, and graceful draining. The protocol
// comes in as three callbacks; SMTP, IMAP and POP3 share the rest.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "net/connection.h"
#include "net/io_pool.h"
#include "net/listener.h"

namespace postern::net {

struct ServiceOptions {
  std::string name;  // for logs: "smtp", "imap"
  size_t max_connections = 1000;
  size_t max_connections_per_ip = 100;
};

struct ServiceHandlers {
  // Runs one session to its end.
  std::function<asio::awaitable<void>(std::shared_ptr<Connection> conn)> serve;
  // What to send a client turned away by the limits (per_client: its own
  // address has too many), before closing.
  std::function<std::string(bool per_client)> refusal;
  // What to send a client accepted while the service drains.
  std::function<std::string()> shutting_down;
};

class Service {
 public:
  Service(IoContextPool& pool, ServiceOptions options, ServiceHandlers handlers);
  ~Service();

  // Binds every endpoint ("ip:port"); call before dropping privileges.
  Status Bind(const std::vector<std::string>& endpoints);
  // Starts accepting (the pool must be running or about to run).
  void Start();
  // Stops accepting new connections.
  void StopAccepting();
  // Asks every session to finish (Connection::Drain).
  void Drain();
  // Closes every connection now.
  void CloseAll();
  size_t active_sessions() const;
  // Waits up to `timeout` for every session to end; true if they all did.
  bool WaitForSessions(std::chrono::milliseconds timeout) const;
  // The ports actually bound (useful with port 0 in tests).
  std::vector<uint16_t> ports() const;

 private:
  void OnAccept(asio::ip::tcp::socket socket);
  asio::awaitable<void> Serve(std::shared_ptr<Connection> conn);

  // What sessions share with the service. Held by shared_ptr so that a
  // session frame destroyed late (after the service) still finds it.
  struct Registry {
    Registry(size_t max_total, size_t max_per_client) : limiter(max_total, max_per_client) {}
    ConnectionLimiter limiter;
    mutable std::mutex mu;
    std::set<std::shared_ptr<Connection>> sessions;
    // Set by Drain(): a session that registers afterwards is told at once.
    std::atomic<bool> draining{false};
  };

  IoContextPool& pool_;
  ServiceOptions options_;
  ServiceHandlers handlers_;
  std::shared_ptr<Registry> registry_;
  std::vector<std::unique_ptr<Listener>> listeners_;
};

}  // namespace postern::net
