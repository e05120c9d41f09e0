#include "message/search_text.h"

#include <gtest/gtest.h>

#include "base/strings.h"

namespace postern::message {
namespace {

SearchableText Extract(std::string_view raw, size_t max = kMaxSearchableText) {
  return ExtractSearchableText(ParseMessage(raw), max);
}

bool BodyHas(const SearchableText& t, std::string_view s) {
  return t.body.find(s) != std::string::npos;
}

TEST(SearchTextTest, HeaderFieldsDecodedAndFolded) {
  SearchableText t = Extract(
      "From: =?utf-8?q?J=C3=BCrgen?= <J@Example.TEST>\r\n"
      "Subject: =?iso-8859-1?q?Caf=E9?= au\r\n LAIT\r\n"
      "\r\n"
      "Body\r\n");
  EXPECT_EQ(t.header, "from: jürgen <j@example.test>\nsubject: café au lait\n");
  EXPECT_EQ(t.body, "body\r\n\n");
}

TEST(SearchTextTest, QuotedPrintableAndBase64WithCharsets) {
  SearchableText qp = Extract(
      "Content-Type: text/plain; charset=iso-8859-1\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      "Cr=E8me br=FBl=E9e, soft=\r\nbreak\r\n");
  EXPECT_TRUE(BodyHas(qp, "crème brûlée, softbreak")) << qp.body;

  // "Привет, МИР" in UTF-8, base64.
  SearchableText b64 = Extract(
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n"
      "0J/RgNC40LLQtdGCLCDQnNCY0KA=\r\n");
  EXPECT_TRUE(BodyHas(b64, "привет, мир")) << b64.body;

  // windows-1251 "Мир", unlabeled 8-bit read as windows-1252.
  SearchableText cp = Extract(
      "Content-Type: text/plain; charset=windows-1251\r\n\r\n"
      "\xCC\xE8\xF0\r\n");
  EXPECT_TRUE(BodyHas(cp, "мир")) << cp.body;
}

TEST(SearchTextTest, NestedMultipartsAndEmbeddedMessages) {
  SearchableText t = Extract(
      "Subject: outer\r\n"
      "Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
      "preamble is not text\r\n"
      "--outer\r\n"
      "Content-Type: multipart/alternative; boundary=alt\r\n\r\n"
      "--alt\r\n"
      "Content-Type: text/plain\r\n\r\n"
      "Plain version\r\n"
      "--alt\r\n"
      "Content-Type: text/html\r\n\r\n"
      "<html><style>p {color: red}</style><p>Html <b>ver</b>sion</p></html>\r\n"
      "--alt--\r\n"
      "--outer\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n"
      "U0VDUkVUIEFUVEFDSE1FTlQ=\r\n"
      "--outer\r\n"
      "Content-Type: message/rfc822\r\n\r\n"
      "Subject: =?utf-8?b?SW5uZXIgU3ViamVjdA==?=\r\n"
      "\r\n"
      "Inner body\r\n"
      "--outer--\r\n"
      "epilogue is not text\r\n");
  EXPECT_EQ(t.header, "subject: outer\ncontent-type: multipart/mixed; boundary=outer\n");
  EXPECT_TRUE(BodyHas(t, "plain version")) << t.body;
  EXPECT_TRUE(BodyHas(t, "html version")) << t.body;
  EXPECT_FALSE(BodyHas(t, "color")) << "style sheets are not text";
  EXPECT_FALSE(BodyHas(t, "<b>"));
  EXPECT_FALSE(BodyHas(t, "secret")) << "attachments are not indexed";
  EXPECT_FALSE(BodyHas(t, "u0vd")) << "nor their encoded form";
  EXPECT_TRUE(BodyHas(t, "subject: inner subject\n")) << "an embedded message's header is body";
  EXPECT_TRUE(BodyHas(t, "inner body"));
  EXPECT_FALSE(BodyHas(t, "preamble"));
  EXPECT_FALSE(BodyHas(t, "epilogue"));
  EXPECT_FALSE(TextContains(t, TextScope::kBody, "outer"));
  EXPECT_TRUE(TextContains(t, TextScope::kHeaderAndBody, "outer"));
}

TEST(SearchTextTest, FoldCaseIsUnicodeSimpleCaseFolding) {
  EXPECT_EQ(FoldCase("ÉCOLE École"), "école école");
  EXPECT_EQ(FoldCase("ΣΊΣΥΦΟΣ"), FoldCase("σίσυφος"));  // final sigma folds to σ too
  EXPECT_EQ(FoldCase("\xE2\x84\xAA"), "k");             // KELVIN SIGN
  EXPECT_EQ(FoldCase("Straße"), "straße");              // no full folding to "ss"
  EXPECT_EQ(FoldCase("ẞ"), "ß");
  EXPECT_EQ(FoldCase("ДОБРЫЙ"), "добрый");
  EXPECT_EQ(FoldCase("a\xFF"
                     "b\xC3"),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_EQ(FoldCase(std::string("a\0B", 3)), std::string("a\0b", 3));
}

TEST(SearchTextTest, NulBecomesSpace) {
  SearchableText t = Extract(std::string("Subject: x\r\n\r\nnul\0here\r\n", 24));
  EXPECT_TRUE(BodyHas(t, "nul here"));
}

TEST(SearchTextTest, HtmlToText) {
  EXPECT_EQ(HtmlToText("<p>One</p><p>Two&nbsp;&amp;&#32;three&#x21;</p>"), "One\nTwo & three!\n");
  EXPECT_EQ(HtmlToText("a < b and c<d"), "a < b and c");  // "<d" opens a tag
  EXPECT_EQ(HtmlToText("<!-- hidden --><a href=\"x>y\">link</a>  text\r\n\tmore"),
            "link text more");
  EXPECT_EQ(HtmlToText("<SCRIPT>var x = '<p>no</p>';</Script >after"), "after");
  EXPECT_EQ(HtmlToText("&unknown; &#xZZ; &#1114112; &"), "&unknown; &#xZZ; &#1114112; &");
  EXPECT_EQ(HtmlToText("caf&#233; &euro;"), "café €");
  EXPECT_EQ(HtmlToText("<table><tr><td>a</td><td>b</td></tr></table>"), "a b\n");
  EXPECT_EQ(HtmlToText("unterminated <b"), "unterminated");
}

// Hostile input runs in linear time: quadratic work on these would take
// minutes and the test would time out.
TEST(SearchTextTest, HostileHtmlIsLinear) {
  const size_t n = 4 << 20;
  EXPECT_EQ(HtmlToText(std::string(n, '&')).size(), n);
  EXPECT_EQ(HtmlToText(std::string(n, '<')).size(), n);
  std::string scripts;
  while (scripts.size() < n) scripts += "<script></scrip";
  EXPECT_EQ(HtmlToText(scripts), "");
  std::string tags;
  while (tags.size() < n) tags += "<a \"";
  EXPECT_EQ(HtmlToText(tags), "");
}

TEST(SearchTextTest, CappedAtACharacterBoundary) {
  std::string body;
  while (body.size() < 5000) body += "é€x";
  SearchableText t = Extract("Subject: " + std::string(3000, 'S') + "\r\n\r\n" + body, 4001);
  EXPECT_LE(t.header.size(), 4001u / 4);
  EXPECT_LE(t.header.size() + t.body.size(), 4001u);
  EXPECT_GE(t.header.size() + t.body.size(), 4001u - 3);
  EXPECT_TRUE(IsValidUtf8(t.header));
  EXPECT_TRUE(IsValidUtf8(t.body));

  // A part far beyond the cap is not decoded whole, but what is kept is its start.
  std::string huge = "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  for (int i = 0; i < 200000; ++i) huge += "=41";
  SearchableText h = Extract(huge, 1000);
  EXPECT_EQ(h.body, std::string(1000 - h.header.size(), 'a'));
}

TEST(SearchTextTest, TextContainsScopes) {
  SearchableText t{"subject: hello\n", "world\n"};
  EXPECT_TRUE(TextContains(t, TextScope::kBody, "world"));
  EXPECT_FALSE(TextContains(t, TextScope::kBody, "hello"));
  EXPECT_TRUE(TextContains(t, TextScope::kHeaderAndBody, "hello"));
  EXPECT_TRUE(TextContains(t, TextScope::kBody, ""));
  EXPECT_FALSE(TextContains(t, TextScope::kHeaderAndBody, "hello\nworld"))
      << "header and body are separate texts";
}

}  // namespace
}  // namespace postern::message
