// Fuzz target for the reply parser and the EHLO keyword parser: the input is
// a server's reply bytes, split into lines at LF. Invariants: a reply ends
// in kDone or kError; kError gives code 0; kDone gives a valid code and at
// most max_lines lines of at most max_line octets, without control
// characters; the EHLO parse never throws and ToString() is one line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/fuzz_check.h"
#include "smtpclient/protocol.h"
#include "smtpclient/reply.h"

namespace {

using postern::smtpclient::ParseEhlo;
using postern::smtpclient::Reply;
using postern::smtpclient::ReplyParser;

constexpr size_t kMaxLine = 512;
constexpr size_t kMaxLines = 16;

void Check(ReplyParser::State state, const Reply& reply) {
  if (state == ReplyParser::State::kError) {
    FUZZ_CHECK(reply.code == 0);
    FUZZ_CHECK(reply.transient());
    return;
  }
  FUZZ_CHECK(reply.code >= 200 && reply.code <= 559);
  FUZZ_CHECK(!reply.lines.empty() && reply.lines.size() <= kMaxLines);
  for (const auto& line : reply.lines) {
    FUZZ_CHECK(line.size() <= kMaxLine);
    for (char c : line) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 || c == '\t');
  }
  if (!reply.enhanced.empty()) FUZZ_CHECK(reply.enhanced[0] == '0' + reply.code / 100);
  std::string text = reply.ToString();
  FUZZ_CHECK(text.find('\n') == std::string::npos && text.find('\r') == std::string::npos);
  if (reply.positive()) (void)ParseEhlo(reply);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ReplyParser parser(kMaxLine, kMaxLines);
  while (!input.empty()) {
    size_t lf = input.find('\n');
    std::string_view line = input.substr(0, lf);
    input.remove_prefix(lf == std::string_view::npos ? input.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ReplyParser::State state = parser.Feed(line);
    if (state != ReplyParser::State::kMore) Check(state, parser.Take());
  }
  return 0;
}
