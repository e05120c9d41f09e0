// Bridges between coroutines on I/O threads and blocking or callback-based
// work elsewhere. The coroutine always resumes on its own executor.
//
// g++ 12 pitfall (docs/architecture.md): never write a capturing lambda inside
// a co_await expression. Name it first: `auto fn = [...] {...};
// co_await Offload(pool, std::move(fn));`
#pragma once

#include <memory>
#include <type_traits>

#include "net/asio.h"

namespace postern {

// Runs `fn()` on `pool` (blocking work: SQLite, fsync, hashing) and returns
// its result to the awaiting coroutine.
template <typename Fn>
asio::awaitable<std::invoke_result_t<Fn&>> Offload(asio::thread_pool& pool, Fn fn) {
  using R = std::invoke_result_t<Fn&>;
  auto ex = co_await asio::this_coro::executor;
  auto init = [&pool, ex, fn = std::move(fn)](auto handler) mutable {
    asio::post(pool, [handler = std::move(handler), ex, fn = std::move(fn)]() mutable {
      R result = fn();
      asio::post(ex, [handler = std::move(handler), result = std::move(result)]() mutable {
        std::move(handler)(std::move(result));
      });
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(R)>(
      std::move(init), asio::use_awaitable);
}

// Calls `start(callback)`; `callback(value)` may be invoked from any thread,
// once. Returns the value to the awaiting coroutine on its own executor.
template <typename T, typename Start>
asio::awaitable<T> AwaitCallback(Start start) {
  auto ex = co_await asio::this_coro::executor;
  auto init = [ex, start = std::move(start)](auto handler) mutable {
    using Handler = decltype(handler);
    auto shared = std::make_shared<Handler>(std::move(handler));
    start([shared, ex](T value) {
      asio::post(ex, [shared, value = std::move(value)]() mutable {
        std::move (*shared)(std::move(value));
      });
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      std::move(init), asio::use_awaitable);
}

}  // namespace postern
