// Hostile input: literals whose sizes lie, 100 000-deep nesting, a 10 MB line, NUL and 8-bit
// octets, oversized numbers and lists, and "*" / "$" where they are not allowed. Every case must
// fail cleanly (no crash, no stack exhaustion) with a printable one-line error.
#include <gtest/gtest.h>

#include <string>

#include "imap/command.h"
#include "imap/command_test_util.h"

namespace postern::imap {
namespace {

TEST(HostileInputTest, LiteralSizesThatLie) {
  ExpectError("a LOGIN {10}\r\nfred pw", "Literal is longer");
  ExpectError("a LOGIN {9223372036854775807}\r\nfred", "Literal is longer");
  ExpectError("a LOGIN {18446744073709551615}\r\nfred", "out of range");
  ExpectError("a LOGIN {" + std::string(100, '9') + "}\r\nfred", "out of range");
  ExpectError("a LOGIN {4}\r\nfr", "Literal is longer");
  ExpectError("a LOGIN {2}\r\nfred pw", "Expected SP");  // the rest is not an argument
  ExpectError("a LOGIN {4}fred pw", "Expected CRLF");
  ExpectError("a LOGIN {4}\rfred pw", "Expected CRLF");
  ExpectError("a LOGIN {-4}\r\nfred pw", "Invalid literal size");
  ExpectError("a LOGIN {}\r\n pw", "Invalid literal size");
  ExpectError("a LOGIN {4 }\r\nfred pw", "Expected }");
  ExpectError("a LOGIN {4++}\r\nfred pw", "Expected }");
  ExpectError("a LOGIN fred{4}\r\nfred", "Expected SP");
  ExpectError("a APPEND x {3}\r\nab", "Literal is longer");
  ExpectError("a APPEND x ~{3}\r\nab", "Literal is longer");
}

TEST(HostileInputTest, DeepNestingIsBounded) {
  const size_t kDepth = 100'000;
  std::string parens = "a SEARCH " + std::string(kDepth, '(') + "ALL" + std::string(kDepth, ')');
  ExpectError(parens, "nested too deeply");
  std::string nots = "a SEARCH ";
  for (size_t i = 0; i < kDepth; ++i) nots += "NOT ";
  ExpectError(nots + "ALL", "nested too deeply");
  std::string ors = "a SEARCH ";
  for (size_t i = 0; i < kDepth; ++i) ors += "OR ALL ";
  ExpectError(ors + "ALL", "nested too deeply");
  std::string unclosed = "a SEARCH " + std::string(kDepth, '(');
  ExpectError(unclosed, "nested too deeply");
  // Other parenthesised arguments do not nest at all.
  ExpectError("a FETCH 1 " + std::string(kDepth, '('), "Expected a FETCH item");
  ExpectError("a STORE 1 FLAGS " + std::string(kDepth, '('), "Expected flag");
  ExpectError("a LIST " + std::string(kDepth, '(') + " x", "Expected LIST selection option");
  ExpectError("a ID " + std::string(kDepth, '('), "Expected ID field name");
  ExpectError("a SELECT x " + std::string(kDepth, '('), "Expected SELECT parameter");
  // At the limit itself, parsing succeeds.
  ParseOptions options;
  options.max_depth = 64;
  std::string deep = std::string(63, '(') + "ALL" + std::string(63, ')');
  ExpectCommand("a SEARCH " + deep, options);
}

TEST(HostileInputTest, TenMegabyteLine) {
  const size_t kSize = 10 * 1024 * 1024;
  std::string quoted = "a LOGIN fred \"" + std::string(kSize, 'x') + "\"";
  EXPECT_EQ(ExpectArgs<Login>(quoted).password.size(), kSize);
  ExpectError("a LOGIN fred \"" + std::string(kSize, 'x'), "Unterminated quoted string");
  ExpectError("a NOOP " + std::string(kSize, ' '), "Unexpected characters");
  ExpectError("a " + std::string(kSize, 'X'), "Unknown command");
  ExpectError(std::string(kSize, 'a'), "Missing command");
  // A sequence set of a million ranges is refused by the range limit, quickly.
  std::string set = "1";
  while (set.size() < kSize) set += ",1";
  ExpectError("a FETCH " + set + " FLAGS", "Too many ranges");
  // So is a search program of a million keys.
  std::string keys = "a SEARCH ALL";
  while (keys.size() < kSize) keys += " ALL";
  ExpectError(keys, "Too many search keys");
  // A huge literal that is all there: accepted.
  std::string big(kSize, 'y');
  const std::string append_command = "a APPEND INBOX {" + std::to_string(kSize) + "}\r\n" + big;
  Append append = ExpectArgs<Append>(append_command);
  EXPECT_EQ(append.messages[0].content.size(), kSize);
}

TEST(HostileInputTest, NulAndEightBit) {
  using namespace std::string_literals;
  ExpectError("a\0 NOOP"s, "Invalid tag");
  ExpectError("a NO\0OP"s, "Unknown command");
  ExpectError("a NOOP\0"s, "Unknown command");
  ExpectError("a LOGIN fr\0ed pw"s, "Expected SP");
  ExpectError("a LOGIN \"fr\0ed\" pw"s, "NUL in quoted string");
  ExpectError("a LOGIN {5}\r\nfr\0ed pw"s, "NUL in literal");
  ExpectError("a SELECT {5}\r\nfr\0ed"s, "NUL in literal");
  ExpectError("a SEARCH TEXT {1}\r\n\0"s, "NUL in literal");
  // NUL inside APPEND data is passed through for the session to judge.
  EXPECT_EQ(ExpectArgs<Append>("a APPEND x {3}\r\na\0b"s).messages[0].content, "a\0b"s);
  // 8-bit octets in atoms.
  ExpectError(
      "a LOGIN fr\xe9"
      "d pw",
      "Expected SP");
  ExpectError("a LOGIN \xff pw", "Expected user name");
  ExpectError("a SELECT caf\xc3\xa9", "Unexpected characters");
  ExpectError("a FETCH 1 (FL\x80GS)", "Unknown FETCH item");
  ExpectError("a SEARCH \xc3\xa9", "Expected search key");
  ExpectError("a STORE 1 FLAGS ($Jun\xc3\xabk)", "Expected SP or )");
  ExpectError("\xc3\xa9 NOOP", "Invalid tag");
  // Raw control octets.
  ExpectError("a\tNOOP", "Invalid tag");
  ExpectError("a NOOP\x01", "Unknown command");
  ExpectError("a LOGIN \"a\rb\" pw", "Unterminated quoted string");
}

TEST(HostileInputTest, ErrorsNeverEchoRawBytes) {
  for (std::string_view text :
       {"a FETCH 1 (\xff\xfe)", "a SEARCH \x1b[31mRED", "a SELECT x (\x01\x02)",
        "a STATUS x (\xe2\x80\xae)", "a LIST (\x7f) \"\" *", "a FOO\x80 x", "a SEARCH X\x01Y",
        "a SORT (\xf0\x9f\x98\x80) UTF-8 ALL",
        "a THREAD R\xc3\xa9"
        "FS UTF-8 ALL",
        "a FETCH 1 (BODYX\x7f)", "a STORE 1 (\x90 1) FLAGS ()"}) {
    ParseError error = ExpectError(text);  // checks printable
    EXPECT_LE(error.message.size(), 210u);
    std::string response = error.Response();
    EXPECT_EQ(response.find('\r'), response.size() - 2);
  }
  // Long unknown names are cut short in the message.
  ParseError error = ExpectError("a SEARCH " + std::string(5000, 'Z'));
  EXPECT_LT(error.message.size(), 100u);
}

TEST(HostileInputTest, NumbersOutOfRange) {
  ExpectError("a FETCH 4294967296 FLAGS", "Invalid sequence set");
  ExpectError("a FETCH 99999999999999999999999 FLAGS", "Invalid sequence set");
  ExpectError("a FETCH 1:4294967296 FLAGS", "Invalid sequence set");
  ExpectCommand("a FETCH 1:4294967295 FLAGS");
  ExpectError("a FETCH 1 (BODY[]<18446744073709551616.1>)", "out of range");
  ExpectError("a FETCH 1 (BODY[1.99999999999])", "out of range");
  ExpectError("a SEARCH LARGER 18446744073709551616", "out of range");
  ExpectError("a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)", "out of range");
  ExpectCommand("a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775807)");
  ExpectError("a STORE 1 (UNCHANGEDSINCE 99999999999999999999) FLAGS ()", "out of range");
}

TEST(HostileInputTest, StarAndSaved) {
  // "*" and "$" are accepted where a sequence set is, and as written.
  EXPECT_TRUE(ExpectArgs<Fetch>("a FETCH * FLAGS").set.HasStar());
  EXPECT_TRUE(ExpectArgs<Fetch>("a FETCH $ FLAGS").set.saved);
  EXPECT_TRUE(ExpectArgs<Store>("a STORE *:1 FLAGS ()").set.HasStar());
  EXPECT_TRUE(ExpectArgs<Copy>("a COPY $ x").set.saved);
  EXPECT_TRUE(ExpectArgs<Expunge>("a UID EXPUNGE $").uids->saved);
  // Forms that are not sequence sets.
  for (std::string_view bad :
       {"**", "*:*:*", "$:1", "1,$", "$,$", "$1", "*$", ":", ",", "1:", "$*", "*,"}) {
    ExpectError("a FETCH " + std::string(bad) + " FLAGS");
  }
  // "*" in a mailbox name position is a list wildcard, not an astring.
  ExpectError("a SELECT *", "Expected mailbox name");
  ExpectError("a SELECT %", "Expected mailbox name");
  // Wildcards are fine in LIST patterns.
  EXPECT_EQ(ExpectArgs<List>("a LIST \"\" *%*").patterns[0], "*%*");
  // QRESYNC known sets refuse both (RFC 7162 §3.2.5).
  ExpectError("a SELECT x (QRESYNC (1 1 1:5 (1:* 1:5)))", "* is not allowed");
  ExpectError("a SELECT x (QRESYNC (1 1 1:5 ($ 1:5)))", "$ is not allowed");
}

TEST(HostileInputTest, ListLimits) {
  ParseOptions options;
  options.max_list_items = 100;
  std::string flags = "a STORE 1 FLAGS (";
  for (int i = 0; i < 101; ++i) flags += (i ? " k" : "k") + std::to_string(i);
  ExpectError(flags + ")", "Too many items", options);
  std::string bare = "a STORE 1 +FLAGS";
  for (int i = 0; i < 101; ++i) bare += " k" + std::to_string(i);
  ExpectError(bare, "Too many items", options);
  std::string fields = "a FETCH 1 (BODY[HEADER.FIELDS (";
  for (int i = 0; i < 101; ++i) fields += (i ? " X" : "X") + std::to_string(i);
  ExpectError(fields + ")])", "Too many items", options);
  std::string parts = "a FETCH 1 (BODY[1";
  for (int i = 0; i < 101; ++i) parts += ".1";
  ExpectError(parts + "])", "Too many items", options);
  std::string patterns = "a LIST \"\" (";
  for (int i = 0; i < 101; ++i) patterns += (i ? " p" : "p") + std::to_string(i);
  ExpectError(patterns + ")", "Too many items", options);
  std::string enable = "a ENABLE";
  for (int i = 0; i < 101; ++i) enable += " X" + std::to_string(i);
  ExpectError(enable, "Too many items", options);
}

TEST(HostileInputTest, TruncatedCommands) {
  // Every prefix of a rich command fails cleanly or parses.
  const std::string command =
      "a UID FETCH 1:*,5 (BODY.PEEK[1.2.HEADER.FIELDS (\"A\" {1}\r\nB)]<0.5> BINARY[1] FLAGS "
      "PREVIEW (LAZY)) (CHANGEDSINCE 5 VANISHED)";
  for (size_t n = 0; n <= command.size(); ++n) {
    ParsedCommand parsed = ParseCommand(std::string_view(command).substr(0, n));
    if (parsed.ok()) continue;
    for (char c : parsed.error->message) ASSERT_TRUE(c >= 0x20 && c < 0x7f);
  }
  const std::string search =
      "a SEARCH RETURN (MIN SAVE) CHARSET UTF-8 OR (FROM {3}\r\nabc NOT SEEN) MODSEQ "
      "\"/flags/\\\\seen\" all 5 HEADER X-A \"b\" SINCE \"1-Feb-1994\"";
  for (size_t n = 0; n <= search.size(); ++n) {
    ParsedCommand parsed = ParseCommand(std::string_view(search).substr(0, n));
    if (parsed.ok()) continue;
    for (char c : parsed.error->message) ASSERT_TRUE(c >= 0x20 && c < 0x7f);
  }
  EXPECT_TRUE(ParseCommand(command).ok());
  EXPECT_TRUE(ParseCommand(search).ok());
}

}  // namespace
}  // namespace postern::imap
