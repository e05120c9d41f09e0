#include "net/service.h"

#include <thread>

#include "base/log.h"

namespace postern::net {

Service::Service(IoContextPool& pool, ServiceOptions options, ServiceHandlers handlers)
    : pool_(pool),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      registry_(
          std::make_shared<Registry>(options_.max_connections, options_.max_connections_per_ip)) {}

Service::~Service() = default;

Status Service::Bind(const std::vector<std::string>& endpoints) {
  for (const auto& ep : endpoints) {
    PT_ASSIGN_OR_RETURN(auto listener, Listener::Bind(pool_.First(), ep));
    listeners_.push_back(std::move(listener));
  }
  return Status::Ok();
}

void Service::Start() {
  for (auto& l : listeners_) {
    LOG_INFO("{}: listening on {}", options_.name, l->endpoint());
    auto accept = [this](asio::ip::tcp::socket s) { OnAccept(std::move(s)); };
    l->Start(pool_, std::move(accept));
  }
}

void Service::StopAccepting() {
  for (auto& l : listeners_) l->Stop();
}

void Service::Drain() {
  registry_->draining = true;  // before the walk: a later registration sees it
  std::lock_guard lock(registry_->mu);
  for (const auto& c : registry_->sessions) c->Drain();
}

void Service::CloseAll() {
  std::lock_guard lock(registry_->mu);
  for (const auto& c : registry_->sessions) {
    auto conn = c;
    asio::post(conn->executor(), [conn] { conn->Close(); });
  }
}

size_t Service::active_sessions() const {
  std::lock_guard lock(registry_->mu);
  return registry_->sessions.size();
}

bool Service::WaitForSessions(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (active_sessions() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::vector<uint16_t> Service::ports() const {
  std::vector<uint16_t> out;
  for (const auto& l : listeners_) out.push_back(l->port());
  return out;
}

void Service::OnAccept(asio::ip::tcp::socket socket) {
  auto conn = std::make_shared<Connection>(std::move(socket));
  const std::string name = options_.name;
  asio::co_spawn(conn->executor(), Serve(conn), [conn, name](std::exception_ptr e) {
    if (LogException(e,
                     name + ": session with [" + conn->remote_ip() + "] ended by an exception")) {
      conn->Close();
    }
  });
}

asio::awaitable<void> Service::Serve(std::shared_ptr<Connection> conn) {
  conn->Start();
  const std::string key = ConnectionLimiter::KeyFor(conn->remote_ip());
  auto verdict = registry_->limiter.Acquire(key);
  if (verdict != ConnectionLimiter::Verdict::kOk) {
    bool per_ip = verdict == ConnectionLimiter::Verdict::kTooManyFromClient;
    LOG_WARN("{}: refused [{}]: too many connections{}", options_.name, conn->remote_ip(),
             per_ip ? " from this address" : "");
    conn->Queue(handlers_.refusal(per_ip));
    co_await conn->Flush(std::chrono::seconds(10));
    conn->Close();
    co_return;
  }
  // Registration and release are tied to this frame, exception or not, and
  // touch only the shared registry.
  struct Registration {
    std::shared_ptr<Registry> registry;
    std::shared_ptr<Connection> conn;
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
    // Accepted while the service began to drain (the listener closes
    // asynchronously): no greeting, just the shutdown notice.
    conn->Queue(handlers_.shutting_down());
    co_await conn->Flush(std::chrono::seconds(10));
    conn->Close();
    co_return;
  }
  LOG_DEBUG("{}: connect from [{}]:{}", options_.name, conn->remote_ip(), conn->remote_port());
  co_await handlers_.serve(conn);
}

}  // namespace postern::net
