#include "base/strings.h"

#include <gtest/gtest.h>

namespace postern {
namespace {

TEST(StringsTest, CaseHelpers) {
  EXPECT_EQ(AsciiToLower("MaIL FROM"), "mail from");
  EXPECT_TRUE(EqualsIgnoreCase("EHLO", "ehlo"));
  EXPECT_FALSE(EqualsIgnoreCase("EHLO", "ehl"));
  EXPECT_TRUE(StartsWithIgnoreCase("mail from:<a>", "MAIL FROM:"));
  EXPECT_TRUE(EndsWithIgnoreCase("a@Example.TEST", "example.test"));
}

TEST(StringsTest, TrimAndSplit) {
  EXPECT_EQ(TrimWhitespace("  a b \t\r\n"), "a b");
  auto parts = Split("a,,b", ',');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(Join({"a", "", "b"}, ", "), "a, , b");
  EXPECT_EQ(Join({}, " "), "");
  EXPECT_EQ(Join({"x"}, " "), "x");
}

TEST(StringsTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("j\xc3\xb6rg"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));      // truncated
  EXPECT_FALSE(IsValidUtf8(std::string("a\0b", 3)));
  EXPECT_TRUE(HasNonAscii("j\xc3\xb6rg"));
  EXPECT_FALSE(HasNonAscii("jorg"));
}

TEST(StringsTest, HexAndBytes) {
  EXPECT_EQ(HexEncode(std::string_view("\x01\xab", 2)), "01ab");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(4096), "4.0 KiB");
}

TEST(StringsTest, SanitizeForLog) {
  EXPECT_EQ(SanitizeForLog("a\r\nb\x80"), "a??b?");
  EXPECT_EQ(SanitizeForLog("abcdef", 3), "abc...");
}

}  // namespace
}  // namespace postern
