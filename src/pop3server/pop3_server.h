// The POP3 service: plain listeners (STLS, port 110) and implicit-TLS
// listeners (port 995), one Session per connection over net::DualService,
// and the maildrop locks its sessions share. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "net/dual_service.h"
#include "pop3server/session.h"

namespace postern::pop3server {

struct Pop3ServerOptions {
  SessionOptions session;
  size_t max_connections = 1000;
  size_t max_connections_per_ip = 20;
};

class Pop3Server : public net::DualService {
 public:
  Pop3Server(net::IoContextPool& pool, SessionContext context, Pop3ServerOptions options);
  ~Pop3Server() override;

  // Binds the STLS endpoints and the implicit-TLS ones ("ip:port").
  Status Bind(const std::vector<std::string>& plain, const std::vector<std::string>& tls) {
    return DualService::Bind(plain, tls, options_.session.tls != nullptr);
  }
  const MaildropLocks& locks() const { return locks_; }

 private:
  asio::awaitable<void> Serve(std::shared_ptr<net::Connection> conn, bool implicit_tls) override;
  std::string Refusal(bool per_client) const override;
  std::string ShuttingDown() const override;

  SessionContext context_;
  MaildropLocks locks_;
  Pop3ServerOptions options_;
};

}  // namespace postern::pop3server
