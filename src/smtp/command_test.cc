// Tests for ParseCommand: verbs, arguments, MAIL/RCPT paths and ESMTP
// parameters, and the exact error reply of every failure.
#include "smtp/command.h"

#include <gtest/gtest.h>

#include <string>

namespace postern::smtp {
namespace {

ParsedCommand Parse(std::string_view line, ParseOptions options = {}) {
  return ParseCommand(line, options);
}

Command ExpectOk(std::string_view line, ParseOptions options = {}) {
  ParsedCommand parsed = ParseCommand(line, options);
  EXPECT_FALSE(parsed.error.has_value())
      << "'" << line << "': " << (parsed.error ? parsed.error->Summary() : "");
  return parsed.command;
}

// Checks code, enhanced code and (if given) the exact text of the error.
void ExpectError(std::string_view line, int code, std::string_view enhanced,
                 std::string_view text = {}, ParseOptions options = {}) {
  SCOPED_TRACE(std::string(line));
  ParsedCommand parsed = ParseCommand(line, options);
  ASSERT_TRUE(parsed.error.has_value());
  EXPECT_EQ(parsed.error->code, code);
  EXPECT_EQ(parsed.error->enhanced, enhanced);
  ASSERT_EQ(parsed.error->lines.size(), 1u);
  if (!text.empty()) {
    EXPECT_EQ(parsed.error->lines[0], text);
  }
  EXPECT_TRUE(parsed.error->IsPermanent());
  // Error texts never carry control bytes.
  for (char c : parsed.error->lines[0]) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20);
  }
}

TEST(ParseCommandTest, VerbsAreCaseInsensitive) {
  EXPECT_EQ(ExpectOk("QUIT").verb, Verb::kQuit);
  EXPECT_EQ(ExpectOk("quit").verb, Verb::kQuit);
  EXPECT_EQ(ExpectOk("QuIt").verb, Verb::kQuit);
  EXPECT_EQ(ExpectOk("quit").verb_text, "quit");
  EXPECT_EQ(ExpectOk("data").verb, Verb::kData);
  EXPECT_EQ(ExpectOk("Rset").verb, Verb::kRset);
  EXPECT_EQ(ExpectOk("starttls").verb, Verb::kStartTls);
  EXPECT_EQ(ExpectOk("noop").verb, Verb::kNoop);
  EXPECT_EQ(ExpectOk("help").verb, Verb::kHelp);
  EXPECT_EQ(ExpectOk("mail from:<a@b.example>").verb, Verb::kMail);
  EXPECT_EQ(ExpectOk("rcpt to:<a@b.example>").verb, Verb::kRcpt);
}

TEST(ParseCommandTest, Hello) {
  Command c = ExpectOk("EHLO client.example");
  EXPECT_EQ(c.verb, Verb::kEhlo);
  EXPECT_EQ(c.argument, "client.example");
  c = ExpectOk("helo client.example");
  EXPECT_EQ(c.verb, Verb::kHelo);
  c = ExpectOk("LHLO client.example");
  EXPECT_EQ(c.verb, Verb::kLhlo);
  EXPECT_EQ(ExpectOk("EHLO [192.0.2.1]").argument, "[192.0.2.1]");
  EXPECT_EQ(ExpectOk("EHLO [IPv6:2001:db8::1]").argument, "[IPv6:2001:db8::1]");
  // Lenient about what clients call themselves.
  EXPECT_EQ(ExpectOk("EHLO my_pc").argument, "my_pc");
  EXPECT_EQ(ExpectOk("EHLO  spaced.example  ").argument, "spaced.example");
  EXPECT_EQ(ExpectOk("HELO host.example extra words").argument, "host.example");
  ExpectError("EHLO", 501, "5.5.4", "Syntax: EHLO hostname");
  ExpectError("EHLO   ", 501, "5.5.4", "Syntax: EHLO hostname");
  ExpectError("helo", 501, "5.5.4", "Syntax: HELO hostname");
  ExpectError("LHLO", 501, "5.5.4", "Syntax: LHLO hostname");
}

TEST(ParseCommandTest, NoArgumentVerbs) {
  for (const char* verb : {"DATA", "RSET", "QUIT", "STARTTLS"}) {
    SCOPED_TRACE(verb);
    ExpectOk(verb);
    ExpectOk(std::string(verb) + " ");  // trailing blanks are tolerated
    ExpectError(std::string(verb) + " now", 501, "5.5.4", std::string("Syntax: ") + verb);
  }
  ExpectError("data x", 501, "5.5.4", "Syntax: DATA");
}

TEST(ParseCommandTest, OptionalAndRequiredStrings) {
  EXPECT_EQ(ExpectOk("NOOP").argument, "");
  EXPECT_EQ(ExpectOk("NOOP hello there").argument, "hello there");
  EXPECT_EQ(ExpectOk("HELP").argument, "");
  EXPECT_EQ(ExpectOk("HELP MAIL").argument, "MAIL");
  Command c = ExpectOk("VRFY postmaster");
  EXPECT_EQ(c.verb, Verb::kVrfy);
  EXPECT_EQ(c.argument, "postmaster");
  c = ExpectOk("EXPN staff-list");
  EXPECT_EQ(c.verb, Verb::kExpn);
  EXPECT_EQ(c.argument, "staff-list");
  ExpectError("VRFY", 501, "5.5.4", "Syntax: VRFY address");
  ExpectError("expn ", 501, "5.5.4", "Syntax: EXPN address");
}

TEST(ParseCommandTest, Auth) {
  Command c = ExpectOk("AUTH PLAIN AGFsaWNlAHNlY3JldA==");
  EXPECT_EQ(c.verb, Verb::kAuth);
  EXPECT_EQ(c.argument, "PLAIN AGFsaWNlAHNlY3JldA==");
  EXPECT_EQ(ExpectOk("auth login").argument, "login");
  ExpectError("AUTH", 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
}

TEST(ParseCommandTest, Bdat) {
  Command c = ExpectOk("BDAT 1000");
  EXPECT_EQ(c.verb, Verb::kBdat);
  EXPECT_EQ(c.bdat_size, 1000u);
  EXPECT_FALSE(c.bdat_last);
  c = ExpectOk("bdat 0 last");
  EXPECT_EQ(c.bdat_size, 0u);
  EXPECT_TRUE(c.bdat_last);
  c = ExpectOk("BDAT 12 LAST");
  EXPECT_TRUE(c.bdat_last);
  EXPECT_EQ(ExpectOk("BDAT 18446744073709551615").bdat_size, UINT64_MAX);
  // 20 digits is the cap; values that do not fit saturate.
  EXPECT_EQ(ExpectOk("BDAT 99999999999999999999").bdat_size, UINT64_MAX);
  for (const char* bad : {"BDAT", "BDAT x", "BDAT -1", "BDAT +1", "BDAT 1 FIRST", "BDAT 1 LAST x",
                          "BDAT 1.5", "BDAT 999999999999999999999", "BDAT LAST"}) {
    ExpectError(bad, 501, "5.5.4", "Syntax: BDAT size [LAST]");
  }
}

TEST(ParseCommandTest, NotImplementedVerbs) {
  for (const char* line : {"ETRN example.com", "TURN", "ATRN example.com", "SEND FROM:<a@b>",
                           "soml FROM:<a@b>", "SAML FROM:<a@b>"}) {
    ParsedCommand parsed = Parse(line);
    EXPECT_EQ(parsed.command.verb, Verb::kNotImplemented) << line;
    EXPECT_FALSE(parsed.error.has_value()) << line;
  }
  EXPECT_EQ(Parse("ETRN example.com").command.argument, "example.com");
}

TEST(ParseCommandTest, UnknownVerbs) {
  for (const char* line : {"FOO", "", "MAILFROM:<a@b>", "GET / HTTP/1.1", " QUIT", "EHL0 x",
                           "QUITT", "MAIL\xc3\xa9 x"}) {
    ParsedCommand parsed = Parse(line);
    EXPECT_EQ(parsed.command.verb, Verb::kUnknown) << line;
    ExpectError(line, 500, "5.5.2", "Syntax error, command unrecognized");
  }
  EXPECT_EQ(Parse("FOO bar").command.verb_text, "FOO");
}

TEST(ParseCommandTest, ControlBytesAreRejected) {
  using std::string_literals::operator""s;
  for (const std::string& line : {"QUIT\0"s, "MAIL FROM:<a\0@b>"s, "NOOP \x01"s, "RSET\r"s,
                                  "NOOP a\nb"s, "NOOP \x7f"s, "EHLO x\x1b[31m"s}) {
    ParsedCommand parsed = Parse(line);
    EXPECT_EQ(parsed.command.verb, Verb::kUnknown);
    ExpectError(line, 500, "5.5.2", "Syntax error, control characters in command");
  }
  // Tab is allowed.
  EXPECT_EQ(ExpectOk("NOOP\tx").verb, Verb::kNoop);
  EXPECT_EQ(ExpectOk("EHLO\tclient.example").argument, "client.example");
}

TEST(ParseCommandTest, MailFrom) {
  Command c = ExpectOk("MAIL FROM:<alice@example.com>");
  EXPECT_EQ(c.verb, Verb::kMail);
  EXPECT_EQ(c.path.mailbox.ToString(), "alice@example.com");
  EXPECT_FALSE(c.has_parameters);
  c = ExpectOk("mail from:<>");
  EXPECT_TRUE(c.path.null);
  c = ExpectOk("Mail From:<alice@example.com>");
  EXPECT_EQ(c.path.mailbox.local_part, "alice");
  // One or more spaces after the colon: a common client bug.
  EXPECT_EQ(ExpectOk("MAIL FROM: <alice@example.com>").path.mailbox.domain, "example.com");
  EXPECT_EQ(ExpectOk("MAIL FROM:   <>").path.null, true);
  // A quoted local part may hold '>' and spaces.
  c = ExpectOk("MAIL FROM:<\"a> b\"@example.com> SIZE=10");
  EXPECT_EQ(c.path.mailbox.local_part, "a> b");
  EXPECT_EQ(c.mail.size, 10u);
  c = ExpectOk("MAIL FROM:<@relay.example:alice@example.com>");
  EXPECT_TRUE(c.path.had_source_route);
}

TEST(ParseCommandTest, MailFromErrors) {
  ExpectError("MAIL", 501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]");
  ExpectError("MAIL TO:<a@b.example>", 501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]");
  ExpectError("MAIL FROM <a@b.example>", 501, "5.5.4");
  ExpectError("MAIL FROM:", 501, "5.1.7", "Bad sender address syntax");
  ExpectError("MAIL FROM:alice@example.com", 501, "5.1.7", "Bad sender address syntax");
  ExpectError("MAIL FROM:<alice@example.com", 501, "5.1.7", "Bad sender address syntax");
  ExpectError("MAIL FROM:<alice@example.com>SIZE=1", 501, "5.1.7", "Bad sender address syntax");
  ExpectError("MAIL FROM:<a..b@example.com>", 501, "5.1.7", "Bad sender address syntax");
  ExpectError("MAIL FROM:<alice>", 501, "5.1.7", "Sender address has no domain");
  ExpectError("MAIL FROM:<Postmaster>", 501, "5.1.7", "Sender address has no domain");
  ExpectError("MAIL FROM:<" + std::string(65, 'a') + "@example.com>", 501, "5.1.7",
              "Sender address too long");
  ExpectError("MAIL FROM:<jöran@example.com>", 553, "5.6.7",
              "Non-ASCII sender address requires SMTPUTF8");
}

TEST(ParseCommandTest, MailSmtpUtf8PermitsUtf8) {
  Command c = ExpectOk("MAIL FROM:<jöran@bücher.example> SMTPUTF8");
  EXPECT_TRUE(c.mail.smtputf8);
  EXPECT_EQ(c.path.mailbox.local_part, "jöran");
  EXPECT_TRUE(c.has_parameters);
  EXPECT_TRUE(ExpectOk("MAIL FROM:<a@b.example> smtputf8").mail.smtputf8);
  // utf8_transaction is for RCPT; MAIL needs the parameter itself.
  ParseOptions options;
  options.utf8_transaction = true;
  ExpectError("MAIL FROM:<jöran@example.com>", 553, "5.6.7", {}, options);
}

TEST(ParseCommandTest, RcptTo) {
  Command c = ExpectOk("RCPT TO:<bob@example.com>");
  EXPECT_EQ(c.verb, Verb::kRcpt);
  EXPECT_EQ(c.path.mailbox.ToString(), "bob@example.com");
  EXPECT_EQ(ExpectOk("rcpt to: <bob@example.com>").path.mailbox.local_part, "bob");
  EXPECT_EQ(ExpectOk("RCPT To:  <bob@example.com>").path.mailbox.local_part, "bob");
  c = ExpectOk("RCPT TO:<Postmaster>");
  EXPECT_TRUE(c.path.postmaster);
  c = ExpectOk("RCPT TO:<postmaster>");
  EXPECT_TRUE(c.path.postmaster);
  c = ExpectOk("RCPT TO:<@local.test:user@remote.example>");
  EXPECT_TRUE(c.path.had_source_route);
  EXPECT_EQ(c.path.mailbox.domain, "remote.example");
  c = ExpectOk("RCPT TO:<user%remote.example@local.test>");
  EXPECT_EQ(c.path.mailbox.local_part, "user%remote.example");
  EXPECT_EQ(c.path.mailbox.domain, "local.test");
}

TEST(ParseCommandTest, RcptToErrors) {
  ExpectError("RCPT", 501, "5.5.4", "Syntax: RCPT TO:<address> [parameters]");
  ExpectError("RCPT FROM:<a@b.example>", 501, "5.5.4");
  ExpectError("RCPT TO:<>", 501, "5.1.3", "Bad recipient address syntax");
  ExpectError("RCPT TO:bob@example.com", 501, "5.1.3", "Bad recipient address syntax");
  ExpectError("RCPT TO:<bob@example.com.>", 501, "5.1.3", "Bad recipient address syntax");
  ExpectError("RCPT TO:<bob>", 501, "5.1.3", "Recipient address has no domain");
  ExpectError("RCPT TO:<" + std::string(65, 'a') + "@example.com>", 501, "5.1.3",
              "Recipient address too long");
  ExpectError("RCPT TO:<a@" + std::string(300, 'b') + ">", 501, "5.1.3",
              "Recipient address too long");
  ExpectError("RCPT TO:<jöran@example.com>", 553, "5.6.7",
              "Non-ASCII recipient address requires SMTPUTF8");
  // SMTPUTF8 is a MAIL parameter; on RCPT it is unknown.
  ExpectError("RCPT TO:<jöran@example.com> SMTPUTF8", 555, "5.5.4",
              "Unrecognized parameter SMTPUTF8");
  ParseOptions options;
  options.utf8_transaction = true;
  EXPECT_EQ(ExpectOk("RCPT TO:<jöran@example.com>", options).path.mailbox.local_part, "jöran");
}

TEST(ParseCommandTest, SizeParameter) {
  EXPECT_EQ(ExpectOk("MAIL FROM:<> SIZE=0").mail.size, 0u);
  EXPECT_EQ(ExpectOk("MAIL FROM:<> size=12345").mail.size, 12345u);
  EXPECT_FALSE(ExpectOk("MAIL FROM:<>").mail.size.has_value());
  EXPECT_EQ(ExpectOk("MAIL FROM:<> SIZE=18446744073709551615").mail.size, UINT64_MAX);
  // Twenty digits are allowed; more are not.
  EXPECT_EQ(ExpectOk("MAIL FROM:<> SIZE=99999999999999999999").mail.size, UINT64_MAX);
  ExpectError("MAIL FROM:<> SIZE=999999999999999999999", 501, "5.5.4",
              "Bad SIZE value, expected up to 20 digits");
  for (const char* bad :
       {"SIZE=", "SIZE", "SIZE=-1", "SIZE=1k", "SIZE=+5", "SIZE= 5", "SIZE=0x10"}) {
    ExpectError(std::string("MAIL FROM:<> ") + bad, 501, "5.5.4");
  }
  ExpectError("MAIL FROM:<> SIZE=1 SIZE=2", 501, "5.5.4", "Duplicate parameter SIZE");
}

TEST(ParseCommandTest, SizeAboveTheCeilingStaysAboveIt) {
  ParseOptions options;
  options.max_size_value = 1000;
  EXPECT_EQ(ExpectOk("MAIL FROM:<> SIZE=1000", options).mail.size, 1000u);
  EXPECT_EQ(ExpectOk("MAIL FROM:<> SIZE=1001", options).mail.size, 1001u);
  EXPECT_EQ(ExpectOk("MAIL FROM:<> SIZE=99999999999", options).mail.size, 1001u);
}

TEST(ParseCommandTest, BodyParameter) {
  Command c = ExpectOk("MAIL FROM:<> BODY=8BITMIME");
  EXPECT_EQ(c.mail.body, BodyType::k8BitMime);
  EXPECT_TRUE(c.mail.body_given);
  c = ExpectOk("MAIL FROM:<> body=7bit");
  EXPECT_EQ(c.mail.body, BodyType::k7Bit);
  EXPECT_TRUE(c.mail.body_given);
  EXPECT_FALSE(ExpectOk("MAIL FROM:<>").mail.body_given);
  EXPECT_EQ(ExpectOk("MAIL FROM:<> Body=8bitMime").mail.body, BodyType::k8BitMime);
  ExpectError("MAIL FROM:<> BODY=BINARYMIME", 504, "5.5.4", "BODY=BINARYMIME is not supported");
  ExpectError("MAIL FROM:<> BODY=binarymime", 504, "5.5.4");
  ExpectError("MAIL FROM:<> BODY=8BIT", 501, "5.5.4", "Bad BODY value, expected 7BIT or 8BITMIME");
  ExpectError("MAIL FROM:<> BODY=", 501, "5.5.4", "Parameter BODY needs a value");
  ExpectError("MAIL FROM:<> BODY", 501, "5.5.4", "Parameter BODY needs a value");
  ExpectError("MAIL FROM:<> BODY=7BIT BODY=7BIT", 501, "5.5.4", "Duplicate parameter BODY");
}

TEST(ParseCommandTest, SmtpUtf8Parameter) {
  ExpectError("MAIL FROM:<> SMTPUTF8=yes", 501, "5.5.4", "Parameter SMTPUTF8 takes no value");
  ExpectError("MAIL FROM:<> SMTPUTF8=", 501, "5.5.4");
  ExpectError("MAIL FROM:<> SMTPUTF8 SMTPUTF8", 501, "5.5.4", "Duplicate parameter SMTPUTF8");
}

TEST(ParseCommandTest, DsnMailParameters) {
  Command c = ExpectOk("MAIL FROM:<a@b.example> RET=FULL ENVID=QQ314159");
  EXPECT_EQ(c.mail.ret, DsnRet::kFull);
  EXPECT_EQ(c.mail.envid, "QQ314159");
  EXPECT_EQ(ExpectOk("MAIL FROM:<> ret=hdrs").mail.ret, DsnRet::kHeaders);
  EXPECT_EQ(ExpectOk("MAIL FROM:<>").mail.ret, DsnRet::kUnspecified);
  EXPECT_EQ(ExpectOk("MAIL FROM:<> ENVID=a+2Bb+3Dc+20d").mail.envid, "a+b=c d");
  ExpectError("MAIL FROM:<> RET=NONE", 501, "5.5.4", "Bad RET value, expected FULL or HDRS");
  ExpectError("MAIL FROM:<> RET=FULL RET=HDRS", 501, "5.5.4", "Duplicate parameter RET");
  // RFC 3461 §4.4: at most 100 characters.
  EXPECT_EQ(ExpectOk("MAIL FROM:<> ENVID=" + std::string(100, 'x')).mail.envid.size(), 100u);
  ExpectError("MAIL FROM:<> ENVID=" + std::string(101, 'x'), 501, "5.5.4",
              "ENVID longer than 100 characters");
  ExpectError("MAIL FROM:<> ENVID=a+2", 501, "5.5.4");
  ExpectError("MAIL FROM:<> ENVID=a+GG", 501, "5.5.4");
  ExpectError("MAIL FROM:<> ENVID=a+0D+0A", 501, "5.5.4");  // decoded, not printable
  ExpectError("MAIL FROM:<> ENVID=", 501, "5.5.4");
  ExpectError("MAIL FROM:<> ENVID=x ENVID=y", 501, "5.5.4", "Duplicate parameter ENVID");
}

TEST(ParseCommandTest, AuthMailParameter) {
  EXPECT_EQ(ExpectOk("MAIL FROM:<a@b.example> AUTH=<>").mail.auth, "<>");
  EXPECT_EQ(ExpectOk("MAIL FROM:<a@b.example> AUTH=e+3Dmc2@example.com").mail.auth,
            "e=mc2@example.com");
  ExpectError("MAIL FROM:<a@b.example> AUTH=a+Z", 501, "5.5.4", "Bad AUTH value, expected xtext");
  ExpectError("MAIL FROM:<a@b.example> AUTH=", 501, "5.5.4");
  ExpectError("MAIL FROM:<a@b.example> AUTH=<> AUTH=<>", 501, "5.5.4");
}

TEST(ParseCommandTest, NotifyParameter) {
  EXPECT_EQ(ExpectOk("RCPT TO:<a@b.example> NOTIFY=NEVER").rcpt.notify, kNotifyNever);
  EXPECT_EQ(ExpectOk("RCPT TO:<a@b.example> notify=success,failure,delay").rcpt.notify,
            kNotifySuccess | kNotifyFailure | kNotifyDelay);
  EXPECT_EQ(ExpectOk("RCPT TO:<a@b.example> NOTIFY=Delay").rcpt.notify, kNotifyDelay);
  EXPECT_EQ(ExpectOk("RCPT TO:<a@b.example>").rcpt.notify, 0u);
  ExpectError("RCPT TO:<a@b.example> NOTIFY=NEVER,SUCCESS", 501, "5.5.4",
              "NOTIFY=NEVER cannot be combined with other values");
  ExpectError("RCPT TO:<a@b.example> NOTIFY=FAILURE,NEVER", 501, "5.5.4");
  for (const char* bad : {"NOTIFY=", "NOTIFY", "NOTIFY=SOMETIMES", "NOTIFY=SUCCESS,",
                          "NOTIFY=,DELAY", "NOTIFY=SUCCESS,,DELAY"}) {
    ExpectError(std::string("RCPT TO:<a@b.example> ") + bad, 501, "5.5.4");
  }
  ExpectError("RCPT TO:<a@b.example> NOTIFY=DELAY NOTIFY=DELAY", 501, "5.5.4",
              "Duplicate parameter NOTIFY");
}

TEST(ParseCommandTest, OrcptParameter) {
  Command c = ExpectOk("RCPT TO:<a@b.example> ORCPT=rfc822;a+2Bx@b.example");
  EXPECT_EQ(c.rcpt.orcpt_type, "rfc822");
  EXPECT_EQ(c.rcpt.orcpt, "a+x@b.example");
  c = ExpectOk("RCPT TO:<a@b.example> ORCPT=RFC822;a@b.example NOTIFY=FAILURE");
  EXPECT_EQ(c.rcpt.orcpt_type, "rfc822");
  EXPECT_EQ(c.rcpt.notify, kNotifyFailure);
  // RFC 6533 §3: the utf-8 address type may carry raw UTF-8.
  ParseOptions options;
  options.utf8_transaction = true;
  c = ExpectOk("RCPT TO:<jöran@b.example> ORCPT=utf-8;jöran@b.example", options);
  EXPECT_EQ(c.rcpt.orcpt_type, "utf-8");
  EXPECT_EQ(c.rcpt.orcpt, "jöran@b.example");
  for (const char* bad :
       {"ORCPT=", "ORCPT=rfc822", "ORCPT=;a@b", "ORCPT=rfc822;", "ORCPT=rfc822;a+2",
        "ORCPT=rfc.822;a@b", "ORCPT=rfc822;jöran@b.example", "ORCPT=rfc822;a+0Ab"}) {
    ExpectError(std::string("RCPT TO:<a@b.example> ") + bad, 501, "5.5.4", {}, options);
  }
  // RFC 3461 §4.2: the value may be up to 500 characters.
  std::string orcpt500 = "ORCPT=rfc822;" + std::string(500 - 7, 'x');
  ExpectOk("RCPT TO:<a@b.example> " + orcpt500);
  ExpectError("RCPT TO:<a@b.example> " + orcpt500 + "x", 501, "5.5.4",
              "ORCPT longer than 500 characters");
  ExpectError("RCPT TO:<a@b.example> ORCPT=rfc822;a@b ORCPT=rfc822;a@b", 501, "5.5.4",
              "Duplicate parameter ORCPT");
}

TEST(ParseCommandTest, ParametersAreSpaceSeparated) {
  Command c = ExpectOk("MAIL FROM:<a@b.example>  SIZE=5   BODY=8BITMIME\tSMTPUTF8 ");
  EXPECT_EQ(c.mail.size, 5u);
  EXPECT_EQ(c.mail.body, BodyType::k8BitMime);
  EXPECT_TRUE(c.mail.smtputf8);
  EXPECT_TRUE(c.has_parameters);
}

TEST(ParseCommandTest, UnknownParameters) {
  ExpectError("MAIL FROM:<> FOO", 555, "5.5.4", "Unrecognized parameter FOO");
  ExpectError("MAIL FROM:<> foo=bar", 555, "5.5.4", "Unrecognized parameter FOO");
  ExpectError("MAIL FROM:<> X-Y=1", 555, "5.5.4", "Unrecognized parameter X-Y");
  ExpectError("MAIL FROM:<> NOTIFY=NEVER", 555, "5.5.4", "Unrecognized parameter NOTIFY");
  ExpectError("RCPT TO:<a@b.example> SIZE=1", 555, "5.5.4", "Unrecognized parameter SIZE");
  ExpectError("RCPT TO:<a@b.example> BODY=7BIT", 555, "5.5.4");
  ExpectError("MAIL FROM:<> SIZE=1 FOO SIZE=2", 555, "5.5.4");
  // A long unknown keyword is shortened in the reply.
  ParsedCommand parsed = Parse("MAIL FROM:<> " + std::string(500, 'K'));
  ASSERT_TRUE(parsed.error);
  EXPECT_EQ(parsed.error->code, 555);
  EXPECT_LT(parsed.error->lines[0].size(), 80u);
}

TEST(ParseCommandTest, MalformedParameterKeywords) {
  ExpectError("MAIL FROM:<> =5", 501, "5.5.4", "Malformed parameter =5");
  ExpectError("MAIL FROM:<> -X=1", 501, "5.5.4");
  ExpectError("MAIL FROM:<> SI_ZE=1", 501, "5.5.4");
  ExpectError("MAIL FROM:<> SIZ\xc3\xa9=1", 501, "5.5.4",
              "Malformed parameter SIZ?"
              "?=1");
}

TEST(ParseCommandTest, ParametersNeedEhlo) {
  ParseOptions helo;
  helo.extended = false;
  ExpectOk("MAIL FROM:<a@b.example>", helo);
  ExpectOk("RCPT TO:<a@b.example>", helo);
  ExpectError("MAIL FROM:<a@b.example> SIZE=10", 555, "5.5.4",
              "Parameters not allowed without EHLO", helo);
  ExpectError("RCPT TO:<a@b.example> NOTIFY=NEVER", 555, "5.5.4", {}, helo);
  ExpectError("MAIL FROM:<jöran@b.example> SMTPUTF8", 555, "5.5.4", {}, helo);
}

TEST(ParseCommandTest, RepliesNeverEchoRawBytes) {
  ParsedCommand parsed = Parse("MAIL FROM:<> FOO\xff\xfe=1");
  ASSERT_TRUE(parsed.error);
  for (char c : parsed.error->Serialize().substr(0, parsed.error->Serialize().size() - 2)) {
    auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 && u < 0x7f);
  }
}

}  // namespace
}  // namespace postern::smtp
