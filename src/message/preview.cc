#include "message/preview.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "message/search_text.h"

namespace postern::message {
namespace {

// How much of a part's encoded body is decoded for its preview: enough for
// the text after a long quoted reply or a large HTML head, bounded so a huge
// part costs little.
constexpr size_t kMaxEncodedBytes = 256 * 1024;

bool IsAttachment(const Part& part) {
  const HeaderField* disposition = part.FindField("Content-Disposition");
  return disposition != nullptr &&
         EqualsIgnoreCase(ParseContentDisposition(disposition->value).type, "attachment");
}

// The first leaf part of `subtype` ("plain" or "html") in document order,
// not looking into embedded messages.
const Part* FindText(const Part& part, std::string_view subtype) {
  if (part.multipart) {
    for (const Part& child : part.children) {
      if (const Part* found = FindText(child, subtype)) return found;
    }
    return nullptr;
  }
  if (part.embedded || part.type != "text" || part.subtype != subtype) return nullptr;
  return IsAttachment(part) ? nullptr : &part;
}

std::string_view TrimLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  return line;
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// The lines a reader of the new text cares about: quoted lines, the
// attribution that introduces them, and the signature are dropped.
std::string WithoutQuotesAndSignature(std::string_view text) {
  std::vector<std::string_view> kept;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    // RFC 3676 §4.3: "-- " alone on a line starts the signature.
    if (line == "-- " || line == "-- \r") break;
    const std::string_view trimmed =
        line.substr(std::min(line.find_first_not_of(" \t"), line.size()));
    if (trimmed.starts_with('>')) {
      // "On Mon, Alice wrote:" (any language: a line ending in ':') just
      // above the quote, blank lines between them allowed.
      while (!kept.empty() && IsBlank(kept.back())) kept.pop_back();
      if (!kept.empty() && TrimLine(kept.back()).ends_with(':')) kept.pop_back();
      continue;
    }
    kept.push_back(line);
    if (end == text.size()) break;
  }
  std::string out;
  for (std::string_view line : kept) {
    out.append(line);
    out.push_back('\n');
  }
  return out;
}

// Whitespace collapsed, at most `max_characters` characters of valid UTF-8
// (an invalid sequence counts as one U+FFFD).
std::string Collapse(std::string_view text, size_t max_characters) {
  std::string out;
  size_t characters = 0;
  bool space = false;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(std::min<size_t>(text.size(), INT32_MAX));
  int32_t i = 0;
  while (i < length) {
    const int32_t begin = i;
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (c >= 0 && (u_isUWhiteSpace(c) || u_iscntrl(c) || c == 0x200B || c == 0xFEFF)) {
      space = !out.empty();
      continue;
    }
    if (characters + (space ? 2 : 1) > max_characters) break;
    if (space) {
      out.push_back(' ');
      ++characters;
      space = false;
    }
    if (c < 0) {
      out.append("\xEF\xBF\xBD");
    } else {
      out.append(text.substr(static_cast<size_t>(begin), static_cast<size_t>(i - begin)));
    }
    ++characters;
  }
  return out;
}

}  // namespace

std::string MessagePreview(const Message& message, size_t max_characters) {
  const Part* part = FindText(message.root, "plain");
  if (part == nullptr) part = FindText(message.root, "html");
  if (part == nullptr) return {};
  std::string text = PartText(message, *part, kMaxEncodedBytes, /*drop_html_quotes=*/true);
  return Collapse(WithoutQuotesAndSignature(text), max_characters);
}

}  // namespace postern::message
