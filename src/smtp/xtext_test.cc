// Tests for RFC 3461 §4 xtext encoding and decoding.
#include <gtest/gtest.h>

#include <string>

#include "smtp/command.h"

namespace postern::smtp {
namespace {

TEST(XtextTest, Decode) {
  EXPECT_EQ(XtextDecode(""), "");
  EXPECT_EQ(XtextDecode("abc"), "abc");
  EXPECT_EQ(XtextDecode("a+2Bb"), "a+b");
  EXPECT_EQ(XtextDecode("a+3Db"), "a=b");
  EXPECT_EQ(XtextDecode("+20+7E"), " ~");
  EXPECT_EQ(XtextDecode("+00"), std::string(1, '\0'));
  EXPECT_EQ(XtextDecode("+FF"), std::string(1, '\xff'));
  EXPECT_EQ(XtextDecode("<>"), "<>");
  EXPECT_EQ(XtextDecode("+2b"), "+");  // lower case hex is accepted when decoding
}

TEST(XtextTest, DecodeErrors) {
  for (const char* bad :
       {"+", "+2", "a+", "+G0", "+0G", "a=b", "a b", "+ 20", "\x7f", "\x01", "é", "+-1"}) {
    EXPECT_FALSE(XtextDecode(bad).has_value()) << bad;
  }
}

TEST(XtextTest, Encode) {
  EXPECT_EQ(XtextEncode(""), "");
  EXPECT_EQ(XtextEncode("abc@example.com"), "abc@example.com");
  EXPECT_EQ(XtextEncode("a+b=c d"), "a+2Bb+3Dc+20d");
  EXPECT_EQ(XtextEncode(std::string("\0\x7f\xff", 3)), "+00+7F+FF");
  EXPECT_EQ(XtextEncode("é"), "+C3+A9");
  EXPECT_EQ(XtextEncode("!~"), "!~");
}

TEST(XtextTest, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string encoded = XtextEncode(all);
  for (char c : encoded) {
    auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 33 && u <= 126 && c != '=');
  }
  EXPECT_EQ(XtextDecode(encoded), all);
  EXPECT_EQ(XtextEncode(*XtextDecode("a+2Bb+3D")), "a+2Bb+3D");
}

}  // namespace
}  // namespace postern::smtp
