#include "net/listener.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace postern::net {
namespace {

TEST(ParseEndpointTest, Forms) {
  auto v4 = ParseEndpoint("127.0.0.1:2525");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->port(), 2525);
  EXPECT_TRUE(v4->address().is_v4());
  auto v6 = ParseEndpoint("[::1]:25");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->address().is_v6());
  EXPECT_FALSE(ParseEndpoint("localhost:25").ok());
  EXPECT_FALSE(ParseEndpoint("127.0.0.1").ok());
  EXPECT_FALSE(ParseEndpoint("127.0.0.1:99999").ok());
  EXPECT_FALSE(ParseEndpoint("[::1]25").ok());
  EXPECT_FALSE(ParseEndpoint("1.2.3.4:").ok());
}

TEST(ConnectionLimiterTest, TotalAndPerClient) {
  ConnectionLimiter limiter(3, 2);
  using V = ConnectionLimiter::Verdict;
  EXPECT_EQ(limiter.Acquire("a"), V::kOk);
  EXPECT_EQ(limiter.Acquire("a"), V::kOk);
  EXPECT_EQ(limiter.Acquire("a"), V::kTooManyFromClient);
  EXPECT_EQ(limiter.Acquire("b"), V::kOk);
  EXPECT_EQ(limiter.Acquire("c"), V::kTooManyTotal);
  limiter.Release("a");
  EXPECT_EQ(limiter.total(), 2u);
  EXPECT_EQ(limiter.Acquire("c"), V::kOk);
  limiter.Release("unknown");  // harmless
  EXPECT_EQ(limiter.total(), 3u);
}

TEST(ConnectionLimiterTest, Ipv6CountsPerSlash64) {
  EXPECT_EQ(ConnectionLimiter::KeyFor("2001:db8:1:2:aaaa::1"),
            ConnectionLimiter::KeyFor("2001:db8:1:2:bbbb::9"));
  EXPECT_NE(ConnectionLimiter::KeyFor("2001:db8:1:2::1"),
            ConnectionLimiter::KeyFor("2001:db8:1:3::1"));
  EXPECT_EQ(ConnectionLimiter::KeyFor("192.0.2.7"), "192.0.2.7");
}

TEST(ListenerTest, BindErrorsExplain) {
  asio::io_context ctx;
  auto first = Listener::Bind(ctx, "127.0.0.1:0");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  uint16_t port = (*first)->port();
  ASSERT_NE(port, 0);
  auto second = Listener::Bind(ctx, "127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("another program"), std::string::npos);
}

// Every pool context accepts; a socket stays on the context that accepted it
// (its session needs no hand-off to another thread); Stop closes them all.
TEST(ListenerTest, AcceptsOnEveryContextWithoutHandOff) {
  IoContextPool pool(2);
  auto listener = Listener::Bind(pool.First(), "127.0.0.1:0");
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  const uint16_t port = (*listener)->port();
  std::mutex mu;
  std::condition_variable cv;
  int accepted = 0;
  int on_own_thread = 0;
  std::vector<asio::ip::tcp::socket> kept;
  (*listener)->Start(pool, [&](asio::ip::tcp::socket s) {
    std::lock_guard lock(mu);
    ++accepted;
    const auto* ex = s.get_executor().target<asio::io_context::executor_type>();
    if (ex != nullptr && ex->running_in_this_thread()) ++on_own_thread;
    kept.push_back(std::move(s));
    cv.notify_all();
  });
  pool.Start();
  constexpr int kClients = 20;
  asio::io_context client_ctx;
  std::vector<asio::ip::tcp::socket> clients;
  const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(client_ctx);
    error_code ec;
    clients.back().connect(ep, ec);
    ASSERT_FALSE(ec) << ec.message();
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return accepted == kClients; }))
        << accepted << " of " << kClients << " accepted";
    EXPECT_EQ(on_own_thread, kClients);
  }
  (*listener)->Stop();
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) {
    asio::ip::tcp::socket late(client_ctx);
    error_code ec;
    late.connect(ep, ec);
    refused = ec == asio::error::connection_refused;
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(refused) << "still listening after Stop on every context";
  pool.Stop();
  std::lock_guard lock(mu);
  kept.clear();
}

}  // namespace
}  // namespace postern::net
