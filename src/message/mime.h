// The MIME structure of a message (RFC 5322, RFC 2045-2046): header fields
// and a tree of parts, each located by byte offsets into the raw message,
// which is never copied. Tolerant like the mail readers it serves: a missing
// boundary, a header without a blank line, bare LF or CR line ends, 8-bit
// bytes and truncated messages all parse, never fail.
//
// Sizes and line counts are also given for the message's CRLF form (every
// bare LF counted as CRLF), which is what IMAP reports (RFC 3501 §2.3.4).
// Pure functions; a Message holds views into the raw bytes and must not
// outlive them. Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "message/params.h"

namespace postern::message {

struct HeaderField {
  std::string_view name;   // as written, without the colon
  std::string_view value;  // raw, still folded, without the final line break
  size_t offset = 0;       // of the name's first byte in the raw message
};

// Limits on hostile input; past them the rest is treated as opaque content.
struct ParseLimits {
  size_t max_depth = 64;              // multipart and message/rfc822 nesting
  size_t max_parts = 10'000;          // parts in one message
  size_t max_header_fields = 10'000;  // per header; the rest are skipped
};

struct Part {
  // Offsets into the raw message. The header runs from header_begin to
  // body_begin (including the blank line that ends it, if present); the body
  // from body_begin to body_end. The line break before a boundary belongs to
  // the boundary (RFC 2046 §5.1.1), not to the body; when a boundary follows
  // the blank line at once, that line break is the boundary's and the header
  // ends before it. So a header need not end with an empty line: whoever
  // serves it as a MIME header adds one.
  size_t header_begin = 0;
  size_t body_begin = 0;
  size_t body_end = 0;

  // The CRLF form: header and body sizes, and the body's line count.
  uint64_t header_size = 0;
  uint64_t body_size = 0;
  uint64_t body_lines = 0;

  std::vector<HeaderField> fields;

  // Content-Type as written (empty type: none or invalid, which means
  // text/plain; or message/rfc822 inside multipart/digest, RFC 2046 §5.1.5).
  ContentType content_type;
  bool has_content_type = false;
  std::string type;     // effective type, lowercase ("text" by default)
  std::string subtype;  // effective subtype, lowercase ("plain" by default)

  // Content-Transfer-Encoding token as written; empty when absent or not a
  // token ("7bit" is then meant).
  std::string transfer_encoding;

  // A multipart with a usable boundary (one without is a single opaque part).
  bool multipart = false;
  // An embedded message whose structure is parsed: message/rfc822 (or
  // message/global, RFC 6532) not hidden by base64/quoted-printable.
  bool embedded = false;
  bool is_multipart() const { return multipart; }
  bool is_message() const { return embedded; }

  // Multipart: the body parts. Embedded message: exactly one child, the
  // message itself (its header and body; header_begin == body_begin of this
  // part). Otherwise empty.
  std::vector<Part> children;

  // Multipart only: preamble and epilogue ranges (empty when absent).
  size_t preamble_begin = 0, preamble_end = 0;
  size_t epilogue_begin = 0, epilogue_end = 0;

  // The first field with this name (case-insensitive), or nullptr.
  const HeaderField* FindField(std::string_view name) const;
};

struct Message {
  std::string_view raw;
  Part root;  // the whole message: its header, and its body or parts
  size_t part_count = 0;
  bool truncated = false;  // a limit was hit; deeper structure was not parsed

  std::string_view HeaderBytes(const Part& part) const {
    return raw.substr(part.header_begin, part.body_begin - part.header_begin);
  }
  std::string_view BodyBytes(const Part& part) const {
    return raw.substr(part.body_begin, part.body_end - part.body_begin);
  }
};

Message ParseMessage(std::string_view raw, const ParseLimits& limits = {});

// The size and line count of `bytes` in CRLF form; a last line without a
// line break counts as a line.
struct CrlfSize {
  uint64_t size = 0;
  uint64_t lines = 0;
};
CrlfSize MeasureCrlf(std::string_view bytes);

// `bytes` with every bare LF turned into CRLF.
std::string ToCrlf(std::string_view bytes);

// IMAP section numbers (RFC 3501 §6.4.5): finds the part "1.2.3" names, or
// nullptr. An empty path is the message itself. For a part that is an
// embedded message, its subparts are numbered through the embedded message.
const Part* FindPart(const Message& message, const std::vector<uint32_t>& path);

}  // namespace postern::message
