#include "message/mime.h"

#include <gtest/gtest.h>

#include <string>

namespace postern::message {
namespace {

std::string Body(const Message& m, const Part& p) { return std::string(m.BodyBytes(p)); }

TEST(MimeTest, SinglePartWithCrlf) {
  std::string raw = "From: a@b\r\nSubject: hi\r\n there\r\n\r\nline 1\r\nline 2\r\n";
  Message m = ParseMessage(raw);
  ASSERT_EQ(m.root.fields.size(), 2u);
  EXPECT_EQ(m.root.fields[0].name, "From");
  EXPECT_EQ(m.root.fields[0].value, "a@b");
  EXPECT_EQ(m.root.fields[1].value, "hi\r\n there");  // still folded
  EXPECT_EQ(Body(m, m.root), "line 1\r\nline 2\r\n");
  EXPECT_EQ(m.root.body_size, 16u);
  EXPECT_EQ(m.root.body_lines, 2u);
  EXPECT_EQ(m.root.type, "text");
  EXPECT_EQ(m.root.subtype, "plain");
  EXPECT_FALSE(m.root.has_content_type);
}

TEST(MimeTest, SizesAreOfTheCrlfForm) {
  Message m = ParseMessage("Subject: x\n\na\nb\nlast");
  EXPECT_EQ(m.root.header_size, 14u);  // "Subject: x\r\n\r\n"
  EXPECT_EQ(m.root.body_size, 10u);    // "a\r\nb\r\nlast"
  EXPECT_EQ(m.root.body_lines, 3u);    // a last line without a break counts
  EXPECT_EQ(ToCrlf("a\nb\r\nc\n"), "a\r\nb\r\nc\r\n");
}

TEST(MimeTest, MultipartWithPreambleAndEpilogue) {
  std::string raw =
      "Content-Type: multipart/mixed; boundary=xyz\r\n\r\n"
      "preamble\r\n"
      "--xyz\r\n"
      "Content-Type: text/plain\r\n\r\n"
      "one\r\n"
      "--xyz  \r\n"  // transport padding
      "\r\n"
      "two\r\n\r\n"
      "--xyz--\r\n"
      "epilogue\r\n";
  Message m = ParseMessage(raw);
  ASSERT_TRUE(m.root.multipart);
  ASSERT_EQ(m.root.children.size(), 2u);
  EXPECT_EQ(Body(m, m.root.children[0]), "one");
  EXPECT_EQ(m.root.children[1].fields.size(), 0u);
  EXPECT_EQ(Body(m, m.root.children[1]), "two\r\n");
  EXPECT_EQ(raw.substr(m.root.preamble_begin, m.root.preamble_end - m.root.preamble_begin),
            "preamble");
  EXPECT_EQ(raw.substr(m.root.epilogue_begin, m.root.epilogue_end - m.root.epilogue_begin),
            "epilogue\r\n");
  EXPECT_EQ(m.part_count, 3u);
}

TEST(MimeTest, MissingCloseDelimiterAndNestedBoundaries) {
  // The inner multipart never closes; the outer delimiter ends it.
  std::string raw =
      "Content-Type: multipart/mixed; boundary=\"foo\"\n\n"
      "--foo\n"
      "Content-Type: multipart/alternative; boundary=\"foo-1\"\n\n"
      "--foo-1\n\ninner\n"
      "--foo\n\nsecond\n"
      "--foo--\n";
  Message m = ParseMessage(raw);
  ASSERT_EQ(m.root.children.size(), 2u);
  const Part& inner = m.root.children[0];
  ASSERT_TRUE(inner.multipart);
  ASSERT_EQ(inner.children.size(), 1u);
  EXPECT_EQ(Body(m, inner.children[0]), "inner");
  EXPECT_EQ(Body(m, m.root.children[1]), "second");
}

TEST(MimeTest, EmbeddedMessageAndDigestDefault) {
  std::string raw =
      "Content-Type: multipart/digest; boundary=d\n\n"
      "--d\n\n"
      "Subject: inside\n\nhello\n"
      "--d--\n";
  Message m = ParseMessage(raw);
  ASSERT_EQ(m.root.children.size(), 1u);
  const Part& digest_child = m.root.children[0];
  EXPECT_EQ(digest_child.type, "message");  // RFC 2046 §5.1.5 default
  ASSERT_TRUE(digest_child.embedded);
  const Part& inner = digest_child.children[0];
  ASSERT_EQ(inner.fields.size(), 1u);
  EXPECT_EQ(inner.fields[0].value, "inside");
  EXPECT_EQ(Body(m, inner), "hello");
}

TEST(MimeTest, EncodedMessageRfc822StaysALeaf) {
  std::string raw =
      "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeAoK\n";
  Message m = ParseMessage(raw);
  EXPECT_FALSE(m.root.embedded);
  EXPECT_TRUE(m.root.children.empty());
  EXPECT_EQ(m.root.transfer_encoding, "base64");
}

TEST(MimeTest, MultipartWithoutBoundaryIsOnePart) {
  Message m = ParseMessage("Content-Type: multipart/mixed\n\n--x\n\nbody\n");
  EXPECT_FALSE(m.root.multipart);
  EXPECT_EQ(m.root.type, "multipart");
  EXPECT_TRUE(m.root.children.empty());
}

TEST(MimeTest, HeaderOddities) {
  // Whitespace before the colon (RFC 5322 §4.5), a line without a colon, a
  // name with a space (not a field), no blank line before the end.
  std::string raw = "Subject : odd\nno colon here\nbad name: x\nTo: t@x";
  Message m = ParseMessage(raw);
  ASSERT_EQ(m.root.fields.size(), 2u);
  EXPECT_EQ(m.root.fields[0].name, "Subject");
  EXPECT_EQ(m.root.fields[0].value, "odd");
  EXPECT_EQ(m.root.fields[1].name, "To");
  EXPECT_EQ(m.root.body_begin, raw.size());
  EXPECT_EQ(m.root.body_size, 0u);
}

TEST(MimeTest, FindPartFollowsImapNumbering) {
  std::string raw =
      "Content-Type: multipart/mixed; boundary=b\n\n"
      "--b\n\none\n"
      "--b\nContent-Type: message/rfc822\n\n"
      "Content-Type: multipart/alternative; boundary=c\n\n"
      "--c\n\nalt1\n--c\n\nalt2\n--c--\n"
      "--b--\n";
  Message m = ParseMessage(raw);
  EXPECT_EQ(FindPart(m, {}), &m.root);
  EXPECT_EQ(Body(m, *FindPart(m, {1})), "one");
  const Part* two = FindPart(m, {2});
  ASSERT_NE(two, nullptr);
  EXPECT_TRUE(two->embedded);
  ASSERT_NE(FindPart(m, {2, 2}), nullptr);
  EXPECT_EQ(Body(m, *FindPart(m, {2, 2})), "alt2");
  EXPECT_EQ(FindPart(m, {2, 3}), nullptr);
  EXPECT_EQ(FindPart(m, {3}), nullptr);
  EXPECT_EQ(FindPart(m, {1, 1}), nullptr);
  EXPECT_EQ(FindPart(m, {0}), nullptr);

  Message single = ParseMessage("Subject: s\n\nbody\n");
  EXPECT_EQ(FindPart(single, {1}), &single.root);  // RFC 3501 §6.4.5
  EXPECT_EQ(FindPart(single, {2}), nullptr);
}

TEST(MimeTest, DepthAndPartLimitsTruncate) {
  std::string raw;
  for (int i = 0; i < 200; ++i) {
    raw += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\n\n--b" +
           std::to_string(i) + "\n";
  }
  raw += "\nleaf\n";
  Message m = ParseMessage(raw);
  EXPECT_TRUE(m.truncated);
  size_t depth = 0;
  for (const Part* p = &m.root; !p->children.empty(); p = &p->children[0]) ++depth;
  EXPECT_LE(depth, ParseLimits{}.max_depth);

  std::string many = "Content-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 20'000; ++i) many += "--b\n\nx\n";
  Message wide = ParseMessage(many);
  EXPECT_TRUE(wide.truncated);
  EXPECT_LE(wide.part_count, ParseLimits{}.max_parts);
}

}  // namespace
}  // namespace postern::message
