#include "pop3server/pop3_server.h"

#include "pop3/response.h"

namespace postern::pop3server {

Pop3Server::Pop3Server(net::IoContextPool& pool, SessionContext context, Pop3ServerOptions options)
    : net::DualService(pool, "pop3", {"", options.max_connections, options.max_connections_per_ip}),
      context_(context),
      options_(std::move(options)) {}

Pop3Server::~Pop3Server() = default;

std::string Pop3Server::Refusal(bool per_client) const {
  return pop3::ErrLine("SYS/TEMP", std::string("Too many connections") +
                                       (per_client ? " from your address" : "") +
                                       ", try again later");
}

std::string Pop3Server::ShuttingDown() const {
  return pop3::ErrLine("SYS/TEMP", "Server shutting down");
}

asio::awaitable<void> Pop3Server::Serve(std::shared_ptr<net::Connection> conn, bool implicit_tls) {
  SessionOptions options = options_.session;
  options.implicit_tls = implicit_tls;
  auto session = std::make_shared<Session>(std::move(conn), context_, locks_, std::move(options));
  co_await session->Run();
}

}  // namespace postern::pop3server
