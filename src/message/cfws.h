// Comments and folding whitespace (RFC 5322 §3.2.2) for the structured field
// parsers of this folder. Private to src/message/. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace postern::message::cfws {

// Deeper nesting is treated as a broken comment: no mail needs it, and a
// bound keeps hostile input from costing more than one pass.
inline constexpr int kMaxCommentDepth = 50;

inline bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Skips the comment that starts at text[*pos] == '('. On success *pos is just
// past its ')' and, if `content` is given, it holds the text between the outer
// parentheses with quoted-pair backslashes removed (nested parentheses kept).
// An unterminated or too deeply nested comment returns false with *pos at the
// end of the text (the rest of the field is lost, as in Dovecot).
inline bool SkipComment(std::string_view text, size_t* pos, std::string* content = nullptr) {
  size_t i = *pos + 1;
  size_t start = i;
  if (content != nullptr) content->clear();
  int depth = 1;
  while (i < text.size()) {
    char c = text[i];
    if (c == '(') {
      if (++depth > kMaxCommentDepth) break;
    } else if (c == ')') {
      if (--depth == 0) {
        if (content != nullptr) content->append(text.substr(start, i - start));
        *pos = i + 1;
        return true;
      }
    } else if (c == '\\') {
      if (content != nullptr) content->append(text.substr(start, i - start));
      ++i;  // the escaped character is text, never a parenthesis
      start = i;
      if (i >= text.size()) break;
    }
    ++i;
  }
  if (content != nullptr) content->clear();
  *pos = text.size();
  return false;
}

// Skips whitespace (CR and LF included) and comments. `last_comment`, if
// given, receives the content of each comment skipped (the last one wins).
// Returns false if a comment was broken (*pos is then at the end).
inline bool Skip(std::string_view text, size_t* pos, std::string* last_comment = nullptr) {
  while (*pos < text.size()) {
    char c = text[*pos];
    if (IsWhitespace(c)) {
      ++*pos;
    } else if (c == '(') {
      if (!SkipComment(text, pos, last_comment)) return false;
    } else {
      break;
    }
  }
  return true;
}

}  // namespace postern::message::cfws
