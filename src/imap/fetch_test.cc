// Tests for FETCH (every data item, sections, partials, macros, modifiers) and STORE.
#include <gtest/gtest.h>

#include <string>

#include "base/strings.h"
#include "imap/command.h"
#include "imap/command_test_util.h"

namespace postern::imap {
namespace {

// The one item of "t FETCH 1 (<item>)".
FetchItem OneItem(std::string_view item) {
  Fetch fetch = ExpectArgs<Fetch>("t FETCH 1 (" + std::string(item) + ")");
  EXPECT_EQ(fetch.items.size(), 1u) << item;
  return fetch.items.empty() ? FetchItem{} : fetch.items[0];
}

std::vector<FetchKind> Kinds(const Fetch& fetch) {
  std::vector<FetchKind> kinds;
  for (const FetchItem& item : fetch.items) kinds.push_back(item.kind);
  return kinds;
}

TEST(FetchTest, SimpleItems) {
  struct Case {
    std::string_view name;
    FetchKind kind;
  };
  for (const Case& c :
       {Case{"ENVELOPE", FetchKind::kEnvelope}, Case{"FLAGS", FetchKind::kFlags},
        Case{"INTERNALDATE", FetchKind::kInternalDate}, Case{"RFC822", FetchKind::kRfc822},
        Case{"RFC822.HEADER", FetchKind::kRfc822Header},
        Case{"RFC822.SIZE", FetchKind::kRfc822Size}, Case{"RFC822.TEXT", FetchKind::kRfc822Text},
        Case{"BODY", FetchKind::kBody}, Case{"BODYSTRUCTURE", FetchKind::kBodyStructure},
        Case{"UID", FetchKind::kUid}, Case{"MODSEQ", FetchKind::kModSeq},
        Case{"EMAILID", FetchKind::kEmailId}, Case{"THREADID", FetchKind::kThreadId},
        Case{"SAVEDATE", FetchKind::kSaveDate}, Case{"PREVIEW", FetchKind::kPreview}}) {
    FetchItem item = OneItem(c.name);
    EXPECT_EQ(item.kind, c.kind) << c.name;
    EXPECT_EQ(item.ResponseName(), c.name);
    EXPECT_EQ(OneItem(AsciiToLower(c.name)).kind, c.kind);
    // Also as a lone item without parentheses.
    EXPECT_EQ(ExpectArgs<Fetch>("t FETCH 1 " + std::string(c.name)).items[0].kind, c.kind);
  }
}

TEST(FetchTest, Macros) {
  EXPECT_EQ(Kinds(ExpectArgs<Fetch>("a FETCH 1 ALL")),
            (std::vector<FetchKind>{FetchKind::kFlags, FetchKind::kInternalDate,
                                    FetchKind::kRfc822Size, FetchKind::kEnvelope}));
  EXPECT_EQ(Kinds(ExpectArgs<Fetch>("a FETCH 1 fast")),
            (std::vector<FetchKind>{FetchKind::kFlags, FetchKind::kInternalDate,
                                    FetchKind::kRfc822Size}));
  EXPECT_EQ(
      Kinds(ExpectArgs<Fetch>("a FETCH 1 FULL")),
      (std::vector<FetchKind>{FetchKind::kFlags, FetchKind::kInternalDate, FetchKind::kRfc822Size,
                              FetchKind::kEnvelope, FetchKind::kBody}));
  ExpectError("a FETCH 1 (ALL)", "Macro ALL cannot be combined");
  ExpectError("a FETCH 1 (FLAGS FAST)", "Macro FAST");
  ExpectError("a FETCH 1 ALL FLAGS", "Expected (");
}

TEST(FetchTest, BodySections) {
  FetchItem item = OneItem("BODY[]");
  EXPECT_EQ(item.kind, FetchKind::kBodySection);
  EXPECT_FALSE(item.peek);
  EXPECT_TRUE(item.section.part.empty());
  EXPECT_EQ(item.section.text, SectionText::kNone);
  EXPECT_EQ(item.ResponseName(), "BODY[]");

  item = OneItem("BODY.PEEK[1.2.MIME]<0.1024>");
  EXPECT_TRUE(item.peek);
  EXPECT_EQ(item.section.part, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(item.section.text, SectionText::kMime);
  ASSERT_TRUE(item.partial);
  EXPECT_EQ(*item.partial, (Partial{0, 1024}));
  EXPECT_EQ(item.ResponseName(), "BODY[1.2.MIME]<0>");

  EXPECT_EQ(OneItem("body[header]").section.text, SectionText::kHeader);
  EXPECT_EQ(OneItem("BODY[TEXT]").section.text, SectionText::kText);
  EXPECT_EQ(OneItem("BODY[4.2.2.1]").section.part, (std::vector<uint32_t>{4, 2, 2, 1}));
  EXPECT_EQ(OneItem("BODY[3.HEADER]").section.ToString(), "3.HEADER");
  EXPECT_EQ(OneItem("BODY[3.TEXT]<5.10>").ResponseName(), "BODY[3.TEXT]<5>");

  item = OneItem("BODY[HEADER.FIELDS (DATE FROM)]");
  EXPECT_EQ(item.section.text, SectionText::kHeaderFields);
  EXPECT_EQ(item.section.fields, (std::vector<std::string>{"DATE", "FROM"}));
  EXPECT_EQ(item.ResponseName(), "BODY[HEADER.FIELDS (DATE FROM)]");
  ExpectError("t FETCH 1 (BODY[HEADER.FIELDS (A) ])", "Expected ]");
  item = OneItem("BODY.PEEK[2.header.fields.not (\"Received\" {6}\r\nX-Spam)]");
  EXPECT_EQ(item.section.text, SectionText::kHeaderFieldsNot);
  EXPECT_EQ(item.section.fields, (std::vector<std::string>{"Received", "X-Spam"}));
  EXPECT_EQ(item.ResponseName(), "BODY[2.HEADER.FIELDS.NOT (Received X-Spam)]");
  EXPECT_EQ(OneItem("BODY[HEADER.FIELDS (\"a(b\")]").ResponseName(),
            "BODY[HEADER.FIELDS (\"a(b\")]");
}

TEST(FetchTest, BadSections) {
  for (std::string_view bad : {"BODY[",
                               "BODY[]]",
                               "BODY[0]",
                               "BODY[1.]",
                               "BODY[.1]",
                               "BODY[1..2]",
                               "BODY[MIME]",
                               "BODY[HEADERS]",
                               "BODY[1.FOO]",
                               "BODY[1 TEXT]",
                               "BODY[HEADER.FIELDS]",
                               "BODY[HEADER.FIELDS ()]",
                               "BODY[HEADER.FIELDS (A:B)]",
                               "BODY[HEADER.FIELDS A]",
                               "BODY[TEXT.MIME]",
                               "BODY[1.2.3.HEADER.TEXT]",
                               "BODY[]<>",
                               "BODY[]<1>",
                               "BODY[]<1.0>",
                               "BODY[]<1.2",
                               "BODY[]<a.2>",
                               "BODY.PEEK",
                               "BODY.PEEK FLAGS",
                               "BODY[4294967296]",
                               "BODY[]<9223372036854775808.1>"}) {
    ExpectError("t FETCH 1 (" + std::string(bad) + ")");
  }
}

TEST(FetchTest, Binary) {
  FetchItem item = OneItem("BINARY[1.2]<0.100>");
  EXPECT_EQ(item.kind, FetchKind::kBinary);
  EXPECT_FALSE(item.peek);
  EXPECT_EQ(item.section.part, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(item.ResponseName(), "BINARY[1.2]<0>");
  item = OneItem("BINARY.PEEK[]");
  EXPECT_TRUE(item.peek);
  EXPECT_EQ(item.ResponseName(), "BINARY[]");
  item = OneItem("binary.size[3]");
  EXPECT_EQ(item.kind, FetchKind::kBinarySize);
  EXPECT_EQ(item.ResponseName(), "BINARY.SIZE[3]");
  for (std::string_view bad : {"BINARY", "BINARY[HEADER]", "BINARY[1.MIME]", "BINARY[1.]",
                               "BINARY.SIZE", "BINARY.SIZE[1]<0.5>", "BINARY[1.TEXT]"}) {
    ExpectError("t FETCH 1 (" + std::string(bad) + ")");
  }
}

TEST(FetchTest, Preview) {
  FetchItem item = OneItem("PREVIEW (LAZY)");
  EXPECT_EQ(item.kind, FetchKind::kPreview);
  EXPECT_TRUE(item.lazy);
  EXPECT_FALSE(OneItem("PREVIEW").lazy);
  Fetch fetch = ExpectArgs<Fetch>("t FETCH 1:* (UID PREVIEW (lazy) FLAGS)");
  EXPECT_EQ(fetch.items.size(), 3u);
  EXPECT_TRUE(fetch.items[1].lazy);
  // A lone PREVIEW followed by FETCH modifiers.
  fetch = ExpectArgs<Fetch>("t FETCH 1 PREVIEW (CHANGEDSINCE 5)");
  EXPECT_FALSE(fetch.items[0].lazy);
  EXPECT_EQ(fetch.changed_since, 5u);
  fetch = ExpectArgs<Fetch>("t FETCH 1 PREVIEW (LAZY) (CHANGEDSINCE 5)");
  EXPECT_TRUE(fetch.items[0].lazy);
  ExpectError("t FETCH 1 (PREVIEW (LAZY FOO))", "Unknown PREVIEW modifier");
  ExpectError("t FETCH 1 (PREVIEW ())");
}

TEST(FetchTest, Modifiers) {
  Fetch fetch = ExpectArgs<Fetch>("s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)");
  EXPECT_EQ(fetch.changed_since, 12345u);
  EXPECT_TRUE(fetch.vanished);
  fetch = ExpectArgs<Fetch>("a FETCH 1:* FLAGS (CHANGEDSINCE 0)");
  EXPECT_EQ(fetch.changed_since, 0u);
  EXPECT_FALSE(fetch.vanished);
  ExpectError("a FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)", "VANISHED needs UID FETCH");
  ExpectError("a UID FETCH 1:* (FLAGS) (VANISHED)", "VANISHED needs CHANGEDSINCE");
  ExpectError("a FETCH 1 (FLAGS) (CHANGEDSINCE 1 CHANGEDSINCE 2)", "twice");
  ExpectError("a FETCH 1 (FLAGS) (FOO)", "Unknown FETCH modifier");
  ExpectError("a FETCH 1 (FLAGS) ()", "Empty");
  ExpectError("a FETCH 1 (FLAGS) (CHANGEDSINCE)", "Expected SP");
}

TEST(FetchTest, Errors) {
  ExpectError("a FETCH 1", "Missing arguments");
  ExpectError("a FETCH 1 ()", "Empty");
  ExpectError("a FETCH 1 (FOO)", "Unknown FETCH item FOO");
  ExpectError("a FETCH 1 (FLAGS", "Expected SP or )");
  ExpectError("a FETCH 1 (FLAGS  UID)", "Expected a FETCH item");
  ExpectError("a FETCH 1 FLAGS UID");
  ExpectError("a FETCH * (UID", "Expected SP or )");
  ExpectError("a FETCH 1 (RFC822.HEADERS)", "Unknown FETCH item");
  ParseOptions options;
  options.max_list_items = 3;
  ExpectCommand("a FETCH 1 (UID FLAGS ENVELOPE)", options);
  ExpectError("a FETCH 1 (UID FLAGS ENVELOPE RFC822.SIZE)", "Too many", options);
}

TEST(StoreTest, Modes) {
  Store store = ExpectArgs<Store>("A003 STORE 2:4 +FLAGS (\\Deleted)");
  EXPECT_EQ(store.set.ToString(), "2:4");
  EXPECT_EQ(store.mode, StoreMode::kAdd);
  EXPECT_FALSE(store.silent);
  EXPECT_EQ(store.flags, (std::vector<std::string>{"\\Deleted"}));
  store = ExpectArgs<Store>("F284 STORE $ +FLAGS.Silent (\\Deleted)");
  EXPECT_TRUE(store.set.saved);
  EXPECT_TRUE(store.silent);
  store = ExpectArgs<Store>("a STORE 1 -flags \\SEEN \\answered $Junk");
  EXPECT_EQ(store.mode, StoreMode::kRemove);
  EXPECT_EQ(store.flags, (std::vector<std::string>{"\\Seen", "\\Answered", "$Junk"}));
  store = ExpectArgs<Store>("a STORE 1 FLAGS ()");
  EXPECT_EQ(store.mode, StoreMode::kReplace);
  EXPECT_TRUE(store.flags.empty());
  store = ExpectArgs<Store>("a STORE 1 FLAGS.SILENT (\\Flagged \\Flagged \\flagged)");
  EXPECT_EQ(store.flags, (std::vector<std::string>{"\\Flagged"}));
}

TEST(StoreTest, UnchangedSince) {
  Store store = ExpectArgs<Store>(
      "d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT "
      "(\\Deleted)");
  EXPECT_EQ(store.unchanged_since, 320162338u);
  EXPECT_EQ(ExpectArgs<Store>("a UID STORE 1 (UNCHANGEDSINCE 0) FLAGS ()").unchanged_since, 0u);
  ExpectError("a STORE 1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) FLAGS ()", "twice");
  ExpectError("a STORE 1 (FOO 1) FLAGS ()", "Unknown STORE modifier");
  ExpectError("a STORE 1 (UNCHANGEDSINCE 1)", "Missing arguments");
}

TEST(StoreTest, Errors) {
  ExpectError("a STORE 1 FLAGS (\\Recent)", "\\Recent cannot be set");
  ExpectError("a STORE 1 +FLAGS \\Recent", "\\Recent");
  ExpectError("a STORE 1 FLAGS (\\*)", "PERMANENTFLAGS");
  ExpectError("a STORE 1 FLAGS (\\Bogus)", "Unknown system flag");
  ExpectError("a STORE 1 FLAGS", "Missing arguments");
  ExpectError("a STORE 1 FLAGS ", "Expected flag");
  ExpectError("a STORE 1 FLAG (\\Seen)", "Expected FLAGS");
  ExpectError("a STORE 1 *FLAGS (\\Seen)", "Expected FLAGS");
  ExpectError("a STORE 1 +-FLAGS (\\Seen)", "Expected FLAGS");
  ExpectError("a STORE 1 FLAGS.LOUD (\\Seen)", "Expected FLAGS");
  ExpectError("a STORE 1 FLAGS (\"x\")", "Expected flag");
  ExpectError("a STORE 1 FLAGS (caf\xc3\xa9)", "Expected SP or )");
  ExpectError("a STORE 1 FLAGS (\\Seen) x");
  ExpectError("a STORE 0 FLAGS (\\Seen)", "Invalid sequence set");
}

}  // namespace
}  // namespace postern::imap
