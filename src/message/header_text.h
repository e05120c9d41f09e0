// Header field text: unfolding and RFC 2047 encoded words. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace postern::message {

// RFC 5322 §2.2.3: removes each CRLF (or bare LF/CR) that is followed by
// whitespace; a line break not followed by whitespace is removed too.
std::string Unfold(std::string_view raw_value);

// Unfolds and decodes RFC 2047 encoded words in unstructured text (Subject,
// Comments, display names) to UTF-8; whitespace between two adjacent encoded
// words is dropped (§6.2). Raw 8-bit bytes are kept when valid UTF-8,
// otherwise read as windows-1252. Leading and trailing whitespace is trimmed.
// Tolerates what real mail does: encoded words inside words or quoted
// strings, missing spaces, unknown charsets, bad Q/B data. A line break and
// the whitespace around it become one space; CR, LF and NUL that encoded words
// decode to become spaces too, so the result is one line.
std::string DecodeHeaderText(std::string_view raw_value);

// Decodes the RFC 2047 encoded words in text already taken out of a
// structured field (a display name, a quoted parameter value) the way
// DecodeHeaderText does, but keeps all other whitespace and control
// characters as they are and does not trim.
std::string DecodeEncodedWords(std::string_view text);

}  // namespace postern::message
