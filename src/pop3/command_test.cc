#include "pop3/command.h"

#include <gtest/gtest.h>

namespace postern::pop3 {
namespace {

Command Parse(std::string_view line) {
  ParsedCommand p = ParseCommand(line);
  EXPECT_TRUE(p.ok()) << line << ": " << p.error;
  return p.ok() ? *p.command : Command{};
}

std::string ErrorOf(std::string_view line) {
  ParsedCommand p = ParseCommand(line);
  EXPECT_FALSE(p.ok()) << line;
  return p.error;
}

TEST(Pop3CommandTest, KeywordsAreCaseInsensitive) {
  EXPECT_EQ(Parse("capa").verb, Verb::kCapa);
  EXPECT_EQ(Parse("Stat").verb, Verb::kStat);
  EXPECT_EQ(Parse("QUIT").verb, Verb::kQuit);
  EXPECT_EQ(Parse("top 1 0").verb, Verb::kTop);
  EXPECT_EQ(Parse("STLS").verb, Verb::kStls);
  EXPECT_EQ(VerbName(Verb::kUidl), "UIDL");
}

TEST(Pop3CommandTest, MessageNumbers) {
  EXPECT_FALSE(Parse("LIST").message.has_value());
  EXPECT_EQ(*Parse("LIST 7").message, 7u);
  EXPECT_EQ(*Parse("UIDL 4294967295").message, 4294967295u);
  EXPECT_EQ(*Parse("RETR 1").message, 1u);
  EXPECT_EQ(*Parse("DELE 12").message, 12u);
  Command top = Parse("TOP 3 10");
  EXPECT_EQ(*top.message, 3u);
  EXPECT_EQ(top.lines, 10u);
  EXPECT_EQ(Parse("TOP 3 0").lines, 0u);
  EXPECT_EQ(ErrorOf("RETR 0"), "Invalid message number");
  EXPECT_EQ(ErrorOf("RETR -1"), "Invalid message number");
  EXPECT_EQ(ErrorOf("RETR +1"), "Invalid message number");
  EXPECT_EQ(ErrorOf("RETR 4294967296"), "Invalid message number");
  EXPECT_EQ(ErrorOf("RETR 1x"), "Invalid message number");
  EXPECT_EQ(ErrorOf("TOP 1 18446744073709551616"), "Invalid line count");
  EXPECT_EQ(ErrorOf("RETR"), "RETR needs one message number");
  EXPECT_EQ(ErrorOf("RETR 1 2"), "RETR needs one message number");
  EXPECT_EQ(ErrorOf("TOP 1"), "TOP needs a message number and a line count");
  EXPECT_EQ(ErrorOf("LIST 1 2"), "LIST takes at most one message number");
  // RFC 1939 §3: arguments are at most 40 characters.
  EXPECT_EQ(ErrorOf("RETR " + std::string(41, '0') + "1"), "Invalid message number");
  EXPECT_EQ(*Parse("RETR " + std::string(39, '0') + "1").message, 1u);
}

TEST(Pop3CommandTest, ParametersAreSeparatedByOneSpace) {
  EXPECT_EQ(ErrorOf("RETR  1"), "Parameters must be separated by one space");
  EXPECT_EQ(ErrorOf("RETR 1 "), "Parameters must be separated by one space");
  EXPECT_EQ(ErrorOf("STAT 1"), "STAT takes no parameters");
  EXPECT_EQ(ErrorOf("QUIT now"), "QUIT takes no parameters");
  EXPECT_EQ(ErrorOf("NOOP "), "Parameters must be separated by one space");
}

TEST(Pop3CommandTest, UserAndPass) {
  EXPECT_EQ(Parse("USER alice@example.test").argument, "alice@example.test");
  std::string long_name(60, 'a');
  EXPECT_EQ(Parse("USER " + long_name + "@example.test").argument, long_name + "@example.test");
  EXPECT_EQ(ErrorOf("USER"), "USER needs one name");
  EXPECT_EQ(ErrorOf("USER a b"), "USER needs one name");
  // RFC 1939 §7: the password is the rest of the line, spaces included.
  EXPECT_EQ(Parse("PASS correct horse battery").argument, "correct horse battery");
  EXPECT_EQ(Parse("PASS  leading space").argument, " leading space");
  EXPECT_EQ(Parse("PASS caf\xc3\xa9").argument, "caf\xc3\xa9");
  EXPECT_EQ(ErrorOf("PASS"), "PASS needs a password");
  EXPECT_EQ(ErrorOf("PASS "), "PASS needs a password");
}

TEST(Pop3CommandTest, Auth) {
  Command list = Parse("AUTH");
  EXPECT_TRUE(list.argument.empty());
  EXPECT_FALSE(list.initial_response);
  Command plain = Parse("auth plain");
  EXPECT_EQ(plain.argument, "PLAIN");
  EXPECT_FALSE(plain.initial_response);
  Command ir = Parse("AUTH PLAIN AGEAYg==");
  EXPECT_EQ(*ir.initial_response, "AGEAYg==");
  EXPECT_EQ(*Parse("AUTH PLAIN =").initial_response, "=");
  EXPECT_FALSE(ParseCommand("AUTH PLAIN a b").ok());
}

TEST(Pop3CommandTest, HostileInput) {
  EXPECT_EQ(ErrorOf(""), "Unknown command");
  EXPECT_EQ(ErrorOf("XX"), "Unknown command");
  EXPECT_EQ(ErrorOf("RETRIEVE 1"), "Unknown command");
  EXPECT_EQ(ErrorOf("HELO"), "Unknown command");
  EXPECT_EQ(ErrorOf(" STAT"), "Unknown command");
  EXPECT_EQ(ErrorOf(std::string_view("ST\0T", 4)), "Invalid character in command");
  EXPECT_EQ(ErrorOf(std::string_view("PASS a\0b", 8)), "Invalid character in command");
  EXPECT_EQ(ErrorOf("USER a\tb"), "Invalid character in command");
  EXPECT_EQ(ErrorOf("NOOP\r"), "Invalid character in command");
  EXPECT_EQ(ErrorOf("DELE \x7f"), "Invalid character in command");
  // RFC 2449 §4: 255 octets with CRLF.
  EXPECT_TRUE(ParseCommand("PASS " + std::string(248, 'x')).ok());
  EXPECT_EQ(ErrorOf("PASS " + std::string(249, 'x')), "Command line too long");
}

TEST(Pop3CommandTest, SaslResponsesAreStrictBase64) {
  EXPECT_EQ(*DecodeSaslResponse("="), "");
  EXPECT_EQ(*DecodeSaslResponse("AGEAYg=="), std::string("\0a\0b", 4));
  EXPECT_EQ(*DecodeSaslResponse("YWJj"), "abc");
  EXPECT_EQ(*DecodeSaslResponse("YWI="), "ab");
  EXPECT_FALSE(DecodeSaslResponse(""));
  EXPECT_FALSE(DecodeSaslResponse("YWJ"));
  EXPECT_FALSE(DecodeSaslResponse("YW=j"));
  EXPECT_FALSE(DecodeSaslResponse("Y==="));
  EXPECT_FALSE(DecodeSaslResponse("YW J"));
  EXPECT_FALSE(DecodeSaslResponse("*"));
  EXPECT_FALSE(DecodeSaslResponse("YR=="));  // pad bits set
}

}  // namespace
}  // namespace postern::pop3
