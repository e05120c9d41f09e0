#include "smtpclient/protocol.h"

#include <gtest/gtest.h>

#include "smtp/command.h"

namespace postern::smtpclient {
namespace {

Reply Lines(std::vector<std::string> lines) {
  Reply reply;
  reply.code = 250;
  reply.lines = std::move(lines);
  return reply;
}

TEST(ParseEhloTest, Extensions) {
  Extensions ext =
      ParseEhlo(Lines({"mx.example.net greets you", "PIPELINING", "SIZE 10240000", "8bitmime",
                       "DSN", "SMTPUTF8", "STARTTLS", "REQUIRETLS", "CHUNKING", "AUTH PLAIN login",
                       "AUTH=LOGIN CRAM-MD5", "ENHANCEDSTATUSCODES"}));
  EXPECT_TRUE(ext.pipelining && ext.eightbitmime && ext.dsn && ext.smtputf8 && ext.starttls &&
              ext.requiretls && ext.chunking);
  EXPECT_EQ(ext.size, 10240000u);
  EXPECT_TRUE(ext.size_offered);
  EXPECT_EQ(ext.auth, (std::vector<std::string>{"PLAIN", "LOGIN", "CRAM-MD5"}));
  // The greeting line is not a keyword.
  EXPECT_FALSE(ParseEhlo(Lines({"STARTTLS"})).starttls);
  Extensions bare = ParseEhlo(Lines({"x", "SIZE"}));
  EXPECT_TRUE(bare.size_offered);
  EXPECT_EQ(bare.size, 0u);
  EXPECT_EQ(ParseEhlo(Lines({"x", "SIZE 99999999999999999999999"})).size, 0u);
}

TEST(CommandTest, MailWithEverything) {
  Envelope envelope;
  envelope.mail_from = "alice@example.org";
  envelope.body_type = "8BITMIME";
  envelope.smtputf8 = true;
  envelope.dsn_ret = "hdrs";
  envelope.dsn_envid = "id+1=2 x";
  envelope.requiretls = true;
  Extensions ext;
  ext.size_offered = true;
  ext.eightbitmime = ext.smtputf8 = ext.dsn = true;
  EXPECT_EQ(MailCommand(envelope, ext, 1234),
            "MAIL FROM:<alice@example.org> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=HDRS "
            "ENVID=id+2B1+3D2+20x REQUIRETLS");
  EXPECT_EQ(MailCommand(envelope, Extensions(), 1234), "MAIL FROM:<alice@example.org> REQUIRETLS");
  envelope.mail_from = "";
  envelope.requiretls = false;
  EXPECT_EQ(MailCommand(envelope, Extensions(), 1), "MAIL FROM:<>");
}

TEST(CommandTest, RcptDsnOnlyWhenOffered) {
  Recipient rcpt{"bob@example.net", smtp::kNotifySuccess | smtp::kNotifyFailure,
                 "rfc822;Bob+x=y@example.net"};
  Extensions ext;
  EXPECT_EQ(RcptCommand(rcpt, ext), "RCPT TO:<bob@example.net>");
  ext.dsn = true;
  EXPECT_EQ(
      RcptCommand(rcpt, ext),
      "RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob+2Bx+3Dy@example.net");
  rcpt.notify = smtp::kNotifyNever;
  rcpt.orcpt = "";
  EXPECT_EQ(RcptCommand(rcpt, ext), "RCPT TO:<bob@example.net> NOTIFY=NEVER");
}

TEST(CommandTest, UnsafePaths) {
  EXPECT_TRUE(SafeForPath("\"a b\"@example.net"));
  EXPECT_FALSE(SafeForPath("a@b> SIZE=1"));
  EXPECT_FALSE(SafeForPath("a@b\r\nRCPT TO:<c@d"));
}

std::string Stuff(std::vector<std::string> pieces) {
  DotStuffer stuffer;
  std::string out;
  for (const auto& piece : pieces) stuffer.Stuff(piece, &out);
  stuffer.Finish(&out);
  return out;
}

TEST(DotStufferTest, Transparency) {
  EXPECT_EQ(Stuff({".a\r\nb\r\n..c\r\n.\r\n"}), "..a\r\nb\r\n...c\r\n..\r\n.\r\n");
  EXPECT_EQ(Stuff({""}), ".\r\n");
  EXPECT_EQ(Stuff({"no final newline"}), "no final newline\r\n.\r\n");
  EXPECT_EQ(Stuff({"bare\nlf\n.x"}), "bare\r\nlf\r\n..x\r\n.\r\n");
  // SMTP smuggling: a bare CR or LF around a dot can never end the data.
  EXPECT_EQ(Stuff({"a\r.\rb"}), "a\r\n..\r\nb\r\n.\r\n");
  EXPECT_EQ(Stuff({"a\n.\n"}), "a\r\n..\r\n.\r\n");
  // Split anywhere: the same result.
  EXPECT_EQ(Stuff({"a\r", "\n", ".", "b\r"}), "a\r\n..b\r\n.\r\n");
}

}  // namespace
}  // namespace postern::smtpclient
