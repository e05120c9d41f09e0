// Tests for the modified UTF-7 codec (RFC 3501 §5.1.3): the RFC's examples, round trips, and
// every kind of malformed or non-canonical input.
#include "imap/modified_utf7.h"

#include <gtest/gtest.h>

#include <string>

#include "base/strings.h"

namespace postern::imap {
namespace {

std::string Decode(std::string_view text) {
  Result<std::string> decoded = DecodeModifiedUtf7(text);
  EXPECT_TRUE(decoded.ok()) << text << ": " << decoded.status().message();
  return decoded.ok() ? *decoded : "";
}

TEST(ModifiedUtf7Test, RfcExample) {
  // RFC 3501 §5.1.3: English, Chinese and Japanese.
  const std::string utf8 =
      "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";
  EXPECT_EQ(Decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-"), utf8);
  EXPECT_EQ(EncodeModifiedUtf7(utf8), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  // The correct form of "&U,BTFw-&ZeVnLIqe-".
  EXPECT_EQ(Decode("&U,BTF2XlZyyKng-"),
            "\xe5\x8f\xb0\xe5\x8c\x97\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
  // "&Jjo-!" is the correct form of "&Jjo!": U+263A then "!".
  EXPECT_EQ(Decode("&Jjo-!"), "\xe2\x98\xba!");
}

TEST(ModifiedUtf7Test, Ascii) {
  EXPECT_EQ(Decode(""), "");
  EXPECT_EQ(Decode("INBOX"), "INBOX");
  EXPECT_EQ(Decode("&-"), "&");
  EXPECT_EQ(Decode("Tom &- Jerry"), "Tom & Jerry");
  EXPECT_EQ(Decode("~/Mail/x y+z,w\\q"), "~/Mail/x y+z,w\\q");
  EXPECT_EQ(EncodeModifiedUtf7("Tom & Jerry"), "Tom &- Jerry");
  EXPECT_EQ(EncodeModifiedUtf7("&&"), "&-&-");
  EXPECT_EQ(EncodeModifiedUtf7(""), "");
}

TEST(ModifiedUtf7Test, Encodes) {
  EXPECT_EQ(EncodeModifiedUtf7("\xc3\xa9"), "&AOk-");  // é
  EXPECT_EQ(EncodeModifiedUtf7("caf\xc3\xa9"), "caf&AOk-");
  EXPECT_EQ(EncodeModifiedUtf7("\xc3\xa9&"), "&AOk-&-");          // shift, then "&-"
  EXPECT_EQ(EncodeModifiedUtf7("\xf0\x9f\x98\x80"), "&2D3eAA-");  // U+1F600, a surrogate pair
  EXPECT_EQ(EncodeModifiedUtf7(std::string_view("\0", 1)), "&AAA-");
  EXPECT_EQ(EncodeModifiedUtf7("a\tb"), "a&AAk-b");
  EXPECT_EQ(EncodeModifiedUtf7("\x7f"), "&AH8-");
  // Malformed UTF-8 becomes U+FFFD.
  EXPECT_EQ(EncodeModifiedUtf7("\xff"), "&,,0-");
  EXPECT_EQ(EncodeModifiedUtf7("\xc0\xaf"), "&,,3,,Q-");        // an overlong "/": two bad octets
  EXPECT_EQ(EncodeModifiedUtf7("\xed\xa0\x80"), "&,,3,,f,9-");  // a UTF-8 encoded surrogate
}

TEST(ModifiedUtf7Test, RoundTrips) {
  for (std::string_view utf8 :
       {"Entw\xc3\xbc rfe",
        "\xd0\x9e\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd"
        "\xd0\xbd\xd1\x8b\xd0\xb5",
        "\xf0\x9f\x93\xa7 mail \xf0\x9f\x93\xa7",
        "a\xc3\xa9"
        "b\xc3\xa9\xc3\xa9"
        "c",
        "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", "x&\xc3\xa9&y", "\xef\xbf\xbd", "\xc2\x80"}) {
    std::string encoded = EncodeModifiedUtf7(utf8);
    EXPECT_TRUE(IsPrintableAscii(encoded)) << encoded;
    EXPECT_EQ(Decode(encoded), utf8) << encoded;
  }
  // Every BMP code point except surrogates, one at a time and in runs of three.
  for (uint32_t cp = 0x80; cp < 0x10000; cp += 7) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    std::string utf8;
    if (cp < 0x800) {
      utf8 = {static_cast<char>(0xc0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3f))};
    } else {
      utf8 = {static_cast<char>(0xe0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3f)),
              static_cast<char>(0x80 | (cp & 0x3f))};
    }
    for (const std::string& s : {utf8, utf8 + utf8 + utf8, "a" + utf8 + "&b"}) {
      std::string encoded = EncodeModifiedUtf7(s);
      ASSERT_EQ(Decode(encoded), s) << encoded;
      ASSERT_EQ(EncodeModifiedUtf7(Decode(encoded)), encoded);
    }
  }
}

TEST(ModifiedUtf7Test, RejectsMalformed) {
  for (std::string_view bad : {
           "&Jjo!",               // no shift back before "!" (RFC 3501 §5.1.3)
           "&Jjo",                // unterminated
           "&",                   // unterminated at once
           "abc&",                //
           "&U,BTFw-&ZeVnLIqe-",  // superfluous shift (RFC 3501 §5.1.3)
           "&AGE-",               // "a" encoded: printable ASCII must represent itself
           "&ACY-",               // "&" encoded instead of "&-"
           "&ACAAIQ-",            // " !" encoded
           "&AOk",                // é unterminated
           "&AO-",                // too few bits for a code unit
           "&AOkA-",              // a whole base64 character left over
           "&AOl-",               // non-zero padding bits
           "&2D0-",               // lone high surrogate
           "&2D3YPQ-",            // high surrogate followed by high surrogate
           "&3gA-",               // lone low surrogate
           "&AOk/-",              // "/" is not modified BASE64 (it is ",")
           "&AOk=-",              // no padding in modified BASE64
           "caf\xc3\xa9",         // raw 8-bit
           "tab\there",           // raw control
           "\x7f",                // DEL
       }) {
    SCOPED_TRACE(std::string(bad));
    Result<std::string> decoded = DecodeModifiedUtf7(bad);
    EXPECT_FALSE(decoded.ok());
    if (!decoded.ok()) {
      EXPECT_TRUE(IsPrintableAscii(decoded.status().message()));
    }
  }
  EXPECT_FALSE(DecodeModifiedUtf7(std::string_view("a\0b", 3)).ok());
}

TEST(ModifiedUtf7Test, ControlCharactersAreEncodable) {
  // The codec carries controls; mailbox-name rules refuse them separately.
  EXPECT_EQ(Decode("&AAk-"), "\t");
  EXPECT_EQ(Decode("&AAA-"), std::string(1, '\0'));
}

}  // namespace
}  // namespace postern::imap
