// The IMAP service: plain listeners (STARTTLS, port 143) and implicit-TLS
// listeners (port 993), one Session per connection over net::Service.
// Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "imapserver/session.h"
#include "net/service.h"

namespace postern::imapserver {

struct ImapServerOptions {
  SessionOptions session;
  size_t max_connections = 10'000;
  size_t max_connections_per_ip = 50;
};

class ImapServer {
 public:
  ImapServer(net::IoContextPool& pool, SessionContext context, ImapServerOptions options);
  ~ImapServer();

  // Binds the STARTTLS endpoints and the implicit-TLS ones ("ip:port").
  Status Bind(const std::vector<std::string>& plain, const std::vector<std::string>& tls);
  void Start();
  void StopAccepting();
  void Drain();
  void CloseAll();
  size_t active_sessions() const;
  bool WaitForSessions(std::chrono::milliseconds timeout) const;

 private:
  asio::awaitable<void> Serve(std::shared_ptr<net::Connection> conn, bool implicit_tls);
  net::ServiceHandlers Handlers(bool implicit_tls);

  SessionContext context_;
  ImapServerOptions options_;
  net::Service plain_;
  net::Service tls_;
};

}  // namespace postern::imapserver
