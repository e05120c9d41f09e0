// Tests for IMAP date and date-time parsing, Unix time conversion and formatting.
#include "imap/date_time.h"

#include <gtest/gtest.h>

#include <string>

#include "imap/writer.h"

namespace postern::imap {
namespace {

TEST(DateTest, Parses) {
  std::optional<Date> d = ParseDate("1-Feb-1994");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (Date{1994, 2, 1}));
  EXPECT_EQ(ParseDate("01-feb-1994"), d);
  EXPECT_EQ(ParseDate("29-FEB-2024"), (Date{2024, 2, 29}));
  EXPECT_EQ(ParseDate("31-Dec-9999"), (Date{9999, 12, 31}));
  EXPECT_EQ(ParseDate("1-Jan-1970")->ToUnixTime(), 0);
  EXPECT_EQ(ParseDate("2-Jan-1970")->ToUnixTime(), 86400);
  EXPECT_EQ(ParseDate("31-Dec-1969")->ToUnixTime(), -86400);
  EXPECT_EQ(ParseDate("1-Mar-2000")->ToUnixTime(), 951868800);
}

TEST(DateTest, Rejects) {
  for (std::string_view bad :
       {"", "1-Feb-94", "001-Feb-1994", "1-Febr-1994", "1-Fe-1994", "1 Feb 1994", "0-Feb-1994",
        "30-Feb-2024", "29-Feb-2023", "29-Feb-1900", "32-Jan-2020", "31-Apr-2020", "1-Feb-1994x",
        "1-Foo-1994", "-1-Feb-1994", "1-Feb-19945", "\"1-Feb-1994\"", "a-Feb-1994"}) {
    EXPECT_FALSE(ParseDate(bad)) << bad;
  }
  EXPECT_TRUE(ParseDate("29-Feb-2000"));
}

TEST(DateTimeTest, Parses) {
  std::optional<DateTime> dt = ParseDateTime("17-Jul-1996 02:44:25 -0700");
  ASSERT_TRUE(dt);
  EXPECT_EQ(dt->date, (Date{1996, 7, 17}));
  EXPECT_EQ(dt->hour, 2);
  EXPECT_EQ(dt->minute, 44);
  EXPECT_EQ(dt->second, 25);
  EXPECT_EQ(dt->zone_minutes, -420);
  EXPECT_EQ(dt->ToUnixTime(), 837596665);
  // date-day-fixed: SP DIGIT, and leniently one digit.
  EXPECT_EQ(ParseDateTime(" 7-Feb-1994 21:52:25 +0100")->date.day, 7);
  EXPECT_EQ(ParseDateTime("7-Feb-1994 21:52:25 +0100")->date.day, 7);
  EXPECT_EQ(ParseDateTime("07-Feb-1994 21:52:25 +0530")->zone_minutes, 330);
  EXPECT_EQ(ParseDateTime("31-Dec-2016 23:59:60 +0000")->second, 60);
  EXPECT_EQ(ParseDateTime("01-Jan-1970 00:00:00 +0000")->ToUnixTime(), 0);
  EXPECT_EQ(ParseDateTime("01-Jan-1970 01:00:00 +0100")->ToUnixTime(), 0);
}

TEST(DateTimeTest, Rejects) {
  for (std::string_view bad :
       {"", "17-Jul-1996", "17-Jul-1996 02:44:25", "17-Jul-1996 02:44:25 0700",
        "17-Jul-1996 2:44:25 -0700", "17-Jul-1996 24:00:00 -0700", "17-Jul-1996 02:60:00 -0700",
        "17-Jul-1996 02:44:61 -0700", "17-Jul-1996 02:44:25 -0760", "17-Jul-1996 02:44:25 -07000",
        "17-Jul-1996  02:44:25 -0700", "17-Jul-1996 02:44:25  -0700", "31-Jun-1996 02:44:25 -0700",
        "17-Jul-1996T02:44:25 -0700", "17-Jul-1996 02-44-25 -0700",
        "  7-Feb-1994 21:52:25 +0100"}) {
    EXPECT_FALSE(ParseDateTime(bad)) << bad;
  }
}

TEST(DateTimeTest, FromUnixAndFormat) {
  EXPECT_EQ(FormatDateTime(837596665, -420), "17-Jul-1996 02:44:25 -0700");
  EXPECT_EQ(FormatDateTime(0, 0), "01-Jan-1970 00:00:00 +0000");
  EXPECT_EQ(FormatDateTime(0, 330), "01-Jan-1970 05:30:00 +0530");
  EXPECT_EQ(FormatDateTime(-1, 0), "31-Dec-1969 23:59:59 +0000");
  EXPECT_EQ(FormatDateTime(951782400, 0), "29-Feb-2000 00:00:00 +0000");
  EXPECT_EQ(FormatDateTime(4102444799, 0), "31-Dec-2099 23:59:59 +0000");
  // Round trip through the parser over a spread of instants and zones.
  for (int64_t t = -2'000'000'000; t < 4'000'000'000; t += 12'345'679) {
    for (int zone : {-720, -420, 0, 60, 345, 840}) {
      std::string text = FormatDateTime(t, zone);
      std::optional<DateTime> parsed = ParseDateTime(text);
      ASSERT_TRUE(parsed) << text;
      EXPECT_EQ(parsed->ToUnixTime(), t) << text;
      EXPECT_EQ(parsed->zone_minutes, zone);
      EXPECT_EQ(*parsed, DateTimeFromUnix(t, zone));
    }
  }
}

}  // namespace
}  // namespace postern::imap
