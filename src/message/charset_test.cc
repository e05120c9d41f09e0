// Tests for charset conversion to UTF-8.
#include "message/charset.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace postern::message {
namespace {

const std::string kReplacement = "\xef\xbf\xbd";  // U+FFFD

TEST(CharsetTest, Utf8AndItsSpellings) {
  for (const char* label : {"utf-8", "UTF-8", "utf8", "Utf_8", " utf-8 ", "\"utf-8\"", "utf-8*en",
                            "x-utf8", "unicode-1-1-utf-8"}) {
    EXPECT_TRUE(IsKnownCharset(label)) << label;
    EXPECT_EQ(ToUtf8(label, "Gr\xc3\xbc\xc3\x9f"), "Gr\xc3\xbc\xc3\x9f") << label;
  }
}

TEST(CharsetTest, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(ToUtf8("utf-8",
                   "a\xff"
                   "b"),
            "a" + kReplacement + "b");
  EXPECT_EQ(ToUtf8("utf-8", "\xc3"), kReplacement);  // truncated
  EXPECT_EQ(ToUtf8("utf-8", "\xed\xa0\x80"), kReplacement + kReplacement + kReplacement);
  EXPECT_EQ(ToUtf8("utf-8", "\xc0\xaf"), kReplacement + kReplacement);  // overlong '/'
  EXPECT_EQ(ToUtf8("utf-8", std::string("a\0b", 3)), std::string("a\0b", 3));
}

TEST(CharsetTest, Latin1LabelsReadAsWindows1252) {
  for (const char* label : {"iso-8859-1", "ISO_8859-1", "iso8859-1", "latin1", "l1", "cp819",
                            "iso-8859-1*de", "windows-1252", "cp1252"}) {
    EXPECT_TRUE(IsKnownCharset(label)) << label;
    // 0xe9 é, 0x93/0x94 curly quotes, 0x80 euro (the windows-1252 part).
    EXPECT_EQ(ToUtf8(label, "caf\xe9 \x93x\x94 \x80"),
              "caf\xc3\xa9 \xe2\x80\x9cx\xe2\x80\x9d \xe2\x82\xac")
        << label;
  }
}

TEST(CharsetTest, CommonLegacyCharsets) {
  EXPECT_EQ(ToUtf8("iso-8859-2", "\xb1"), "\xc4\x85");                            // ą
  EXPECT_EQ(ToUtf8("iso-8859-15", "\xa4"), "\xe2\x82\xac");                       // €
  EXPECT_EQ(ToUtf8("windows-1251", "\xcf\xf0\xe8"), "\xd0\x9f\xd1\x80\xd0\xb8");  // При
  EXPECT_EQ(ToUtf8("koi8-r", "\xf0\xd2\xc9"), "\xd0\x9f\xd1\x80\xd0\xb8");        // При
  EXPECT_EQ(ToUtf8("KOI8-U", "\xa4"), "\xd1\x94");                                // є
  EXPECT_EQ(ToUtf8("iso-8859-8", "\xf9\xec\xe5\xed"), "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d");
  EXPECT_EQ(ToUtf8("windows-1250", "\x9a"), "\xc5\xa1");  // š
  EXPECT_EQ(ToUtf8("iso-8859-9", "\xfe"), "\xc5\x9f");    // ş (as windows-1254)
  EXPECT_EQ(ToUtf8("tis-620", "\xca"), "\xe0\xb8\xaa");   // ส (as windows-874)
}

TEST(CharsetTest, ChineseLabelsUseTheGb18030Superset) {
  // 你好 in GB 2312, and 昋 (0x9551), which only GBK has.
  for (const char* label : {"gb2312", "GB2312", "gbk", "cp936", "x-gbk", "euc-cn", "gb18030"}) {
    EXPECT_TRUE(IsKnownCharset(label)) << label;
    EXPECT_EQ(ToUtf8(label, "\xc4\xe3\xba\xc3"), "\xe4\xbd\xa0\xe5\xa5\xbd") << label;
    EXPECT_EQ(ToUtf8(label, "\x95\x51"), "\xe6\x98\x8b") << label;
  }
  EXPECT_EQ(ToUtf8("big5", "\xa4\x40"), "\xe4\xb8\x80");  // 一
}

TEST(CharsetTest, KoreanLabelsUseUnifiedHangulCode) {
  // 가 is in KS X 1001; 힣 (0xc652) only in the Unified Hangul Code extension.
  for (const char* label : {"ks_c_5601-1987", "euc-kr", "EUC-KR", "cp949", "windows-949"}) {
    EXPECT_TRUE(IsKnownCharset(label)) << label;
    EXPECT_EQ(ToUtf8(label, "\xb0\xa1\xc6\x52"), "\xea\xb0\x80\xed\x9e\xa3") << label;
  }
}

TEST(CharsetTest, Japanese) {
  // ISO-2022-JP: "日本" then back to ASCII.
  const std::string jis = "\x1b$BF|K\\\x1b(B!";
  for (const char* label : {"iso-2022-jp", "ISO-2022-JP", "csISO2022JP", "cp50221"}) {
    EXPECT_TRUE(IsKnownCharset(label)) << label;
    EXPECT_EQ(ToUtf8(label, jis), "\xe6\x97\xa5\xe6\x9c\xac!") << label;
  }
  // Half-width katakana that CP50221 writes, NEC row 13 (①).
  EXPECT_EQ(ToUtf8("iso-2022-jp", "\x1b(I\x31\x1b(B"), "\xef\xbd\xb1");
  EXPECT_EQ(ToUtf8("iso-2022-jp", "\x1b$B-!\x1b(B"), "\xe2\x91\xa0");
  EXPECT_EQ(ToUtf8("shift_jis", "\x93\xfa\x96\x7b"), "\xe6\x97\xa5\xe6\x9c\xac");
  EXPECT_EQ(ToUtf8("sjis", "\x87\x40"), "\xe2\x91\xa0");  // NEC ① (windows-31j)
  EXPECT_EQ(ToUtf8("euc-jp", "\xc6\xfc\xcb\xdc"), "\xe6\x97\xa5\xe6\x9c\xac");
}

TEST(CharsetTest, Iso2022EmptySegmentsAreNotErrors) {
  // Joined encoded words put "ESC ( B" right before "ESC $ B"; ICU calls that
  // an error, but no text is lost.
  EXPECT_EQ(ToUtf8("iso-2022-jp", "a\x1b$B\x1b(Bb"), "ab");
  EXPECT_EQ(ToUtf8("iso-2022-jp", "\x1b$BF|\x1b(B\x1b$BK\\\x1b(B"), "\xe6\x97\xa5\xe6\x9c\xac");
  // Real errors still show.
  EXPECT_EQ(ToUtf8("iso-2022-jp", "a\x1b$Zb"), "a" + kReplacement + "$Zb");
  EXPECT_EQ(ToUtf8("iso-2022-jp", "\x1b$B\x30"), kReplacement);  // half a character
  EXPECT_EQ(ToUtf8("iso-2022-jp", "a\xff"), "a" + kReplacement);
}

TEST(CharsetTest, AsciiOnlyTextInStatefulCharsetsIsStillConverted) {
  // UTF-7 and ISO-2022 encode non-ASCII with ASCII bytes: no ASCII shortcut.
  EXPECT_EQ(ToUtf8("utf-7", "Hi Mom -+Jjo--!"), "Hi Mom -\xe2\x98\xba-!");
  EXPECT_EQ(ToUtf8("UTF-7", "plain"), "plain");
  EXPECT_EQ(ToUtf8("hz-gb-2312", "~{<:Ky2;S{#,~}"),
            "\xe5\xb7\xb1\xe6\x89\x80\xe4\xb8\x8d"
            "\xe6\xac\xb2\xef\xbc\x8c");
}

TEST(CharsetTest, InvalidBytesBecomeReplacementCharactersNotSub) {
  // ICU substitutes U+001A for some code pages; mail readers expect U+FFFD.
  std::string out = ToUtf8("shift_jis",
                           "a\x81\x20"
                           "b\xff");
  EXPECT_EQ(out.find('\x1a'), std::string::npos);
  EXPECT_NE(out.find(kReplacement), std::string::npos);
  EXPECT_EQ(out.front(), 'a');
  EXPECT_EQ(ToUtf8("iso-8859-8", "\xa1x"), kReplacement + "x");  // unassigned
}

TEST(CharsetTest, UnknownOrMissingLabelFallsBack) {
  for (const char* label :
       {"", "x-unknown", "unknown-8bit", "unknown", "x-user-defined", "bogus-charset", "utf-9",
        "us-ascii", "ascii", "ANSI_X3.4-1968", "default", "\"\""}) {
    // Valid UTF-8 is kept ...
    EXPECT_EQ(ToUtf8(label, "Gr\xc3\xbc\xc3\x9f"), "Gr\xc3\xbc\xc3\x9f") << label;
    // ... anything else is windows-1252.
    EXPECT_EQ(ToUtf8(label, "Gr\xfc\xdf \x93q\x94"), "Gr\xc3\xbc\xc3\x9f \xe2\x80\x9cq\xe2\x80\x9d")
        << label;
    EXPECT_EQ(ToUtf8(label, "plain"), "plain") << label;
  }
  // windows-1252's five unassigned bytes map to the C1 controls.
  EXPECT_EQ(ToUtf8("", "\x81\x8d"), "\xc2\x81\xc2\x8d");
}

TEST(CharsetTest, KnownCharsetNames) {
  for (const char* label :
       {"x-unknown", "unknown-8bit", "us-ascii", "US-ASCII", "iso-8859-2", "windows-1251", "koi8-r",
        "big5", "shift_jis", "euc-jp", "utf-16", "macintosh", "ibm866"}) {
    EXPECT_TRUE(IsKnownCharset(label)) << label;
  }
  const std::string unknown[] = {"",
                                 "bogus",
                                 "utf-9",
                                 "iso-8859-99",
                                 "x-foo-bar",
                                 "ISO_2022,locale=ja,version=4",
                                 "utf-8 garbage",
                                 "a;b",
                                 std::string(200, 'a')};
  for (const std::string& label : unknown) {
    EXPECT_FALSE(IsKnownCharset(label)) << label;
  }
}

TEST(CharsetTest, IcuOptionsInLabelsAreNotPassedOn) {
  // A comma would let the label choose ICU converter options.
  EXPECT_EQ(ToUtf8("ISO_2022,locale=ko,version=1", "\x1b$)C\x0e\x30\x21\x0f"),
            ToUtf8("", "\x1b$)C\x0e\x30\x21\x0f"));
}

TEST(CharsetTest, ManyDistinctLabelsDoNotGrowWithoutBound) {
  // More labels than the per-thread cache holds, twice over: results stay
  // right after entries are replaced.
  const char* labels[] = {"iso-8859-2",   "iso-8859-3",   "iso-8859-4",   "iso-8859-5",
                          "iso-8859-6",   "iso-8859-7",   "iso-8859-8",   "iso-8859-13",
                          "iso-8859-15",  "koi8-r",       "koi8-u",       "windows-1250",
                          "windows-1251", "windows-1253", "windows-1255", "windows-1256",
                          "windows-1257", "windows-1258", "ibm866",       "macintosh",
                          "big5",         "euc-jp",       "shift_jis",    "gb18030",
                          "cp437",        "cp850",        "iso-8859-10",  "iso-8859-14"};
  for (int round = 0; round < 3; ++round) {
    for (const char* label : labels) {
      EXPECT_EQ(ToUtf8(label, "ascii only"), "ascii only") << label;
    }
    for (int i = 0; i < 50; ++i) EXPECT_FALSE(IsKnownCharset("no-such-" + std::to_string(i)));
    EXPECT_EQ(ToUtf8("koi8-r", "\xf0"), "\xd0\x9f");
  }
}

TEST(CharsetTest, ThreadsConvertIndependently) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 2000; ++i) {
        if (ToUtf8("koi8-r", "\xf0\xd2\xc9") != "\xd0\x9f\xd1\x80\xd0\xb8") ++failures[t];
        if (ToUtf8("iso-2022-jp", "\x1b$BF|\x1b(B") != "\xe6\x97\xa5") ++failures[t];
        if (ToUtf8("latin1", "\xe9") != "\xc3\xa9") ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int failure_count : failures) EXPECT_EQ(failure_count, 0);
}

TEST(CharsetTest, EmptyInput) {
  EXPECT_EQ(ToUtf8("utf-8", ""), "");
  EXPECT_EQ(ToUtf8("iso-2022-jp", ""), "");
  EXPECT_EQ(ToUtf8("bogus", ""), "");
}

TEST(CharsetTest, NormalizationFormC) {
  EXPECT_TRUE(IsNfc("Drafts"));
  EXPECT_TRUE(IsNfc("Entw\xc3\xbcrfe"));    // U+00FC, composed
  EXPECT_FALSE(IsNfc("Entwu\xcc\x88rfe"));  // u + U+0308 combining diaeresis
  EXPECT_TRUE(IsNfc("\xe6\x97\xa5\xe6\x9c\xac"));
  EXPECT_FALSE(IsNfc("caf\xc3"));  // ill-formed
}

}  // namespace
}  // namespace postern::message
