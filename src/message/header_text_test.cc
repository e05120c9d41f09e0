// Tests for unfolding and RFC 2047 encoded words.
#include "message/header_text.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "message/test_vectors.h"

namespace postern::message {
namespace {

using testing::FieldBody;
using testing::LoadTestVectors;

TEST(UnfoldTest, RemovesLineBreaks) {
  EXPECT_EQ(Unfold("a\r\n b"), "a b");
  EXPECT_EQ(Unfold("a\n\tb"), "a\tb");
  EXPECT_EQ(Unfold("a\r b"), "a b");
  EXPECT_EQ(Unfold("a\r\nb"), "ab");  // not a fold, removed as well
  EXPECT_EQ(Unfold("no folds"), "no folds");
  EXPECT_EQ(Unfold(""), "");
  EXPECT_EQ(Unfold("\r\n\r\n"), "");
}

// RFC 2047 §8, the examples of how encoded words and whitespace combine.
TEST(DecodeHeaderTextTest, Rfc2047Examples) {
  EXPECT_EQ(DecodeHeaderText("(=?ISO-8859-1?Q?a?=)"), "(a)");
  EXPECT_EQ(DecodeHeaderText("(=?ISO-8859-1?Q?a?= b)"), "(a b)");
  EXPECT_EQ(DecodeHeaderText("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)"), "(ab)");
  EXPECT_EQ(DecodeHeaderText("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)"), "(ab)");
  EXPECT_EQ(DecodeHeaderText("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)"), "(ab)");
  EXPECT_EQ(DecodeHeaderText("(=?ISO-8859-1?Q?a_b?=)"), "(a b)");
  EXPECT_EQ(DecodeHeaderText("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)"), "(a b)");
  EXPECT_EQ(DecodeHeaderText("=?US-ASCII?Q?Keith_Moore?="), "Keith Moore");
  EXPECT_EQ(DecodeHeaderText("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?="), "Keld J\xc3\xb8rn Simonsen");
  EXPECT_EQ(DecodeHeaderText("=?ISO-8859-1?Q?Andr=E9?= Pirard"), "Andr\xc3\xa9 Pirard");
  EXPECT_EQ(DecodeHeaderText("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
                             "    =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?="),
            "If you can read this you understand the example.");
}

TEST(DecodeHeaderTextTest, Rfc2231LanguageSuffix) {
  // RFC 2231 §5.
  EXPECT_EQ(DecodeHeaderText("=?US-ASCII*EN?Q?Keith_Moore?="), "Keith Moore");
  EXPECT_EQ(DecodeHeaderText("=?utf-8*de-CH?B?R3LDvGV6aQ==?="),
            "Gr\xc3\xbc"
            "ezi");
}

TEST(DecodeHeaderTextTest, MultiByteCharacterSplitAcrossWords) {
  // é is C3 A9 in UTF-8; mailers split it between two words.
  EXPECT_EQ(DecodeHeaderText("=?utf-8?Q?caf=C3?= =?utf-8?Q?=A9?="), "caf\xc3\xa9");
  EXPECT_EQ(DecodeHeaderText("=?UTF-8?B?Y2Fmww==?=\r\n =?utf-8?b?qQ==?="), "caf\xc3\xa9");
  EXPECT_EQ(DecodeHeaderText("=?utf-8?Q?=E6=97?==?utf-8?Q?=A5?="), "\xe6\x97\xa5");
  // The same language suffix does not make the charset differ.
  EXPECT_EQ(DecodeHeaderText("=?utf-8*en?Q?=C3?= =?UTF-8?Q?=A9?="), "\xc3\xa9");
  // Shift_JIS: 日本 = 93 FA 96 7B, split inside the first character.
  EXPECT_EQ(DecodeHeaderText("=?shift_jis?B?kw==?= =?shift_jis?B?+pZ7?="),
            "\xe6\x97\xa5\xe6\x9c\xac");
  // Different charsets are not joined.
  EXPECT_EQ(DecodeHeaderText("=?utf-8?Q?=C3?= =?iso-8859-1?Q?=A9?="), "\xef\xbf\xbd\xc2\xa9");
}

TEST(DecodeHeaderTextTest, Iso2022JpSubject) {
  // A typical Japanese subject: two B words, each switching back to ASCII.
  EXPECT_EQ(DecodeHeaderText("=?ISO-2022-JP?B?GyRCRnxLXBsoQg==?=\r\n"
                             " =?ISO-2022-JP?B?GyRCOGwbKEI=?="),
            "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
}

TEST(DecodeHeaderTextTest, EncodedWordsInsideWordsAndQuotes) {
  EXPECT_EQ(DecodeHeaderText("foo=?utf-8?q?bar?=baz"), "foobarbaz");
  EXPECT_EQ(DecodeHeaderText("\"=?utf-8?q?quoted?=\""), "\"quoted\"");
  EXPECT_EQ(DecodeHeaderText("Re:=?utf-8?q?x?="), "Re:x");
  EXPECT_EQ(DecodeHeaderText("=?utf-8?q?a?==?utf-8?q?b?="), "ab");
}

TEST(DecodeHeaderTextTest, EncodedTextOverAFold) {
  EXPECT_EQ(DecodeHeaderText("=?utf-8?Q?Hello\r\n _there!?="), "Hello there!");
  EXPECT_EQ(DecodeHeaderText("=?utf-8?B?SGVs\r\n\tbG8=?="), "Hello");
  // Spaces inside Q text (not allowed, but written) are kept.
  EXPECT_EQ(DecodeHeaderText("=?iso-8859-1?q?this is some text?="), "this is some text");
}

TEST(DecodeHeaderTextTest, BrokenEncodedWordsStayText) {
  EXPECT_EQ(DecodeHeaderText("=?utf-8?X?abc?="), "=?utf-8?X?abc?=");
  EXPECT_EQ(DecodeHeaderText("=?utf-8?Q?no end"), "=?utf-8?Q?no end");
  EXPECT_EQ(DecodeHeaderText("=?utf 8?Q?x?="), "=?utf 8?Q?x?=");
  EXPECT_EQ(DecodeHeaderText("=?"), "=?");
  EXPECT_EQ(DecodeHeaderText("a =? b ?= c"), "a =? b ?= c");
  // An unterminated word does not swallow the next good one.
  EXPECT_EQ(DecodeHeaderText("=?utf-8?q?a =?utf-8?q?b?="), "=?utf-8?q?a b");
}

TEST(DecodeHeaderTextTest, BadDataAndUnknownCharsets) {
  EXPECT_EQ(DecodeHeaderText("=?x-bogus?Q?caf=E9?="), "caf\xc3\xa9");     // windows-1252
  EXPECT_EQ(DecodeHeaderText("=?x-bogus?Q?caf=C3=A9?="), "caf\xc3\xa9");  // valid UTF-8 kept
  EXPECT_EQ(DecodeHeaderText("=?utf-8?B?!!!?="), "");
  EXPECT_EQ(DecodeHeaderText("=??Q?Bras=EDlia?="), "Bras\xc3\xadlia");  // no charset
  EXPECT_EQ(DecodeHeaderText("=?utf-8?Q?=ZZ?="), "=ZZ");
  EXPECT_EQ(DecodeHeaderText("=?utf-8?Q?=FF?="), "\xef\xbf\xbd");
  EXPECT_EQ(DecodeHeaderText("x =?utf-8?Q?"
                             "?= y"),
            "x  y");
}

TEST(DecodeHeaderTextTest, RawEightBitText) {
  EXPECT_EQ(DecodeHeaderText("Gr\xc3\xbc\xc3\x9f"
                             "e"),
            "Gr\xc3\xbc\xc3\x9f"
            "e");
  EXPECT_EQ(DecodeHeaderText("Gr\xfc\xdf"
                             "e \x93x\x94"),
            "Gr\xc3\xbc\xc3\x9f"
            "e \xe2\x80\x9cx\xe2\x80\x9d");
  EXPECT_EQ(DecodeHeaderText("\xe6\x97\xa5 =?utf-8?q?x?= \xe9"), "\xe6\x97\xa5 x \xc3\xa9");
}

TEST(DecodeHeaderTextTest, WhitespaceAndControlCharacters) {
  EXPECT_EQ(DecodeHeaderText("  padded\t "), "padded");
  EXPECT_EQ(DecodeHeaderText(" Fwd: \r\n\tSaying \r\n Hello\r\n"), "Fwd: Saying Hello");
  EXPECT_EQ(DecodeHeaderText("two  spaces\tand tab"), "two  spaces\tand tab");
  EXPECT_EQ(DecodeHeaderText("=?utf-8?q?a=0D=0Ab=00c?="), "a  b c");
  EXPECT_EQ(DecodeHeaderText("=?utf-8?q?=20x=20?="), "x");
  EXPECT_EQ(DecodeHeaderText(""), "");
  EXPECT_EQ(DecodeHeaderText("\r\n \r\n"), "");
}

TEST(DecodeEncodedWordsTest, KeepsWhitespaceAsItIs) {
  EXPECT_EQ(DecodeEncodedWords("  a  =?utf-8?q?b?=  "), "  a  b  ");
  EXPECT_EQ(DecodeEncodedWords("=?utf-8?q?a?= \t =?utf-8?q?b?="), "ab");
  EXPECT_EQ(DecodeEncodedWords("x\ty"), "x\ty");
  EXPECT_EQ(DecodeEncodedWords("=?utf-8?q?a=0Ab?="), "a\nb");
  EXPECT_EQ(DecodeEncodedWords("caf\xe9"), "caf\xc3\xa9");
  EXPECT_EQ(DecodeEncodedWords("plain"), "plain");
}

// mail-parser's unstructured header vectors.
TEST(DecodeHeaderTextTest, MailParserUnstructuredVectors) {
  nlohmann::json vectors = LoadTestVectors("mime/mail-parser/headers/unstructured.json");
  ASSERT_EQ(vectors.size(), 30u);
  // Where mail-parser differs on purpose. mail-parser puts a space between
  // text and an encoded word that touches it; RFC 2047 §5 and Dovecot do
  // not ("[SPAM]=?...?=" decodes to "[SPAM]" followed directly by the text).
  const std::map<size_t, std::string> kDeviations = {
      {21, "[SUSPECTED SPAM]This is the original subject"},
      {22, "Some text here"},
      {27, "[SUSPECTED SPAM]This is the original subject"},
      {28, "[SUSPECTED SPAM]This is the original subject"},
  };
  for (size_t i = 0; i < vectors.size(); ++i) {
    std::string header = vectors[i]["header"].get<std::string>();
    std::string expected = vectors[i]["expected"].get<std::string>();
    auto deviation = kDeviations.find(i);
    if (deviation != kDeviations.end()) expected = deviation->second;
    EXPECT_EQ(DecodeHeaderText(FieldBody(header)), expected) << "case " << i << ": " << header;
  }
}

TEST(DecodeHeaderTextTest, PathologicalInputIsLinear) {
  const std::string patterns[] = {
      "=?",         "=?a?",           "=?a?q?", "=?a?q?=",          "?=",
      "=?utf-8?b?", "=?utf-8?q?x?= ", "a\r\n ", "=?utf-8?q?=C3?= ", "\xff"};
  for (const std::string& pattern : patterns) {
    testing::ExpectLinearTime("", pattern, [&](const std::string& input) {
      std::string decoded = DecodeHeaderText(input);
      EXPECT_FALSE(decoded.empty()) << pattern;
      EXPECT_LE(decoded.size(), input.size() * 3) << pattern;
      DecodeEncodedWords(input);
    });
  }
  // One encoded word that never ends, then many that do.
  std::string input = "=?utf-8?q?" + std::string(1 << 20, 'x');
  EXPECT_EQ(DecodeHeaderText(input), input);
  std::string many;
  for (int i = 0; i < 50000; ++i) many += "=?utf-8?q?=C3?= =?utf-8?q?=A9?= ";
  std::string decoded = DecodeHeaderText(many);
  EXPECT_EQ(decoded.size(), 100000u);  // 50000 é, all joined
}

}  // namespace
}  // namespace postern::message
