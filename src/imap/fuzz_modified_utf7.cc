// Fuzz target for the modified UTF-7 codec (RFC 3501 §5.1.3) and mailbox-name handling. The
// input is a mailbox name, raw. Invariants: decoding succeeds exactly on canonical text, and
// then encoding gives the input back; encoding any well-formed UTF-8 yields printable ASCII that
// decodes back; a name written by AppendMailbox parses back, through SELECT, to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/fuzz_check.h"
#include "base/strings.h"
#include "imap/command.h"
#include "imap/writer.h"

namespace {

using postern::imap::AppendMailbox;
using postern::imap::DecodeModifiedUtf7;
using postern::imap::EncodeModifiedUtf7;

// RFC 6855 §3: what ParseCommand refuses in a mailbox name.
bool HasForbiddenCharacter(std::string_view name) {
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) < 0xa0) {
      return true;
    }
    if (name.substr(i, 3) == "\xe2\x80\xa8" || name.substr(i, 3) == "\xe2\x80\xa9") return true;
  }
  return false;
}

void CheckMailboxRoundTrip(std::string_view name, bool utf8) {
  if (!postern::IsValidUtf8(name) || HasForbiddenCharacter(name)) return;
  postern::imap::StringOptions write_options;
  write_options.utf8 = utf8;
  std::string command = "a SELECT ";
  AppendMailbox(&command, name, write_options);
  postern::imap::ParseOptions parse_options;
  parse_options.utf8 = utf8;
  postern::imap::ParsedCommand parsed = postern::imap::ParseCommand(command, parse_options);
  FUZZ_CHECK(parsed.ok());
  const std::string& mailbox = parsed.command->Get<postern::imap::Select>().mailbox;
  if (postern::EqualsIgnoreCase(name, "INBOX")) {
    FUZZ_CHECK(mailbox == "INBOX");
  } else {
    FUZZ_CHECK(mailbox == name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  postern::Result<std::string> decoded = DecodeModifiedUtf7(input);
  if (decoded.ok()) {
    FUZZ_CHECK(postern::IsPrintableAscii(input));
    FUZZ_CHECK(EncodeModifiedUtf7(*decoded) == input);
  } else {
    FUZZ_CHECK(postern::IsPrintableAscii(decoded.status().message()));
  }
  std::string encoded = EncodeModifiedUtf7(input);
  FUZZ_CHECK(postern::IsPrintableAscii(encoded));
  postern::Result<std::string> again = DecodeModifiedUtf7(encoded);
  FUZZ_CHECK(again.ok());
  if (postern::IsValidUtf8(input)) FUZZ_CHECK(*again == input);
  CheckMailboxRoundTrip(input, false);
  CheckMailboxRoundTrip(input, true);
  return 0;
}
