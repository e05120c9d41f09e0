// Tests for sequence sets: parsing, "*" and "$", resolution against a mailbox, formatting.
#include "imap/sequence_set.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postern::imap {
namespace {

using Ranges = std::vector<SequenceRange>;

SequenceSet Parse(std::string_view text) {
  Result<SequenceSet> set = ParseSequenceSet(text);
  EXPECT_TRUE(set.ok()) << text << ": " << set.status().message();
  return set.ok() ? *set : SequenceSet{};
}

TEST(SequenceSetTest, Parses) {
  EXPECT_EQ(Parse("1").ranges, (Ranges{{1, 1}}));
  EXPECT_EQ(Parse("2,4:7,9,12:*").ranges, (Ranges{{2, 2}, {4, 7}, {9, 9}, {12, kStar}}));
  EXPECT_EQ(Parse("*").ranges, (Ranges{{kStar, kStar}}));
  EXPECT_EQ(Parse("*:4,5:7").ranges, (Ranges{{kStar, 4}, {5, 7}}));
  EXPECT_EQ(Parse("7:5").ranges, (Ranges{{7, 5}}));  // either order
  EXPECT_EQ(Parse("4294967295").ranges, (Ranges{{4294967295u, 4294967295u}}));
  SequenceSet saved = Parse("$");
  EXPECT_TRUE(saved.saved);
  EXPECT_TRUE(saved.ranges.empty());
}

TEST(SequenceSetTest, RangesContainAgreesWithContains) {
  SequenceSet set = *ParseSequenceSet("9,2:4,20:*,7");
  const std::vector<SequenceRange> resolved = set.Resolve(25);
  for (uint32_t n = 0; n <= 30; ++n) {
    EXPECT_EQ(RangesContain(resolved, n), set.Contains(n, 25)) << n;
  }
  EXPECT_FALSE(RangesContain({}, 1));
}

TEST(SequenceSetTest, Rejects) {
  for (std::string_view bad :
       {"",    "0",   "0:5",  "5:0", "01", "4294967296", "99999999999999999999",
        "1,",  ",1",  "1,,2", "1:",  ":1", "1:2:3",      "a",
        "1 2", "$,1", "1,$",  "$:1", "$$", "-1",         "+1",
        "1.5", "**",  "*1"}) {
    SCOPED_TRACE(std::string(bad));
    Result<SequenceSet> set = ParseSequenceSet(bad);
    EXPECT_FALSE(set.ok());
    if (!set.ok()) {
      EXPECT_FALSE(set.status().message().empty());
    }
  }
}

TEST(SequenceSetTest, RangeLimit) {
  std::string text = "1";
  for (int i = 2; i <= 10; ++i) text += "," + std::to_string(i * 2);
  EXPECT_TRUE(ParseSequenceSet(text, 10).ok());
  EXPECT_FALSE(ParseSequenceSet(text + ",99", 10).ok());
}

TEST(SequenceSetTest, Resolve) {
  // RFC 9051 §9: 2,4:7,9,12:* in a mailbox of 15 messages.
  EXPECT_EQ(Parse("2,4:7,9,12:*").Resolve(15), (Ranges{{2, 2}, {4, 7}, {9, 9}, {12, 15}}));
  // *:4,5:7 with 10 messages is 4:10.
  EXPECT_EQ(Parse("*:4,5:7").Resolve(10), (Ranges{{4, 10}}));
  // 3291:* includes the last UID even when it is below 3291.
  EXPECT_EQ(Parse("3291:*").Resolve(3000), (Ranges{{3000, 3291}}));
  EXPECT_EQ(Parse("5,1:3,4").Resolve(100), (Ranges{{1, 5}}));
  EXPECT_EQ(Parse("1:3,7,2").Resolve(100), (Ranges{{1, 3}, {7, 7}}));
  EXPECT_EQ(Parse("4294967295,1:4294967294").Resolve(10), (Ranges{{1, 4294967295u}}));
  // An empty mailbox: "*" is 0 and names nothing.
  EXPECT_EQ(Parse("*").Resolve(0), Ranges{});
  EXPECT_EQ(Parse("1:*").Resolve(0), (Ranges{{1, 1}}));
  EXPECT_EQ(Parse("$").Resolve(10), Ranges{});
}

TEST(SequenceSetTest, Contains) {
  SequenceSet set = Parse("2,4:7,12:*");
  EXPECT_FALSE(set.Contains(1, 15));
  EXPECT_TRUE(set.Contains(2, 15));
  EXPECT_TRUE(set.Contains(5, 15));
  EXPECT_FALSE(set.Contains(8, 15));
  EXPECT_TRUE(set.Contains(15, 15));
  EXPECT_FALSE(set.Contains(16, 15));
  EXPECT_FALSE(set.Contains(0, 15));
  EXPECT_TRUE(Parse("*:4").Contains(9, 10));
}

TEST(SequenceSetTest, ToStringRoundTrips) {
  for (std::string_view text : {"1", "1:*", "*", "2,4:7,9,12:*", "7:5", "$", "4294967295"}) {
    EXPECT_EQ(Parse(text).ToString(), text);
  }
  EXPECT_TRUE(Parse("1:*").HasStar());
  EXPECT_FALSE(Parse("1:4").HasStar());
}

}  // namespace
}  // namespace postern::imap
