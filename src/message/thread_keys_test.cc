// Tests for RFC 5256 message ids (§3) and base subjects (§2.1).
#include "message/thread_keys.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "message/test_vectors.h"

namespace postern::message {
namespace {

using testing::FieldBody;
using testing::LoadTestVectors;
using Ids = std::vector<std::string>;

TEST(ParseMessageIdsTest, IdsInOrder) {
  EXPECT_EQ(ParseMessageIds("<a@b>"), Ids{"<a@b>"});
  EXPECT_EQ(ParseMessageIds(" <a@b>\r\n\t<c@d> <e@f> "), (Ids{"<a@b>", "<c@d>", "<e@f>"}));
  EXPECT_EQ(ParseMessageIds("<a@b><c@d>"), (Ids{"<a@b>", "<c@d>"}));
  EXPECT_EQ(ParseMessageIds("<a@b> <a@b>"), (Ids{"<a@b>", "<a@b>"}));  // kept, as written
  EXPECT_EQ(ParseMessageIds(""), Ids{});
}

TEST(ParseMessageIdsTest, JunkAndCommentsBetweenIdsAreSkipped) {
  EXPECT_EQ(ParseMessageIds("(comment) <a@b> (another) junk, <c@d>"), (Ids{"<a@b>", "<c@d>"}));
  // In-Reply-To as mailers write it (RFC 5256 §3 note).
  EXPECT_EQ(ParseMessageIds("<a@b> (Joe's message of Mon, 1 Jan)"), Ids{"<a@b>"});
  EXPECT_EQ(ParseMessageIds("Your message of Mon, 1 Jan <a@b> from <joe@example.com>"),
            (Ids{"<a@b>", "<joe@example.com>"}));
}

// RFC 5256 §3: ids are compared in a normalized form.
TEST(ParseMessageIdsTest, Normalization) {
  EXPECT_EQ(ParseMessageIds("<\"01KF8JCEOCBS0045PS\"@xxx.yyy.com>"),
            Ids{"<01KF8JCEOCBS0045PS@xxx.yyy.com>"});
  EXPECT_EQ(ParseMessageIds("<01KF8JCEOCBS0045PS@xxx.yyy.com>"),
            Ids{"<01KF8JCEOCBS0045PS@xxx.yyy.com>"});
  EXPECT_EQ(ParseMessageIds("< a @ b . c >"), Ids{"<a@b.c>"});
  EXPECT_EQ(ParseMessageIds("<a(comment)@b>"), Ids{"<a@b>"});
  EXPECT_EQ(ParseMessageIds("<\"a b\\\"c\"@d>"), Ids{"<a b\"c@d>"});
  EXPECT_EQ(ParseMessageIds("<a@[192.0.2.1]>"), Ids{"<a@[192.0.2.1]>"});
  // Case is significant (RFC 5256 §3 "Message ID comparisons are case-sensitive").
  EXPECT_EQ(ParseMessageIds("<Ab@Cd>"), Ids{"<Ab@Cd>"});
}

TEST(ParseMessageIdsTest, InvalidIdsAreLeftOut) {
  EXPECT_EQ(ParseMessageIds("<>"), Ids{});
  EXPECT_EQ(ParseMessageIds("<no-at-sign>"), Ids{});
  EXPECT_EQ(ParseMessageIds("<@b>"), Ids{});
  EXPECT_EQ(ParseMessageIds("<a@>"), Ids{});
  EXPECT_EQ(ParseMessageIds("<\"a@b\">"), Ids{});  // the '@' is quoted
  EXPECT_EQ(ParseMessageIds("<a@b"), Ids{});       // unbalanced
  EXPECT_EQ(ParseMessageIds("a@b>"), Ids{});
  EXPECT_EQ(ParseMessageIds("a@b"), Ids{});
  EXPECT_EQ(ParseMessageIds("<junk <a@b>"), Ids{"<a@b>"});
  EXPECT_EQ(ParseMessageIds("<bad> <a@b> <worse"), Ids{"<a@b>"});
}

TEST(ParseMessageIdsTest, MailParserIdVectors) {
  nlohmann::json vectors = LoadTestVectors("mime/mail-parser/headers/id.json");
  ASSERT_EQ(vectors.size(), 11u);
  // mail-parser returns ids without brackets; ours keep them. Where it
  // disagrees with RFC 5256 §3:
  const std::map<size_t, Ids> kDeviations = {
      // normalized: CFWS removed ("the msg-id ... MUST be normalized")
      {6, {"<1234@local.machine.example>"}},
      // no angle brackets: not a msg-id (RFC 5322 §3.6.4), as in Dovecot
      {8, {}},
      {9, {}},
      {10, {}},
  };
  for (size_t i = 0; i < vectors.size(); ++i) {
    std::string header = FieldBody(vectors[i]["header"].get<std::string>());
    Ids expected;
    if (!vectors[i]["expected"].is_null()) {
      for (const auto& id : vectors[i]["expected"])
        expected.push_back("<" + id.get<std::string>() + ">");
    }
    auto deviation = kDeviations.find(i);
    if (deviation != kDeviations.end()) {
      EXPECT_NE(deviation->second, expected) << "case " << i << " no longer deviates";
      expected = deviation->second;
    }
    EXPECT_EQ(ParseMessageIds(header), expected) << "case " << i << ": " << header;
  }
}

TEST(BaseSubjectTest, ReplyAndForwardPrefixes) {
  for (const char* subject :
       {"hello", "Re: hello", "RE: hello", "re:hello", "Fwd: hello", "FW: hello", "fw : hello",
        "Re: Re: Fwd: hello", "re:re:re:hello", "Re[2]: hello", "Re [2]: hello", "Re:  \t hello",
        " hello ", "Re: Fwd:  Re: hello"}) {
    EXPECT_EQ(BaseSubject(subject), "HELLO") << subject;
  }
}

TEST(BaseSubjectTest, Blobs) {
  EXPECT_EQ(BaseSubject("[list] hello"), "HELLO");
  EXPECT_EQ(BaseSubject("[list] Re: hello"), "HELLO");
  EXPECT_EQ(BaseSubject("Re: [list] hello"), "HELLO");
  EXPECT_EQ(BaseSubject("[a][b] [c] Re: [d] Fwd: hello"), "HELLO");
  EXPECT_EQ(BaseSubject("[a] [b] hello [c]"), "HELLO [C]");
  // The last blob is the base when nothing else is left (§5 subj-middle).
  EXPECT_EQ(BaseSubject("[list]"), "[LIST]");
  EXPECT_EQ(BaseSubject("[a] [b]"), "[B]");
  EXPECT_EQ(BaseSubject("Re: [a] [b]"), "[B]");
  // Brackets that are not blobs stay.
  EXPECT_EQ(BaseSubject("[open hello"), "[OPEN HELLO");
  EXPECT_EQ(BaseSubject("[a[b] hello"), "[A[B] HELLO");
}

TEST(BaseSubjectTest, TrailersAndForwardWrappers) {
  EXPECT_EQ(BaseSubject("hello (fwd)"), "HELLO");
  EXPECT_EQ(BaseSubject("hello (FWD) (fwd)  "), "HELLO");
  EXPECT_EQ(BaseSubject("hello(fwd)"), "HELLO");
  EXPECT_EQ(BaseSubject("[fwd: hello]"), "HELLO");
  EXPECT_EQ(BaseSubject("[Fwd: Re: hello (fwd)]"), "HELLO");
  EXPECT_EQ(BaseSubject("Re: [fwd: [list] Re: hello]"), "HELLO");
  EXPECT_EQ(BaseSubject("[fwd: [fwd: hello]]"), "HELLO");
  EXPECT_EQ(BaseSubject("[fwd: hello"), "[FWD: HELLO");
  EXPECT_EQ(BaseSubject("[fwd:]"), "");
}

TEST(BaseSubjectTest, WhitespaceIsCollapsed) {
  EXPECT_EQ(BaseSubject("  hello   big\tworld \r\n again "), "HELLO BIG WORLD AGAIN");
  EXPECT_EQ(BaseSubject(""), "");
  EXPECT_EQ(BaseSubject("   "), "");
  EXPECT_EQ(BaseSubject("Re:"), "");
  EXPECT_EQ(BaseSubject("Re: "), "");
}

TEST(BaseSubjectTest, NotPrefixes) {
  EXPECT_EQ(BaseSubject("Reply needed"), "REPLY NEEDED");
  EXPECT_EQ(BaseSubject("Re hello"), "RE HELLO");
  EXPECT_EQ(BaseSubject("Fwdx: hello"), "FWDX: HELLO");
  EXPECT_EQ(BaseSubject("Aw: hello"), "AW: HELLO");  // translations are not removed (§7)
  EXPECT_EQ(BaseSubject("hello: Re: x"), "HELLO: RE: X");
}

// RFC 5051 i;unicode-casemap: titlecase, then NFKD.
TEST(BaseSubjectTest, UnicodeCasemap) {
  EXPECT_EQ(BaseSubject("Re: caf\xc3\xa9"), BaseSubject("CAF\xc3\x89"));
  EXPECT_EQ(BaseSubject("caf\xc3\xa9"), "CAFE\xcc\x81");
  EXPECT_EQ(BaseSubject("\xc7\x84"), BaseSubject("\xc7\x86"));  // Ǆ and ǆ
  EXPECT_EQ(BaseSubject("\xef\xbd\x88\xef\xbd\x89"), "HI");     // full-width "ｈｉ"
  EXPECT_EQ(BaseSubject("\xce\xb1\xce\xb2"), BaseSubject("\xce\x91\xce\x92"));  // αβ, ΑΒ
  // Invalid UTF-8 does not break it.
  EXPECT_EQ(BaseSubject("a\xff"), "A\xef\xbf\xbd");
}

TEST(IsReplyOrForwardTest, WhatTheExtractionRemoved) {
  for (const char* subject :
       {"Re: x", "Fwd: x", "fw: x", "x (fwd)", "[fwd: x]", "[list] Re: x", "Re[3]: x", "Re:"}) {
    EXPECT_TRUE(IsReplyOrForward(subject)) << subject;
  }
  for (const char* subject :
       {"x", "", "[list] x", "Reply", "  x  ", "[x]", "Aw: x", "hello: Re: x"}) {
    EXPECT_FALSE(IsReplyOrForward(subject)) << subject;
  }
}

TEST(ThreadKeysTest, PathologicalInputIsLinear) {
  const std::string patterns[] = {"re:", "[a]", "[a] ", "[fwd:", "(fwd)", "[",   "]",         " ",
                                  "re",  "<",   ">",    "<a@b>", "<(",    "<\"", "Re: [fwd: "};
  for (const std::string& pattern : patterns) {
    testing::ExpectLinearTime("", pattern, [](const std::string& input) {
      BaseSubject(input);
      IsReplyOrForward(input);
      ParseMessageIds(input);
    });
  }
  std::string nested;
  for (int i = 0; i < 100000; ++i) nested += "[fwd: ";
  nested += "x";
  for (int i = 0; i < 100000; ++i) nested += "]";
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(BaseSubject(nested), "X");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace postern::message
