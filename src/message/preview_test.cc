#include "message/preview.h"

#include <gtest/gtest.h>

#include "base/strings.h"

namespace postern::message {
namespace {

std::string Preview(std::string_view raw, size_t max = kMaxPreviewCharacters) {
  return MessagePreview(ParseMessage(raw), max);
}

size_t Characters(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

TEST(PreviewTest, PlainTextWhitespaceCollapsed) {
  EXPECT_EQ(Preview("Subject: x\r\n\r\n  Hello,\r\n\r\n\tthis   is\r\nthe text. \r\n"),
            "Hello, this is the text.");
}

TEST(PreviewTest, EmptyAndMissingBodies) {
  EXPECT_EQ(Preview("Subject: x\r\n\r\n"), "");
  EXPECT_EQ(Preview("Subject: x\r\n"), "");
  EXPECT_EQ(Preview(""), "");
  EXPECT_EQ(Preview("Subject: x\r\n\r\n \r\n\t\r\n"), "");
  // Only an image: nothing to show (an empty preview, RFC 8970 §3.2).
  EXPECT_EQ(Preview("Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                    "iVBORw0KGgo=\r\n"),
            "");
}

TEST(PreviewTest, QuotedPrintableInLatin1) {
  EXPECT_EQ(Preview("Content-Type: text/plain; charset=iso-8859-1\r\n"
                    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                    "Cr=E8me br=FBl=E9e, soft=\r\nbreak\r\n"),
            "Crème brûlée, softbreak");
}

TEST(PreviewTest, Base64InOtherCharsets) {
  // "Привет, мир" in KOI8-R, then base64.
  EXPECT_EQ(Preview("Content-Type: text/plain; charset=koi8-r\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n"
                    "8NLJ18XULCDNydI=\r\n"),
            "Привет, мир");
  // Shift_JIS "日本語" as 8-bit.
  EXPECT_EQ(Preview("Content-Type: text/plain; charset=shift_jis\r\n\r\n"
                    "\x93\xfa\x96\x7b\x8c\xea\r\n"),
            "日本語");
}

TEST(PreviewTest, PlainPreferredOverHtmlInAlternative) {
  EXPECT_EQ(Preview("Content-Type: multipart/alternative; boundary=b\r\n\r\n"
                    "--b\r\nContent-Type: text/html\r\n\r\n<p>the <b>HTML</b></p>\r\n"
                    "--b\r\nContent-Type: text/plain\r\n\r\nthe plain text\r\n"
                    "--b--\r\n"),
            "the plain text");
}

TEST(PreviewTest, HtmlWithoutTagsScriptsStylesAndQuotes) {
  EXPECT_EQ(Preview("Content-Type: text/html; charset=utf-8\r\n\r\n"
                    "<html><head><style>p { color: red }</style><title>T</title></head>"
                    "<body><script>alert('x')</script><p>Fish &amp; chips&nbsp;for&#32;"
                    "<i>two</i> &#x2014; 5&euro;</p>"
                    "<blockquote>old <blockquote>older</blockquote> text</blockquote>"
                    "<div>after the quote</div></body></html>\r\n"),
            "T Fish & chips for two — 5€ after the quote");
}

TEST(PreviewTest, QuotedReplyAttributionAndSignatureDropped) {
  EXPECT_EQ(Preview("Subject: Re: x\r\n\r\n"
                    "Sounds good, see you then.\r\n"
                    "\r\n"
                    "On Mon, 1 Jan 2024, Alice <a@example.test> wrote:\r\n"
                    "\r\n"
                    "> Shall we meet at noon?\r\n"
                    ">> Earlier quote\r\n"
                    "\r\n"
                    "Bring the slides.\r\n"
                    "-- \r\n"
                    "Bob, Example Corp\r\n"),
            "Sounds good, see you then. Bring the slides.");
  // A line that merely ends with a colon stays when no quote follows it.
  EXPECT_EQ(Preview("\r\nThe list:\r\n- one\r\n"), "The list: - one");
}

TEST(PreviewTest, AttachmentsAndEmbeddedMessagesSkipped) {
  EXPECT_EQ(
      Preview("Content-Type: multipart/mixed; boundary=b\r\n\r\n"
              "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; "
              "filename=a.txt\r\n\r\nattached text\r\n"
              "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n"
              "--b\r\nContent-Type: text/plain\r\n\r\nthe real text\r\n"
              "--b--\r\n"),
      "the real text");
}

TEST(PreviewTest, LongTextCutAtACharacterBoundary) {
  std::string word(300, 'x');  // one long word: cut inside it
  EXPECT_EQ(Preview("\r\n" + word + "\r\n"), std::string(200, 'x'));
  std::string accents;
  for (int i = 0; i < 300; ++i) accents += "é";  // 2 octets each
  std::string cut = Preview("Content-Type: text/plain; charset=utf-8\r\n\r\n" + accents);
  EXPECT_EQ(Characters(cut), 200u);
  EXPECT_EQ(cut.size(), 400u);
  EXPECT_TRUE(IsValidUtf8(cut));
  // Four-octet characters, and a limit of 256 never exceeded.
  std::string emoji;
  for (int i = 0; i < 300; ++i) emoji += "😀 ";
  std::string e = Preview("Content-Type: text/plain; charset=utf-8\r\n\r\n" + emoji, 256);
  EXPECT_LE(Characters(e), 256u);
  EXPECT_TRUE(IsValidUtf8(e));
  EXPECT_FALSE(e.ends_with(' '));
}

TEST(PreviewTest, InvalidUtf8AndControlsAreCleaned) {
  std::string p = Preview(
      "Content-Type: text/plain; charset=utf-8\r\n\r\nab\xff\xfe"
      "c\x01\x7f"
      "d\xe2\x80\x8b"
      "e\r\n");
  EXPECT_TRUE(IsValidUtf8(p));
  EXPECT_EQ(p.find('\x01'), std::string::npos);
  EXPECT_EQ(p.find("\xe2\x80\x8b"), std::string::npos);
  EXPECT_TRUE(p.starts_with("ab")) << p;
}

}  // namespace
}  // namespace postern::message
