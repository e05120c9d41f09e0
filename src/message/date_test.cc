// Tests for Date values (RFC 5322 §3.3 and the §4.3 obsolete forms).
#include "message/date.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>

#include "message/test_vectors.h"

namespace postern::message {
namespace {

using testing::FieldBody;
using testing::LoadTestVectors;

// Unix time of a UTC calendar instant, computed independently of date.cc.
int64_t UtcSeconds(int year, int month, int day, int hour, int minute, int second) {
  std::chrono::sys_days days = std::chrono::year{year} /
                               std::chrono::month{static_cast<unsigned>(month)} /
                               std::chrono::day{static_cast<unsigned>(day)};
  return days.time_since_epoch().count() * 86400LL + hour * 3600 + minute * 60 + second;
}

void ExpectDate(std::string_view value, int year, int month, int day, int hour, int minute,
                int second, int zone_minutes) {
  SCOPED_TRACE(std::string(value));
  std::optional<DateTime> date = ParseDateTime(value);
  ASSERT_TRUE(date.has_value());
  EXPECT_EQ(date->year, year);
  EXPECT_EQ(date->month, month);
  EXPECT_EQ(date->day, day);
  EXPECT_EQ(date->zone_offset_minutes, zone_minutes);
  EXPECT_EQ(date->utc_seconds,
            UtcSeconds(year, month, day, hour, minute, second) - zone_minutes * 60LL);
}

TEST(ParseDateTimeTest, Rfc5322Examples) {
  // RFC 5322 Appendix A.
  ExpectDate("Fri, 21 Nov 1997 09:55:06 -0600", 1997, 11, 21, 9, 55, 6, -360);
  ExpectDate("Tue, 1 Jul 2003 10:52:37 +0200", 2003, 7, 1, 10, 52, 37, 120);
  ExpectDate("Thu, 13 Feb 1969 23:32:54 -0330", 1969, 2, 13, 23, 32, 54, -210);
  ExpectDate(
      "Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n"
      "               -0330 (Newfoundland Time)",
      1969, 2, 13, 23, 32, 0, -210);
  ExpectDate("21 Nov 97 09:55:06 GMT", 1997, 11, 21, 9, 55, 6, 0);
  ExpectDate("Mon, 1 Jan 2001 00:01:33 +0000", 2001, 1, 1, 0, 1, 33, 0);
}

TEST(ParseDateTimeTest, UtcInstantAcrossZones) {
  // RFC 5256 §2.2: "31 Dec 2000 16:01:33 -0800" is "1 Jan 2001 00:01:33 +0000".
  std::optional<DateTime> a = ParseDateTime("31 Dec 2000 16:01:33 -0800");
  std::optional<DateTime> b = ParseDateTime("1 Jan 2001 00:01:33 +0000");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->utc_seconds, b->utc_seconds);
  EXPECT_EQ(a->utc_seconds, 978307293);
  EXPECT_EQ(a->day, 31);  // the date as written, for SENTON
  EXPECT_EQ(b->day, 1);
}

TEST(ParseDateTimeTest, ObsoleteZones) {
  // RFC 5322 §4.3.
  const std::map<std::string, int> kZones = {
      {"UT", 0},     {"GMT", 0},    {"Z", 0},      {"EST", -300}, {"EDT", -240},
      {"CST", -360}, {"CDT", -300}, {"MST", -420}, {"MDT", -360}, {"PST", -480},
      {"PDT", -420}, {"est", -300}, {"A", 0},      {"M", 0},      {"N", 0},
      {"Y", 0},      {"z", 0},      {"CEST", 0},   {"ZZZZ", 0},   {"UTC", 0},
  };
  for (const auto& [zone, minutes] : kZones) {
    ExpectDate("Sun, 27 Oct 2002 23:57:07 " + zone, 2002, 10, 27, 23, 57, 7, minutes);
  }
  ExpectDate("Thu, 10 Jul 1997 14:53:31 EST5EDT", 1997, 7, 10, 14, 53, 31, -300);
  ExpectDate("Thu, 10 Jul 1997 14:53:31 GMT+0100", 1997, 7, 10, 14, 53, 31, 60);
  ExpectDate("Thu, 10 Jul 1997 14:53:31 +01:30", 1997, 7, 10, 14, 53, 31, 90);
  ExpectDate("Thu, 10 Jul 1997 14:53:31 -05", 1997, 7, 10, 14, 53, 31, -300);
  ExpectDate("Thu, 10 Jul 1997 14:53:31", 1997, 7, 10, 14, 53, 31, 0);        // no zone
  ExpectDate("Thu, 10 Jul 1997 14:53:31 +0060", 1997, 7, 10, 14, 53, 31, 0);  // invalid
  ExpectDate("Thu, 10 Jul 1997 14:53:31 +1345", 1997, 7, 10, 14, 53, 31, 825);
}

TEST(ParseDateTimeTest, Years) {
  // RFC 5322 §4.3: two digits below 50 are 20xx, others 19xx; three digits
  // add 1900.
  ExpectDate("1 Jan 00 00:00:00 +0000", 2000, 1, 1, 0, 0, 0, 0);
  ExpectDate("1 Jan 49 00:00:00 +0000", 2049, 1, 1, 0, 0, 0, 0);
  ExpectDate("1 Jan 50 00:00:00 +0000", 1950, 1, 1, 0, 0, 0, 0);
  ExpectDate("1 Jan 99 00:00:00 +0000", 1999, 1, 1, 0, 0, 0, 0);
  ExpectDate("1 Jan 103 00:00:00 +0000", 2003, 1, 1, 0, 0, 0, 0);
  ExpectDate("1 Jan 2049 00:00:00 +0000", 2049, 1, 1, 0, 0, 0, 0);
  ExpectDate("1 Jan 1850 00:00:00 +0000", 1850, 1, 1, 0, 0, 0, 0);
  ExpectDate("31 Dec 9999 23:59:59 +0000", 9999, 12, 31, 23, 59, 59, 0);
}

TEST(ParseDateTimeTest, LooseForms) {
  ExpectDate(" Wed, 27 Jun 99 04:11 +0900 ", 1999, 6, 27, 4, 11, 0, 540);  // no seconds
  ExpectDate("27 Jun 1999 04:11:05 +0900", 1999, 6, 27, 4, 11, 5, 540);    // no weekday
  ExpectDate("Wednesday, 27 June 1999 04:11:05 +0900", 1999, 6, 27, 4, 11, 5, 540);
  ExpectDate("  Tue ,  1  Jul  2003  10:52:37  +0200  ", 2003, 7, 1, 10, 52, 37, 120);
  ExpectDate("1 Jul 2003 (comment) 10:52:37 +0200", 2003, 7, 1, 10, 52, 37, 120);
  ExpectDate("Tue, 1 Jul 2003 ((nested)\r\n comment) 10:52:37 +0200", 2003, 7, 1, 10, 52, 37, 120);
  ExpectDate("Fri, 21-Nov-97 09:55:06 GMT", 1997, 11, 21, 9, 55, 6, 0);  // RFC 850
  ExpectDate("Wed Jun 30 21:49:08 1993", 1993, 6, 30, 21, 49, 8, 0);     // asctime
  ExpectDate("Wed Jun 30 21:49:08 1993 -0700", 1993, 6, 30, 21, 49, 8, -420);
  ExpectDate("20 11 79 05:34:27 -0300", 1979, 11, 20, 5, 34, 27, -180);  // month number
  ExpectDate("Tue, 1 Jul 2003 10:52:37.125 +0200", 2003, 7, 1, 10, 52, 37, 120);
  ExpectDate("Tue, 01 Jul 2003 1:2:3 +0200", 2003, 7, 1, 1, 2, 3, 120);
  ExpectDate("Sat, 31 Dec 2016 23:59:60 +0000", 2016, 12, 31, 23, 59, 60, 0);  // leap second
  ExpectDate("29 Feb 2024 12:00:00 +0000", 2024, 2, 29, 12, 0, 0, 0);
}

TEST(ParseDateTimeTest, ReceivedFieldValue) {
  ExpectDate("from a by b with ESMTP id 123; Mon, 10 Oct 2022 10:31:15 -0700 (PDT)", 2022, 10, 10,
             10, 31, 15, -420);
}

TEST(ParseDateTimeTest, UnusableValues) {
  for (const char* value : {"",
                            "   ",
                            "garbage",
                            "Tue, 1 Jul 2003",
                            "1 Jul 2003 25:00:00 +0000",
                            "1 Jul 2003 10:60:00 +0000",
                            "1 Jul 2003 10:00:61 +0000",
                            "32 Jul 2003 10:00:00 +0000",
                            "0 Jul 2003 10:00:00 +0000",
                            "29 Feb 2023 10:00:00 +0000",
                            "31 Apr 2003 10:00:00 +0000",
                            "1 Xyz 2003 10:00:00 +0000",
                            "1 13 2003 10:00:00 +0000",
                            "1 00 2003 10:00:00 +0000",
                            "1 Jul 10:00:00 +0000",
                            "Jul 1 2003 +0000",
                            "1 Jul 2003 100:00:00 +0000",
                            "1 Jul 99999999999999999999 10:00:00 +0000",
                            "1 Jul 0000 10:00:00 +0000",
                            "((((",
                            "1 Jul 2003 (unterminated 10:00:00 +0000",
                            ";",
                            "a;b;c"}) {
    EXPECT_FALSE(ParseDateTime(value).has_value()) << value;
  }
}

TEST(ParseDateTimeTest, MailParserVectors) {
  nlohmann::json vectors = LoadTestVectors("mime/mail-parser/headers/date.json");
  ASSERT_EQ(vectors.size(), 40u);
  for (size_t i = 0; i < vectors.size(); ++i) {
    std::string header = FieldBody(vectors[i]["header"].get<std::string>());
    const nlohmann::json& expected = vectors[i]["expected"];
    std::optional<DateTime> date = ParseDateTime(header);
    if (i == 12) {
      // " 4 8 15 16 23 42, ...": mail-parser reads bare numbers as a time
      // ("16 23 42") and the next as a zone. Without a "hh:mm" time we do
      // not guess: RFC 5322 §3.3 requires one.
      ASSERT_FALSE(expected.is_null());
      EXPECT_FALSE(date.has_value()) << header;
      continue;
    }
    if (expected.is_null()) {
      EXPECT_FALSE(date.has_value()) << "case " << i << ": " << header;
      continue;
    }
    ASSERT_TRUE(date.has_value()) << "case " << i << ": " << header;
    int zone = (expected["tz_hour"].get<int>() * 60 + expected["tz_minute"].get<int>()) *
               (expected["tz_before_gmt"].get<bool>() ? -1 : 1);
    SCOPED_TRACE("case " + std::to_string(i) + ": " + header);
    EXPECT_EQ(date->year, expected["year"].get<int>());
    EXPECT_EQ(date->month, expected["month"].get<int>());
    EXPECT_EQ(date->day, expected["day"].get<int>());
    EXPECT_EQ(date->zone_offset_minutes, zone);
    EXPECT_EQ(date->utc_seconds,
              UtcSeconds(expected["year"].get<int>(), expected["month"].get<int>(),
                         expected["day"].get<int>(), expected["hour"].get<int>(),
                         expected["minute"].get<int>(), expected["second"].get<int>()) -
                  zone * 60LL);
  }
}

TEST(ParseDateTimeTest, DeeplyNestedComments) {
  EXPECT_FALSE(ParseDateTime(std::string(100000, '(') + std::string(100000, ')') +
                             " 1 Jan 2020 00:00:00 +0000")
                   .has_value());
  ExpectDate(std::string(5, '(') + std::string(5, ')') + " 1 Jan 2020 00:00:00 +0000", 2020, 1, 1,
             0, 0, 0, 0);
}

TEST(ParseDateTimeTest, PathologicalInputIsLinear) {
  const std::string patterns[] = {"(", "1 ", "1:", "+1", "Jan ", ";", "((a)", "-", "a"};
  for (const std::string& pattern : patterns) {
    testing::ExpectLinearTime("", pattern, [](const std::string& input) {
      ParseDateTime(input);
      ParseDateTime(input + "; 1 Jan 2020 00:00:00 +0000");
    });
  }
}

}  // namespace
}  // namespace postern::message
