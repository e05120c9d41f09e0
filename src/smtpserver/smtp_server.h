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
  // Sessions reference this object: destroy it only after they ended and
  // the I/O pool was stopped.
  bool WaitForSessions(std::chrono::milliseconds timeout) const;
  // The ports actually bound (useful with port 0 in tests).
  std::vector<uint16_t> ports() const;

 private:
  void OnAccept(asio::ip::tcp::socket socket);
  asio::awaitable<void> Serve(std::shared_ptr<net::Connection> conn);

  net::IoContextPool& pool_;
  Backend& backend_;
  SmtpServerOptions options_;
  net::ConnectionLimiter limiter_;
  std::vector<std::unique_ptr<net::Listener>> listeners_;

  mutable std::mutex mu_;
  std::set<std::shared_ptr<net::Connection>> sessions_;
  // Set by Drain(): a session that registers afterwards is told 421 at once.
  std::atomic<bool> draining_{false};
};

}  // namespace postern::smtpserver
