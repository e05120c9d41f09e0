// Tests for SEARCH programs (every key of RFC 3501 / RFC 9051 §6.4.4 and the extensions),
// ESEARCH return options, CHARSET, nesting, and SORT / THREAD.
#include <gtest/gtest.h>

#include <string>

#include "imap/command.h"
#include "imap/command_test_util.h"

namespace postern::imap {
namespace {

// The one top-level key of "t SEARCH <program>".
SearchKey OneKey(std::string_view program) {
  Search search = ExpectArgs<Search>("t SEARCH " + std::string(program));
  EXPECT_EQ(search.criteria.kind, SearchKeyKind::kAnd);
  EXPECT_EQ(search.criteria.children.size(), 1u) << program;
  return search.criteria.children.empty() ? SearchKey{} : search.criteria.children[0];
}

TEST(SearchTest, FlagKeys) {
  struct Case {
    std::string_view name;
    SearchKeyKind kind;
  };
  for (const Case& c : {
           Case{"ALL", SearchKeyKind::kAll},
           Case{"ANSWERED", SearchKeyKind::kAnswered},
           Case{"DELETED", SearchKeyKind::kDeleted},
           Case{"DRAFT", SearchKeyKind::kDraft},
           Case{"FLAGGED", SearchKeyKind::kFlagged},
           Case{"NEW", SearchKeyKind::kNew},
           Case{"OLD", SearchKeyKind::kOld},
           Case{"RECENT", SearchKeyKind::kRecent},
           Case{"SEEN", SearchKeyKind::kSeen},
           Case{"UNANSWERED", SearchKeyKind::kUnanswered},
           Case{"UNDELETED", SearchKeyKind::kUndeleted},
           Case{"UNDRAFT", SearchKeyKind::kUndraft},
           Case{"UNFLAGGED", SearchKeyKind::kUnflagged},
           Case{"UNSEEN", SearchKeyKind::kUnseen},
           Case{"savedatesupported", SearchKeyKind::kSavedateSupported},
       }) {
    EXPECT_EQ(OneKey(c.name).kind, c.kind) << c.name;
    ExpectError("t SEARCH " + std::string(c.name) + " ", "Expected search key");
  }
}

TEST(SearchTest, StringKeys) {
  struct Case {
    std::string_view name;
    SearchKeyKind kind;
  };
  for (const Case& c : {Case{"BCC", SearchKeyKind::kBcc}, Case{"BODY", SearchKeyKind::kBody},
                        Case{"CC", SearchKeyKind::kCc}, Case{"FROM", SearchKeyKind::kFrom},
                        Case{"SUBJECT", SearchKeyKind::kSubject},
                        Case{"TEXT", SearchKeyKind::kText}, Case{"TO", SearchKeyKind::kTo}}) {
    SearchKey key = OneKey(std::string(c.name) + " \"Smith, J\"");
    EXPECT_EQ(key.kind, c.kind);
    EXPECT_EQ(key.value, "Smith, J");
    EXPECT_EQ(OneKey(std::string(c.name) + " smith").value, "smith");
    ExpectError("t SEARCH " + std::string(c.name), "Missing arguments");
  }
  SearchKey header = OneKey("HEADER Message-ID \"<x@y>\"");
  EXPECT_EQ(header.kind, SearchKeyKind::kHeader);
  EXPECT_EQ(header.field, "Message-ID");
  EXPECT_EQ(header.value, "<x@y>");
  EXPECT_EQ(OneKey("HEADER X-Spam \"\"").value, "");
  ExpectError("t SEARCH HEADER \"Bad:Name\" x", "Invalid header field name");
  ExpectError("t SEARCH HEADER \"\" x", "Invalid header field name");
  ExpectError("t SEARCH HEADER Subject", "Missing arguments");
  SearchKey keyword = OneKey("KEYWORD $Junk");
  EXPECT_EQ(keyword.kind, SearchKeyKind::kKeyword);
  EXPECT_EQ(keyword.value, "$Junk");
  EXPECT_EQ(OneKey("UNKEYWORD $MDNSent").kind, SearchKeyKind::kUnkeyword);
  ExpectError("t SEARCH KEYWORD \\Seen", "Expected keyword");
  ExpectError("t SEARCH KEYWORD \"x y\"", "Expected keyword");
}

TEST(SearchTest, DateKeys) {
  struct Case {
    std::string_view name;
    SearchKeyKind kind;
  };
  for (const Case& c :
       {Case{"BEFORE", SearchKeyKind::kBefore}, Case{"ON", SearchKeyKind::kOn},
        Case{"SINCE", SearchKeyKind::kSince}, Case{"SENTBEFORE", SearchKeyKind::kSentBefore},
        Case{"SENTON", SearchKeyKind::kSentOn}, Case{"SENTSINCE", SearchKeyKind::kSentSince},
        Case{"SAVEDBEFORE", SearchKeyKind::kSavedBefore}, Case{"SAVEDON", SearchKeyKind::kSavedOn},
        Case{"SAVEDSINCE", SearchKeyKind::kSavedSince}}) {
    SearchKey key = OneKey(std::string(c.name) + " 1-Feb-1994");
    EXPECT_EQ(key.kind, c.kind) << c.name;
    EXPECT_EQ(key.date, (Date{1994, 2, 1}));
    EXPECT_EQ(OneKey(std::string(c.name) + " \"01-FEB-1994\"").date, (Date{1994, 2, 1}));
    ExpectError("t SEARCH " + std::string(c.name) + " 1994-02-01", "Invalid date");
    ExpectError("t SEARCH " + std::string(c.name) + " 30-Feb-1994", "Invalid date");
  }
}

TEST(SearchTest, NumberKeys) {
  EXPECT_EQ(OneKey("LARGER 4096").number, 4096u);
  EXPECT_EQ(OneKey("SMALLER 9223372036854775807").number, 9223372036854775807ULL);
  EXPECT_EQ(OneKey("LARGER 0").number, 0u);
  ExpectError("t SEARCH LARGER 9223372036854775808", "out of range");
  ExpectError("t SEARCH LARGER x", "Expected size");
  ExpectError("t SEARCH LARGER -1");
  SearchKey older = OneKey("OLDER 3600");
  EXPECT_EQ(older.kind, SearchKeyKind::kOlder);
  EXPECT_EQ(older.number, 3600u);
  EXPECT_EQ(OneKey("YOUNGER 1").kind, SearchKeyKind::kYounger);
  ExpectError("t SEARCH YOUNGER 0", "non-zero");
  ExpectError("t SEARCH OLDER 4294967296", "out of range");
}

TEST(SearchTest, ModSeq) {
  SearchKey key = OneKey("MODSEQ 620162338");
  EXPECT_EQ(key.kind, SearchKeyKind::kModSeq);
  EXPECT_EQ(key.number, 620162338u);
  EXPECT_TRUE(key.field.empty());
  EXPECT_EQ(OneKey("MODSEQ 0").number, 0u);
  // RFC 7162 §3.1.5 example.
  key = OneKey("MODSEQ \"/flags/\\\\draft\" all 620162338");
  EXPECT_EQ(key.field, "\\Draft");
  EXPECT_EQ(key.entry_type, ModSeqEntryType::kAll);
  EXPECT_EQ(key.number, 620162338u);
  key = OneKey("MODSEQ \"/flags/$mdnsent\" PRIV 5");
  EXPECT_EQ(key.field, "$mdnsent");
  EXPECT_EQ(key.entry_type, ModSeqEntryType::kPrivate);
  EXPECT_EQ(OneKey("MODSEQ \"/FLAGS/\\\\x-ext\" shared 5").field, "\\x-ext");
  EXPECT_EQ(OneKey("MODSEQ \"/flags/\\\\x-ext\" shared 5").entry_type, ModSeqEntryType::kShared);
  ExpectError("t SEARCH MODSEQ \"/shared/x\" all 5", "Invalid MODSEQ entry name");
  ExpectError("t SEARCH MODSEQ \"/flags/\" all 5", "Invalid flag");
  ExpectError("t SEARCH MODSEQ \"/flags/a b\" all 5", "Invalid flag");
  ExpectError("t SEARCH MODSEQ \"/flags/x\" everything 5", "priv, shared or all");
  ExpectError("t SEARCH MODSEQ \"/flags/x\" 5", "priv, shared or all");
  ExpectError("t SEARCH MODSEQ \"/flags/x\" all", "Missing arguments");
  ExpectError("t SEARCH MODSEQ 9223372036854775808", "out of range");
}

TEST(SearchTest, ObjectIds) {
  SearchKey key = OneKey("EMAILID M6d99ac3275bb4e");
  EXPECT_EQ(key.kind, SearchKeyKind::kEmailId);
  EXPECT_EQ(key.value, "M6d99ac3275bb4e");
  EXPECT_EQ(OneKey("THREADID T64b478a75b7ea9_-").value, "T64b478a75b7ea9_-");
  EXPECT_TRUE(ExpectCommand("t SEARCH EMAILID " + std::string(255, 'a')).uid == false);
  ExpectError("t SEARCH EMAILID " + std::string(256, 'a'), "Invalid object ID");
  ExpectError("t SEARCH EMAILID \"abc\"", "Invalid object ID");
  ExpectError("t SEARCH THREADID a.b", "Unexpected characters");
}

TEST(SearchTest, SequenceSets) {
  SearchKey key = OneKey("1:5,7");
  EXPECT_EQ(key.kind, SearchKeyKind::kSequenceSet);
  EXPECT_EQ(key.set.ToString(), "1:5,7");
  EXPECT_TRUE(OneKey("$").set.saved);
  EXPECT_TRUE(OneKey("*").set.HasStar());
  key = OneKey("UID 4827313:*");
  EXPECT_EQ(key.kind, SearchKeyKind::kUid);
  EXPECT_EQ(key.set.ToString(), "4827313:*");
  EXPECT_TRUE(OneKey("UID $").set.saved);
  ExpectError("t SEARCH 0", "Invalid sequence set");
  ExpectError("t SEARCH 1,$", "$ must stand alone");
  ExpectError("t SEARCH UID x", "Expected a sequence set");
  ExpectError("t SEARCH 1:5x", "Invalid sequence set");
}

TEST(SearchTest, Nesting) {
  // RFC 3501 §6.4.4: FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
  Search search = ExpectArgs<Search>("A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"");
  ASSERT_EQ(search.criteria.children.size(), 3u);
  const SearchKey& not_key = search.criteria.children[2];
  EXPECT_EQ(not_key.kind, SearchKeyKind::kNot);
  ASSERT_EQ(not_key.children.size(), 1u);
  EXPECT_EQ(not_key.children[0].kind, SearchKeyKind::kFrom);
  EXPECT_EQ(not_key.children[0].value, "Smith");

  SearchKey key = OneKey("OR (SEEN FLAGGED) NOT OR DRAFT 1:3");
  EXPECT_EQ(key.kind, SearchKeyKind::kOr);
  ASSERT_EQ(key.children.size(), 2u);
  EXPECT_EQ(key.children[0].kind, SearchKeyKind::kAnd);
  EXPECT_EQ(key.children[0].children.size(), 2u);
  EXPECT_EQ(key.children[1].kind, SearchKeyKind::kNot);
  EXPECT_EQ(key.children[1].children[0].kind, SearchKeyKind::kOr);
  EXPECT_EQ(key.children[1].children[0].children[1].set.ToString(), "1:3");
  key = OneKey("((((SEEN))))");
  EXPECT_EQ(key.children[0].children[0].children[0].children[0].kind, SearchKeyKind::kSeen);
  ExpectError("t SEARCH ()", "Expected search key");
  ExpectError("t SEARCH (SEEN", "Expected )");
  ExpectError("t SEARCH SEEN)", "Unexpected characters");
  ExpectError("t SEARCH OR SEEN", "Missing arguments");
  ExpectError("t SEARCH NOT", "Missing arguments");
  ExpectError("t SEARCH (SEEN  DRAFT)", "Expected search key");
}

TEST(SearchTest, DepthLimit) {
  ParseOptions options;
  options.max_depth = 8;
  std::string ok = std::string(7, '(') + "SEEN" + std::string(7, ')');
  ExpectCommand("t SEARCH " + ok, options);
  ExpectError("t SEARCH " + std::string(8, '(') + "SEEN" + std::string(8, ')'), "nested too deeply",
              options);
  std::string nots;
  for (int i = 0; i < 7; ++i) nots += "NOT ";
  ExpectCommand("t SEARCH " + nots + "SEEN", options);
  ExpectError("t SEARCH NOT " + nots + "SEEN", "nested too deeply", options);
  std::string ors;
  for (int i = 0; i < 8; ++i) ors += "OR SEEN ";
  ExpectError("t SEARCH " + ors + "SEEN", "nested too deeply", options);
}

TEST(SearchTest, KeyLimit) {
  ParseOptions options;
  options.max_search_keys = 5;
  ExpectCommand("t SEARCH SEEN SEEN SEEN (SEEN)", options);
  ExpectError("t SEARCH SEEN SEEN SEEN SEEN SEEN SEEN", "Too many search keys", options);
  ExpectError("t SEARCH NOT NOT NOT NOT NOT NOT SEEN", "Too many search keys", options);
}

TEST(SearchTest, CharsetAndReturn) {
  Search search = ExpectArgs<Search>("A284 SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX");
  EXPECT_EQ(search.charset, "UTF-8");
  EXPECT_EQ(search.criteria.children[0].value, "XXXXXX");
  EXPECT_FALSE(search.extended);
  EXPECT_EQ(ExpectArgs<Search>("a SEARCH CHARSET \"iso-8859-1\" ALL").charset, "ISO-8859-1");
  search = ExpectArgs<Search>("A282 SEARCH RETURN (MIN COUNT) FLAGGED");
  EXPECT_TRUE(search.extended);
  EXPECT_EQ(search.return_options, kSearchReturnMin | kSearchReturnCount);
  search = ExpectArgs<Search>("A283 SEARCH RETURN () FLAGGED");
  EXPECT_EQ(search.return_options, kSearchReturnAll);  // RFC 4731 §3.1
  search = ExpectArgs<Search>("C286 SEARCH RETURN (MAX SAVE MIN COUNT ALL) SINCE 12-Feb-2006");
  EXPECT_EQ(search.return_options, kSearchReturnMin | kSearchReturnMax | kSearchReturnAll |
                                       kSearchReturnCount | kSearchReturnSave);
  search = ExpectArgs<Search>("B283 SEARCH RETURN (SAVE) CHARSET KOI8-R (OR $ 1,3000:3021) TEXT x");
  EXPECT_EQ(search.charset, "KOI8-R");
  EXPECT_EQ(search.return_options, kSearchReturnSave);
  ExpectError("a SEARCH RETURN (FOO) ALL", "Unknown SEARCH return option");
  ExpectError("a SEARCH RETURN ALL", "Expected (");
  ExpectError("a SEARCH RETURN (MIN)", "Missing arguments");
  ExpectError("a SEARCH CHARSET UTF-8", "Missing arguments");
  ExpectError("a SEARCH CHARSET (x) ALL", "Expected charset name");
  ExpectError("a SEARCH CHARSET UTF-8 RETURN (MIN) ALL", "Unknown search key RETURN");
  ExpectError("a SEARCH", "Missing arguments");
  ExpectError("a SEARCH FOO", "Unknown search key FOO");
}

TEST(SortTest, Parses) {
  Command command = ExpectCommand("A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL");
  EXPECT_EQ(command.verb, Verb::kSort);
  const Sort& sort = command.Get<Sort>();
  ASSERT_EQ(sort.criteria.size(), 2u);
  EXPECT_EQ(sort.criteria[0].key, SortKey::kSubject);
  EXPECT_FALSE(sort.criteria[0].reverse);
  EXPECT_EQ(sort.criteria[1].key, SortKey::kDate);
  EXPECT_TRUE(sort.criteria[1].reverse);
  EXPECT_EQ(sort.charset, "UTF-8");
  EXPECT_EQ(sort.criteria_key.children[0].kind, SearchKeyKind::kAll);
  Sort uid_sort = ExpectArgs<Sort>(
      "A285 UID SORT (REVERSE ARRIVAL cc from size to displayfrom DISPLAYTO) US-ASCII "
      "SUBJECT \"afternoon meeting\" SINCE 1-Feb-1994");
  ASSERT_EQ(uid_sort.criteria.size(), 7u);
  EXPECT_TRUE(uid_sort.criteria[0].reverse);
  EXPECT_FALSE(uid_sort.criteria[1].reverse);
  EXPECT_EQ(uid_sort.criteria[5].key, SortKey::kDisplayFrom);
  EXPECT_EQ(uid_sort.criteria[6].key, SortKey::kDisplayTo);
  EXPECT_EQ(uid_sort.criteria_key.children.size(), 2u);
  ExpectError("a SORT () UTF-8 ALL", "Empty");
  ExpectError("a SORT (FOO) UTF-8 ALL", "Unknown sort key FOO");
  ExpectError("a SORT (REVERSE) UTF-8 ALL", "Expected SP");
  ExpectError("a SORT (REVERSE REVERSE DATE) UTF-8 ALL", "Unknown sort key REVERSE");
  ExpectError("a SORT (DATE) ALL", "Missing arguments");  // the charset is mandatory
  ExpectError("a SORT DATE UTF-8 ALL", "Expected (");
  EXPECT_FALSE(sort.extended);
  EXPECT_EQ(sort.return_options, 0u);
}

TEST(SortTest, ReturnOptions) {
  // RFC 5267 §3.2: ESORT's options come before the sort criteria.
  Sort sort = ExpectArgs<Sort>("A1 SORT RETURN (MIN MAX save) (DATE) UTF-8 ALL");
  EXPECT_TRUE(sort.extended);
  EXPECT_EQ(sort.return_options, kSearchReturnMin | kSearchReturnMax | kSearchReturnSave);
  ASSERT_EQ(sort.criteria.size(), 1u);
  EXPECT_EQ(sort.criteria[0].key, SortKey::kDate);
  Sort all = ExpectArgs<Sort>("A2 UID SORT RETURN () (REVERSE SIZE) US-ASCII UNSEEN");
  EXPECT_TRUE(all.extended);
  EXPECT_EQ(all.return_options, unsigned{kSearchReturnAll});
  EXPECT_EQ(all.criteria_key.children[0].kind, SearchKeyKind::kUnseen);
  ExpectError("a SORT RETURN (PARTIAL) (DATE) UTF-8 ALL", "Unknown SORT return option PARTIAL");
  ExpectError("a SORT RETURN (MIN)", "Missing arguments");
  ExpectError("a SORT (DATE) RETURN (MIN) UTF-8 ALL", "Unknown search key");
}

TEST(ThreadTest, Parses) {
  Thread thread = ExpectArgs<Thread>("A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000");
  EXPECT_EQ(thread.algorithm, ThreadAlgorithm::kOrderedSubject);
  EXPECT_EQ(thread.charset, "UTF-8");
  EXPECT_EQ(thread.criteria_key.children[0].date, (Date{2000, 3, 5}));
  Command command = ExpectCommand("A284 UID THREAD references US-ASCII TEXT \"gewp\"");
  EXPECT_TRUE(command.uid);
  EXPECT_EQ(command.Get<Thread>().algorithm, ThreadAlgorithm::kReferences);
  ExpectError("a THREAD REFS UTF-8 ALL", "Unknown threading algorithm");
  ExpectError("a THREAD REFERENCES ALL", "Missing arguments");
}

}  // namespace
}  // namespace postern::imap
