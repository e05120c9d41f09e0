// Replies as the SMTP client receives them (RFC 5321 §4.2), and the parser
// that assembles one from the server's lines. Pure, no I/O; fuzzed
// (fuzz_reply.cc). Thread-compatible.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace postern::smtpclient {

struct Reply {
  int code = 0;                    // 0: no reply (connection lost, timeout); treat as temporary
  std::string enhanced;            // "5.1.1" if the server gave one (RFC 3463, RFC 2034)
  std::vector<std::string> lines;  // text of each line without the code(s)

  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return code == 0 || (code >= 400 && code < 500); }
  bool permanent() const { return code >= 500; }
  // "550 5.1.1 text..." on one line (lines joined with a space), for logs and
  // DSN diagnostics. A code 0 reply gives its text alone.
  std::string ToString() const;
};

// A reply that did not come from the server: code 0 with `text`.
Reply NoReply(std::string text);

// Feeds the lines of one reply, in order; each line without its CRLF.
//   ReplyParser parser;
//   while (parser.Feed(line) == ReplyParser::State::kMore) line = next line;
//   Reply reply = parser.Take();
// A malformed reply (a line without a valid code or separator, codes that
// differ between lines, a line over `max_line`, more than `max_lines` lines)
// ends in kError: the reply is then code 0 with a text saying what was wrong,
// and the connection must be given up (its framing can no longer be trusted).
// Control characters in the text become '?'. Memory is bounded by
// max_line * max_lines.
class ReplyParser {
 public:
  enum class State { kMore, kDone, kError };

  explicit ReplyParser(size_t max_line = 2048, size_t max_lines = 100)
      : max_line_(max_line), max_lines_(max_lines) {}

  State Feed(std::string_view line);
  State state() const { return state_; }
  // The reply (after kDone or kError); the parser is ready for the next one.
  Reply Take();

 private:
  State Fail(std::string why);

  size_t max_line_;
  size_t max_lines_;
  State state_ = State::kMore;
  Reply reply_;
};

}  // namespace postern::smtpclient
