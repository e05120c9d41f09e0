#include "net/listener.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace postern::net
