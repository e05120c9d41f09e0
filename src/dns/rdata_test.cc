#include "dns/rdata.h"

#include <gtest/gtest.h>

namespace postern::dns {
namespace {

using std::string_literals::operator""s;

TEST(RdataTest, Names) {
  EXPECT_EQ(WireNameToText("\x02mx\x07"
                           "Example\x03net\x00"s),
            "mx.example.net");
  EXPECT_EQ(WireNameToText("\x00"s), "");
  // A dot or a byte outside host names inside a label stays visible.
  EXPECT_EQ(WireNameToText("\x03"
                           "a.b\x01\xff\x00"s),
            "a\\046b.\\255");
  EXPECT_FALSE(WireNameToText(""));
  EXPECT_FALSE(WireNameToText("\x02mx"s));          // no root label
  EXPECT_FALSE(WireNameToText("\x02mx\x00\x00"s));  // bytes after the name
  EXPECT_FALSE(WireNameToText("\xc0\x0c"s));        // a compression pointer
  EXPECT_FALSE(WireNameToText(std::string(1, 64) + std::string(64, 'a') + "\x00"s));
}

TEST(RdataTest, Records) {
  auto mx = ParseMxRdata("\x01\x02\x02mx\x00"s);
  ASSERT_TRUE(mx);
  EXPECT_EQ(mx->preference, 0x0102);
  EXPECT_EQ(mx->host, "mx");
  EXPECT_FALSE(ParseMxRdata("\x00\x0a"s));

  auto tlsa = ParseTlsaRdata("\x03\x01\x02\xaa\xbb"s);
  ASSERT_TRUE(tlsa);
  EXPECT_EQ(tlsa->usage, 3);
  EXPECT_EQ(tlsa->selector, 1);
  EXPECT_EQ(tlsa->matching, 2);
  EXPECT_EQ(tlsa->data, "\xaa\xbb");
  EXPECT_FALSE(ParseTlsaRdata("\x03\x01"s));

  EXPECT_EQ(ParseTxtRdata("\x03"
                          "abc\x00\x02"
                          "de"s),
            "abcde");
  EXPECT_FALSE(
      ParseTxtRdata("\x05"
                    "abc"s));

  EXPECT_EQ(ParseAddressRdata("\xc0\x00\x02\x01"s)->to_string(), "192.0.2.1");
  EXPECT_EQ(ParseAddressRdata("\x20\x01\x0d\xb8"s + std::string(11, '\0') + "\x01"s)->to_string(),
            "2001:db8::1");
  EXPECT_FALSE(ParseAddressRdata("\x01\x02\x03"s));
}

}  // namespace
}  // namespace postern::dns
