// Asio in one place: the namespace alias and the completion token used by all
// coroutines (errors as values through as_tuple, no exceptions).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace postern {
namespace asio = boost::asio;
using boost::system::error_code;

// `auto [ec, n] = co_await sock.async_read_some(buf, kAwait);`
inline constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
}  // namespace postern
