#include "sasl/guard.h"

#include <gtest/gtest.h>

namespace postern::sasl {
namespace {

using std::chrono::seconds;

class GuardTest : public ::testing::Test {
 protected:
  GuardOptions Options() {
    GuardOptions o;
    o.max_failures_per_client = 3;
    o.max_failures_per_account = 5;
    o.window = 600;
    o.ban = 900;
    return o;
  }
  FakeClock clock_;
};

TEST_F(GuardTest, AClientIsBannedAfterTooManyFailuresThenForgiven) {
  AuthGuard guard(Options(), clock_);
  EXPECT_EQ(guard.RetryAfter("192.0.2.1", "a@x.test"), 0);
  EXPECT_FALSE(guard.Failed("192.0.2.1", "a@x.test"));
  EXPECT_FALSE(guard.Failed("192.0.2.1", "b@x.test"));
  EXPECT_TRUE(guard.Failed("192.0.2.1", "c@x.test"));  // the third starts the ban
  EXPECT_EQ(guard.RetryAfter("192.0.2.1", "a@x.test"), 900);
  EXPECT_EQ(guard.RetryAfter("192.0.2.1", ""), 900);
  EXPECT_EQ(guard.RetryAfter("192.0.2.2", "a@x.test"), 0);  // others are not affected
  EXPECT_FALSE(guard.Failed("192.0.2.1", "a@x.test"));      // no second ban while banned
  clock_.Advance(seconds(600));
  EXPECT_EQ(guard.RetryAfter("192.0.2.1", "a@x.test"), 300);
  clock_.Advance(seconds(300));
  EXPECT_EQ(guard.RetryAfter("192.0.2.1", "a@x.test"), 0);
}

TEST_F(GuardTest, FailuresOutsideTheWindowDoNotCount) {
  AuthGuard guard(Options(), clock_);
  EXPECT_FALSE(guard.Failed("192.0.2.1", "a@x.test"));
  EXPECT_FALSE(guard.Failed("192.0.2.1", "a@x.test"));
  clock_.Advance(seconds(601));
  EXPECT_FALSE(guard.Failed("192.0.2.1", "a@x.test"));
  EXPECT_FALSE(guard.Failed("192.0.2.1", "a@x.test"));
  EXPECT_EQ(guard.RetryAfter("192.0.2.1", "a@x.test"), 0);
}

TEST_F(GuardTest, DistributedGuessingClosesTheAccountButNotToItsKnownClients) {
  AuthGuard guard(Options(), clock_);
  guard.Succeeded("198.51.100.7", "a@x.test");  // the owner, earlier
  for (int i = 1; i <= 4; ++i) {
    EXPECT_FALSE(guard.Failed("203.0.113." + std::to_string(i), "a@x.test"));
  }
  EXPECT_TRUE(guard.Failed("203.0.113.5", "a@x.test"));
  EXPECT_EQ(guard.RetryAfter("203.0.113.99", "a@x.test"), 900);  // a new guesser
  EXPECT_EQ(guard.RetryAfter("203.0.113.99", "b@x.test"), 0);    // other accounts are open
  EXPECT_EQ(guard.RetryAfter("198.51.100.7", "a@x.test"), 0);    // the owner still gets in
}

TEST_F(GuardTest, MemoryIsBounded) {
  GuardOptions o = Options();
  o.max_entries = 100;
  AuthGuard guard(o, clock_);
  for (int i = 0; i < 10000; ++i) {
    guard.Failed("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), "");
    if (i % 50 == 0) clock_.Advance(seconds(1));
  }
  // Still working, and recent bans are kept: the newest client was counted.
  EXPECT_FALSE(guard.Failed("10.0.39.15", ""));
  EXPECT_TRUE(guard.Failed("10.0.39.15", ""));
  EXPECT_EQ(guard.RetryAfter("10.0.39.15", ""), 900);
}

}  // namespace
}  // namespace postern::sasl
