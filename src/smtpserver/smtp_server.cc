#include "smtpserver/smtp_server.h"

#include <thread>

#include "base/log.h"

namespace postern::smtpserver {

SmtpServer::SmtpServer(net::IoContextPool& pool, Backend& backend, SmtpServerOptions options)
    : pool_(pool),
      backend_(backend),
      options_(std::move(options)),
      registry_(
          std::make_shared<Registry>(options_.max_connections, options_.max_connections_per_ip)) {}

SmtpServer::~SmtpServer() = default;

Status SmtpServer::Bind(const std::vector<std::string>& endpoints) {
  for (const auto& ep : endpoints) {
    PT_ASSIGN_OR_RETURN(auto listener, net::Listener::Bind(pool_.First(), ep));
    listeners_.push_back(std::move(listener));
  }
  return Status::Ok();
}

void SmtpServer::Start() {
  for (auto& l : listeners_) {
    LOG_INFO("smtp: listening on {}", l->endpoint());
    auto accept = [this](asio::ip::tcp::socket s) { OnAccept(std::move(s)); };
    l->Start(pool_, std::move(accept));
  }
}

void SmtpServer::StopAccepting() {
  for (auto& l : listeners_) l->Stop();
}

void SmtpServer::Drain() {
  registry_->draining = true;  // before the walk: a later registration sees it
  std::lock_guard lock(registry_->mu);
  for (const auto& c : registry_->sessions) c->Drain();
}

void SmtpServer::CloseAll() {
  std::lock_guard lock(registry_->mu);
  for (const auto& c : registry_->sessions) {
    auto conn = c;
    asio::post(conn->executor(), [conn] { conn->Close(); });
  }
}

size_t SmtpServer::active_sessions() const {
  std::lock_guard lock(registry_->mu);
  return registry_->sessions.size();
}

bool SmtpServer::WaitForSessions(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (active_sessions() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::vector<uint16_t> SmtpServer::ports() const {
  std::vector<uint16_t> out;
  for (const auto& l : listeners_) out.push_back(l->port());
  return out;
}

void SmtpServer::OnAccept(asio::ip::tcp::socket socket) {
  auto conn = std::make_shared<net::Connection>(std::move(socket));
  asio::co_spawn(conn->executor(), Serve(conn), [conn](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      LOG_ERROR("smtp: session with [{}] ended by an exception: {}", conn->remote_ip(), ex.what());
    }
    conn->Close();
  });
}

asio::awaitable<void> SmtpServer::Serve(std::shared_ptr<net::Connection> conn) {
  conn->Start();
  const std::string key = net::ConnectionLimiter::KeyFor(conn->remote_ip());
  auto verdict = registry_->limiter.Acquire(key);
  if (verdict != net::ConnectionLimiter::Verdict::kOk) {
    bool per_ip = verdict == net::ConnectionLimiter::Verdict::kTooManyFromClient;
    LOG_WARN("smtp: refused [{}]: too many connections{}", conn->remote_ip(),
             per_ip ? " from this address" : "");
    smtp::Reply r(421, "4.7.0",
                  options_.session.hostname + " Error: too many connections" +
                      (per_ip ? " from your address" : "") + ", try again later",
                  true);
    conn->Queue(r.Serialize());
    co_await conn->Flush(std::chrono::seconds(10));
    conn->Close();
    co_return;
  }
  // Registration and release are tied to this frame, exception or not, and
  // touch only the shared registry.
  struct Registration {
    std::shared_ptr<Registry> registry;
    std::shared_ptr<net::Connection> conn;
    std::string key;
    ~Registration() {
      registry->limiter.Release(key);
      std::lock_guard lock(registry->mu);
      registry->sessions.erase(conn);
    }
  };
  {
    std::lock_guard lock(registry_->mu);
    registry_->sessions.insert(conn);
  }
  Registration registration{registry_, conn, key};
  if (registry_->draining) {
    // Accepted while the server began to drain (the listener closes
    // asynchronously): no greeting, just the shutdown notice.
    conn->Queue(smtp::ShuttingDownReply(options_.session.hostname).Serialize());
    co_await conn->Flush(std::chrono::seconds(10));
    conn->Close();
    co_return;
  }
  LOG_DEBUG("smtp: connect from [{}]:{}", conn->remote_ip(), conn->remote_port());
  Session session(conn, backend_, options_.session);
  co_await session.Run();
}

}  // namespace postern::smtpserver
