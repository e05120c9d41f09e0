#include "smtpserver/smtp_server.h"

#include "base/log.h"

namespace postern::smtpserver {

namespace {

net::ServiceOptions ServiceOptionsFor(const SmtpServerOptions& o) {
  net::ServiceOptions s;
  s.name = "smtp";
  s.max_connections = o.max_connections;
  s.max_connections_per_ip = o.max_connections_per_ip;
  return s;
}

}  // namespace

SmtpServer::SmtpServer(net::IoContextPool& pool, Backend& backend, SmtpServerOptions options)
    : backend_(backend),
      options_(std::move(options)),
      service_(
          pool, ServiceOptionsFor(options_),
          net::ServiceHandlers{
              [this](std::shared_ptr<net::Connection> conn) { return Serve(std::move(conn)); },
              [this](bool per_ip) {
                return smtp::Reply(421, "4.7.0",
                                   options_.session.hostname + " Error: too many connections" +
                                       (per_ip ? " from your address" : "") + ", try again later",
                                   true)
                    .Serialize();
              },
              [this] { return smtp::ShuttingDownReply(options_.session.hostname).Serialize(); },
          }) {}

SmtpServer::~SmtpServer() = default;

Status SmtpServer::Bind(const std::vector<std::string>& endpoints) {
  return service_.Bind(endpoints);
}
void SmtpServer::Start() { service_.Start(); }
void SmtpServer::StopAccepting() { service_.StopAccepting(); }
void SmtpServer::Drain() { service_.Drain(); }
void SmtpServer::CloseAll() { service_.CloseAll(); }
size_t SmtpServer::active_sessions() const { return service_.active_sessions(); }
bool SmtpServer::WaitForSessions(std::chrono::milliseconds timeout) const {
  return service_.WaitForSessions(timeout);
}
std::vector<uint16_t> SmtpServer::ports() const { return service_.ports(); }

asio::awaitable<void> SmtpServer::Serve(std::shared_ptr<net::Connection> conn) {
  Session session(conn, backend_, options_.session);
  co_await session.Run();
}

SubmissionServer::SubmissionServer(net::IoContextPool& pool, Backend& backend,
                                   SmtpServerOptions options)
    : net::DualService(pool, "submission",
                       {"", options.max_connections, options.max_connections_per_ip}),
      backend_(backend),
      options_(std::move(options)) {
  options_.session.submission = true;
}

SubmissionServer::~SubmissionServer() = default;

std::string SubmissionServer::Refusal(bool per_client) const {
  return smtp::Reply(421, "4.7.0",
                     options_.session.hostname + " Error: too many connections" +
                         (per_client ? " from your address" : "") + ", try again later",
                     true)
      .Serialize();
}

std::string SubmissionServer::ShuttingDown() const {
  return smtp::ShuttingDownReply(options_.session.hostname).Serialize();
}

asio::awaitable<void> SubmissionServer::Serve(std::shared_ptr<net::Connection> conn,
                                              bool implicit_tls) {
  SessionOptions options = options_.session;
  options.implicit_tls = implicit_tls;
  Session session(std::move(conn), backend_, options);
  co_await session.Run();
}

}  // namespace postern::smtpserver
