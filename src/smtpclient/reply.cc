#include "smtpclient/reply.h"

#include <utility>

namespace postern::smtpclient {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39.
int ParseCode(std::string_view line) {
  if (line.size() < 3) return 0;
  if (line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' || !IsDigit(line[2])) {
    return 0;
  }
  return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

// RFC 3463 §2: class "." subject "." detail, subject and detail 1-3 digits,
// class matching the basic code's first digit (RFC 2034 §4). Returns the
// length of the code in `text` (0 if none), which must be followed by a
// space or the end of the line.
size_t EnhancedCodeLength(std::string_view text, int code) {
  if (text.size() < 5 || text[0] != static_cast<char>('0' + code / 100) || text[1] != '.') {
    return 0;
  }
  size_t i = 2;
  for (int part = 0; part < 2; ++part) {
    size_t start = i;
    while (i < text.size() && IsDigit(text[i]) && i - start < 4) ++i;
    if (i == start || i - start > 3) return 0;
    if (part == 0) {
      if (i >= text.size() || text[i] != '.') return 0;
      ++i;
    }
  }
  if (i < text.size() && text[i] != ' ') return 0;
  return i;
}

std::string Sanitized(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) c = '?';
  }
  return out;
}

}  // namespace

std::string Reply::ToString() const {
  std::string out;
  if (code != 0) {
    out = std::to_string(code);
    if (!enhanced.empty()) out += " " + enhanced;
  }
  for (const auto& line : lines) {
    if (line.empty()) continue;
    if (!out.empty()) out += ' ';
    out += line;
  }
  return out;
}

Reply NoReply(std::string text) {
  Reply reply;
  reply.lines.push_back(std::move(text));
  return reply;
}

ReplyParser::State ReplyParser::Fail(std::string why) {
  reply_ = NoReply("malformed reply from the server: " + std::move(why));
  state_ = State::kError;
  return state_;
}

ReplyParser::State ReplyParser::Feed(std::string_view line) {
  if (state_ != State::kMore) return state_;
  if (line.size() > max_line_) {
    return Fail("a line longer than " + std::to_string(max_line_) + " octets");
  }
  const int code = ParseCode(line);
  if (code == 0) return Fail("\"" + Sanitized(line.substr(0, 40)) + "\" has no valid reply code");
  if (line.size() > 3 && line[3] != ' ' && line[3] != '-') {
    return Fail("no space or hyphen after the code in \"" + Sanitized(line.substr(0, 40)) + "\"");
  }
  if (!reply_.lines.empty() && code != reply_.code) {
    return Fail("a multiline reply mixes codes " + std::to_string(reply_.code) + " and " +
                std::to_string(code));
  }
  if (reply_.lines.size() >= max_lines_) {
    return Fail("more than " + std::to_string(max_lines_) + " lines");
  }
  const bool last = line.size() == 3 || line[3] == ' ';
  std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
  reply_.code = code;
  // The enhanced code comes from the first line; later lines repeat it
  // (RFC 2034 §3) and lose it too.
  size_t enhanced = EnhancedCodeLength(text, code);
  if (reply_.lines.empty() && enhanced > 0) reply_.enhanced = std::string(text.substr(0, enhanced));
  if (enhanced > 0 && text.substr(0, enhanced) == reply_.enhanced) {
    text.remove_prefix(std::min(text.size(), enhanced + 1));
  }
  reply_.lines.push_back(Sanitized(text));
  if (last) state_ = State::kDone;
  return state_;
}

Reply ReplyParser::Take() {
  Reply out = std::move(reply_);
  reply_ = Reply();
  state_ = State::kMore;
  return out;
}

}  // namespace postern::smtpclient
