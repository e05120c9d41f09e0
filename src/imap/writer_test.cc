// Tests for the response-writing toolkit: string forms, mailbox names, sequence-set compression,
// date-times and flag lists; and that what it writes parses back.
#include "imap/writer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "imap/command.h"

namespace postern::imap {
namespace {

std::string String(std::string_view s, StringOptions options = {}) {
  std::string out;
  AppendString(&out, s, options);
  return out;
}

std::string AString(std::string_view s, StringOptions options = {}) {
  std::string out;
  AppendAString(&out, s, options);
  return out;
}

std::string Mailbox(std::string_view s, StringOptions options = {}) {
  std::string out;
  AppendMailbox(&out, s, options);
  return out;
}

TEST(WriterTest, Strings) {
  EXPECT_EQ(String("hello world"), "\"hello world\"");
  EXPECT_EQ(String(""), "\"\"");
  EXPECT_EQ(String("a\"b"), "{3}\r\na\"b");
  EXPECT_EQ(String("a\\b"), "{3}\r\na\\b");
  EXPECT_EQ(String("line\r\nline"), "{10}\r\nline\r\nline");
  EXPECT_EQ(String("caf\xc3\xa9"), "{5}\r\ncaf\xc3\xa9");
  StringOptions utf8;
  utf8.utf8 = true;
  EXPECT_EQ(String("caf\xc3\xa9", utf8), "\"caf\xc3\xa9\"");
  EXPECT_EQ(String("caf\xe9", utf8), "{4}\r\ncaf\xe9");  // not UTF-8: a literal even so
  StringOptions short_quotes;
  short_quotes.max_quoted_length = 4;
  EXPECT_EQ(String("abcd", short_quotes), "\"abcd\"");
  EXPECT_EQ(String("abcde", short_quotes), "{5}\r\nabcde");
  std::string with_nul("a\0b", 3);
  EXPECT_EQ(String(with_nul), "{3}\r\n" + with_nul);
  StringOptions binary;
  binary.allow_literal8 = true;
  EXPECT_EQ(String(with_nul, binary), "~{3}\r\n" + with_nul);
  EXPECT_EQ(String("plain", binary), "\"plain\"");
  EXPECT_FALSE(CanQuote("a\rb"));
  EXPECT_TRUE(CanQuote("a b"));
}

TEST(WriterTest, AStringAndNString) {
  EXPECT_EQ(AString("INBOX"), "INBOX");
  EXPECT_EQ(AString("a]b"), "a]b");
  EXPECT_EQ(AString("a b"), "\"a b\"");
  EXPECT_EQ(AString(""), "\"\"");
  EXPECT_EQ(AString("a*"), "\"a*\"");
  EXPECT_EQ(AString("{5}"), "\"{5}\"");
  EXPECT_EQ(AString("a%b(c"), "\"a%b(c\"");
  std::string out;
  AppendNString(&out, std::nullopt);
  out.push_back(' ');
  AppendNString(&out, std::string_view("NIL"));
  EXPECT_EQ(out, "NIL \"NIL\"");
  out.clear();
  AppendLiteral(&out, "xyz");
  AppendLiteral(&out, "q", true);
  EXPECT_EQ(out, "{3}\r\nxyz~{1}\r\nq");
}

TEST(WriterTest, MailboxNames) {
  EXPECT_EQ(Mailbox("INBOX"), "INBOX");
  EXPECT_EQ(Mailbox("Sent Items"), "\"Sent Items\"");
  EXPECT_EQ(Mailbox("Tom & Jerry"), "\"Tom &- Jerry\"");
  EXPECT_EQ(Mailbox("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  StringOptions utf8;
  utf8.utf8 = true;
  EXPECT_EQ(Mailbox("Entw\xc3\xbc rfe", utf8), "\"Entw\xc3\xbc rfe\"");
  EXPECT_EQ(Mailbox("Tom & Jerry", utf8), "\"Tom & Jerry\"");
}

TEST(WriterTest, ModifiedUtf7RoundTrip) {
  for (std::string_view name : {"Entw\xc3\xbc rfe", "\xf0\x9f\x93\xa7", "a&b", "plain"}) {
    Result<std::string> decoded = DecodeModifiedUtf7(EncodeModifiedUtf7(name));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, name);
  }
}

TEST(WriterTest, SequenceSets) {
  std::vector<uint32_t> uids = {1, 2, 3, 4, 5, 7, 9, 10, 11, 12};
  EXPECT_EQ(FormatSequenceSet(uids), "1:5,7,9:12");
  EXPECT_EQ(FormatSequenceSet(std::vector<uint32_t>{}), "");
  EXPECT_EQ(FormatSequenceSet(std::vector<uint32_t>{42}), "42");
  EXPECT_EQ(FormatSequenceSet(std::vector<uint32_t>{1, 3, 5}), "1,3,5");
  EXPECT_EQ(FormatSequenceSet(std::vector<uint32_t>{4294967294u, 4294967295u}),
            "4294967294:4294967295");
  EXPECT_EQ(FormatSequenceSet(std::vector<uint32_t>{4294967295u, 1}), "4294967295,1");
  EXPECT_EQ(FormatSequenceSet(std::vector<uint32_t>{0, 1, 2}), "1:2");
  EXPECT_EQ(FormatSequenceSet(std::vector<uint32_t>{5, 4, 3}), "5,4,3");
  // What it writes parses to the same numbers.
  Result<SequenceSet> parsed = ParseSequenceSet(FormatSequenceSet(uids));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Resolve(100), (std::vector<SequenceRange>{{1, 5}, {7, 7}, {9, 12}}));
}

TEST(WriterTest, DateTime) {
  EXPECT_EQ(FormatDateTime(837596665, -420), "17-Jul-1996 02:44:25 -0700");
  EXPECT_EQ(FormatDateTime(760686745, -480), "07-Feb-1994 21:52:25 -0800");
  EXPECT_EQ(FormatDateTime(1704445872, 60), "05-Jan-2024 10:11:12 +0100");
  EXPECT_EQ(FormatDateTime(1704445872, -150), "05-Jan-2024 06:41:12 -0230");
}

TEST(WriterTest, FlagLists) {
  std::vector<std::string> flags = {"\\Seen", "$Forwarded", "\\Answered"};
  EXPECT_EQ(FormatFlagList(flags), "(\\Seen $Forwarded \\Answered)");
  EXPECT_EQ(FormatFlagList(std::vector<std::string>{}), "()");
  // A client can send it back in STORE.
  ParsedCommand parsed = ParseCommand("a STORE 1 FLAGS " + FormatFlagList(flags));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.command->Get<Store>().flags, flags);
}

TEST(WriterTest, Esearch) {
  const std::vector<uint32_t> ascending = {2, 10, 11, 12, 21};
  EXPECT_EQ(FormatEsearch("C285", false, kSearchReturnMin | kSearchReturnMax | kSearchReturnSave,
                          ascending, 0),
            "* ESEARCH (TAG \"C285\") MIN 2 MAX 21\r\n");
  EXPECT_EQ(FormatEsearch("a", true, kSearchReturnAll | kSearchReturnCount, ascending, 1236),
            "* ESEARCH (TAG \"a\") UID ALL 2,10:12,21 COUNT 5 MODSEQ 1236\r\n");
  // RFC 5267 §3.1: in sort order, MIN is the first and MAX the last.
  const std::vector<uint32_t> sorted = {2, 3, 1, 4};
  EXPECT_EQ(
      FormatEsearch("A1", false, kSearchReturnMin | kSearchReturnMax | kSearchReturnAll, sorted, 0),
      "* ESEARCH (TAG \"A1\") MIN 2 MAX 4 ALL 2:3,1,4\r\n");
  // Nothing found: only COUNT (RFC 4731 §3.1).
  EXPECT_EQ(
      FormatEsearch("b", false, kSearchReturnMin | kSearchReturnAll | kSearchReturnCount, {}, 0),
      "* ESEARCH (TAG \"b\") COUNT 0\r\n");
  EXPECT_EQ(FormatEsearch("b", false, kSearchReturnAll, {}, 0), "* ESEARCH (TAG \"b\")\r\n");
}

TEST(WriterTest, WrittenStringsParseBack) {
  StringOptions options;
  for (std::string_view s :
       {"simple", "", "with space", "quote\"d", "back\\slash", "crlf\r\nx", "NIL", "a]b", "{3}"}) {
    std::string command = "a LOGIN ";
    AppendAString(&command, s, options);
    command += " ";
    AppendString(&command, s, options);
    ParsedCommand parsed = ParseCommand(command);
    ASSERT_TRUE(parsed.ok()) << command << ": " << parsed.error->message;
    EXPECT_EQ(parsed.command->Get<Login>().user, s);
    EXPECT_EQ(parsed.command->Get<Login>().password, s);
  }
}

}  // namespace
}  // namespace postern::imap
