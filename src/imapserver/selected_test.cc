#include "imapserver/selected.h"

#include <gtest/gtest.h>

namespace postern::imapserver {
namespace {

store::MessageInfo Msg(uint32_t uid, uint64_t modseq, uint32_t flags = 0, std::string kw = "") {
  store::MessageInfo m;
  m.id = uid * 10;
  m.uid = uid;
  m.modseq = modseq;
  m.flags = flags;
  m.keywords = std::move(kw);
  return m;
}

SelectedMailbox Make() {
  store::MailboxInfo info;
  info.id = 7;
  info.highestmodseq = 5;
  return SelectedMailbox(info, {Msg(2, 2), Msg(4, 3), Msg(9, 5)}, false);
}

imap::SequenceSet Set(std::string_view text) { return *imap::ParseSequenceSet(text); }

TEST(SelectedMailboxTest, ResolvesSequenceNumbersAndUids) {
  SelectedMailbox s = Make();
  EXPECT_EQ(s.exists(), 3u);
  EXPECT_EQ(s.SeqOf(4), 2u);
  EXPECT_EQ(s.SeqOf(5), 0u);
  EXPECT_EQ(s.Resolve(Set("2:*"), false), (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(s.Resolve(Set("*"), false), std::vector<uint32_t>{3});
  // UIDs absent are ignored; "*" is the largest UID; ranges either way.
  EXPECT_EQ(s.Resolve(Set("3:5"), true), std::vector<uint32_t>{2});
  EXPECT_EQ(s.Resolve(Set("*"), true), std::vector<uint32_t>{3});
  EXPECT_EQ(s.Resolve(Set("10:*"), true), std::vector<uint32_t>{3}) << "RFC 9051 §6.4.8";
  EXPECT_EQ(s.Resolve(Set("1:1000"), true), (std::vector<uint32_t>{1, 2, 3}));
}

TEST(SelectedMailboxTest, SavedSearchResultFollowsExpunges) {
  SelectedMailbox s = Make();  // UIDs 2, 4, 9
  // Empty until a SEARCH saves: "$" is then valid and names nothing.
  EXPECT_TRUE(s.Resolve(Set("$"), false).empty());
  s.SaveSearchResult({9, 4, 9});
  EXPECT_TRUE(s.InSearchResult(4));
  EXPECT_FALSE(s.InSearchResult(2));
  // The same messages as sequence numbers or as UIDs (RFC 5182 §2.1).
  EXPECT_EQ(s.Resolve(Set("$"), false), (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(s.Resolve(Set("$"), true), (std::vector<uint32_t>{2, 3}));
  // An expunge held back leaves "$" alone; once announced, the message
  // leaves it and the others are renumbered with the view.
  s.Apply(6, {}, {4}, false, {});
  EXPECT_EQ(s.Resolve(Set("$"), false), (std::vector<uint32_t>{2, 3}));
  s.Apply(6, {}, {}, true, {});
  EXPECT_FALSE(s.InSearchResult(4));
  EXPECT_EQ(s.Resolve(Set("$"), false), std::vector<uint32_t>{2});
  s.RemoveUids({9}, false);
  EXPECT_TRUE(s.Resolve(Set("$"), true).empty());
}

TEST(SelectedMailboxTest, AnnouncesFlagsNewMailAndExpunges) {
  SelectedMailbox s = Make();
  auto u = s.Apply(8, {Msg(4, 7, store::kFlagSeen), Msg(9, 5), Msg(12, 8)}, {2}, true, {});
  ASSERT_EQ(u.responses.size(), 3u);
  EXPECT_EQ(u.responses[0], "* 1 EXPUNGE\r\n");
  EXPECT_EQ(u.responses[1], "* 1 FETCH (FLAGS (\\Seen))\r\n");
  EXPECT_EQ(u.responses[2], "* 3 EXISTS\r\n");
  EXPECT_EQ(s.known_modseq(), 8u);
  EXPECT_EQ(s.SeqOf(12), 3u);
  // Seen again: nothing new to say.
  EXPECT_TRUE(
      s.Apply(8, {Msg(4, 7, store::kFlagSeen), Msg(12, 8)}, {2}, true, {}).responses.empty());
}

TEST(SelectedMailboxTest, ExpungesWaitWhileNumbersMustHold) {
  SelectedMailbox s = Make();
  auto held = s.Apply(6, {}, {4}, false, {});
  EXPECT_TRUE(held.responses.empty());
  EXPECT_EQ(s.exists(), 3u) << "RFC 9051 §7.5.1: no EXPUNGE during FETCH, STORE, SEARCH";
  EXPECT_TRUE(s.HasPendingExpunges());
  auto later = s.Apply(6, {}, {}, true, {});
  ASSERT_EQ(later.responses.size(), 1u);
  EXPECT_EQ(later.responses[0], "* 2 EXPUNGE\r\n");
  EXPECT_EQ(s.exists(), 2u);
  EXPECT_FALSE(s.HasPendingExpunges());
}

TEST(SelectedMailboxTest, SeveralExpungesUseTheNumbersAsTheyShift) {
  SelectedMailbox s = Make();
  auto lines = s.RemoveUids({9, 2}, false);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "* 1 EXPUNGE\r\n");
  EXPECT_EQ(lines[1], "* 2 EXPUNGE\r\n");
  EXPECT_EQ(s.exists(), 1u);
  EXPECT_EQ(s.at(1).uid, 4u);
}

TEST(SelectedMailboxTest, CondstoreUpdatesCarryUidAndModseq) {
  SelectedMailbox s = Make();
  auto u = s.Apply(9, {Msg(2, 9, 0, "$Work")}, {}, true, {.condstore = true});
  ASSERT_EQ(u.responses.size(), 1u);
  EXPECT_EQ(u.responses[0], "* 1 FETCH (UID 2 FLAGS ($Work) MODSEQ (9))\r\n");
  EXPECT_EQ(FlagList(store::kFlagSeen | store::kFlagDraft, "a b"), "(\\Seen \\Draft a b)");
}

TEST(SelectedMailboxTest, Imap4rev2UpdatesCarryUidWithoutModseq) {
  SelectedMailbox s = Make();
  // RFC 9051 §7.5.2: every unsolicited FETCH has UID; MODSEQ only with CONDSTORE.
  auto u = s.Apply(9, {Msg(2, 9, store::kFlagFlagged)}, {}, true, {.imap4rev2 = true});
  ASSERT_EQ(u.responses.size(), 1u);
  EXPECT_EQ(u.responses[0], "* 1 FETCH (UID 2 FLAGS (\\Flagged))\r\n");
  // IMAP4rev1 without CONDSTORE: flags alone.
  SelectedMailbox rev1 = Make();
  u = rev1.Apply(9, {Msg(2, 9, store::kFlagFlagged)}, {}, true, {});
  ASSERT_EQ(u.responses.size(), 1u);
  EXPECT_EQ(u.responses[0], "* 1 FETCH (FLAGS (\\Flagged))\r\n");
}

TEST(SelectedMailboxTest, QresyncReportsExpungesAsOneVanished) {
  SelectedMailbox s = Make();
  // RFC 7162 §3.2.10.2: UIDs, not numbers; only messages the client knows.
  auto u = s.Apply(9, {}, {2, 9, 5}, true, {.condstore = true, .qresync = true});
  ASSERT_EQ(u.responses.size(), 1u);
  EXPECT_EQ(u.responses[0], "* VANISHED 2,9\r\n");
  EXPECT_EQ(s.exists(), 1u);
  EXPECT_TRUE(s.RemoveUids({2, 9}, true).empty()) << "never announced twice";
  EXPECT_EQ(s.RemoveUids({4}, true), std::vector<std::string>{"* VANISHED 4\r\n"});
  EXPECT_EQ(s.exists(), 0u);
}

TEST(SelectedMailboxTest, HeldExpungesKeepTheReportedModseqBelowThem) {
  SelectedMailbox s = Make();  // known mod-sequence 5
  const SelectedMailbox::Reporting condstore{.condstore = true};
  // An expunge (modseq 6) and a flag change (modseq 7) while numbers must hold.
  auto held = s.Apply(7, {Msg(4, 7, store::kFlagSeen)}, {9}, false, condstore);
  ASSERT_EQ(held.responses.size(), 2u);
  EXPECT_EQ(held.responses[0], "* 2 FETCH (UID 4 FLAGS (\\Seen) MODSEQ (7))\r\n");
  // RFC 7162 §3.2: a client that stores 7 would never hear of the expunge.
  EXPECT_EQ(held.responses[1], "* OK [HIGHESTMODSEQ 5] Expunges pending\r\n");
  EXPECT_EQ(s.ReportableModSeq(), 5u);
  auto later = s.Apply(7, {}, {}, true, condstore);
  EXPECT_EQ(later.responses, std::vector<std::string>{"* 3 EXPUNGE\r\n"});
  EXPECT_EQ(s.ReportableModSeq(), 7u);
}

TEST(SelectedMailboxTest, ChangedSinceListsNewerMessagesAmongTheKnownUids) {
  SelectedMailbox s = Make();  // UIDs 2, 4, 9 with mod-sequences 2, 3, 5
  EXPECT_EQ(s.ChangedSince(2, std::nullopt),
            (std::vector<std::string>{"* 2 FETCH (UID 4 FLAGS () MODSEQ (3))\r\n",
                                      "* 3 FETCH (UID 9 FLAGS () MODSEQ (5))\r\n"}));
  EXPECT_EQ(s.ChangedSince(2, Set("1:5")),
            std::vector<std::string>{"* 2 FETCH (UID 4 FLAGS () MODSEQ (3))\r\n"});
  EXPECT_TRUE(s.ChangedSince(5, std::nullopt).empty());
}

}  // namespace
}  // namespace postern::imapserver
