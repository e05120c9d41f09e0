// Fuzz target for ParseCommand and xtext: the input is one command line.
// Invariants: errors carry a permitted code and serialize to exactly one
// CRLF-terminated line; parsed paths survive a ToString/ParsePath round trip;
// xtext decoding inverts encoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "smtp/command.h"
#include "smtp/fuzz_check.h"

namespace {

using postern::smtp::Command;
using postern::smtp::ParseCommand;
using postern::smtp::ParsedCommand;
using postern::smtp::ParseOptions;
using postern::smtp::ParsePath;
using postern::smtp::PathOptions;
using postern::smtp::PathResult;
using postern::smtp::Verb;

void CheckError(const ParsedCommand& parsed) {
  const postern::smtp::Reply& reply = *parsed.error;
  FUZZ_CHECK(reply.code == 500 || reply.code == 501 || reply.code == 504 || reply.code == 553 ||
             reply.code == 555);
  FUZZ_CHECK(reply.lines.size() == 1);
  std::string wire = reply.Serialize();
  FUZZ_CHECK(wire.size() >= 2 && wire.find("\r\n") == wire.size() - 2);
  for (size_t i = 0; i + 2 < wire.size(); ++i) {
    auto c = static_cast<unsigned char>(wire[i]);
    FUZZ_CHECK(c >= 0x20 && c < 0x7f);  // no raw bytes echoed
  }
  if (parsed.command.verb == Verb::kUnknown) FUZZ_CHECK(reply.code == 500);
}

void CheckCommand(const Command& command, const ParseOptions& options) {
  if (command.verb != Verb::kMail && command.verb != Verb::kRcpt) return;
  const auto& path = command.path;
  FUZZ_CHECK(!(path.null && path.postmaster));
  if (path.null || path.postmaster) {
    FUZZ_CHECK(path.mailbox.empty());
    return;
  }
  FUZZ_CHECK(!path.mailbox.domain.empty());
  bool utf8 = command.verb == Verb::kMail ? command.mail.smtputf8 : options.utf8_transaction;
  if (!utf8) FUZZ_CHECK(!path.mailbox.IsInternational());
  PathOptions again;
  again.allow_utf8 = true;
  PathResult reparsed = ParsePath("<" + path.mailbox.ToString() + ">", again);
  FUZZ_CHECK(reparsed.ok);
  FUZZ_CHECK(reparsed.path.mailbox.local_part == path.mailbox.local_part);
  FUZZ_CHECK(reparsed.path.mailbox.domain == path.mailbox.domain);
  if (command.mail.size && options.max_size_value != UINT64_MAX) {
    FUZZ_CHECK(*command.mail.size <= options.max_size_value + 1);
  }
}

void CheckXtext(std::string_view data) {
  std::string encoded = postern::smtp::XtextEncode(data);
  auto decoded = postern::smtp::XtextDecode(encoded);
  FUZZ_CHECK(decoded && *decoded == data);
  if (auto raw = postern::smtp::XtextDecode(data)) {
    FUZZ_CHECK(raw->size() <= data.size());
    FUZZ_CHECK(postern::smtp::XtextDecode(postern::smtp::XtextEncode(*raw)) == raw);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  for (int variant = 0; variant < 4; ++variant) {
    ParseOptions options;
    options.extended = (variant & 1) == 0;
    options.utf8_transaction = (variant & 2) != 0;
    if (variant == 3) options.max_size_value = 1000;
    ParsedCommand parsed = ParseCommand(line, options);
    if (parsed.error) {
      CheckError(parsed);
    } else {
      FUZZ_CHECK(parsed.command.verb != Verb::kUnknown);
      CheckCommand(parsed.command, options);
    }
  }
  CheckXtext(line);
  return 0;
}
