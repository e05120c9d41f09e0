// Charset conversion to UTF-8 through ICU. Pure; thread-safe (ICU converters
// are opened per call or cached per thread).
#pragma once

#include <string>
#include <string_view>

namespace postern::message {

// True if `charset` (any case, any IANA name or alias ICU knows, plus the
// common mislabels mail carries such as "utf8", "latin1", "x-unknown") can be
// converted.
bool IsKnownCharset(std::string_view charset);

// Converts `bytes` from `charset` to UTF-8. Invalid sequences become U+FFFD.
// An empty or unknown charset: the bytes if they are valid UTF-8, otherwise
// read as windows-1252 (what mail with a wrong label usually is).
// US-ASCII input that is not ASCII is treated the same way.
std::string ToUtf8(std::string_view charset, std::string_view bytes);

// True if `utf8` (well-formed UTF-8) is in Unicode Normalization Form C, as
// Net-Unicode asks (RFC 5198 §2; RFC 9051 §5.1 for mailbox names). False for
// ill-formed UTF-8.
bool IsNfc(std::string_view utf8);

}  // namespace postern::message
