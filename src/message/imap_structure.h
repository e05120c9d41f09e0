// The IMAP views of a parsed message: ENVELOPE, BODY and BODYSTRUCTURE
// (RFC 3501 §7.4.2, RFC 9051 §7.5.2), written as Dovecot writes them so that
// clients see the same thing on either server. Strings that need it become
// literals, so the output is valid in IMAP4rev1 and IMAP4rev2 alike and can
// be cached. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "message/mime.h"

namespace postern::message {

// The ENVELOPE of a message part (the root, or the child of an embedded
// message), without the surrounding parentheses.
std::string ImapEnvelope(const Part& message);

// BODY (extended = false) or BODYSTRUCTURE (extended = true) of `part`,
// without the surrounding parentheses.
std::string ImapBodyStructure(const Part& part, bool extended);

// Reads a BODY or BODYSTRUCTURE string (as cached by an older writer, or by
// another server) and writes it as a full BODYSTRUCTURE: absent extension
// data becomes NIL, a lone Content-Language string becomes a list, as
// Dovecot normalizes its cache. nullopt if the text is not a body structure.
std::optional<std::string> NormalizeBodyStructure(std::string_view text);

// Appends `s` as an IMAP string: quoted when it is short printable ASCII,
// otherwise a literal. CR and LF are dropped (header values are unfolded);
// NUL bytes are dropped (no IMAP string may carry them).
void AppendImapString(std::string_view s, std::string* out);
// NIL for an empty string, otherwise AppendImapString.
void AppendImapNString(std::string_view s, std::string* out);

}  // namespace postern::message
