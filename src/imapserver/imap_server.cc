#include "imapserver/imap_server.h"

namespace postern::imapserver {

ImapServer::ImapServer(net::IoContextPool& pool, SessionContext context, ImapServerOptions options)
    : net::DualService(pool, "imap", {"", options.max_connections, options.max_connections_per_ip}),
      context_(context),
      options_(std::move(options)) {}

ImapServer::~ImapServer() = default;

std::string ImapServer::Refusal(bool per_client) const {
  return std::string("* BYE [UNAVAILABLE] Too many connections") +
         (per_client ? " from your address" : "") + ", try again later\r\n";
}

std::string ImapServer::ShuttingDown() const {
  return "* BYE [UNAVAILABLE] Server shutting down\r\n";
}

// Not a coroutine: the session's own frame is all an idle connection holds.
asio::awaitable<void> ImapServer::Serve(std::shared_ptr<net::Connection> conn, bool implicit_tls) {
  SessionOptions options = options_.session;
  options.implicit_tls = implicit_tls;
  auto session = std::make_shared<Session>(std::move(conn), context_, std::move(options));
  Session* run = session.get();
  return run->Run(std::move(session));
}

}  // namespace postern::imapserver
