// Tests for RFC 5256 §3 threading: the REFERENCES steps one by one, the
// cases the RFC calls out (missing parents, loops, duplicate ids, subject
// merging), ORDEREDSUBJECT, the thread-list form, and random graphs.
#include "message/thread.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "message/thread_keys.h"

namespace postern::message {
namespace {

// A message numbered by its position (1, 2, ...), sent at `date`, with the
// subject as a client would see it and its ids as written in the header.
struct Mail {
  std::string subject;
  int64_t date = 0;
  std::string message_id;
  std::string references;
  std::string in_reply_to;
};

std::vector<ThreadMessage> Messages(const std::vector<Mail>& mails) {
  std::vector<ThreadMessage> out;
  for (size_t i = 0; i < mails.size(); ++i) {
    const Mail& m = mails[i];
    ThreadMessage t;
    t.number = static_cast<uint32_t>(i + 1);
    t.sent_date = m.date;
    t.base_subject = BaseSubject(m.subject);
    t.reply_or_forward = IsReplyOrForward(m.subject);
    std::vector<std::string> own = ParseMessageIds(m.message_id);
    if (!own.empty()) t.message_id = own.front();
    t.references = ParseMessageIds(m.references);
    if (t.references.empty()) {
      std::vector<std::string> parents = ParseMessageIds(m.in_reply_to);
      if (!parents.empty()) t.references = {parents.front()};
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::string References(const std::vector<Mail>& mails) {
  return FormatThreads(ThreadByReferences(Messages(mails)));
}

std::string OrderedSubject(const std::vector<Mail>& mails) {
  return FormatThreads(ThreadByOrderedSubject(Messages(mails)));
}

TEST(ThreadReferencesTest, ConversationInOrder) {
  EXPECT_EQ(References({{"hello", 1, "<a@x>"},
                        {"Re: hello", 2, "<b@x>", "<a@x>"},
                        {"Re: hello", 3, "<c@x>", "<a@x> <b@x>"},
                        {"Re: hello", 4, "<d@x>", "<a@x>"}}),
            "(1 (2 3)(4))");
}

TEST(ThreadReferencesTest, InReplyToOnlyWhenNoReferences) {
  // The first valid id of In-Reply-To, and none of its other text.
  EXPECT_EQ(References({{"a", 1, "<a@x>"},
                        {"b", 2, "<b@x>"},
                        {"c", 3, "<c@x>", "", "<b@x> (message of today) <a@x>"}}),
            "(1)(2 3)");
  // References wins over In-Reply-To.
  EXPECT_EQ(References({{"a", 1, "<a@x>"}, {"b", 2, "<b@x>"}, {"c", 3, "<c@x>", "<a@x>", "<b@x>"}}),
            "(1 3)(2)");
  // A References without a valid id counts as absent.
  EXPECT_EQ(References({{"a", 1, "<a@x>"}, {"c", 2, "<c@x>", "<junk>", "<a@x>"}}), "(1 2)");
}

TEST(ThreadReferencesTest, ChildrenAndRootsSortedBySentDate) {
  // Arrival order differs from date order; ties go by mailbox order.
  EXPECT_EQ(References({{"late", 50, "<a@x>"},
                        {"Re: late", 70, "<b@x>", "<a@x>"},
                        {"Re: late", 60, "<c@x>", "<a@x>"},
                        {"early", 10, "<d@x>"},
                        {"same time", 50, "<e@x>"}}),
            "(4)(1 (3)(2))(5)");
}

TEST(ThreadReferencesTest, MissingParentsBecomeDummies) {
  // Two replies to a message that is not there: siblings under a dummy.
  EXPECT_EQ(References({{"Re: gone", 1, "<b@x>", "<a@x>"}, {"Re: gone", 2, "<c@x>", "<a@x>"}}),
            "((1)(2))");
  // One reply to a missing message: the dummy goes, the reply is a root.
  EXPECT_EQ(References({{"Re: gone", 1, "<b@x>", "<a@x>"}}), "(1)");
  // Missing messages inside a thread are spliced out.
  EXPECT_EQ(References({{"top", 1, "<a@x>"},
                        {"Re: top", 2, "<d@x>", "<a@x> <b@x> <c@x>"},
                        {"Re: top", 3, "<e@x>", "<a@x> <b@x>"}}),
            "(1 (2)(3))");
}

TEST(ThreadReferencesTest, ParentArrivingLater) {
  EXPECT_EQ(References({{"Re: q", 2, "<b@x>", "<a@x>"},
                        {"Re: q", 3, "<c@x>", "<a@x> <b@x>"},
                        {"q", 1, "<a@x>"}}),
            "(3 1 2)");
}

TEST(ThreadReferencesTest, TruncatedReferencesAreCorrectedByTheMessagesOwn) {
  // Message 1 says b's parent is a; b itself says its parent is z (1B wins).
  EXPECT_EQ(References({{"one", 1, "<c@x>", "<a@x> <b@x>"},
                        {"a", 2, "<a@x>"},
                        {"b", 3, "<b@x>", "<z@x>"},
                        {"z", 4, "<z@x>"}}),
            "(2)(4 3 1)");
}

TEST(ThreadReferencesTest, LoopsAreNotCreated) {
  // Each names the other as its parent: the first link stands.
  EXPECT_EQ(References({{"a", 1, "<a@x>", "<b@x>"}, {"b", 2, "<b@x>", "<a@x>"}}), "(2 1)");
  // A message referring to itself.
  EXPECT_EQ(References({{"a", 1, "<a@x>", "<a@x>"}}), "(1)");
  // A loop inside one References field.
  EXPECT_EQ(References({{"a", 1, "<a@x>", "<p@x> <q@x> <p@x>"}}), "(1)");
  // A longer loop through three messages.
  EXPECT_EQ(
      References(
          {{"a", 1, "<a@x>", "<c@x>"}, {"b", 2, "<b@x>", "<a@x>"}, {"c", 3, "<c@x>", "<b@x>"}}),
      "(3 1 2)");
}

TEST(ThreadReferencesTest, DuplicateMessageIds) {
  // Only the first message keeps the id; replies thread under it.
  EXPECT_EQ(
      References(
          {{"first", 1, "<a@x>"}, {"second", 2, "<a@x>"}, {"Re: first", 3, "<c@x>", "<a@x>"}}),
      "(1 3)(2)");
  // Messages without a Message-ID are each their own.
  EXPECT_EQ(References({{"a", 1}, {"b", 2}, {"c", 3, "", "", "junk"}}), "(1)(2)(3)");
}

TEST(ThreadReferencesTest, MessageIdsAreNormalizedButCaseSensitive) {
  // RFC 5256 §3's example: quoting does not make another id.
  EXPECT_EQ(References({{"a", 1, "<\"01KF8JCEOCBS0045PS\"@xxx.yyy.com>"},
                        {"b", 2, "<b@z>", "<01KF8JCEOCBS0045PS@xxx.yyy.com>"}}),
            "(1 2)");
  EXPECT_EQ(References({{"a", 1, "<A@z>"}, {"b", 2, "<b@z>", "<a@z>"}}), "(1)(2)");
}

TEST(ThreadReferencesTest, SubjectMerging) {
  // A reply without references joins the thread of the original.
  EXPECT_EQ(References({{"hello", 1, "<a@x>"}, {"Re: hello", 2, "<b@x>"}}), "(1 2)");
  // "Fwd:", "(fwd)" and "[fwd: ...]" are forwards; list tags are ignored.
  EXPECT_EQ(References({{"[list] hello", 1, "<a@x>"},
                        {"Fwd: hello", 2, "<b@x>"},
                        {"hello (fwd)", 3, "<c@x>"},
                        {"[fwd: hello]", 4, "<d@x>"},
                        {"RE: [list] Hello", 5, "<e@x>"}}),
            "(1 (2)(3)(4)(5))");
  // Two originals with one subject: siblings under a dummy.
  EXPECT_EQ(References({{"hello", 1, "<a@x>"}, {"hello", 2, "<b@x>"}}), "((1)(2))");
  // The reply came first: the original becomes the thread's head anyway.
  EXPECT_EQ(References({{"Re: hello", 1, "<a@x>"}, {"hello", 2, "<b@x>"}}), "(2 1)");
  // Two replies without the original: a dummy for both.
  EXPECT_EQ(References({{"Re: hello", 1, "<a@x>"}, {"Re: hello", 2, "<b@x>"}}), "((1)(2))");
  // Empty subjects never merge.
  EXPECT_EQ(References({{"", 1, "<a@x>"}, {"Re:", 2, "<b@x>"}}), "(1)(2)");
  // Different subjects stay apart; case and whitespace do not matter.
  EXPECT_EQ(References({{"hello", 1, "<a@x>"}, {"re: HELLO  ", 2, "<b@x>"}, {"bye", 3, "<c@x>"}}),
            "(1 2)(3)");
}

TEST(ThreadReferencesTest, DummyThreadsMergeBySubject) {
  // Two dummy-headed threads with one subject become one, and a lone
  // original of that subject joins the dummy as a child.
  EXPECT_EQ(References({{"Re: topic", 1, "<b@x>", "<a@x>"},
                        {"Re: topic", 2, "<c@x>", "<a@x>"},
                        {"Re: topic", 3, "<e@x>", "<d@x>"},
                        {"Re: topic", 4, "<f@x>", "<d@x>"},
                        {"topic", 5, "<g@x>"}}),
            "((1)(2)(3)(4)(5))");
}

TEST(ThreadReferencesTest, DeepChainsDoNotRecurse) {
  std::vector<Mail> mails;
  std::string references;
  for (int i = 0; i < 20'000; ++i) {
    std::string id = "<m" + std::to_string(i) + "@x>";
    // Every message names only its parent, as some clients do.
    mails.push_back({"Re: long", i, id, references});
    references = id;
  }
  std::string out = References(mails);
  EXPECT_TRUE(out.starts_with("(1 2 3 "));
  EXPECT_TRUE(out.ends_with(" 19999 20000)"));
  // Reversed order: each parent arrives after its child.
  std::reverse(mails.begin(), mails.end());
  out = References(mails);
  EXPECT_TRUE(out.starts_with("(20000 19999 "));
  EXPECT_TRUE(out.ends_with(" 2 1)"));
}

// Every message exactly once, and the text well formed.
void ExpectWellFormed(const std::string& text, size_t count) {
  std::map<uint64_t, int> seen;
  int depth = 0;
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c == '(') {
      ++depth;
      ++i;
    } else if (c == ')') {
      ASSERT_GT(depth, 0) << text;
      --depth;
      ++i;
    } else if (c == ' ') {
      ++i;
    } else {
      ASSERT_TRUE(c >= '1' && c <= '9') << text;
      uint64_t n = 0;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') n = n * 10 + (text[i++] - '0');
      ++seen[n];
    }
  }
  EXPECT_EQ(depth, 0);
  ASSERT_EQ(seen.size(), count) << text;
  for (const auto& [n, times] : seen) {
    EXPECT_EQ(times, 1) << n;
    EXPECT_GE(n, 1u);
    EXPECT_LE(n, count);
  }
  EXPECT_EQ(text.find("()"), std::string::npos) << text;
}

// Every node reachable once from the roots; every message once; dummies
// only where the RFC leaves them (with two children or more).
void ExpectForest(const ThreadForest& forest, size_t count) {
  std::vector<int> reached(forest.nodes.size(), 0);
  std::vector<size_t> stack(forest.roots.begin(), forest.roots.end());
  std::vector<int> numbers(count + 1, 0);
  while (!stack.empty()) {
    size_t n = stack.back();
    stack.pop_back();
    ASSERT_LT(n, forest.nodes.size());
    ASSERT_EQ(reached[n]++, 0) << "node reached twice";
    const auto& node = forest.nodes[n];
    if (node.number == 0) {
      EXPECT_GE(node.children.size(), 2u);
    } else {
      ASSERT_LE(node.number, count);
      ++numbers[node.number];
    }
    stack.insert(stack.end(), node.children.begin(), node.children.end());
  }
  for (size_t i = 1; i <= count; ++i) EXPECT_EQ(numbers[i], 1) << i;
}

TEST(ThreadReferencesTest, HostileReferencesStayFast) {
  // One message hangs a chain of 50,000 ids nobody has above itself; then
  // pairs of messages each make a message with a child of its own, and hang
  // it below the bottom of that chain: every such link needs a loop check
  // that walks the whole chain. The checks are bounded in all.
  std::vector<ThreadMessage> messages;
  ThreadMessage deep;
  deep.number = 1;
  deep.message_id = "<deep@x>";
  for (int i = 0; i < 50'000; ++i) deep.references.push_back("<r" + std::to_string(i) + "@x>");
  messages.push_back(deep);
  for (int k = 0; k < 2'000; ++k) {
    ThreadMessage child;  // makes <x_k> a parent
    child.message_id = "<c" + std::to_string(k) + "@x>";
    child.references = {"<x" + std::to_string(k) + "@x>"};
    ThreadMessage parent;  // <x_k>, below the chain's last id
    parent.message_id = "<x" + std::to_string(k) + "@x>";
    parent.references = {"<r49999@x>"};
    messages.push_back(child);
    messages.push_back(parent);
  }
  for (size_t i = 0; i < messages.size(); ++i) messages[i].number = static_cast<uint32_t>(i + 1);
  auto start = std::chrono::steady_clock::now();
  ThreadForest forest = ThreadByReferences(messages);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(2));
  ExpectForest(forest, messages.size());
}

TEST(ThreadReferencesTest, RandomGraphsThreadEveryMessageOnce) {
  std::mt19937 random(5256);
  for (int round = 0; round < 300; ++round) {
    const int count = 1 + static_cast<int>(random() % 60);
    const int ids = 1 + static_cast<int>(random() % 80);  // fewer ids: duplicates, loops
    auto id = [&] { return "<i" + std::to_string(random() % ids) + "@x>"; };
    std::vector<Mail> mails;
    for (int i = 0; i < count; ++i) {
      Mail m;
      static const char* kSubjects[] = {"a", "Re: a", "b", "Fwd: b", "", "[fwd: a]", "c (fwd)"};
      m.subject = kSubjects[random() % 7];
      m.date = static_cast<int64_t>(random() % 10);
      if (random() % 5 != 0) m.message_id = id();
      const int refs = static_cast<int>(random() % 6);
      for (int r = 0; r < refs; ++r) m.references += id() + " ";
      if (random() % 3 == 0) m.in_reply_to = id();
      mails.push_back(m);
    }
    std::vector<ThreadMessage> messages = Messages(mails);
    ThreadForest forest = ThreadByReferences(messages);
    ExpectForest(forest, messages.size());
    ExpectWellFormed(FormatThreads(forest), messages.size());
    ThreadForest ordered = ThreadByOrderedSubject(messages);
    ExpectForest(ordered, messages.size());
    ExpectWellFormed(FormatThreads(ordered), messages.size());
  }
}

TEST(ThreadOrderedSubjectTest, GroupsBySubjectThenDate) {
  EXPECT_EQ(OrderedSubject({{"b", 5},
                            {"a", 3},
                            {"Re: b", 4},
                            {"Re: a", 9},
                            {"c", 1},
                            {"[list] Re: a", 7},
                            {"a", 3}}),
            "(5)(2 (7)(6)(4))(3 1)");
  EXPECT_EQ(OrderedSubject({}), "");
  EXPECT_EQ(OrderedSubject({{"x", 1}}), "(1)");
  EXPECT_EQ(OrderedSubject({{"x", 1}, {"Re: x", 2}}), "(1 2)");
}

TEST(FormatThreadsTest, RfcExample) {
  // RFC 5256 §4: "(2)(3 6 (4 23)(44 7 96))".
  ThreadForest f;
  auto add = [&](uint32_t number, std::vector<size_t> children) {
    f.nodes.push_back({number, std::move(children)});
    return f.nodes.size() - 1;
  };
  size_t n96 = add(96, {}), n7 = add(7, {n96}), n44 = add(44, {n7});
  size_t n23 = add(23, {}), n4 = add(4, {n23});
  size_t n6 = add(6, {n4, n44}), n3 = add(3, {n6}), n2 = add(2, {});
  f.roots = {n2, n3};
  EXPECT_EQ(FormatThreads(f), "(2)(3 6 (4 23)(44 7 96))");
  // "((3)(5))": siblings under a parent that is not shown.
  ThreadForest g;
  g.nodes = {{0, {1, 2}}, {3, {}}, {5, {}}};
  g.roots = {0};
  EXPECT_EQ(FormatThreads(g), "((3)(5))");
  EXPECT_EQ(FormatThreads(ThreadForest{}), "");
}

}  // namespace
}  // namespace postern::message
