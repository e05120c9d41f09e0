#include "dkim/canonical.h"

#include <gtest/gtest.h>

namespace postern::dkim {
namespace {

// RFC 6376 §3.4.5, the example message.
constexpr std::string_view kExample =
    "A: X\r\n"
    "B : Y\t\r\n"
    "\tZ  \r\n"
    "\r\n"
    " C \r\n"
    "D \t E\r\n"
    "\r\n"
    "\r\n";

TEST(Canonical, SplitsFieldsAndBody) {
  const SplitMessage m = SplitHeader(kExample);
  ASSERT_EQ(m.fields.size(), 2u);
  EXPECT_EQ(m.fields[0].name, "A");
  EXPECT_EQ(m.fields[0].raw, "A: X\r\n");
  EXPECT_EQ(m.fields[1].name, "B");
  EXPECT_EQ(m.fields[1].raw, "B : Y\t\r\n\tZ  \r\n");
  EXPECT_EQ(m.body, " C \r\nD \t E\r\n\r\n\r\n");
}

TEST(Canonical, Rfc6376Section345Relaxed) {
  const SplitMessage m = SplitHeader(kExample);
  EXPECT_EQ(CanonicalizeHeader(m.fields[0], Canonicalization::kRelaxed), "a:X\r\n");
  EXPECT_EQ(CanonicalizeHeader(m.fields[1], Canonicalization::kRelaxed), "b:Y Z\r\n");
  EXPECT_EQ(CanonicalBody(m.body, Canonicalization::kRelaxed), " C\r\nD E\r\n");
}

TEST(Canonical, Rfc6376Section345Simple) {
  const SplitMessage m = SplitHeader(kExample);
  EXPECT_EQ(CanonicalizeHeader(m.fields[0], Canonicalization::kSimple), "A: X\r\n");
  EXPECT_EQ(CanonicalizeHeader(m.fields[1], Canonicalization::kSimple), "B : Y\t\r\n\tZ  \r\n");
  EXPECT_EQ(CanonicalBody(m.body, Canonicalization::kSimple), " C \r\nD \t E\r\n");
}

TEST(Canonical, EmptyAndUnterminatedBodies) {
  // §3.4.3: an empty body is one CRLF in simple; §3.4.4: empty in relaxed.
  EXPECT_EQ(CanonicalBody("", Canonicalization::kSimple), "\r\n");
  EXPECT_EQ(CanonicalBody("", Canonicalization::kRelaxed), "");
  EXPECT_EQ(CanonicalBody("\r\n\r\n", Canonicalization::kSimple), "\r\n");
  EXPECT_EQ(CanonicalBody("\r\n \t\r\n", Canonicalization::kRelaxed), "");
  EXPECT_EQ(CanonicalBody("abc", Canonicalization::kSimple), "abc\r\n");
  EXPECT_EQ(CanonicalBody("abc  ", Canonicalization::kRelaxed), "abc\r\n");
  // Empty lines inside the body stay; only the trailing ones go.
  EXPECT_EQ(CanonicalBody("a\r\n\r\n  \r\nb\r\n\r\n", Canonicalization::kRelaxed),
            "a\r\n\r\n\r\nb\r\n");
}

TEST(Canonical, LargeBodyComesInPiecesThatAddUp) {
  std::string body;
  for (int i = 0; i < 20000; ++i) body += "line  with   spaces \t\r\n\r\n";
  size_t pieces = 0;
  std::string joined;
  CanonicalizeBody(body, Canonicalization::kRelaxed, [&](std::string_view p) {
    ++pieces;
    joined += p;
  });
  EXPECT_GT(pieces, 1u);
  std::string expected;
  for (int i = 0; i < 20000; ++i)
    expected += "line with spaces\r\n" + std::string(i < 19999 ? "\r\n" : "");
  EXPECT_EQ(joined, expected);
}

TEST(Canonical, HostileHeaderShapes) {
  // No blank line: all header, no body. A line without a colon is kept.
  SplitMessage m = SplitHeader("From: a\r\nnonsense\r\n\tmore");
  ASSERT_EQ(m.fields.size(), 2u);
  EXPECT_EQ(m.fields[1].name, "nonsense");
  EXPECT_EQ(m.fields[1].raw, "nonsense\r\n\tmore");
  EXPECT_EQ(m.body, "");
  EXPECT_EQ(CanonicalizeHeader(m.fields[1], Canonicalization::kRelaxed), "nonsense:\r\n");
  // A continuation line first is a field of its own.
  m = SplitHeader(" x: y\r\n\r\nbody");
  ASSERT_EQ(m.fields.size(), 1u);
  EXPECT_EQ(m.body, "body");
  EXPECT_TRUE(SplitHeader("").fields.empty());
}

}  // namespace
}  // namespace postern::dkim
