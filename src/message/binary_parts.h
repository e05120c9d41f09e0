// Binary content in APPENDed messages (IMAP BINARY, RFC 3516 §4.4 and §6).
// A message sent as a literal8 may carry parts IMAP cannot serve as they are:
// Content-Transfer-Encoding "binary", or NUL octets. The server may change
// their transfer encoding as long as nothing is lost, and must then describe
// and serve the message in that form (BODYSTRUCTURE, BODY[]). Pure;
// thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace postern::message {

// `raw` with every binary leaf part (declared "binary", or an identity
// encoding holding NUL) re-encoded as base64, its Content-Transfer-Encoding
// field replaced or added, and containers (multipart, message/rfc822)
// declared "binary" relabelled "8bit". Everything else is brought to CRLF
// form, as any APPEND is; the re-encoded bodies keep their octets exactly,
// so BINARY[part] returns what was sent. A message without binary parts
// comes back as ToCrlf(raw).
// InvalidArgument when NUL octets sit where no transfer encoding can carry
// them: in a header, a preamble, an epilogue, or a base64,
// quoted-printable or unknown-encoding part.
Result<std::string> EncodeBinaryParts(std::string_view raw);

}  // namespace postern::message
