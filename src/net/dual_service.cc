#include "net/dual_service.h"

#include <algorithm>

namespace postern::net {
namespace {

ServiceOptions Named(ServiceOptions options, std::string name) {
  options.name = std::move(name);
  return options;
}

}  // namespace

// The handlers call the virtual methods only once connections arrive, after
// construction.
DualService::DualService(IoContextPool& pool, std::string name, const ServiceOptions& limits)
    : name_(std::move(name)),
      plain_(pool, Named(limits, name_), Handlers(false)),
      tls_(pool, Named(limits, name_ + "s"), Handlers(true)) {}

ServiceHandlers DualService::Handlers(bool implicit_tls) {
  return ServiceHandlers{
      [this, implicit_tls](std::shared_ptr<Connection> conn) {
        return Serve(std::move(conn), implicit_tls);
      },
      [this](bool per_client) { return Refusal(per_client); },
      [this] { return ShuttingDown(); },
  };
}

DualService::~DualService() = default;

Status DualService::Bind(const std::vector<std::string>& plain, const std::vector<std::string>& tls,
                         bool have_tls) {
  PT_RETURN_IF_ERROR(plain_.Bind(plain));
  if (!tls.empty() && !have_tls) {
    return FailedPrecondition(name_ +
                              ".listen_tls needs a TLS certificate (tls.certificate, tls.key)");
  }
  return tls_.Bind(tls);
}

void DualService::Start() {
  plain_.Start();
  tls_.Start();
}

void DualService::StopAccepting() {
  plain_.StopAccepting();
  tls_.StopAccepting();
}

void DualService::Drain() {
  plain_.Drain();
  tls_.Drain();
}

void DualService::CloseAll() {
  plain_.CloseAll();
  tls_.CloseAll();
}

size_t DualService::active_sessions() const {
  return plain_.active_sessions() + tls_.active_sessions();
}

bool DualService::WaitForSessions(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool plain = plain_.WaitForSessions(timeout);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return tls_.WaitForSessions(std::max(left, std::chrono::milliseconds(0))) && plain;
}

}  // namespace postern::net
