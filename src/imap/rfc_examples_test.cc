// Every client command example of RFC 3501 §6 and RFC 9051 §6 (and the extension RFCs' main
// examples), as a client sends it, parses; the examples the RFCs show being rejected fail.
#include <gtest/gtest.h>

#include <string>

#include "imap/command.h"
#include "imap/command_test_util.h"

namespace postern::imap {
namespace {

struct Example {
  std::string_view text;
  Verb verb;
  bool uid = false;
};

void ExpectExamples(std::initializer_list<Example> examples) {
  for (const Example& example : examples) {
    SCOPED_TRACE(std::string(example.text));
    Command command = ExpectCommand(example.text);
    EXPECT_EQ(command.verb, example.verb);
    EXPECT_EQ(command.uid, example.uid);
  }
}

TEST(RfcExamplesTest, Rfc3501Section6) {
  ExpectExamples({
      {"abcd CAPABILITY", Verb::kCapability},
      {"efgh STARTTLS", Verb::kStartTls},
      {"a002 NOOP", Verb::kNoop},
      {"A023 LOGOUT", Verb::kLogout},
      {"a004 LOGIN joe password", Verb::kLogin},
      {"A001 AUTHENTICATE GSSAPI", Verb::kAuthenticate},
      {"a001 LOGIN SMITH SESAME", Verb::kLogin},
      {"A142 SELECT INBOX", Verb::kSelect},
      {"A932 EXAMINE blurdybloop", Verb::kExamine},
      {"A003 CREATE owatagusiam/", Verb::kCreate},
      {"A004 CREATE owatagusiam/blurdybloop", Verb::kCreate},
      {"A682 LIST \"\" *", Verb::kList},
      {"A683 DELETE blurdybloop", Verb::kDelete},
      {"A685 DELETE foo/bar", Verb::kDelete},
      {"A86 LIST \"\" %", Verb::kList},
      {"A683 RENAME blurdybloop sarasoop", Verb::kRename},
      {"A684 RENAME foo zowie", Verb::kRename},
      {"Z433 RENAME INBOX old-mail", Verb::kRename},
      {"A002 SUBSCRIBE #news.comp.mail.mime", Verb::kSubscribe},
      {"A002 UNSUBSCRIBE #news.comp.mail.mime", Verb::kUnsubscribe},
      {"A101 LIST \"\" \"\"", Verb::kList},
      {"A102 LIST #news.comp.mail.misc \"\"", Verb::kList},
      {"A103 LIST /usr/staff/jones \"\"", Verb::kList},
      {"A202 LIST ~/Mail/ %", Verb::kList},
      {"A002 LSUB \"#news.\" \"comp.mail.*\"", Verb::kLsub},
      {"A003 LSUB \"#news.\" \"comp.%\"", Verb::kLsub},
      {"A042 STATUS blurdybloop (UIDNEXT MESSAGES)", Verb::kStatus},
      {"FXXZ CHECK", Verb::kCheck},
      {"A341 CLOSE", Verb::kClose},
      {"A202 EXPUNGE", Verb::kExpunge},
      {"A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"", Verb::kSearch},
      {"A283 SEARCH TEXT \"string not in mailbox\"", Verb::kSearch},
      {"A284 SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX\r\n", Verb::kSearch},
      {"A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])", Verb::kFetch},
      {"A003 STORE 2:4 +FLAGS (\\Deleted)", Verb::kStore},
      {"A003 COPY 2:4 MEETING", Verb::kCopy},
      {"A999 UID FETCH 4827313:4828442 FLAGS", Verb::kFetch, true},
      {"A001 LOGIN fred blurdybloop", Verb::kLogin},
      {"A222 COPY 1:2 owatagusiam", Verb::kCopy},
      {"A223 COPY 3:200 blurdybloop", Verb::kCopy},
      {"A443 EXPUNGE", Verb::kExpunge},
  });
  // RFC 3501 §6.3.11 APPEND, the literal exactly as on the wire (310 octets).
  const std::string message =
      "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n"
      "From: Fred Foobar <foobar@Blurdybloop.COM>\r\n"
      "Subject: afternoon meeting\r\n"
      "To: mooch@owatagu.siam.edu\r\n"
      "Message-Id: <B27397-0100000@Blurdybloop.COM>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
      "\r\n"
      "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n";
  ASSERT_EQ(message.size(), 310u);
  const std::string command = "A003 APPEND saved-messages (\\Seen) {310}\r\n" + message + "\r\n";
  Append append = ExpectArgs<Append>(command);
  ASSERT_EQ(append.messages.size(), 1u);
  EXPECT_EQ(append.messages[0].content, message);
  // The response examples of the RFC that a client must not send.
  ExpectError("A442 XPIG-LATIN", "Unknown command");
}

TEST(RfcExamplesTest, Rfc9051Section6) {
  ExpectExamples({
      {"a004 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=", Verb::kAuthenticate},
      {"A01 AUTHENTICATE PLAIN", Verb::kAuthenticate},
      {"A01 AUTHENTICATE EXTERNAL =", Verb::kAuthenticate},
      {"t2 ENABLE CONDSTORE X-GOOD-IDEA", Verb::kEnable},
      {"a1 ENABLE CONDSTORE", Verb::kEnable},
      {"A143 SELECT Drafts", Verb::kSelect},
      {"A005 CREATE NonNormalized", Verb::kCreate},
      {"1001 RENAME X Y", Verb::kRename},
      {"1002 SUBSCRIBE Y", Verb::kSubscribe},
      {"1003 UNSUBSCRIBE X", Verb::kUnsubscribe},
      {"A01 LIST \"\" \"*\"", Verb::kList},
      {"A02 LIST (SUBSCRIBED) \"\" \"*\"", Verb::kList},
      {"A03 LIST () \"\" \"%\" RETURN (CHILDREN)", Verb::kList},
      {"A04 LIST (REMOTE) \"\" \"%\" RETURN (CHILDREN)", Verb::kList},
      {"A05 LIST (REMOTE SUBSCRIBED) \"\" \"*\"", Verb::kList},
      {"A06 LIST (REMOTE) \"\" \"*\" RETURN (SUBSCRIBED)", Verb::kList},
      {"CA3 LIST \"\" \"%\" RETURN (CHILDREN)", Verb::kList},
      {"C04 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"", Verb::kList},
      {"C04 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (CHILDREN)", Verb::kList},
      {"D03 LIST (RECURSIVEMATCH SUBSCRIBED) \"\" \"*2\"", Verb::kList},
      {"a1 LIST \"\" (\"foo\")", Verb::kList},
      {"a2 LIST (SUBSCRIBED) \"\" \"foo/*\"", Verb::kList},
      {"a3 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" foo RETURN (CHILDREN)", Verb::kList},
      {"a1 LIST (REMOTE) \"\" *", Verb::kList},
      {"a2 LIST () \"\" %", Verb::kList},
      {"a3.1 LIST \"\" (% music/rock)", Verb::kList},
      {"A01 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))", Verb::kList},
      {"A02 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (STATUS (MESSAGES))", Verb::kList},
      {"A001 NAMESPACE", Verb::kNamespace},
      {"A002 CREATE \"INBOX.Sent Mail\"", Verb::kCreate},
      {"A002 LIST (SPECIAL-USE) \"\" \"*\"", Verb::kList},
      {"A003 LIST (SPECIAL-USE) \"#mh/\" \"*\"", Verb::kList},
      {"A006 CREATE \"#mh/Deleted Items\"", Verb::kCreate},
      {"A002 LIST \"\" \"Other Users/%\"", Verb::kList},
      {"A002 LIST \"\" \"#Users/%\"", Verb::kList},
      {"A002 LIST \"\" \"~mark/%\"", Verb::kList},
      {"A004 COPY 2:4 meeting", Verb::kCopy},
      {"A005 UID COPY 305:310 meeting", Verb::kCopy, true},
      {"A006 COPY 2 funny", Verb::kCopy},
      {"A002 IDLE", Verb::kIdle},
      {"A003 FETCH 4 ALL", Verb::kFetch},
      {"A342 UNSELECT", Verb::kUnselect},
      {"A282 SEARCH RETURN (MIN COUNT) FLAGGED", Verb::kSearch},
      {"A283 SEARCH RETURN () FLAGGED", Verb::kSearch},
      {"A284 SEARCH RETURN (MIN) UNSEEN", Verb::kSearch},
      {"A285 UID SEARCH RETURN (MIN MAX) 1:5000", Verb::kSearch, true},
      {"A286 SEARCH RETURN (COUNT) DELETED", Verb::kSearch},
      {"A282 SEARCH RETURN (SAVE) FLAGGED SINCE 1-Feb-1994", Verb::kSearch},
      {"A283 FETCH $ (UID INTERNALDATE FLAGS BODY.PEEK[HEADER])", Verb::kFetch},
      {"A301 UID SEARCH UID $ SMALLER 4096", Verb::kSearch, true},
      {"A301 UID SEARCH $ SMALLER 4096", Verb::kSearch, true},
      {"E283 COPY $ \"Other Messages\"", Verb::kCopy},
      {"F282 SEARCH RETURN (SAVE) KEYWORD $Junk", Verb::kSearch},
      {"F283 COPY $ \"Junk\"", Verb::kCopy},
      {"F284 STORE $ +FLAGS.Silent (\\Deleted)", Verb::kStore},
      {"G283 SEARCH RETURN (ALL) SINCE 28-Oct-2006", Verb::kSearch},
      {"C283 SEARCH RETURN (ALL SAVE) SINCE 12-Feb-2006", Verb::kSearch},
      {"C284 SEARCH RETURN (SAVE MIN) SINCE 12-Feb-2006", Verb::kSearch},
      {"C285 SEARCH RETURN (MAX SAVE MIN) SINCE 12-Feb-2006", Verb::kSearch},
      {"a UID MOVE 42:69 foo", Verb::kMove, true},
      {"A003 UID EXPUNGE 3000:3002", Verb::kExpunge, true},
  });
  // Literals: synchronizing with UTF-8 text, non-synchronizing, and CHARSET with "$".
  Search search = ExpectArgs<Search>(
      "A285 SEARCH CHARSET UTF-8 TEXT "
      "{12}\r\n\xd0\xbe\xd1\x82\xd0\xbf\xd1\x83\xd1\x81\xd0\xba\r\n");
  EXPECT_EQ(search.criteria.children[0].value, "\xd0\xbe\xd1\x82\xd0\xbf\xd1\x83\xd1\x81\xd0\xba");
  search = ExpectArgs<Search>(
      "P283 SEARCH CHARSET UTF-8 (OR $ 1,3000:3021) TEXT {8+}\r\n\xd0\xbc\xd0\xb0\xd1\x82\xd1\x8c");
  EXPECT_TRUE(search.criteria.children[0].children[0].children[0].set.saved);
  const std::string message =
      "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n"
      "From: Fred Foobar <foobar@Blurdybloop.example>\r\n"
      "Subject: afternoon meeting\r\n"
      "To: mooch@owatagu.siam.edu.example\r\n"
      "Message-Id: <B27397-0100000@Blurdybloop.example>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
      "\r\n"
      "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n";
  ASSERT_EQ(message.size(), 326u);
  EXPECT_EQ(ExpectArgs<Append>("A003 APPEND saved-messages (\\Seen) {326}\r\n" + message)
                .messages[0]
                .content,
            message);
}

TEST(RfcExamplesTest, ExtensionRfcs) {
  ExpectExamples({
      // RFC 7162 CONDSTORE / QRESYNC
      {"a103 SELECT INBOX (CONDSTORE)", Verb::kSelect},
      {"s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)", Verb::kFetch, true},
      {"a103 UID STORE 6,4,8 (UNCHANGEDSINCE 12121230045) +FLAGS.SILENT (\\Deleted)", Verb::kStore,
       true},
      {"a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338", Verb::kSearch},
      {"A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))", Verb::kSelect},
      {"a STATUS blurdybloop (UIDNEXT MESSAGES HIGHESTMODSEQ)", Verb::kStatus},
      // RFC 3502 MULTIAPPEND, RFC 6851 MOVE, RFC 4315 UIDPLUS, RFC 3691 UNSELECT
      {"A003 APPEND saved-messages (\\Seen) {5}\r\nhello {5}\r\nworld", Verb::kAppend},
      {"a UID MOVE 42:69 foo", Verb::kMove, true},
      // RFC 5256 SORT / THREAD, RFC 5957 DISPLAYFROM
      {"A283 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994", Verb::kSort},
      {"A285 SORT (SUBJECT REVERSE DATE) UTF-8 ALL", Verb::kSort},
      {"A286 UID SORT (ARRIVAL) US-ASCII 1:*", Verb::kSort, true},
      {"C1 SORT (DISPLAYFROM) UTF-8 ALL", Verb::kSort},
      {"A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000", Verb::kThread},
      {"A284 THREAD ORDEREDSUBJECT US-ASCII TEXT \"gewp\"", Verb::kThread},
      // RFC 2971 ID, RFC 9208 QUOTA, RFC 4978 COMPRESS, RFC 5032 WITHIN
      {"a023 ID (\"name\" \"sodr\" \"version\" \"19.34\" \"vendor\" \"Pink Floyd Music Limited\")",
       Verb::kId},
      {"G0001 GETQUOTA \"!partition/sda4\"", Verb::kGetQuota},
      {"G0002 GETQUOTAROOT INBOX", Verb::kGetQuotaRoot},
      {"S0000 SETQUOTA \"User Quota\" (STORAGE 512)", Verb::kSetQuota},
      {"a COMPRESS DEFLATE", Verb::kCompress},
      {"a1 SEARCH UNSEEN YOUNGER 259200", Verb::kSearch},
      // RFC 8474 OBJECTID, RFC 8514 SAVEDATE, RFC 8970 PREVIEW, RFC 3516 BINARY
      {"27 FETCH 1:* (EMAILID THREADID)", Verb::kFetch},
      {"28 UID SEARCH EMAILID M6d99ac3275bb4e", Verb::kSearch, true},
      {"a STATUS foo (MAILBOXID)", Verb::kStatus},
      {"A1 FETCH 1:3 (SAVEDATE)", Verb::kFetch},
      {"A2 SEARCH SAVEDSINCE 1-Jan-2019 SAVEDATESUPPORTED", Verb::kSearch},
      {"A3 FETCH 1 (PREVIEW)", Verb::kFetch},
      {"A4 FETCH 1:4 (PREVIEW (LAZY))", Verb::kFetch},
      {"a FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1] BINARY[2]<0.100>)", Verb::kFetch},
      // RFC 6154 SPECIAL-USE, RFC 5258 / 5819 LIST
      {"t1 CREATE \"Important Messages\" (USE (\\Important))", Verb::kCreate},
      {"t3 LIST \"\" \"%\" RETURN (SPECIAL-USE)", Verb::kList},
      {"A01 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))", Verb::kList},
  });
  // RFC 5258 §6: RECURSIVEMATCH alone is not allowed.
  ExpectError("a LIST (RECURSIVEMATCH) \"\" %");
  // RFC 7162 §3.2.6: VANISHED without UID.
  ExpectError("a FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)");
}

}  // namespace
}  // namespace postern::imap
