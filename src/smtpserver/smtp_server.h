// The inbound SMTP service: one Session per connection over net::Service
// (listeners, connection limits, draining). Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "net/connection.h"
#include "net/dual_service.h"
#include "net/io_pool.h"
#include "net/service.h"
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
  asio::awaitable<void> Serve(std::shared_ptr<net::Connection> conn);

  Backend& backend_;
  SmtpServerOptions options_;
  net::Service service_;
};

// Message submission (RFC 6409): the same sessions with `submission` set, on
// ports where the client may use STARTTLS (587) and where TLS starts at once
// (465, RFC 8314). Thread-safe.
class SubmissionServer final : public net::DualService {
 public:
  SubmissionServer(net::IoContextPool& pool, Backend& backend, SmtpServerOptions options);
  ~SubmissionServer() override;

 protected:
  asio::awaitable<void> Serve(std::shared_ptr<net::Connection> conn, bool implicit_tls) override;
  std::string Refusal(bool per_client) const override;
  std::string ShuttingDown() const override;

 private:
  Backend& backend_;
  SmtpServerOptions options_;
};

}  // namespace postern::smtpserver
