// The text a full-text search looks at (IMAP SEARCH BODY and TEXT): the
// decoded header fields and the decoded text of the text parts of a message,
// case-folded, capped in size. The full-text index stores exactly this, and
// the scan that stands in for it matches against exactly this, so both give
// the same answers. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "message/mime.h"

namespace postern::message {

// At most this many bytes of searchable text per message (header and body
// together); the header gets at most a quarter of it. Text past the cap is
// not searchable.
inline constexpr size_t kMaxSearchableText = 1 << 20;

struct SearchableText {
  // "name: value\n" for every field of the top-level header, the value
  // unfolded and its RFC 2047 encoded words decoded.
  std::string header;
  // Each text/* part transfer-decoded and converted to UTF-8 (text/html
  // without tags), and the header of each embedded message/rfc822 in the form
  // above, in the order they appear, each followed by "\n". Attachments of
  // other types are not included.
  std::string body;
};

// The searchable text of `message`: valid UTF-8, case-folded (FoldCase), NUL
// replaced by a space, at most `max_bytes` in total (cut at a character).
SearchableText ExtractSearchableText(const Message& message, size_t max_bytes = kMaxSearchableText);

// Unicode simple case folding (CaseFolding.txt statuses C and S, as ICU's
// u_foldCase): "É" and "é", "Σ", "σ" and "ς" fold alike; every character
// folds to exactly one character, so "ß" does not match "ss". Invalid UTF-8
// becomes U+FFFD.
std::string FoldCase(std::string_view utf8);

// The text of an HTML document as a reader sees it: tags, comments, script
// and style removed, character references decoded, runs of whitespace made
// one space, a line break for block elements (p, div, br, li, tr, h1-h6...).
// With `drop_quotes`, the content of <blockquote> elements (quoted replies)
// is left out too.
std::string HtmlToText(std::string_view html, bool drop_quotes = false);

// The text of one text/* part as a reader sees it: transfer-decoded,
// converted to UTF-8 from its charset, text/html through HtmlToText. Decodes
// at most the first `max_encoded` bytes of the encoded body. Not case-folded.
std::string PartText(const Message& message, const Part& part, size_t max_encoded = SIZE_MAX,
                     bool drop_html_quotes = false);

// Where a search looks: BODY is the body only, TEXT the header and the body.
enum class TextScope { kBody, kHeaderAndBody };

// Whether `folded_needle` (already FoldCase'd) occurs in `text` within
// `scope`. The empty needle occurs everywhere.
bool TextContains(const SearchableText& text, TextScope scope, std::string_view folded_needle);

}  // namespace postern::message
