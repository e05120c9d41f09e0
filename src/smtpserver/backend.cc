#include "smtpserver/backend.h"

namespace postern::smtpserver {

asio::awaitable<AuthOutcome> AuthenticateWith(asio::thread_pool& blocking,
                                              sasl::Credentials& credentials, std::string mechanism,
                                              std::optional<std::string> initial_response,
                                              sasl::Ask ask) {
  AuthOutcome out;
  std::unique_ptr<sasl::Mechanism> m = sasl::NewMechanism(mechanism, credentials);
  if (!m) {
    out.supported = false;
    co_return out;
  }
  out.step = co_await sasl::RunExchange(blocking, *m, std::move(initial_response), std::move(ask));
  out.user = m->user();
  co_return out;
}

}  // namespace postern::smtpserver
