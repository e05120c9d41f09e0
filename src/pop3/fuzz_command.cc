// Fuzz target for the POP3 grammar and response writer. The input is tried
// as a command line and as a stored message. Invariants:
//   - exactly one of command / error; errors are printable ASCII;
//   - message numbers are >= 1, only where the verb takes one; AUTH's
//     mechanism is upper case; PASS keeps the rest of the line;
//   - a strict SASL decode re-encodes to the input;
//   - RETR's form ends with ".\r\n", every line ends with CRLF, no line but
//     the last is ".", and undoing the dot-stuffing gives TransferSize octets;
//     TOP's form is a prefix of it;
//   - status lines are one line of at most 512 octets.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/fuzz_check.h"
#include "message/codec.h"
#include "pop3/command.h"
#include "pop3/response.h"

namespace postern::pop3 {
namespace {

void CheckCommand(std::string_view line) {
  ParsedCommand parsed = ParseCommand(line);
  FUZZ_CHECK(parsed.command.has_value() == parsed.error.empty());
  if (!parsed.ok()) {
    for (char c : parsed.error) FUZZ_CHECK(c >= 0x20 && c < 0x7f);
    return;
  }
  FUZZ_CHECK(line.size() + 2 <= kMaxCommandLine);
  const Command& c = *parsed.command;
  switch (c.verb) {
    case Verb::kRetr:
    case Verb::kDele:
    case Verb::kTop:
      FUZZ_CHECK(c.message.has_value());
      break;
    case Verb::kList:
    case Verb::kUidl:
      break;
    default:
      FUZZ_CHECK(!c.message.has_value());
  }
  if (c.message) FUZZ_CHECK(*c.message >= 1);
  if (c.verb == Verb::kPass) FUZZ_CHECK(line.substr(5) == c.argument);
  if (c.verb == Verb::kAuth) {
    for (char ch : c.argument) FUZZ_CHECK(!(ch >= 'a' && ch <= 'z'));
  }
  if (c.initial_response) FUZZ_CHECK(c.verb == Verb::kAuth);
}

void CheckSasl(std::string_view text) {
  std::optional<std::string> decoded = DecodeSaslResponse(text);
  if (!decoded) return;
  if (text == "=") {
    FUZZ_CHECK(decoded->empty());
    return;
  }
  FUZZ_CHECK(message::EncodeBase64(*decoded, 0) == text);
}

void CheckMessage(std::string_view message) {
  std::string retr;
  AppendMessage(message, std::nullopt, &retr);
  FUZZ_CHECK(retr.ends_with(".\r\n"));
  std::string unstuffed;
  size_t pos = 0;
  while (pos < retr.size()) {
    size_t crlf = retr.find("\r\n", pos);
    FUZZ_CHECK(crlf != std::string::npos);
    std::string_view line(retr.data() + pos, crlf - pos);
    FUZZ_CHECK(line.find('\n') == std::string_view::npos);
    pos = crlf + 2;
    if (line == ".") {
      FUZZ_CHECK(pos == retr.size());
      break;
    }
    if (!line.empty() && line.front() == '.') {
      FUZZ_CHECK(line.size() >= 2 && line[1] == '.');
      line.remove_prefix(1);
    }
    unstuffed.append(line);
    unstuffed.append("\r\n");
  }
  FUZZ_CHECK(unstuffed.size() == TransferSize(message));
  for (uint64_t lines : {0ull, 1ull, 3ull}) {
    std::string top;
    AppendMessage(message, lines, &top);
    FUZZ_CHECK(top.ends_with(".\r\n"));
    FUZZ_CHECK(retr.starts_with(std::string_view(top).substr(0, top.size() - 3)));
  }
}

void CheckStatusLines(std::string_view text) {
  for (const std::string& line : {OkLine(text), ErrLine("SYS/TEMP", text)}) {
    FUZZ_CHECK(line.size() <= kMaxResponseLine);
    FUZZ_CHECK(line.find("\r\n") == line.size() - 2);
    FUZZ_CHECK(line.find('\n') == line.size() - 1);
    FUZZ_CHECK(line.find('\0') == std::string::npos);
  }
}

}  // namespace
}  // namespace postern::pop3

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t lf = input.find('\n');
  std::string_view first = input.substr(0, lf);
  if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
  postern::pop3::CheckCommand(first);
  postern::pop3::CheckCommand(input);
  postern::pop3::CheckSasl(first);
  postern::pop3::CheckMessage(input);
  postern::pop3::CheckStatusLines(input);
  return 0;
}
