// POP3 responses (RFC 1939 §3, RFC 2449 §3 and §8): status lines with
// optional response codes, multi-line bodies with dot-stuffing, and the
// message forms RETR and TOP send. Sans-I/O; pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::pop3 {

// RFC 2449 §4: the first line of a response is at most 512 octets, CRLF
// included.
inline constexpr size_t kMaxResponseLine = 512;

// "+OK text\r\n" / "-ERR [CODE] text\r\n" (code without brackets, may be
// empty), cut to kMaxResponseLine; control characters in `text` become
// spaces, so a name echoed back cannot break the framing.
std::string OkLine(std::string_view text);
std::string ErrLine(std::string_view code, std::string_view text);

// Appends a message as a multi-line response body: bare LF becomes CRLF, a
// line starting with "." gets another in front (RFC 1939 §3), a last line
// without its line end gets one, then the terminating ".\r\n". With
// `body_lines`, only the header, the blank line and that many body lines
// (TOP, RFC 1939 §7).
void AppendMessage(std::string_view message, std::optional<uint64_t> body_lines, std::string* out);

// The octets of the message as RETR sends it before dot-stuffing: LF
// counted as CRLF, a missing last line end added. For a stored message
// (always CRLF, see store.h) this is its stored size.
uint64_t TransferSize(std::string_view message);

// Dovecot's default UIDL (pop3_uidl_format = %08Xu%08Xv): the UID and the
// mailbox's UIDVALIDITY as 16 upper-case hex digits. Unique and stable for as
// long as the message stays in the mailbox; RFC 1939 §7 asks 1-70 characters
// of 0x21-0x7E.
std::string Uidl(uint32_t uidvalidity, uint32_t uid);

}  // namespace postern::pop3
