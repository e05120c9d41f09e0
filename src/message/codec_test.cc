// Tests for the transfer encodings (RFC 2045 §6, RFC 2047 §4.2 "Q").
#include "message/codec.h"

#include <gtest/gtest.h>

#include <string>

#include "message/test_vectors.h"

namespace postern::message {
namespace {

// RFC 4648 §10 test vectors.
TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string, std::string> kVectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : kVectors) {
    EXPECT_EQ(EncodeBase64(plain), encoded) << plain;
    EXPECT_EQ(DecodeBase64(encoded), plain) << encoded;
  }
}

TEST(Base64Test, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t length = 0; length <= all.size(); length += 37) {
    std::string input = all.substr(0, length);
    EXPECT_EQ(DecodeBase64(EncodeBase64(input)), input) << length;
    EXPECT_EQ(DecodeBase64(EncodeBase64(input, 0)), input) << length;
  }
}

TEST(Base64Test, SkipsLineBreaksAndCharactersOutsideTheAlphabet) {
  EXPECT_EQ(DecodeBase64("Zm9v\r\nYmFy"), "foobar");
  EXPECT_EQ(DecodeBase64("Zm9v\nYmFy\n"), "foobar");
  EXPECT_EQ(DecodeBase64(" Zm 9v\tYm*Fy!"), "foobar");
  EXPECT_EQ(DecodeBase64("!!!"), "");
}

TEST(Base64Test, StopsAtTheFirstPad) {
  EXPECT_EQ(DecodeBase64("Zm8=Zm9v"), "fo");
  EXPECT_EQ(DecodeBase64("Zg==\r\nZm9v"), "f");
  EXPECT_EQ(DecodeBase64("=Zm9v"), "");
}

TEST(Base64Test, PartialGroupYieldsItsWholeBytes) {
  EXPECT_EQ(DecodeBase64("Zm9vYg"), "foob");    // 2 characters: 1 byte
  EXPECT_EQ(DecodeBase64("Zm9vYmE"), "fooba");  // 3 characters: 2 bytes
  EXPECT_EQ(DecodeBase64("Zm9vY"), "foo");      // 1 character: no byte
  EXPECT_EQ(DecodeBase64("Z"), "");
}

TEST(Base64Test, WrapsLinesWithCrlf) {
  std::string input(100, 'a');
  std::string encoded = EncodeBase64(input);  // 136 characters
  ASSERT_EQ(encoded.size(), 136u + 2);
  EXPECT_EQ(encoded.find("\r\n"), 76u);
  EXPECT_EQ(encoded.rfind("\r\n"), 76u);  // no line break after the last line
  EXPECT_EQ(EncodeBase64(std::string(57, 'x')).find('\r'), std::string::npos);  // exactly 76
  std::string short_lines = EncodeBase64("foobarfoobar", 4);
  EXPECT_EQ(short_lines, "Zm9v\r\nYmFy\r\nZm9v\r\nYmFy");
  EXPECT_EQ(EncodeBase64(input, 0).find('\r'), std::string::npos);
}

TEST(Base64Test, LargeInputIsLinear) {
  for (const std::string pattern : {"\xa5\x00\x7f", "Zm9v\r\n", "=", "!"}) {
    testing::ExpectLinearTime("", pattern, [](const std::string& input) {
      EXPECT_EQ(DecodeBase64(EncodeBase64(input)), input);
      DecodeBase64(input);
    });
  }
}

TEST(QuotedPrintableTest, DecodesEscapesInEitherCase) {
  EXPECT_EQ(DecodeQuotedPrintable("a=3Db=3dc"), "a=b=c");
  EXPECT_EQ(DecodeQuotedPrintable("caf=C3=A9"), "caf\xc3\xa9");
  EXPECT_EQ(DecodeQuotedPrintable("=00=FF"), std::string("\0\xff", 2));
}

TEST(QuotedPrintableTest, SoftLineBreaks) {
  EXPECT_EQ(DecodeQuotedPrintable("long=\r\nline"), "longline");
  EXPECT_EQ(DecodeQuotedPrintable("long=\nline"), "longline");
  EXPECT_EQ(DecodeQuotedPrintable("long= \t\r\nline"), "longline");  // rule 3 then rule 5
  EXPECT_EQ(DecodeQuotedPrintable("ends with ="), "ends with ");
  EXPECT_EQ(DecodeQuotedPrintable("a=3D=\r\nb"), "a=b");
  EXPECT_EQ(DecodeQuotedPrintable("=\r\n=\r\n"), "");
}

TEST(QuotedPrintableTest, KeepsLineEndsAsTheyAre) {
  EXPECT_EQ(DecodeQuotedPrintable("one\r\ntwo\nthree"), "one\r\ntwo\nthree");
  EXPECT_EQ(DecodeQuotedPrintable("\r\n\r\n"), "\r\n\r\n");
  EXPECT_EQ(DecodeQuotedPrintable("bare\rcr"), "bare\rcr");
}

TEST(QuotedPrintableTest, DropsTrailingWhitespaceOfEachLine) {
  EXPECT_EQ(DecodeQuotedPrintable("text  \t\r\nmore \n last  "), "text\r\nmore\n last");
  EXPECT_EQ(DecodeQuotedPrintable("keep=20\r\n"), "keep \r\n");  // encoded space is data
}

TEST(QuotedPrintableTest, KeepsMalformedEscapesLiterally) {
  EXPECT_EQ(DecodeQuotedPrintable("a=G1b"), "a=G1b");
  EXPECT_EQ(DecodeQuotedPrintable("a=4"), "a=4");
  EXPECT_EQ(DecodeQuotedPrintable("100%=\r\n= done"), "100%= done");
  EXPECT_EQ(DecodeQuotedPrintable("=4\r\n1"), "=4\r\n1");  // an escape never spans lines
  EXPECT_EQ(DecodeQuotedPrintable("=="), "=");
}

TEST(QuotedPrintableTest, Rfc2045Example) {
  // RFC 2045 §6.7 (5): the two encodings of the same line.
  EXPECT_EQ(DecodeQuotedPrintable("Now's the time =\r\nfor all folk to come=\r\n to the aid of "
                                  "their country."),
            "Now's the time for all folk to come to the aid of their country.");
}

TEST(QuotedPrintableTest, LongPathologicalInputIsLinear) {
  for (const std::string pattern : {"=\n=G =", "=", " ", "\n", "=4", "a \t\r\n"}) {
    testing::ExpectLinearTime("", pattern, [](const std::string& input) {
      DecodeQuotedPrintable(input);
      DecodeQEncoding(input);
    });
  }
}

TEST(QEncodingTest, UnderscoreIsSpaceAndEscapesDecode) {
  EXPECT_EQ(DecodeQEncoding("Keith_Moore"), "Keith Moore");
  EXPECT_EQ(DecodeQEncoding("Keld_J=F8rn"), "Keld J\xf8rn");
  EXPECT_EQ(DecodeQEncoding("a=5Fb"), "a_b");
  EXPECT_EQ(DecodeQEncoding("=3f=3F"), "??");
  EXPECT_EQ(DecodeQEncoding("spaces kept"), "spaces kept");
  EXPECT_EQ(DecodeQEncoding("bad=ZZ=4"), "bad=ZZ=4");
  EXPECT_EQ(DecodeQEncoding(""), "");
}

TEST(TransferEncodingTest, KnownEncodings) {
  for (const char* known : {"7bit", "8bit", "binary", "base64", "quoted-printable", "BASE64",
                            "Quoted-Printable", " 7BIT "}) {
    EXPECT_TRUE(IsKnownTransferEncoding(known)) << known;
  }
  for (const char* unknown :
       {"", "x-uuencode", "uuencode", "base-64", "quoted_printable", "7-bit"}) {
    EXPECT_FALSE(IsKnownTransferEncoding(unknown)) << unknown;
  }
}

TEST(TransferEncodingTest, DecodesByName) {
  EXPECT_EQ(DecodeTransferEncoding("base64", "aGVsbG8="), "hello");
  EXPECT_EQ(DecodeTransferEncoding("Base64", "aGVs\r\nbG8="), "hello");
  EXPECT_EQ(DecodeTransferEncoding("quoted-printable", "h=C3=A9=\r\nllo"), "h\xc3\xa9llo");
  EXPECT_EQ(DecodeTransferEncoding("QUOTED-PRINTABLE", "a=3Db"), "a=b");
  EXPECT_EQ(DecodeTransferEncoding("7bit", "a=3Db"), "a=3Db");
  EXPECT_EQ(DecodeTransferEncoding("8bit", "aGVsbG8="), "aGVsbG8=");
  EXPECT_EQ(DecodeTransferEncoding("binary", std::string("\0\x01", 2)), std::string("\0\x01", 2));
  EXPECT_EQ(DecodeTransferEncoding("x-uuencode", "begin 644 f"), "begin 644 f");
  EXPECT_EQ(DecodeTransferEncoding("", "body"), "body");
}

}  // namespace
}  // namespace postern::message
