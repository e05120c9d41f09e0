// The IMAP views of a parsed message: ENVELOPE, BODY and BODYSTRUCTURE
// (RFC 3501 §7.4.2, RFC 9051 §7.5.2), written as Dovecot writes them so that
// clients see the same thing on either server. Strings that need it become
// literals, so the output is valid in IMAP4rev1 and IMAP4rev2 alike and can
// be cached. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// One address of an ENVELOPE (RFC 9051 §7.5.2): NIL parts are empty.
struct EnvelopeAddress {
  std::string name;  // addr-name: the display name, RFC 2047 encoded words still in it
  std::string mailbox;
  std::string host;       // empty with a mailbox: the start of a group (or a broken address)
  bool has_name = false;  // addr-name is not NIL
};

// What SORT and THREAD read from a cached ENVELOPE (RFC 5256, RFC 5957).
struct Envelope {
  std::string date;     // the Date field, unfolded
  std::string subject;  // the Subject field, unfolded, encoded words not decoded
  std::vector<EnvelopeAddress> from, to, cc;
  std::string in_reply_to;  // the field as written, unfolded
  std::string message_id;
};

// Reads an ENVELOPE as ImapEnvelope writes it (without the surrounding
// parentheses). nullopt if the text is not an envelope.
std::optional<Envelope> ReadImapEnvelope(std::string_view text);

// Appends `s` as an IMAP string: quoted when it is short printable ASCII,
// otherwise a literal. CR and LF are dropped (header values are unfolded);
// NUL bytes are dropped (no IMAP string may carry them).
void AppendImapString(std::string_view s, std::string* out);
// NIL for an empty string, otherwise AppendImapString.
void AppendImapNString(std::string_view s, std::string* out);

}  // namespace postern::message
