#include "smtpclient/reply.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace postern::smtpclient {
namespace {

// Feeds lines until the parser is done; returns the reply and final state.
std::pair<ReplyParser::State, Reply> Parse(std::initializer_list<std::string> lines,
                                           size_t max_line = 2048, size_t max_lines = 100) {
  ReplyParser parser(max_line, max_lines);
  ReplyParser::State state = ReplyParser::State::kMore;
  for (const auto& line : lines) {
    state = parser.Feed(line);
    if (state != ReplyParser::State::kMore) break;
  }
  return {state, parser.Take()};
}

TEST(ReplyParserTest, SingleLine) {
  auto [state, reply] = Parse({"250 OK"});
  EXPECT_EQ(state, ReplyParser::State::kDone);
  EXPECT_EQ(reply.code, 250);
  EXPECT_EQ(reply.enhanced, "");
  EXPECT_EQ(reply.lines, (std::vector<std::string>{"OK"}));
  EXPECT_TRUE(reply.positive());
  EXPECT_EQ(reply.ToString(), "250 OK");
}

TEST(ReplyParserTest, MultilineWithEnhancedCodes) {
  auto [state, reply] = Parse({"550-5.1.1 The email account that you tried to reach",
                               "550-5.1.1 does not exist.", "550 5.1.1 Please check the address."});
  EXPECT_EQ(state, ReplyParser::State::kDone);
  EXPECT_EQ(reply.code, 550);
  EXPECT_EQ(reply.enhanced, "5.1.1");
  EXPECT_EQ(reply.lines.size(), 3u);
  EXPECT_EQ(reply.lines[1], "does not exist.");
  EXPECT_TRUE(reply.permanent());
  EXPECT_FALSE(reply.transient());
  EXPECT_EQ(reply.ToString(),
            "550 5.1.1 The email account that you tried to reach does not exist. Please check "
            "the address.");
}

TEST(ReplyParserTest, EhloStyleAndBareCodes) {
  auto [state, reply] = Parse({"250-mx.example.net", "250-PIPELINING", "250 "});
  EXPECT_EQ(state, ReplyParser::State::kDone);
  EXPECT_EQ(reply.lines, (std::vector<std::string>{"mx.example.net", "PIPELINING", ""}));
  auto [state2, bare] = Parse({"354"});
  EXPECT_EQ(state2, ReplyParser::State::kDone);
  EXPECT_EQ(bare.code, 354);
  EXPECT_EQ(bare.ToString(), "354");
}

TEST(ReplyParserTest, EnhancedCodeMustMatchTheClass) {
  EXPECT_EQ(Parse({"451 5.7.1 odd"}).second.enhanced, "");
  EXPECT_EQ(Parse({"451 4.7.1 greylisted"}).second.enhanced, "4.7.1");
  EXPECT_EQ(Parse({"250 2.0.0"}).second.lines, (std::vector<std::string>{""}));
  EXPECT_EQ(Parse({"250 2.0.0x"}).second.enhanced, "") << "must end at a space";
  EXPECT_EQ(Parse({"250 2.1234.0 x"}).second.enhanced, "");
  EXPECT_EQ(Parse({"421 4.3.2 bye"}).second.transient(), true);
}

TEST(ReplyParserTest, MalformedRepliesAreTemporaryFailures) {
  for (auto lines :
       {std::initializer_list<std::string>{"hello"}, std::initializer_list<std::string>{"25"},
        std::initializer_list<std::string>{"650 no such class"},
        std::initializer_list<std::string>{"260 bad second digit"},
        std::initializer_list<std::string>{"250x"},
        std::initializer_list<std::string>{"250-first", "251 second"},
        std::initializer_list<std::string>{""}}) {
    auto [state, reply] = Parse(lines);
    EXPECT_EQ(state, ReplyParser::State::kError) << *lines.begin();
    EXPECT_EQ(reply.code, 0);
    EXPECT_TRUE(reply.transient());
    EXPECT_NE(reply.ToString().find("malformed reply"), std::string::npos) << reply.ToString();
  }
  auto [state, reply] = Parse({"250-a", "251 b"});
  EXPECT_EQ(reply.ToString(),
            "malformed reply from the server: a multiline reply mixes codes 250 "
            "and 251");
}

TEST(ReplyParserTest, LimitsHold) {
  auto [state, reply] = Parse({"250 " + std::string(100, 'x')}, 50);
  EXPECT_EQ(state, ReplyParser::State::kError);
  ReplyParser parser(2048, 3);
  EXPECT_EQ(parser.Feed("250-1"), ReplyParser::State::kMore);
  EXPECT_EQ(parser.Feed("250-2"), ReplyParser::State::kMore);
  EXPECT_EQ(parser.Feed("250-3"), ReplyParser::State::kMore);
  EXPECT_EQ(parser.Feed("250 4"), ReplyParser::State::kError);
  EXPECT_EQ(parser.Take().code, 0);
  // Ready for the next reply.
  EXPECT_EQ(parser.Feed("220 again"), ReplyParser::State::kDone);
  EXPECT_EQ(parser.Take().code, 220);
}

TEST(ReplyParserTest, ControlCharactersAreReplaced) {
  auto [state, reply] = Parse({std::string("250 a\0b\x1b[31m\tc", 14)});
  EXPECT_EQ(reply.lines[0], "a?b?[31m\tc");
}

}  // namespace
}  // namespace postern::smtpclient
