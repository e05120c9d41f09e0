#include "message/search_text.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "base/strings.h"
#include "message/charset.h"
#include "message/codec.h"
#include "message/header_text.h"
#include "message/params.h"

namespace postern::message {
namespace {

// A text part is decoded from at most this many encoded bytes per byte of
// text still wanted (base64 of UTF-32 takes 16 / 3, the most of any form),
// so a huge part is not decoded whole only to be cut.
constexpr size_t kEncodedBytesPerTextByte = 8;

void AppendUtf8(std::string* out, UChar32 c) {
  char buf[U8_MAX_LENGTH];
  int32_t n = 0;
  UBool error = false;
  U8_APPEND(buf, n, U8_MAX_LENGTH, c, error);
  if (error) {
    out->append("\xEF\xBF\xBD");  // U+FFFD
    return;
  }
  out->append(buf, static_cast<size_t>(n));
}

// Appends `text` to `out` without letting `out` grow past `cap` bytes; a cut
// falls between two characters.
void AppendCapped(std::string* out, std::string_view text, size_t cap) {
  if (out->size() >= cap) return;
  size_t room = cap - out->size();
  if (text.size() > room) {
    while (room > 0 && (static_cast<unsigned char>(text[room]) & 0xC0) == 0x80) --room;
    text = text.substr(0, room);
  }
  out->append(text);
}

std::string FoldForIndex(std::string_view text) {
  std::string folded = FoldCase(text);
  std::replace(folded.begin(), folded.end(), '\0', ' ');
  return folded;
}

class Extractor {
 public:
  Extractor(const Message& message, size_t max_bytes) : message_(message), max_(max_bytes) {}

  SearchableText Run() {
    AddFields(message_.root, &out_.header, max_ / 4);
    body_cap_ = max_ - out_.header.size();
    AddBody(message_.root);
    return std::move(out_);
  }

 private:
  void AddFields(const Part& part, std::string* out, size_t cap) {
    for (const HeaderField& field : part.fields) {
      if (out->size() >= cap) return;
      std::string line(field.name);
      line += ": ";
      line += DecodeHeaderText(field.value);
      line += '\n';
      AppendCapped(out, FoldForIndex(line), cap);
    }
  }

  void AddBody(const Part& part) {
    if (out_.body.size() >= body_cap_) return;
    if (part.embedded) {
      // The embedded message's header is text of the outer message's body.
      const Part& inner = part.children.front();
      AddFields(inner, &out_.body, body_cap_);
      AddBody(inner);
      return;
    }
    if (part.multipart) {
      for (const Part& child : part.children) AddBody(child);
      return;
    }
    if (part.type != "text") return;
    const size_t wanted = body_cap_ - out_.body.size();
    std::string text = PartText(message_, part, (wanted + 1) * kEncodedBytesPerTextByte);
    text += '\n';
    AppendCapped(&out_.body, FoldForIndex(text), body_cap_);
  }

  const Message& message_;
  const size_t max_;
  size_t body_cap_ = 0;
  SearchableText out_;
};

// ---- HTML

bool IsHtmlSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Elements after which a reader sees a new line.
bool IsBlockElement(std::string_view name) {
  static constexpr std::array<std::string_view, 27> kBlocks = {
      "address", "article", "blockquote", "br",      "dd",    "div",   "dl",     "dt", "footer",
      "h1",      "h2",      "h3",         "h4",      "h5",    "h6",    "header", "hr", "li",
      "ol",      "p",       "pre",        "section", "table", "title", "tr",     "ul", "caption",
  };
  return std::find(kBlocks.begin(), kBlocks.end(), name) != kBlocks.end();
}

class HtmlText {
 public:
  HtmlText(std::string_view html, bool drop_quotes) : html_(html), drop_quotes_(drop_quotes) {
    out_.reserve(html.size() / 2);
  }

  std::string Run() {
    while (i_ < html_.size()) {
      const char c = html_[i_];
      if (c == '<' && Tag()) continue;
      if (c == '&') {
        Reference();
        continue;
      }
      if (IsHtmlSpace(c)) {
        space_ = true;
      } else {
        Emit(std::string_view(&c, 1));
      }
      ++i_;
    }
    return std::move(out_);
  }

 private:
  void Emit(std::string_view text) {
    if (quote_depth_ > 0) return;
    if (space_ && !out_.empty() && out_.back() != '\n') out_ += ' ';
    space_ = false;
    out_.append(text);
  }

  void Break() {
    space_ = false;
    if (!out_.empty() && out_.back() != '\n') out_ += '\n';
  }

  // At '<': skips a comment, declaration or tag and returns true; returns
  // false when the '<' is text ("a < b").
  bool Tag() {
    if (html_.compare(i_, 4, "<!--") == 0) {
      const size_t end = html_.find("-->", i_ + 4);
      i_ = end == std::string_view::npos ? html_.size() : end + 3;
      return true;
    }
    size_t j = i_ + 1;
    const bool closing = j < html_.size() && html_[j] == '/';
    if (closing) ++j;
    if (j >= html_.size()) return false;
    if (!closing && (html_[j] == '!' || html_[j] == '?')) {
      SkipPastTagEnd(j);
      return true;
    }
    std::string name;
    while (j < html_.size() && IsAsciiAlnum(html_[j])) name += AsciiLower(html_[j++]);
    if (name.empty()) return false;
    SkipPastTagEnd(j);
    if (!closing && (name == "script" || name == "style")) SkipRawText(name);
    if (drop_quotes_ && name == "blockquote") {
      if (!closing) {
        ++quote_depth_;
      } else if (quote_depth_ > 0) {
        --quote_depth_;
      }
    }
    if (IsBlockElement(name)) {
      Break();
    } else if (name == "td" || name == "th" || name == "img") {
      space_ = true;
    }
    return true;
  }

  // Moves past the '>' that ends the tag (quoted attribute values may hold '>').
  void SkipPastTagEnd(size_t j) {
    char quote = 0;
    for (; j < html_.size(); ++j) {
      const char c = html_[j];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        i_ = j + 1;
        return;
      }
    }
    i_ = html_.size();
  }

  // Skips the content of <script> or <style> up to and past its end tag.
  void SkipRawText(const std::string& name) {
    size_t j = i_;
    while ((j = html_.find("</", j)) != std::string_view::npos) {
      if (StartsWithIgnoreCase(html_.substr(j + 2), name)) {
        SkipPastTagEnd(j + 2 + name.size());
        return;
      }
      j += 2;
    }
    i_ = html_.size();
  }

  // At '&': a character reference, or a literal '&'.
  void Reference() {
    static constexpr struct {
      std::string_view name;
      std::string_view text;
    } kNamed[] = {{"amp", "&"},
                  {"lt", "<"},
                  {"gt", ">"},
                  {"quot", "\""},
                  {"apos", "'"},
                  {"nbsp", " "},
                  {"copy", "\xC2\xA9"},
                  {"reg", "\xC2\xAE"},
                  {"euro", "\xE2\x82\xAC"},
                  {"hellip", "\xE2\x80\xA6"},
                  {"mdash", "\xE2\x80\x94"},
                  {"ndash", "\xE2\x80\x93"}};
    // References are short: look for the ';' only nearby (linear time).
    const size_t near = html_.substr(i_ + 1, 10).find(';');
    if (near == std::string_view::npos) {
      Emit("&");
      ++i_;
      return;
    }
    const size_t semi = i_ + 1 + near;
    std::string_view ref = html_.substr(i_ + 1, near);
    if (ref.size() >= 2 && ref[0] == '#') {
      const bool hex = ref[1] == 'x' || ref[1] == 'X';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      uint32_t code = 0;
      bool ok = !digits.empty();
      for (char d : digits) {
        int v = -1;
        if (d >= '0' && d <= '9') v = d - '0';
        if (hex && d >= 'a' && d <= 'f') v = d - 'a' + 10;
        if (hex && d >= 'A' && d <= 'F') v = d - 'A' + 10;
        if (v < 0) ok = false;
        if (ok) code = code * (hex ? 16 : 10) + static_cast<uint32_t>(v);
        if (code > 0x10FFFF) ok = false;
        if (!ok) break;
      }
      if (ok) {
        if (code == 0xA0 || (code < 0x80 && IsHtmlSpace(static_cast<char>(code)))) {
          space_ = true;
        } else {
          std::string text;
          AppendUtf8(&text, code == 0 ? 0xFFFD : static_cast<UChar32>(code));
          Emit(text);
        }
        i_ = semi + 1;
        return;
      }
    }
    for (const auto& named : kNamed) {
      if (ref == named.name) {
        if (named.text == " ") {
          space_ = true;
        } else {
          Emit(named.text);
        }
        i_ = semi + 1;
        return;
      }
    }
    Emit("&");
    ++i_;
  }

  std::string_view html_;
  size_t i_ = 0;
  bool space_ = false;  // whitespace seen since the last character written
  const bool drop_quotes_;
  size_t quote_depth_ = 0;  // open <blockquote> elements being dropped
  std::string out_;
};

}  // namespace

std::string FoldCase(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  const auto* s = reinterpret_cast<const uint8_t*>(utf8.data());
  const int64_t length = static_cast<int64_t>(utf8.size());
  int64_t i = 0;
  while (i < length) {
    if (s[i] < 0x80) {
      out += AsciiLower(static_cast<char>(s[i++]));
      continue;
    }
    UChar32 c;
    U8_NEXT(s, i, length, c);
    AppendUtf8(&out, c < 0 ? 0xFFFD : u_foldCase(c, U_FOLD_CASE_DEFAULT));
  }
  return out;
}

std::string HtmlToText(std::string_view html, bool drop_quotes) {
  return HtmlText(html, drop_quotes).Run();
}

std::string PartText(const Message& message, const Part& part, size_t max_encoded,
                     bool drop_html_quotes) {
  std::string_view encoded = message.BodyBytes(part);
  if (encoded.size() > max_encoded) encoded = encoded.substr(0, max_encoded);
  std::string charset = FindParameter(part.content_type.params, "charset").value_or("");
  std::string text = ToUtf8(charset, DecodeTransferEncoding(part.transfer_encoding, encoded));
  if (part.subtype == "html") text = HtmlToText(text, drop_html_quotes);
  return text;
}

SearchableText ExtractSearchableText(const Message& message, size_t max_bytes) {
  return Extractor(message, max_bytes).Run();
}

bool TextContains(const SearchableText& text, TextScope scope, std::string_view folded_needle) {
  if (text.body.find(folded_needle) != std::string::npos) return true;
  return scope == TextScope::kHeaderAndBody && text.header.find(folded_needle) != std::string::npos;
}

}  // namespace postern::message
