// Tests for the mailbox commands: SELECT/EXAMINE (CONDSTORE, QRESYNC), CREATE (USE), DELETE,
// RENAME, SUBSCRIBE, LIST (basic and extended), LSUB, STATUS, APPEND (MULTIAPPEND, literal8,
// UTF8), and mailbox name decoding.
#include <gtest/gtest.h>

#include <string>

#include "imap/command.h"
#include "imap/command_test_util.h"

namespace postern::imap {
namespace {

ParseOptions Utf8() {
  ParseOptions options;
  options.utf8 = true;
  return options;
}

TEST(MailboxNameTest, InboxIsCaseInsensitive) {
  for (std::string_view name : {"INBOX", "inbox", "iNbOx", "\"InBoX\"", "{5}\r\ninbox"}) {
    EXPECT_EQ(ExpectArgs<Select>("a SELECT " + std::string(name)).mailbox, "INBOX") << name;
  }
  // Only the whole name: children keep their spelling.
  EXPECT_EQ(ExpectArgs<Select>("a SELECT inbox/Sub").mailbox, "inbox/Sub");
  EXPECT_EQ(ExpectArgs<Select>("a SELECT INBOXES").mailbox, "INBOXES");
  EXPECT_EQ(ExpectArgs<Select>("a SELECT inbox", Utf8()).mailbox, "INBOX");
}

TEST(MailboxNameTest, ModifiedUtf7IsDecoded) {
  EXPECT_EQ(ExpectArgs<Select>("a SELECT ~peter/mail/&U,BTFw-/&ZeVnLIqe-").mailbox,
            "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
  EXPECT_EQ(ExpectArgs<Select>("a SELECT \"Tom &- Jerry\"").mailbox, "Tom & Jerry");
  EXPECT_EQ(ExpectArgs<MailboxArgument>("a DELETE Entw&APw-rfe").mailbox, "Entw\xc3\xbcrfe");
  ExpectError("a SELECT &Jjo!", "not valid modified UTF-7");
  ExpectError("a SELECT \"&Jjo\"", "not valid modified UTF-7");
  ExpectError("a SELECT &AGE-", "not valid modified UTF-7");
  ExpectError("a SELECT &U,BTFw-&ZeVnLIqe-", "not valid modified UTF-7");
  ExpectError("a CREATE \"caf\xc3\xa9\"", "8-bit");
  ExpectError("a CREATE {5}\r\ncaf\xc3\xa9", "8-bit");
  ExpectError("a CREATE \"a&AAk-b\"", "control characters");  // a decoded TAB
  ExpectError("a CREATE {3}\r\na\tb");
}

TEST(MailboxNameTest, Utf8Mode) {
  ParseOptions options = Utf8();
  EXPECT_EQ(ExpectArgs<Create>("a CREATE \"caf\xc3\xa9\"", options).mailbox, "caf\xc3\xa9");
  EXPECT_EQ(ExpectArgs<Create>("a CREATE {5}\r\ncaf\xc3\xa9", options).mailbox, "caf\xc3\xa9");
  // "&" is just "&" once UTF-8 is on.
  EXPECT_EQ(ExpectArgs<Create>("a CREATE &AOk-", options).mailbox, "&AOk-");
  ExpectError("a CREATE {4}\r\ncaf\xe9", "not valid UTF-8", options);
  ExpectError(
      "a CREATE \"a\xc2\x85"
      "b\"",
      "control characters", options);  // NEL, C1
  ExpectError(
      "a CREATE \"a\xe2\x80\xa8"
      "b\"",
      "control characters", options);  // U+2028
  ExpectError(
      "a CREATE {3}\r\na\x7f"
      "b",
      "control characters", options);
}

TEST(SelectTest, Plain) {
  Command command = ExpectCommand("A142 SELECT INBOX");
  EXPECT_EQ(command.verb, Verb::kSelect);
  const Select& select = command.Get<Select>();
  EXPECT_EQ(select.mailbox, "INBOX");
  EXPECT_FALSE(select.condstore);
  EXPECT_FALSE(select.qresync);
  command = ExpectCommand("A932 EXAMINE blurdybloop");
  EXPECT_EQ(command.verb, Verb::kExamine);
  EXPECT_EQ(command.Get<Select>().mailbox, "blurdybloop");
  ExpectError("a SELECT", "Missing arguments");
  ExpectError("a SELECT a b");
  ExpectError("a SELECT (a)");
}

TEST(SelectTest, Condstore) {
  EXPECT_TRUE(ExpectArgs<Select>("a SELECT INBOX (CONDSTORE)").condstore);
  EXPECT_TRUE(ExpectArgs<Select>("a EXAMINE INBOX (condstore)").condstore);
  ExpectError("a SELECT INBOX ()", "Empty");
  ExpectError("a SELECT INBOX (CONDSTORE CONDSTORE)", "twice");
  ExpectError("a SELECT INBOX (FOO)", "Unknown SELECT parameter FOO");
  ExpectError("a SELECT INBOX (CONDSTORE", "Expected SP or )");
}

TEST(SelectTest, Qresync) {
  Select select = ExpectArgs<Select>("A02 SELECT INBOX (QRESYNC (67890007 20050715194045000))");
  ASSERT_TRUE(select.qresync);
  EXPECT_EQ(select.qresync->uidvalidity, 67890007u);
  EXPECT_EQ(select.qresync->modseq, 20050715194045000ULL);
  EXPECT_FALSE(select.qresync->known_uids);
  select = ExpectArgs<Select>(
      "A03 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))");
  ASSERT_TRUE(select.qresync && select.qresync->known_uids);
  EXPECT_EQ(select.qresync->known_uids->ToString(), "41,43:211,214:541");
  // RFC 7162 §3.2.5.2 example with seq-match-data.
  select = ExpectArgs<Select>(
      "B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 "
      "15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))");
  ASSERT_TRUE(select.qresync);
  ASSERT_TRUE(select.qresync->known_sequence_numbers);
  EXPECT_EQ(select.qresync->known_sequence_numbers->ToString(), "5000,7500,9000,9990:9999");
  EXPECT_EQ(select.qresync->known_sequence_uids->ranges.size(), 13u);
  select = ExpectArgs<Select>("a SELECT x (QRESYNC (1 2 (1:2 3:4)) CONDSTORE)");
  EXPECT_TRUE(select.condstore);
  EXPECT_FALSE(select.qresync->known_uids);
  EXPECT_TRUE(select.qresync->known_sequence_numbers);
  ExpectError("a SELECT x (QRESYNC (0 1))", "non-zero");
  ExpectError("a SELECT x (QRESYNC (1))", "Expected SP");
  ExpectError("a SELECT x (QRESYNC (1 2 1:*))", "* is not allowed");
  ExpectError("a SELECT x (QRESYNC (1 2 $))", "$ is not allowed");
  ExpectError("a SELECT x (QRESYNC (1 2 1:5 (1:2)))", "Expected SP");
  ExpectError("a SELECT x (QRESYNC (1 2 1:5 ))", "Expected sequence match data");
  ExpectError("a SELECT x (QRESYNC (1 2) QRESYNC (1 2))", "twice");
  ExpectError("a SELECT x (QRESYNC (4294967296 2))", "out of range");
  ExpectError("a SELECT x (QRESYNC (1 9223372036854775808))", "out of range");
}

TEST(CreateTest, SpecialUse) {
  EXPECT_TRUE(ExpectArgs<Create>("A003 CREATE owatagusiam/").special_use.empty());
  Create create = ExpectArgs<Create>("t1 CREATE \"Important Messages\" (USE (\\Important))");
  EXPECT_EQ(create.mailbox, "Important Messages");
  EXPECT_EQ(create.special_use, (std::vector<std::string>{"\\Important"}));
  create = ExpectArgs<Create>("a CREATE MySpecialDrafts (use (\\drafts \\SENT \\Drafts))");
  EXPECT_EQ(create.special_use, (std::vector<std::string>{"\\Drafts", "\\Sent"}));
  EXPECT_TRUE(ExpectArgs<Create>("a CREATE x (USE ())").special_use.empty());
  ExpectError("a CREATE x (USE (Drafts))", "Expected special-use attribute");
  ExpectError("a CREATE x (USE \\Drafts)");
  ExpectError("a CREATE x (FOO)", "Unknown CREATE parameter");
  ExpectError("a CREATE x (USE () USE ())", "twice");
  ExpectError("a CREATE", "Missing arguments");
}

TEST(MailboxCommandsTest, DeleteRenameSubscribe) {
  EXPECT_EQ(ExpectArgs<MailboxArgument>("A683 DELETE blurdybloop").mailbox, "blurdybloop");
  Rename rename = ExpectArgs<Rename>("Z433 RENAME INBOX old-mail");
  EXPECT_EQ(rename.from, "INBOX");
  EXPECT_EQ(rename.to, "old-mail");
  rename = ExpectArgs<Rename>("a RENAME \"a b\" {3}\r\nc d");
  EXPECT_EQ(rename.from, "a b");
  EXPECT_EQ(rename.to, "c d");
  Command command = ExpectCommand("A002 SUBSCRIBE #news.comp.mail.mime");
  EXPECT_EQ(command.verb, Verb::kSubscribe);
  EXPECT_EQ(command.Get<MailboxArgument>().mailbox, "#news.comp.mail.mime");
  EXPECT_EQ(ExpectCommand("A002 UNSUBSCRIBE #news.comp.mail.mime").verb, Verb::kUnsubscribe);
  ExpectError("a RENAME x", "Missing arguments");
  ExpectError("a DELETE", "Missing arguments");
  ExpectError("a DELETE *");  // not an astring
}

TEST(ListTest, Basic) {
  List list = ExpectArgs<List>("A682 LIST \"\" *");
  EXPECT_EQ(list.reference, "");
  EXPECT_EQ(list.patterns, (std::vector<std::string>{"*"}));
  EXPECT_FALSE(list.extended);
  list = ExpectArgs<List>("A202 LIST ~/Mail/ %");
  EXPECT_EQ(list.reference, "~/Mail/");
  EXPECT_EQ(list.patterns[0], "%");
  list = ExpectArgs<List>("A102 LIST #news.comp.mail.misc \"\"");
  EXPECT_EQ(list.patterns[0], "");
  list = ExpectArgs<List>("a LIST \"\" foo/*/b%r]");
  EXPECT_EQ(list.patterns[0], "foo/*/b%r]");
  list = ExpectArgs<List>("a LIST inbox &AOk-*");  // reference not normalised; pattern decoded
  EXPECT_EQ(list.reference, "inbox");
  EXPECT_EQ(list.patterns[0], "\xc3\xa9*");
  ExpectError("a LIST \"\"", "Missing arguments");
  ExpectError("a LIST \"\" &Jjo!*", "modified UTF-7");
  ExpectError("a LIST * *", "Expected reference name");
}

TEST(ListTest, Extended) {
  List list = ExpectArgs<List>("A02 LIST (SUBSCRIBED) \"\" \"*\"");
  EXPECT_TRUE(list.extended);
  EXPECT_TRUE(list.select_subscribed);
  list = ExpectArgs<List>("A03 LIST () \"\" \"%\" RETURN (CHILDREN)");
  EXPECT_TRUE(list.extended);
  EXPECT_FALSE(list.select_subscribed);
  EXPECT_TRUE(list.return_children);
  list = ExpectArgs<List>("A05 LIST (REMOTE SUBSCRIBED) \"\" \"*\"");
  EXPECT_TRUE(list.select_remote && list.select_subscribed);
  list = ExpectArgs<List>("D03 LIST (RECURSIVEMATCH SUBSCRIBED) \"\" \"*2\"");
  EXPECT_TRUE(list.select_recursive_match);
  list = ExpectArgs<List>("a3.1 LIST \"\" (% music/rock)");
  EXPECT_EQ(list.patterns, (std::vector<std::string>{"%", "music/rock"}));
  EXPECT_TRUE(list.extended);
  list = ExpectArgs<List>("a1 LIST \"\" (\"foo\")");
  EXPECT_EQ(list.patterns, (std::vector<std::string>{"foo"}));
  list = ExpectArgs<List>("A01 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))");
  ASSERT_TRUE(list.return_status);
  EXPECT_EQ(*list.return_status,
            (std::vector<StatusItem>{StatusItem::kMessages, StatusItem::kUnseen}));
  list = ExpectArgs<List>(
      "A02 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (STATUS (MESSAGES) SUBSCRIBED "
      "SPECIAL-USE)");
  EXPECT_TRUE(list.return_subscribed && list.return_special_use);
  list = ExpectArgs<List>("A002 LIST (SPECIAL-USE) \"\" \"*\"");
  EXPECT_TRUE(list.select_special_use);
  list = ExpectArgs<List>("a LIST \"\" * RETURN ()");
  EXPECT_TRUE(list.extended);
  ExpectError("a LIST (RECURSIVEMATCH) \"\" *", "RECURSIVEMATCH needs SUBSCRIBED");
  ExpectError("a LIST (REMOTE RECURSIVEMATCH) \"\" *", "RECURSIVEMATCH needs SUBSCRIBED");
  ExpectError("a LIST (SPECIAL-USE RECURSIVEMATCH) \"\" *", "RECURSIVEMATCH needs SUBSCRIBED");
  ExpectError("a LIST (FOO) \"\" *", "Unknown LIST selection option");
  ExpectError("a LIST \"\" * RETURN (FOO)", "Unknown LIST return option");
  ExpectError("a LIST \"\" * RETURN (STATUS ())", "Empty");
  ExpectError("a LIST \"\" * RETURN (STATUS (MESSAGES) STATUS (UNSEEN))", "twice");
  ExpectError("a LIST \"\" * FOO (CHILDREN)", "Expected RETURN");
  ExpectError("a LIST \"\" ()", "Empty");
  ExpectError("a LIST \"\" * RETURN", "Missing arguments");
}

TEST(LsubTest, Parses) {
  Lsub lsub = ExpectArgs<Lsub>("A002 LSUB \"#news.\" \"comp.mail.*\"");
  EXPECT_EQ(lsub.reference, "#news.");
  EXPECT_EQ(lsub.pattern, "comp.mail.*");
  ExpectError("a LSUB \"\" (a b)");
}

TEST(StatusTest, Items) {
  StatusQuery query = ExpectArgs<StatusQuery>("A042 STATUS blurdybloop (UIDNEXT MESSAGES)");
  EXPECT_EQ(query.mailbox, "blurdybloop");
  EXPECT_EQ(query.items, (std::vector<StatusItem>{StatusItem::kUidNext, StatusItem::kMessages}));
  query = ExpectArgs<StatusQuery>(
      "a STATUS INBOX (messages uidnext uidvalidity unseen deleted size recent highestmodseq "
      "appendlimit mailboxid deleted-storage MESSAGES)");
  EXPECT_EQ(query.items.size(), 11u);  // the duplicate is dropped
  ExpectError("a STATUS INBOX ()", "Empty");
  ExpectError("a STATUS INBOX (FOO)", "Unknown status item FOO");
  ExpectError("a STATUS INBOX MESSAGES", "Expected (");
  ExpectError("a STATUS INBOX", "Missing arguments");
}

TEST(AppendTest, Single) {
  std::string message = "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\nHello Joe\r\n";
  std::string command = "A003 APPEND saved-messages (\\Seen) {" + std::to_string(message.size()) +
                        "}\r\n" + message + "\r\n";
  Append append = ExpectArgs<Append>(command);
  EXPECT_EQ(append.mailbox, "saved-messages");
  ASSERT_EQ(append.messages.size(), 1u);
  EXPECT_EQ(append.messages[0].flags, (std::vector<std::string>{"\\Seen"}));
  EXPECT_FALSE(append.messages[0].internal_date);
  EXPECT_EQ(append.messages[0].content, message);
  EXPECT_FALSE(append.messages[0].literal8);
  // The content is a view into the command buffer.
  EXPECT_GE(append.messages[0].content.data(), command.data());
  EXPECT_LE(append.messages[0].content.data() + message.size(), command.data() + command.size());

  append = ExpectArgs<Append>(
      "a APPEND INBOX (\\seen $Forwarded \\DRAFT) \"05-Jan-2024 10:11:12 +0100\" {3+}\r\nabc");
  EXPECT_EQ(append.messages[0].flags,
            (std::vector<std::string>{"\\Seen", "$Forwarded", "\\Draft"}));
  ASSERT_TRUE(append.messages[0].internal_date);
  EXPECT_EQ(append.messages[0].internal_date->ToUnixTime(), 1704445872);
  append = ExpectArgs<Append>("a APPEND INBOX \" 5-Jan-2024 10:11:12 +0100\" {0}\r\n");
  EXPECT_EQ(append.messages[0].content, "");
  append = ExpectArgs<Append>("a APPEND INBOX () {1}\r\nx");
  EXPECT_TRUE(append.messages[0].flags.empty());
}

TEST(AppendTest, Binary) {
  std::string data("a\0b\r\n", 5);
  // AppendMessage::content views the command, so each command outlives its Append.
  const std::string sync = "a APPEND INBOX ~{5}\r\n" + data;
  Append append = ExpectArgs<Append>(sync);
  EXPECT_TRUE(append.messages[0].literal8);
  EXPECT_EQ(append.messages[0].content, data);
  const std::string non_sync = "a APPEND INBOX ~{5+}\r\n" + data;
  append = ExpectArgs<Append>(non_sync);
  EXPECT_TRUE(append.messages[0].literal8);
  const std::string utf8 = "a APPEND INBOX UTF8 (~{5}\r\n" + data + ")";  // RFC 6855 §4
  append = ExpectArgs<Append>(utf8);
  EXPECT_TRUE(append.messages[0].utf8);
  EXPECT_TRUE(append.messages[0].literal8);
  ExpectError("a APPEND INBOX UTF8 ({5}\r\n" + data + ")", "binary literal");
  ExpectError("a APPEND INBOX UTF8 (~{5}\r\n" + data, "Expected )");
}

TEST(AppendTest, MultiAppend) {
  // RFC 3502 §6.3.11 shape: several messages, each with its own flags and date.
  Append append = ExpectArgs<Append>(
      "A003 APPEND saved-messages (\\Seen) {5}\r\nhello {6}\r\nworld! (\\Flagged) "
      "\"07-Feb-1994 21:52:25 -0800\" ~{3}\r\nxyz\r\n");
  ASSERT_EQ(append.messages.size(), 3u);
  EXPECT_EQ(append.messages[0].content, "hello");
  EXPECT_EQ(append.messages[1].content, "world!");
  EXPECT_TRUE(append.messages[1].flags.empty());
  EXPECT_EQ(append.messages[2].content, "xyz");
  EXPECT_EQ(append.messages[2].flags, (std::vector<std::string>{"\\Flagged"}));
  EXPECT_TRUE(append.messages[2].internal_date);
  ParseOptions options;
  options.max_list_items = 2;
  ExpectError("a APPEND x {1}\r\na {1}\r\nb {1}\r\nc", "Too many", options);
}

TEST(AppendTest, Errors) {
  ExpectError("a APPEND INBOX", "Missing message");
  ExpectError("a APPEND INBOX \"hello\"", "Invalid date-time");
  ExpectError("a APPEND INBOX hello", "Expected the message as a literal");
  ExpectError("a APPEND INBOX (\\Seen)", "Missing arguments");
  ExpectError("a APPEND INBOX (\\Recent) {1}\r\nx", "\\Recent");
  ExpectError("a APPEND INBOX (\\*) {1}\r\nx", "PERMANENTFLAGS");
  ExpectError("a APPEND INBOX (\\Foo) {1}\r\nx", "Unknown system flag \\FOO");
  ExpectError("a APPEND INBOX (\\Seen {1}\r\nx", "Expected flag");
  ExpectError("a APPEND INBOX \"32-Jan-2024 10:11:12 +0100\" {1}\r\nx", "Invalid date-time");
  ExpectError("a APPEND INBOX {5}\r\nabc", "Literal is longer");
  ExpectError("a APPEND INBOX {2}\r\nabc", "Unexpected characters");
  ExpectError("a APPEND INBOX {1}\r\na ", "Expected the message");
  ExpectError("a APPEND INBOX CATENATE (TEXT {1}\r\na)", "CATENATE is not supported");
  ExpectError("a APPEND INBOX {1}x", "Expected CRLF");
  ExpectError("a APPEND INBOX {99999999999999999999}\r\n", "out of range");
}

}  // namespace
}  // namespace postern::imap
