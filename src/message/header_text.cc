#include "message/header_text.h"

#include <string>

#include "base/strings.h"
#include "message/charset.h"
#include "message/codec.h"

namespace postern::message {
namespace {

constexpr size_t kNotFound = std::string_view::npos;
// RFC 2047 §2 limits a whole encoded word to 75 characters; real charset
// names are far shorter than this bound.
constexpr size_t kMaxCharsetLength = 64;

bool IsSpace(char c) { return c == ' ' || c == '\t'; }
bool IsLineBreak(char c) { return c == '\r' || c == '\n'; }
bool IsWhitespace(char c) { return IsSpace(c) || IsLineBreak(c); }

enum class Mode {
  kFieldBody,  // a raw field body: folds become one space, result trimmed
  kExtracted,  // text out of a structured field: whitespace kept as it is
};

struct EncodedWord {
  size_t end = 0;            // index just past the closing "?="
  std::string_view charset;  // without an RFC 2231 §5 "*language" suffix
  std::string bytes;         // the decoded octets, still in `charset`
};

// Finds the first occurrence of a two-character marker at or after a position
// that only moves forward (give or take the length of a charset name), so a
// scan over the whole text stays linear however many "=?" it holds.
class MarkerFinder {
 public:
  MarkerFinder(std::string_view text, char first, char second)
      : text_(text), marker_{first, second} {}

  size_t Find(size_t from) {
    if (cached_ && from <= cached_from_) {
      // Only the short stretch before the cached start is new.
      for (size_t i = from; i < cached_from_; ++i) {
        if (IsMarkerAt(i)) return i;
      }
      return cached_result_;
    }
    if (cached_ && (cached_result_ == kNotFound || cached_result_ >= from)) return cached_result_;
    cached_ = true;
    cached_from_ = from;
    cached_result_ =
        from < text_.size() ? text_.find(std::string_view(marker_, 2), from) : kNotFound;
    return cached_result_;
  }

 private:
  bool IsMarkerAt(size_t i) const {
    return i + 1 < text_.size() && text_[i] == marker_[0] && text_[i + 1] == marker_[1];
  }

  std::string_view text_;
  const char marker_[2];
  bool cached_ = false;
  size_t cached_from_ = 0;
  size_t cached_result_ = kNotFound;
};

// Recognizes RFC 2047 §2 encoded words "=?charset?Q|B?text?=", tolerating
// what mailers produce: encoded text running over a folded line (the fold is
// not part of the text), spaces inside Q text, an RFC 2231 language suffix,
// no charset at all.
class EncodedWordScanner {
 public:
  explicit EncodedWordScanner(std::string_view text)
      : text_(text), terminators_(text, '?', '='), openers_(text, '=', '?') {}

  // Parses the encoded word at text_[start] (which holds "=?").
  bool Parse(size_t start, EncodedWord* word) {
    size_t charset_begin = start + 2;
    size_t i = charset_begin;
    while (i < text_.size() && text_[i] != '?') {
      auto c = static_cast<unsigned char>(text_[i]);
      if (c <= 0x20 || c == 0x7f || i - charset_begin >= kMaxCharsetLength) return false;
      ++i;
    }
    // An empty charset is read as an unknown one.
    if (i + 2 >= text_.size() || text_[i + 2] != '?') return false;
    char encoding = AsciiUpper(text_[i + 1]);
    if (encoding != 'Q' && encoding != 'B') return false;
    std::string_view charset = text_.substr(charset_begin, i - charset_begin);
    size_t text_begin = i + 3;
    size_t text_end = terminators_.Find(text_begin);
    if (text_end == kNotFound) return false;
    // An encoded word never holds "=?": when one comes first, this was not
    // an encoded word but the next one may be. ("=?=" after base64 padding
    // is the pad and the "?=".)
    size_t opener = openers_.Find(text_begin);
    if (opener != kNotFound && opener + 1 < text_end) return false;

    size_t star = charset.find('*');
    word->charset = star == kNotFound ? charset : charset.substr(0, star);
    std::string_view encoded = text_.substr(text_begin, text_end - text_begin);
    std::string unfolded;
    if (encoded.find_first_of("\r\n") != kNotFound) {
      unfolded = RemoveFolds(encoded);
      encoded = unfolded;
    }
    word->bytes = encoding == 'B' ? DecodeBase64(encoded) : DecodeQEncoding(encoded);
    word->end = text_end + 2;
    return true;
  }

 private:
  // Drops each line break and the whitespace that follows it.
  static std::string RemoveFolds(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      if (!IsLineBreak(s[i])) {
        out.push_back(s[i]);
        continue;
      }
      while (i + 1 < s.size() && IsWhitespace(s[i + 1])) ++i;
    }
    return out;
  }

  std::string_view text_;
  MarkerFinder terminators_;
  MarkerFinder openers_;
};

std::string DecodeWords(std::string_view text, Mode mode) {
  const size_t n = text.size();
  std::string out;
  out.reserve(n);
  std::string raw;         // undecoded text waiting to be converted
  std::string whitespace;  // whitespace after the last token, not yet placed
  std::string encoded_bytes;
  std::string_view encoded_charset;
  bool have_encoded = false;
  bool last_was_encoded = false;

  auto flush_encoded = [&] {
    if (!have_encoded) return;
    out += ToUtf8(encoded_charset, encoded_bytes);
    encoded_bytes.clear();
    have_encoded = false;
  };
  auto flush_raw = [&] {
    if (raw.empty()) return;
    out += ToUtf8("", raw);  // valid UTF-8 as is, otherwise windows-1252
    raw.clear();
  };

  EncodedWordScanner scanner(text);
  size_t i = 0;
  while (i < n) {
    char c = text[i];
    EncodedWord word;
    if (c == '=' && i + 1 < n && text[i + 1] == '?' && scanner.Parse(i, &word)) {
      if (last_was_encoded) {
        whitespace.clear();  // RFC 2047 §6.2: ignored between encoded words
      } else {
        raw += whitespace;
        whitespace.clear();
        flush_raw();
      }
      // Adjacent words in one charset are decoded together: mailers split a
      // multi-byte character across two words.
      if (have_encoded && !EqualsIgnoreCase(encoded_charset, word.charset)) flush_encoded();
      if (!have_encoded) {
        encoded_charset = word.charset;
        have_encoded = true;
      }
      encoded_bytes += word.bytes;
      last_was_encoded = true;
      i = word.end;
      continue;
    }
    if (IsWhitespace(c)) {
      size_t j = i;
      bool has_break = false;
      bool has_space = false;
      while (j < n && IsWhitespace(text[j])) {
        has_break = has_break || IsLineBreak(text[j]);
        has_space = has_space || IsSpace(text[j]);
        ++j;
      }
      if (mode == Mode::kFieldBody && has_break) {
        // RFC 5322 §2.2.3 unfolding, with the fold's whitespace as one space.
        if (has_space) whitespace.push_back(' ');
      } else {
        whitespace.append(text.substr(i, j - i));
      }
      i = j;
      continue;
    }
    size_t j = i + 1;
    while (j < n && !IsWhitespace(text[j]) &&
           !(text[j] == '=' && j + 1 < n && text[j + 1] == '?')) {
      ++j;
    }
    flush_encoded();
    raw += whitespace;
    whitespace.clear();
    raw.append(text.substr(i, j - i));
    last_was_encoded = false;
    i = j;
  }
  flush_encoded();
  raw += whitespace;
  flush_raw();
  return out;
}

}  // namespace

std::string Unfold(std::string_view raw_value) {
  std::string out;
  out.reserve(raw_value.size());
  for (char c : raw_value) {
    if (!IsLineBreak(c)) out.push_back(c);
  }
  return out;
}

std::string DecodeHeaderText(std::string_view raw_value) {
  std::string decoded = DecodeWords(raw_value, Mode::kFieldBody);
  for (char& c : decoded) {
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  }
  size_t begin = 0;
  size_t end = decoded.size();
  while (begin < end && IsSpace(decoded[begin])) ++begin;
  while (end > begin && IsSpace(decoded[end - 1])) --end;
  return decoded.substr(begin, end - begin);
}

std::string DecodeEncodedWords(std::string_view text) {
  if (text.find("=?") == kNotFound && !HasNonAscii(text)) return std::string(text);
  return DecodeWords(text, Mode::kExtracted);
}

}  // namespace postern::message
