// Tests for Reply serialization: multi-line form, enhanced codes on every
// line, and sanitizing of text so a reply cannot inject lines.
#include "smtp/reply.h"

#include <gtest/gtest.h>

#include <string>

namespace postern::smtp {
namespace {

TEST(ReplyTest, SingleLineWithEnhancedCode) {
  Reply reply(250, "2.1.0", "Sender OK");
  EXPECT_EQ(reply.Serialize(), "250 2.1.0 Sender OK\r\n");
}

TEST(ReplyTest, SingleLineWithoutEnhancedCode) {
  Reply reply(354, "", "End data with <CR><LF>.<CR><LF>");
  EXPECT_EQ(reply.Serialize(), "354 End data with <CR><LF>.<CR><LF>\r\n");
}

TEST(ReplyTest, MultiLineEnhancedOnEveryLine) {
  Reply reply;
  reply.code = 250;
  reply.enhanced = "2.0.0";
  reply.lines = {"mx.example.test", "PIPELINING", "SIZE 1000"};
  EXPECT_EQ(reply.Serialize(),
            "250-2.0.0 mx.example.test\r\n250-2.0.0 PIPELINING\r\n250 2.0.0 SIZE 1000\r\n");
}

TEST(ReplyTest, MultiLineWithoutEnhanced) {
  Reply reply;
  reply.code = 250;
  reply.lines = {"mx.example.test", "8BITMIME"};
  EXPECT_EQ(reply.Serialize(), "250-mx.example.test\r\n250 8BITMIME\r\n");
}

TEST(ReplyTest, EmptyTextAndNoLines) {
  Reply reply;
  reply.code = 250;
  EXPECT_EQ(reply.Serialize(), "250\r\n");
  reply.enhanced = "2.0.0";
  EXPECT_EQ(reply.Serialize(), "250 2.0.0\r\n");
  reply.lines = {"", ""};
  EXPECT_EQ(reply.Serialize(), "250-2.0.0\r\n250 2.0.0\r\n");
}

TEST(ReplyTest, ControlCharactersCannotInjectLines) {
  using std::string_literals::operator""s;
  Reply reply(550, "5.1.1", "no\r\n250 2.0.0 injected\nx\ry\0z\x7f\x1b"s);
  std::string wire = reply.Serialize();
  EXPECT_EQ(wire, "550 5.1.1 no??250 2.0.0 injected?x?y?z??\r\n");
  EXPECT_EQ(wire.find('\r'), wire.size() - 2);
  EXPECT_EQ(wire.find('\n'), wire.size() - 1);
}

TEST(ReplyTest, EnhancedCodeIsSanitizedToo) {
  Reply reply(550, "5.1.1\r\n", "x");
  EXPECT_EQ(reply.Serialize(), "550 5.1.1?? x\r\n");
}

TEST(ReplyTest, Utf8TextIsKept) {
  Reply reply(250, "2.0.0", "Grüße");
  EXPECT_EQ(reply.Serialize(), "250 2.0.0 Grüße\r\n");
}

TEST(ReplyTest, Summary) {
  Reply reply;
  reply.code = 550;
  reply.enhanced = "5.1.1";
  reply.lines = {"User unknown", "second line"};
  EXPECT_EQ(reply.Summary(), "550 5.1.1 User unknown");
  EXPECT_EQ(Reply(221, "", "Bye\r\n").Summary(), "221 Bye??");
  EXPECT_EQ(Reply(250, "", "").Summary(), "250");
}

TEST(ReplyTest, Classification) {
  EXPECT_TRUE(Reply(250, "2.0.0", "ok").IsPositive());
  EXPECT_TRUE(Reply(354, "", "go").IsPositive());
  EXPECT_TRUE(Reply(451, "4.3.0", "later").IsTransient());
  EXPECT_TRUE(Reply(554, "5.3.0", "no").IsPermanent());
  EXPECT_TRUE(Reply(221, "2.0.0", "Bye", true).close);
  EXPECT_FALSE(Reply(250, "2.0.0", "ok").close);
}

}  // namespace
}  // namespace postern::smtp
