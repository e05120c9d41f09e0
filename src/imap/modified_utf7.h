// Modified UTF-7, the IMAP4rev1 encoding of international mailbox names (RFC 3501 §5.1.3):
// printable ASCII stands for itself, "&" is "&-", and every other run of characters is UTF-16
// in modified BASE64 ("," for "/", no padding) between "&" and "-". Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace postern::imap {

// Encodes UTF-8 as modified UTF-7, one shift per maximal run of non-printable characters, so
// the output is the canonical form DecodeModifiedUtf7 accepts. Bytes that are not well-formed
// UTF-8 (overlongs, surrogates, truncated sequences) are encoded as U+FFFD; U+0000 is encoded.
std::string EncodeModifiedUtf7(std::string_view utf8);

// Decodes modified UTF-7 to UTF-8. Fails (InvalidArgument) on anything but the canonical form:
// bytes outside 0x20..0x7e, an unterminated shift ("&Jjo!", "&Jjo"), characters that are not
// modified BASE64, leftover or non-zero padding bits, unpaired surrogates, printable ASCII
// encoded in BASE64 ("&AGE-" for "a"), and superfluous shifts ("&U,BTFw-&ZeVnLIqe-").
// For every string s that decodes, EncodeModifiedUtf7(*DecodeModifiedUtf7(s)) == s.
Result<std::string> DecodeModifiedUtf7(std::string_view text);

}  // namespace postern::imap
