#include "base/clock.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace postern {
namespace {

TEST(ClockTest, FakeClockAdvances) {
  FakeClock clock(1000);
  EXPECT_EQ(clock.NowUnix(), 1000);
  clock.Advance(std::chrono::seconds(5));
  EXPECT_EQ(clock.NowUnix(), 1005);
}

TEST(ClockTest, FormatsDates) {
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(FormatRfc5322Date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(FormatIsoUtc(1700000000), "2023-11-14T22:13:20Z");
}

}  // namespace
}  // namespace postern
