// The preview of a message (IMAP PREVIEW, RFC 8970; JMAP Email/preview): a
// short plain-text summary a mail list shows under the subject. Computed
// once when a message arrives and stored with its parse. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "message/mime.h"

namespace postern::message {

// RFC 8970 §3.3: a server SHOULD limit previews to 200 characters and MUST
// NOT exceed 256.
inline constexpr size_t kMaxPreviewCharacters = 200;

// The preview of `message`: from its first text/plain part that is not an
// attachment, or else its first text/html one (tags, scripts, styles and
// quoted <blockquote>s removed, references decoded); embedded messages are
// not looked into. Transfer-decoded and converted to UTF-8; quoted lines
// ("> ...") with the attribution line before them ("On ... wrote:") and
// everything after a signature separator ("-- ") are dropped; runs of
// whitespace (Unicode White_Space, controls too) become one space, with none
// at either end. At most `max_characters` characters, cut between
// characters. Empty when the message has no such text (RFC 8970 §3.2: an
// empty preview, not NIL).
std::string MessagePreview(const Message& message, size_t max_characters = kMaxPreviewCharacters);

}  // namespace postern::message
