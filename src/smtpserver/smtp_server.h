// The inbound SMTP service: listeners, connection limits, one Session per
// connection, and graceful draining. Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "net/connection.h"
#include "net/io_pool.h"
#include "net/listener.h"
#include "smtpserver/backend.h"
#include "smtpserver/session.h"

namespace postern::smtpserver {

struct SmtpServerOptions {
  SessionOptions session;
  size_t max_connections = 1000;
  size_t max_connections_per_ip = 100;
};

class SmtpServer {
 public:
  SmtpServer(net::IoContextPool& pool, Backend& backend, SmtpServerOptions options);
  ~SmtpServer();

  // Binds every endpoint ("ip:port"); call before dropping privileges.
  Status Bind(const std::vector<std::string>& endpoints);
  // Starts accepting (the pool must be running or about to run).
  void Start();
  // Stops accepting new connections.
  void StopAccepting();
  // Asks every session to finish: idle ones end with 421 at once, busy ones
  // after their current command.
  void Drain();
  // Closes every connection now.
  void CloseAll();
  size_t active_sessions() const;
  // Waits up to `timeout` for every session to end; true if they all did.
  // A session still running when this object goes away keeps only the shared
  // registry alive; stop the I/O pool before destroying the backend.
  bool WaitForSessions(std::chrono::milliseconds timeout) const;
  // The ports actually bound (useful with port 0 in tests).
  std::vector<uint16_t> ports() const;

 private:
  void OnAccept(asio::ip::tcp::socket socket);
  asio::awaitable<void> Serve(std::shared_ptr<net::Connection> conn);

  // What sessions share with the server. Held by shared_ptr so that a session
  // frame destroyed late (after the server) still finds it.
  struct Registry {
    Registry(size_t max_total, size_t max_per_client) : limiter(max_total, max_per_client) {}
    net::ConnectionLimiter limiter;
    mutable std::mutex mu;
    std::set<std::shared_ptr<net::Connection>> sessions;
    // Set by Drain(): a session that registers afterwards is told 421 at once.
    std::atomic<bool> draining{false};
  };

  net::IoContextPool& pool_;
  Backend& backend_;
  SmtpServerOptions options_;
  std::shared_ptr<Registry> registry_;
  std::vector<std::unique_ptr<net::Listener>> listeners_;
};

}  // namespace postern::smtpserver
