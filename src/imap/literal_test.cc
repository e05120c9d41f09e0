// Tests for TrailingLiteral: every marker form, lying and oversized counts, and the
// close-the-connection rule for refused non-synchronizing literals.
#include "imap/literal.h"

#include <gtest/gtest.h>

#include <string>

namespace postern::imap {
namespace {

TEST(TrailingLiteralTest, NoMarker) {
  EXPECT_FALSE(TrailingLiteral(""));
  EXPECT_FALSE(TrailingLiteral("a1 NOOP"));
  EXPECT_FALSE(TrailingLiteral("a1 LOGIN joe secret"));
  EXPECT_FALSE(TrailingLiteral("a1 LOGIN joe {}"));
  EXPECT_FALSE(TrailingLiteral("a1 LOGIN joe {+}"));
  EXPECT_FALSE(TrailingLiteral("a1 LOGIN joe {-1}"));
  EXPECT_FALSE(TrailingLiteral("a1 LOGIN joe {5a}"));
  EXPECT_FALSE(TrailingLiteral("a1 LOGIN joe {5} "));
  EXPECT_FALSE(TrailingLiteral("a1 LOGIN joe {5++}"));
  EXPECT_FALSE(TrailingLiteral("a1 LOGIN joe 5}"));
  EXPECT_FALSE(TrailingLiteral("}"));
  EXPECT_FALSE(TrailingLiteral("{5}x"));
}

TEST(TrailingLiteralTest, Synchronizing) {
  std::optional<LiteralMarker> m = TrailingLiteral("a1 LOGIN {5}");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->ok());
  EXPECT_EQ(m->size, 5u);
  EXPECT_TRUE(m->synchronizing);
  EXPECT_FALSE(m->literal8);
  EXPECT_EQ(m->offset, 9u);
  EXPECT_FALSE(m->MustCloseConnection());

  m = TrailingLiteral("{0}");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->size, 0u);
  EXPECT_EQ(m->offset, 0u);

  m = TrailingLiteral("a1 LOGIN {007}");  // number64 = 1*DIGIT: leading zeros are digits
  ASSERT_TRUE(m);
  EXPECT_EQ(m->size, 7u);
}

TEST(TrailingLiteralTest, NonSynchronizing) {
  std::optional<LiteralMarker> m = TrailingLiteral("A003 APPEND saved-messages (\\Seen) {297+}");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->size, 297u);
  EXPECT_FALSE(m->synchronizing);
  EXPECT_FALSE(m->literal8);
  EXPECT_TRUE(m->ok());
  EXPECT_FALSE(m->MustCloseConnection());
}

TEST(TrailingLiteralTest, Literal8) {
  std::optional<LiteralMarker> m = TrailingLiteral("a APPEND x ~{12}");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->literal8);
  EXPECT_TRUE(m->synchronizing);
  EXPECT_EQ(m->size, 12u);
  EXPECT_EQ(m->offset, 11u);
  m = TrailingLiteral("a APPEND x UTF8 (~{12+}");  // RFC 4466 / RFC 7888 §6
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->literal8);
  EXPECT_FALSE(m->synchronizing);
}

TEST(TrailingLiteralTest, DigitLimits) {
  // 19 digits: the largest number64 is accepted.
  std::optional<LiteralMarker> m = TrailingLiteral("a {9223372036854775807}");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->ok());
  EXPECT_EQ(m->size, 9223372036854775807ULL);
  // 19 digits above 2^63-1.
  m = TrailingLiteral("a {9999999999999999999}");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, LiteralStatus::kInvalidSize);
  EXPECT_EQ(m->size, 0u);
  // 20 digits, even with leading zeros.
  m = TrailingLiteral("a {00000000000000000001}");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, LiteralStatus::kInvalidSize);
  m = TrailingLiteral("a {" + std::string(5000, '9') + "}");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, LiteralStatus::kInvalidSize);
  EXPECT_TRUE(m->synchronizing);
  EXPECT_FALSE(m->MustCloseConnection());  // the client waits for "+": reply BAD and go on
  m = TrailingLiteral("a {" + std::string(25, '9') + "+}");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, LiteralStatus::kInvalidSize);
  EXPECT_TRUE(m->MustCloseConnection());  // the octets are coming, their count unknown
}

TEST(TrailingLiteralTest, CallerLimits) {
  LiteralLimits limits;
  limits.max_size = 1000;
  limits.max_non_synchronizing = 4096;  // LITERAL- / IMAP4rev2
  std::optional<LiteralMarker> m = TrailingLiteral("a {1000}", limits);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->ok());
  m = TrailingLiteral("a {1001}", limits);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, LiteralStatus::kTooLarge);
  EXPECT_EQ(m->size, 1001u);
  EXPECT_FALSE(m->MustCloseConnection());  // NO [TOOBIG], no continuation
  m = TrailingLiteral("a {1001+}", limits);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, LiteralStatus::kTooLarge);
  EXPECT_TRUE(m->MustCloseConnection());

  limits.max_size = 1'000'000;
  m = TrailingLiteral("a {4096+}", limits);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->ok());
  m = TrailingLiteral("a {4097+}", limits);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, LiteralStatus::kTooLarge);
  m = TrailingLiteral("a {4097}", limits);  // synchronizing literals may be larger
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->ok());
}

}  // namespace
}  // namespace postern::imap
