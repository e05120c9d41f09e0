// Tests for ParseCommand: tags and verbs, strings and literals, and the commands of the any,
// not-authenticated and session-wide families (AUTHENTICATE LOGIN ENABLE ID QUOTA COMPRESS COPY
// MOVE EXPUNGE).
#include "imap/command.h"

#include <gtest/gtest.h>

#include <string>

#include "imap/command_test_util.h"

namespace postern::imap {
namespace {

TEST(ParseCommandTest, NoArgumentCommands) {
  struct Case {
    std::string_view text;
    Verb verb;
  };
  for (const Case& c : {Case{"a CAPABILITY", Verb::kCapability}, Case{"a noop", Verb::kNoop},
                        Case{"a LogOut", Verb::kLogout}, Case{"a STARTTLS", Verb::kStartTls},
                        Case{"a NAMESPACE", Verb::kNamespace}, Case{"a IDLE", Verb::kIdle},
                        Case{"a CHECK", Verb::kCheck}, Case{"a CLOSE", Verb::kClose},
                        Case{"a UNSELECT", Verb::kUnselect}, Case{"a EXPUNGE", Verb::kExpunge}}) {
    Command command = ExpectCommand(c.text);
    EXPECT_EQ(command.verb, c.verb) << c.text;
    EXPECT_EQ(command.tag, "a");
    EXPECT_FALSE(command.uid);
    ExpectError(std::string(c.text) + " extra", "Unexpected characters");
    ExpectError(std::string(c.text) + " ", "Unexpected characters");
  }
  EXPECT_TRUE(std::holds_alternative<std::monostate>(ExpectCommand("a NOOP").arguments));
  EXPECT_FALSE(ExpectArgs<Expunge>("a EXPUNGE").uids.has_value());
}

TEST(ParseCommandTest, LineEndings) {
  EXPECT_EQ(ExpectCommand("a NOOP\r\n").verb, Verb::kNoop);
  EXPECT_EQ(ExpectCommand("a NOOP\n").verb, Verb::kNoop);
  ExpectError("a NOOP\r\n\r\n");
  ExpectError("a NOOP\r\nb NOOP");  // two commands are not one
  ExpectError("a NOOP\r");
}

TEST(ParseCommandTest, Tags) {
  EXPECT_EQ(ExpectCommand("A001 NOOP").tag, "A001");
  EXPECT_EQ(ExpectCommand("a.b-c_d]e NOOP").tag, "a.b-c_d]e");  // "]" is an ASTRING-CHAR
  EXPECT_EQ(ExpectCommand("~tag$! NOOP").tag, "~tag$!");
  for (std::string_view bad : {"* NOOP", "+ NOOP", "a+b NOOP", "(a NOOP", "a{ NOOP", "\"a\" NOOP",
                               " NOOP", "a\\b NOOP", "a%b NOOP", "caf\xc3\xa9 NOOP", "\x01 NOOP"}) {
    ParseError error = ExpectError(bad, "Invalid tag");
    EXPECT_TRUE(error.tag.empty()) << bad;
    EXPECT_EQ(error.Response(), "* BAD Invalid tag\r\n");
  }
  EXPECT_TRUE(ExpectError("", "Empty").tag.empty());
  EXPECT_TRUE(ExpectError("\r\n", "Empty").tag.empty());
  ParseError error = ExpectError("a1", "Missing command");
  EXPECT_EQ(error.tag, "a1");
  EXPECT_EQ(ExpectError("a1 ", "Unknown command").tag, "a1");
  EXPECT_EQ(ExpectError("a1  NOOP").tag, "a1");
}

TEST(ParseCommandTest, UnknownCommands) {
  for (std::string_view text : {"a XPIG-LATIN", "a FOO bar", "a NOOPS", "a NOOP(", "a UID",
                                "a FETCH1", "a F\xc3\xa9TCH 1 UID", "a \x00NOOP"}) {
    ParseError error = ExpectError(text);
    EXPECT_EQ(error.tag, "a");
    EXPECT_EQ(error.verb, Verb::kUnknown);
  }
  ParseError error = ExpectError("A442 XPIG-LATIN");
  EXPECT_EQ(error.message, "Unknown command");
  EXPECT_EQ(error.Response(), "A442 BAD Unknown command\r\n");
}

TEST(ParseCommandTest, UidPrefix) {
  Command command = ExpectCommand("a uid fetch 1:* FLAGS");
  EXPECT_TRUE(command.uid);
  EXPECT_EQ(command.verb, Verb::kFetch);
  for (std::string_view verb :
       {"COPY 1 x", "MOVE 1 x", "FETCH 1 UID", "SEARCH ALL", "STORE 1 FLAGS ()", "EXPUNGE 1",
        "SORT (DATE) UTF-8 ALL", "THREAD REFERENCES UTF-8 ALL"}) {
    EXPECT_TRUE(ExpectCommand("a UID " + std::string(verb)).uid) << verb;
  }
  ParseError error = ExpectError("a UID SELECT INBOX", "UID SELECT is not a command");
  EXPECT_EQ(error.verb, Verb::kSelect);
  EXPECT_TRUE(error.uid);
  ExpectError("a UID NOOP");
  ExpectError("a UID", "UID needs a command");
  ExpectError("a UID UID FETCH 1 UID", "Unknown command");
  ExpectError("a UID EXPUNGE", "Missing arguments");
}

TEST(ParseCommandTest, ErrorsNameTheCommand) {
  ParseError error = ExpectError("t1 FETCH x FLAGS");
  EXPECT_EQ(error.tag, "t1");
  EXPECT_EQ(error.verb, Verb::kFetch);
  EXPECT_EQ(error.message.rfind("FETCH: ", 0), 0u) << error.message;
  error = ExpectError("t1 UID FETCH x FLAGS");
  EXPECT_EQ(error.message.rfind("UID FETCH: ", 0), 0u) << error.message;
  EXPECT_EQ(ExpectError("t1 LOGIN").message, "LOGIN: Missing arguments");
}

TEST(ParseCommandTest, Login) {
  Login login = ExpectArgs<Login>("a001 LOGIN SMITH SESAME");
  EXPECT_EQ(login.user, "SMITH");
  EXPECT_EQ(login.password, "SESAME");
  login = ExpectArgs<Login>("a LOGIN \"fred\" \"pass word\\\"\\\\\"");
  EXPECT_EQ(login.user, "fred");
  EXPECT_EQ(login.password, "pass word\"\\");
  login = ExpectArgs<Login>("a LOGIN {4}\r\nfred {8}\r\np\x01ss\r\nwd\r\n");
  EXPECT_EQ(login.user, "fred");
  EXPECT_EQ(login.password, "p\x01ss\r\nwd");
  login = ExpectArgs<Login>("a LOGIN {4+}\r\nfred {0}\r\n");
  EXPECT_EQ(login.password, "");
  login = ExpectArgs<Login>("a LOGIN {4}\nfred \"\"");  // bare LF after the marker
  EXPECT_EQ(login.user, "fred");
  login = ExpectArgs<Login>("a LOGIN user]name p@ss");
  EXPECT_EQ(login.user, "user]name");
  // UTF-8 in quoted strings (RFC 9051 §9, RFC 6855 §3).
  EXPECT_EQ(ExpectArgs<Login>("a LOGIN \"j\xc3\xb6rg\" x").user, "j\xc3\xb6rg");
  ExpectError("a LOGIN \"j\xf6rg\" x", "not valid UTF-8");
  ExpectError("a LOGIN j\xc3\xb6rg x");  // 8-bit in an atom
  ExpectError("a LOGIN fred", "Missing arguments");
  ExpectError("a LOGIN fred  pw", "Expected password");
  ExpectError("a LOGIN \"fred pw", "Unterminated quoted string");
  ExpectError("a LOGIN \"fr\\ed\" pw", "Invalid escape");
  ExpectError("a LOGIN (fred) pw", "Expected user name");
  ExpectError("a LOGIN fred pw extra", "Unexpected characters");
  ExpectError(std::string("a LOGIN {4}\r\nfr\0d pw", 20), "NUL in literal");
  ExpectError(std::string("a LOGIN \"fr\0d\" pw", 17), "NUL in quoted string");
  ExpectError("a LOGIN ~{4}\r\nfred pw", "only allowed for APPEND");
  // "~" alone is an ASTRING-CHAR.
  EXPECT_EQ(ExpectArgs<Login>("a LOGIN ~fred pw").user, "~fred");
}

TEST(ParseCommandTest, Authenticate) {
  Authenticate auth = ExpectArgs<Authenticate>("A001 AUTHENTICATE GSSAPI");
  EXPECT_EQ(auth.mechanism, "GSSAPI");
  EXPECT_FALSE(auth.initial_response);
  auth = ExpectArgs<Authenticate>("a004 authenticate plain dGVzdAB0ZXN0AHRlc3Q=");
  EXPECT_EQ(auth.mechanism, "PLAIN");
  EXPECT_EQ(auth.initial_response, "dGVzdAB0ZXN0AHRlc3Q=");
  auth = ExpectArgs<Authenticate>("A01 AUTHENTICATE EXTERNAL =");
  EXPECT_EQ(auth.initial_response, "");
  EXPECT_EQ(ExpectArgs<Authenticate>("a AUTHENTICATE SCRAM-SHA-256 biwsbj11c2VyLHI9cg==").mechanism,
            "SCRAM-SHA-256");
  ExpectError("a AUTHENTICATE", "Missing arguments");
  ExpectError("a AUTHENTICATE PLAIN abc", "not base64");
  ExpectError("a AUTHENTICATE PLAIN ab=c", "not base64");
  ExpectError("a AUTHENTICATE PLAIN a===", "not base64");
  ExpectError("a AUTHENTICATE PLAIN ==", "not base64");
  ExpectError("a AUTHENTICATE PLAIN \"dGVz\"");
  ExpectError("a AUTHENTICATE PLAIN dGVz dGVz");
}

TEST(ParseCommandTest, Enable) {
  Enable enable = ExpectArgs<Enable>("t2 ENABLE CONDSTORE X-GOOD-IDEA");
  EXPECT_EQ(enable.capabilities, (std::vector<std::string>{"CONDSTORE", "X-GOOD-IDEA"}));
  enable = ExpectArgs<Enable>("a enable utf8=accept imap4rev2 qresync");
  EXPECT_EQ(enable.capabilities, (std::vector<std::string>{"UTF8=ACCEPT", "IMAP4REV2", "QRESYNC"}));
  ExpectError("a ENABLE", "Missing arguments");
  ExpectError("a ENABLE CONDSTORE ", "Expected capability name");
  ExpectError("a ENABLE (CONDSTORE)");
}

TEST(ParseCommandTest, Id) {
  Id id = ExpectArgs<Id>("a023 ID (\"name\" \"sodr\" \"version\" \"19.34\" \"vendor\" NIL)");
  ASSERT_EQ(id.fields.size(), 3u);
  EXPECT_EQ(id.fields[0].name, "name");
  EXPECT_EQ(id.fields[0].value, "sodr");
  EXPECT_EQ(id.fields[1].value, "19.34");
  EXPECT_FALSE(id.fields[2].value.has_value());
  EXPECT_TRUE(ExpectArgs<Id>("a ID NIL").fields.empty());
  EXPECT_TRUE(ExpectArgs<Id>("a ID ()").fields.empty());
  EXPECT_EQ(ExpectArgs<Id>("a ID ({4}\r\nname {3}\r\nx y)").fields[0].value, "x y");
  ExpectError("a ID", "Missing arguments");
  ExpectError("a ID (name \"x\")", "Expected ID field name");
  ExpectError("a ID (\"name\")", "Expected SP");
  ExpectError("a ID (\"" + std::string(31, 'n') + "\" NIL)", "field name too long");
  ExpectError("a ID (\"n\" \"" + std::string(1025, 'v') + "\")", "value too long");
  std::string many = "a ID (";
  for (int i = 0; i < 31; ++i) many += (i ? " \"f" : "\"f") + std::to_string(i) + "\" NIL";
  ExpectError(many + ")", "More than 30");
}

TEST(ParseCommandTest, Quota) {
  EXPECT_EQ(ExpectArgs<GetQuota>("G0001 GETQUOTA \"!partition/sda4\"").root, "!partition/sda4");
  EXPECT_EQ(ExpectArgs<GetQuota>("a GETQUOTA \"\"").root, "");
  EXPECT_EQ(ExpectArgs<MailboxArgument>("G0002 GETQUOTAROOT INBOX").mailbox, "INBOX");
  EXPECT_EQ(ExpectCommand("a GETQUOTAROOT inbox").verb, Verb::kGetQuotaRoot);
  SetQuota quota = ExpectArgs<SetQuota>("S0000 SETQUOTA \"User quota\" (STORAGE 510 message 7)");
  EXPECT_EQ(quota.root, "User quota");
  ASSERT_EQ(quota.limits.size(), 2u);
  EXPECT_EQ(quota.limits[0].resource, "STORAGE");
  EXPECT_EQ(quota.limits[0].limit, 510u);
  EXPECT_EQ(quota.limits[1].resource, "MESSAGE");
  EXPECT_EQ(quota.limits[1].limit, 7u);
  EXPECT_TRUE(ExpectArgs<SetQuota>("a SETQUOTA \"\" ()").limits.empty());
  EXPECT_EQ(ExpectArgs<SetQuota>("a SETQUOTA x (STORAGE 9223372036854775807)").limits[0].limit,
            9223372036854775807ULL);
  ExpectError("a SETQUOTA x (STORAGE 9223372036854775808)", "out of range");
  ExpectError("a SETQUOTA x (STORAGE)", "Expected SP");
  ExpectError("a SETQUOTA x (STORAGE 1 STORAGE 2)", "twice");
  ExpectError("a SETQUOTA x STORAGE 1");
  ExpectError("a GETQUOTA", "Missing arguments");
}

TEST(ParseCommandTest, Compress) {
  EXPECT_EQ(ExpectArgs<Compress>("a COMPRESS DEFLATE").algorithm, "DEFLATE");
  EXPECT_EQ(ExpectArgs<Compress>("a compress deflate").algorithm, "DEFLATE");
  ExpectError("a COMPRESS", "Missing arguments");
  ExpectError("a COMPRESS DEFLATE X");
}

TEST(ParseCommandTest, CopyAndMove) {
  Copy copy = ExpectArgs<Copy>("A003 COPY 2:4 MEETING");
  EXPECT_EQ(copy.set.ToString(), "2:4");
  EXPECT_EQ(copy.mailbox, "MEETING");
  Command move = ExpectCommand("a UID MOVE 42:69 foo");
  EXPECT_EQ(move.verb, Verb::kMove);
  EXPECT_TRUE(move.uid);
  EXPECT_EQ(move.Get<Copy>().set.ToString(), "42:69");
  EXPECT_EQ(ExpectArgs<Copy>("E283 COPY $ \"Other Messages\"").set.saved, true);
  EXPECT_EQ(ExpectArgs<Copy>("a COPY 1 inbox").mailbox, "INBOX");
  ExpectError("a COPY 0 x", "Invalid sequence set");
  ExpectError("a COPY 1:x y", "Invalid sequence set");
  ExpectError("a COPY 1", "Missing arguments");
  ExpectError("a MOVE x y", "Expected a sequence set");
}

TEST(ParseCommandTest, UidExpunge) {
  Expunge expunge = ExpectArgs<Expunge>("A003 UID EXPUNGE 3000:3002");
  ASSERT_TRUE(expunge.uids);
  EXPECT_EQ(expunge.uids->ToString(), "3000:3002");
  ExpectError("a EXPUNGE 1:2", "Unexpected characters");
}

TEST(ParseCommandTest, VerbAndItemNames) {
  EXPECT_EQ(VerbName(Verb::kFetch), "FETCH");
  EXPECT_EQ(VerbName(Verb::kGetQuotaRoot), "GETQUOTAROOT");
  EXPECT_EQ(VerbName(Verb::kUnknown), "UNKNOWN");
  EXPECT_EQ(StatusItemName(StatusItem::kDeletedStorage), "DELETED-STORAGE");
  EXPECT_EQ(StatusItemName(StatusItem::kHighestModSeq), "HIGHESTMODSEQ");
}

}  // namespace
}  // namespace postern::imap
