// The IMAP service: plain listeners (STARTTLS, port 143) and implicit-TLS
// listeners (port 993), one Session per connection over net::DualService.
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "imapserver/session.h"
#include "net/dual_service.h"

namespace postern::imapserver {

struct ImapServerOptions {
  SessionOptions session;
  size_t max_connections = 10'000;
  size_t max_connections_per_ip = 50;
};

class ImapServer : public net::DualService {
 public:
  ImapServer(net::IoContextPool& pool, SessionContext context, ImapServerOptions options);
  ~ImapServer() override;

  // Binds the STARTTLS endpoints and the implicit-TLS ones ("ip:port").
  Status Bind(const std::vector<std::string>& plain, const std::vector<std::string>& tls) {
    return DualService::Bind(plain, tls, options_.session.tls != nullptr);
  }

 private:
  asio::awaitable<void> Serve(std::shared_ptr<net::Connection> conn, bool implicit_tls) override;
  std::string Refusal(bool per_client) const override;
  std::string ShuttingDown() const override;

  SessionContext context_;
  ImapServerOptions options_;
};

}  // namespace postern::imapserver
