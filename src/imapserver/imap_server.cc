#include "imapserver/imap_server.h"

namespace postern::imapserver {
namespace {

net::ServiceOptions ServiceOptionsFor(const ImapServerOptions& o, const char* name) {
  net::ServiceOptions s;
  s.name = name;
  s.max_connections = o.max_connections;
  s.max_connections_per_ip = o.max_connections_per_ip;
  return s;
}

}  // namespace

net::ServiceHandlers ImapServer::Handlers(bool implicit_tls) {
  return net::ServiceHandlers{
      [this, implicit_tls](std::shared_ptr<net::Connection> conn) {
        return Serve(std::move(conn), implicit_tls);
      },
      [](bool per_ip) {
        return std::string("* BYE [UNAVAILABLE] Too many connections") +
               (per_ip ? " from your address" : "") + ", try again later\r\n";
      },
      [] { return std::string("* BYE [UNAVAILABLE] Server shutting down\r\n"); },
  };
}

ImapServer::ImapServer(net::IoContextPool& pool, SessionContext context, ImapServerOptions options)
    : context_(context),
      options_(std::move(options)),
      plain_(pool, ServiceOptionsFor(options_, "imap"), Handlers(false)),
      tls_(pool, ServiceOptionsFor(options_, "imaps"), Handlers(true)) {}

ImapServer::~ImapServer() = default;

Status ImapServer::Bind(const std::vector<std::string>& plain,
                        const std::vector<std::string>& tls) {
  PT_RETURN_IF_ERROR(plain_.Bind(plain));
  if (!tls.empty() && !options_.session.tls) {
    return FailedPrecondition("imap.listen_tls needs a TLS certificate (tls.cert, tls.key)");
  }
  return tls_.Bind(tls);
}

void ImapServer::Start() {
  plain_.Start();
  tls_.Start();
}

void ImapServer::StopAccepting() {
  plain_.StopAccepting();
  tls_.StopAccepting();
}

void ImapServer::Drain() {
  plain_.Drain();
  tls_.Drain();
}

void ImapServer::CloseAll() {
  plain_.CloseAll();
  tls_.CloseAll();
}

size_t ImapServer::active_sessions() const {
  return plain_.active_sessions() + tls_.active_sessions();
}

bool ImapServer::WaitForSessions(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool plain = plain_.WaitForSessions(timeout);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return tls_.WaitForSessions(std::max(left, std::chrono::milliseconds(0))) && plain;
}

asio::awaitable<void> ImapServer::Serve(std::shared_ptr<net::Connection> conn, bool implicit_tls) {
  SessionOptions options = options_.session;
  options.implicit_tls = implicit_tls;
  auto session = std::make_shared<Session>(std::move(conn), context_, std::move(options));
  co_await session->Run();
}

}  // namespace postern::imapserver
