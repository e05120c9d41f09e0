#include "sasl/exchange.h"

#include <utility>

#include "net/async.h"

namespace postern::sasl {

asio::awaitable<Result<StepResult>> RunExchange(asio::thread_pool& pool, Mechanism& mechanism,
                                                std::optional<std::string> initial_response,
                                                Ask ask) {
  std::optional<std::string> client_data = std::move(initial_response);
  for (;;) {
    Mechanism* m = &mechanism;
    auto step = [m, data = std::move(client_data)] {
      return data ? m->Step(std::string_view(*data)) : m->Step(std::nullopt);
    };
    StepResult result = co_await Offload(pool, std::move(step));
    if (result.status == StepStatus::kContinue) {
      Result<std::string> reply = co_await ask(std::move(result.data));
      if (!reply.ok()) co_return reply.status();
      client_data = std::move(*reply);
      continue;
    }
    if (result.status == StepStatus::kSuccess && !result.data.empty()) {
      Result<std::string> reply = co_await ask(result.data);
      if (!reply.ok()) co_return reply.status();
      if (!reply->empty()) co_return InvalidArgument("Expected an empty response");
    }
    co_return result;
  }
}

}  // namespace postern::sasl
