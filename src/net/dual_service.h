// A protocol served on two sets of ports: plain ones, where the client may
// upgrade with STARTTLS/STLS, and implicit-TLS ones (RFC 8314: 993, 995),
// with limits counted per set. IMAP and POP3 servers derive from it and
// provide the sessions and the protocol's refusals. Thread-safe, like Service.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "net/service.h"

namespace postern::net {

class DualService {
 public:
  // `name` for logs and errors: "imap" (the TLS side is "imaps"). Each side
  // has the connection limits of `limits` (its name is ignored).
  DualService(IoContextPool& pool, std::string name, const ServiceOptions& limits);
  virtual ~DualService();

  // Binds both sides ("ip:port"); implicit TLS needs `have_tls` (a
  // certificate), else an error naming NAME.listen_tls.
  Status Bind(const std::vector<std::string>& plain, const std::vector<std::string>& tls,
              bool have_tls);
  void Start();
  void StopAccepting();
  void Drain();
  void CloseAll();
  size_t active_sessions() const;
  bool WaitForSessions(std::chrono::milliseconds timeout) const;
  // Ports bound on each side (port 0 in tests).
  std::vector<uint16_t> plain_ports() const { return plain_.ports(); }
  std::vector<uint16_t> tls_ports() const { return tls_.ports(); }

 protected:
  // One connection's session; `implicit_tls`: it came to a TLS port.
  virtual asio::awaitable<void> Serve(std::shared_ptr<Connection> conn, bool implicit_tls) = 0;
  // ServiceHandlers::refusal and ::shutting_down, in the protocol's words.
  virtual std::string Refusal(bool per_client) const = 0;
  virtual std::string ShuttingDown() const = 0;

 private:
  ServiceHandlers Handlers(bool implicit_tls);

  std::string name_;
  Service plain_;
  Service tls_;
};

}  // namespace postern::net
