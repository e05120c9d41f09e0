// Content-Transfer-Encoding codecs (RFC 2045 §6) and the RFC 2047 "Q" form.
// Decoders are tolerant, as mail readers must be: they never fail, they skip
// or keep what they cannot decode. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace postern::message {

// RFC 2045 §6.8. Characters outside the alphabet (line breaks, junk) are
// skipped; decoding stops at the first '=' pad; a trailing partial group
// yields the whole bytes it holds.
std::string DecodeBase64(std::string_view in);

// Base64 with CRLF line breaks every `line_length` characters (0: none); no
// line break after the last line.
std::string EncodeBase64(std::string_view in, size_t line_length = 76);

// RFC 2045 §6.7: "=XX" escapes (either case), soft line breaks ("=" at line
// end, CRLF or LF), trailing whitespace of each line dropped (rule 3). A
// malformed escape is kept literally. Line ends are kept as they are.
std::string DecodeQuotedPrintable(std::string_view in);

// RFC 2047 §4.2: the "Q" encoding of encoded words ('_' is a space).
std::string DecodeQEncoding(std::string_view in);

// True for 7bit, 8bit, binary, base64, quoted-printable (any case).
bool IsKnownTransferEncoding(std::string_view encoding);

// Decodes a body by its Content-Transfer-Encoding; identity and unknown
// encodings return the body unchanged.
std::string DecodeTransferEncoding(std::string_view encoding, std::string_view body);

}  // namespace postern::message
