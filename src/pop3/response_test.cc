#include "pop3/response.h"

#include <gtest/gtest.h>

namespace postern::pop3 {
namespace {

std::string Retr(std::string_view message) {
  std::string out;
  AppendMessage(message, std::nullopt, &out);
  return out;
}

std::string Top(std::string_view message, uint64_t lines) {
  std::string out;
  AppendMessage(message, lines, &out);
  return out;
}

TEST(Pop3ResponseTest, StatusLines) {
  EXPECT_EQ(OkLine("ready"), "+OK ready\r\n");
  EXPECT_EQ(OkLine(""), "+OK\r\n");
  EXPECT_EQ(ErrLine("IN-USE", "Mailbox locked"), "-ERR [IN-USE] Mailbox locked\r\n");
  EXPECT_EQ(ErrLine("", "No such message"), "-ERR No such message\r\n");
  // Echoed text cannot inject a line.
  EXPECT_EQ(ErrLine("", "a\r\nb\0c"), "-ERR a  b\r\n");
  EXPECT_EQ(ErrLine("", std::string_view("a\r\nb\0c", 6)), "-ERR a  b c\r\n");
  // RFC 2449 §4: 512 octets with CRLF.
  std::string line = OkLine(std::string(1000, 'x'));
  EXPECT_EQ(line.size(), kMaxResponseLine);
  EXPECT_TRUE(line.ends_with("xx\r\n"));
}

TEST(Pop3ResponseTest, RetrDotStuffsAndTerminates) {
  EXPECT_EQ(Retr("Subject: a\r\n\r\nbody\r\n"), "Subject: a\r\n\r\nbody\r\n.\r\n");
  EXPECT_EQ(Retr("S: a\r\n\r\n.\r\n..x\r\n.\r\n"), "S: a\r\n\r\n..\r\n...x\r\n..\r\n.\r\n");
  // Bare LF is sent as CRLF; a last line without its end gets one.
  EXPECT_EQ(Retr("S: a\n\nline\nlast"), "S: a\r\n\r\nline\r\nlast\r\n.\r\n");
  EXPECT_EQ(Retr(""), ".\r\n");
  EXPECT_EQ(Retr(".\r\n"), "..\r\n.\r\n");
}

TEST(Pop3ResponseTest, TopSendsHeaderBlankLineAndNLines) {
  const std::string m = "A: 1\r\nB: 2\r\n\r\none\r\n.two\r\nthree\r\n";
  EXPECT_EQ(Top(m, 0), "A: 1\r\nB: 2\r\n\r\n.\r\n");
  EXPECT_EQ(Top(m, 2), "A: 1\r\nB: 2\r\n\r\none\r\n..two\r\n.\r\n");
  EXPECT_EQ(Top(m, 99), Retr(m));
  // No body at all: the whole message.
  EXPECT_EQ(Top("A: 1\r\n", 0), "A: 1\r\n.\r\n");
}

TEST(Pop3ResponseTest, TransferSizeCountsWhatRetrSends) {
  for (std::string_view m : {"S: a\r\n\r\nbody\r\n", "S: a\n\nbody\n", "no end", "", "\n\n",
                             "a\r\r\n.b\r\n", ".\r\n..\r\n"}) {
    std::string out = Retr(m);
    // Undo the dot-stuffing and the terminator: what is left is counted.
    std::string unstuffed;
    size_t pos = 0;
    while (pos < out.size()) {
      size_t end = out.find("\r\n", pos) + 2;
      std::string_view line(out.data() + pos, end - pos);
      if (line == ".\r\n" && end == out.size()) break;
      if (line.front() == '.') line.remove_prefix(1);
      unstuffed += line;
      pos = end;
    }
    EXPECT_EQ(TransferSize(m), unstuffed.size()) << m;
  }
  EXPECT_EQ(TransferSize("S: a\r\n\r\nbody\r\n"), 14u);  // CRLF stored: its own size
  EXPECT_EQ(TransferSize("S: a\n\nbody\n"), 14u);
}

TEST(Pop3ResponseTest, UidlIsDovecotsDefaultForm) {
  EXPECT_EQ(Uidl(0x5f5e1234, 1), "000000015F5E1234");
  EXPECT_EQ(Uidl(4294967295u, 4294967295u), "FFFFFFFFFFFFFFFF");
  EXPECT_NE(Uidl(1, 2), Uidl(2, 1));
}

}  // namespace
}  // namespace postern::pop3
