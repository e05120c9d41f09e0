#include "message/params.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "base/strings.h"
#include "message/cfws.h"
#include "message/charset.h"
#include "message/header_text.h"

namespace postern::message {
namespace {

// RFC 2045 §5.1 token: printable US-ASCII except tspecials; 8-bit bytes are
// accepted as Dovecot does (mailers put raw UTF-8 there).
bool IsTokenChar(char ch) {
  auto c = static_cast<unsigned char>(ch);
  if (c <= 0x20 || c == 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
    case '\\':
    case '"':
    case '/':
    case '[':
    case ']':
    case '?':
    case '=':
      return false;
    default:
      return true;
  }
}

// An unquoted value as mailers write it: tspecials such as ':', '/', '=' or
// '?' inside it (boundary=----=_Part_1, name==?utf-8?b?...?=) are kept.
bool IsUnquotedValueChar(char ch) {
  auto c = static_cast<unsigned char>(ch);
  return c > 0x20 && c != 0x7f && c != ';' && c != '"' && c != '(' && c != ')';
}

struct RawParameter {
  std::string name;
  std::string value;
};

class ParameterLexer {
 public:
  ParameterLexer(std::string_view text, size_t pos) : text_(text), pos_(pos) {}

  std::string_view Token() {
    size_t start = pos_;
    while (pos_ < text_.size() && IsTokenChar(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  void SkipCfws() { cfws::Skip(text_, &pos_); }
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  size_t pos() const { return pos_; }

  // "text/plain; charset=us-ascii (comment); format=flowed". Tolerates a
  // missing ';' before a parameter that follows a type or a value, skips junk
  // up to the next ';' (Dovecot does the same), drops parameters without a
  // name or with an empty unquoted value.
  std::vector<RawParameter> Parameters() {
    std::vector<RawParameter> params;
    bool after_item = true;  // just read the type or a value
    while (!AtEnd()) {
      if (Peek() == ';') {
        ++pos_;
      } else if (!(after_item && LooksLikeParameter())) {
        SkipJunk();
        after_item = false;
        continue;
      }
      after_item = false;
      SkipCfws();
      std::string_view name = Token();
      if (name.empty()) continue;
      SkipCfws();
      if (AtEnd() || Peek() != '=') continue;
      ++pos_;
      SkipCfws();
      RawParameter param;
      param.name = std::string(name);
      bool quoted = !AtEnd() && Peek() == '"';
      param.value = quoted ? QuotedString() : UnquotedValue();
      if (!quoted && param.value.empty()) continue;
      params.push_back(std::move(param));
      after_item = true;
      SkipCfws();
    }
    return params;
  }

 private:
  // "name =" ahead (a parameter whose ';' is missing)?
  bool LooksLikeParameter() {
    size_t save = pos_;
    bool yes = !Token().empty();
    if (yes) {
      SkipCfws();
      yes = !AtEnd() && Peek() == '=';
    }
    pos_ = save;
    return yes;
  }

  // Moves past one piece of junk: a token, a quoted string, a comment or a
  // single other character.
  void SkipJunk() {
    char c = Peek();
    if (IsTokenChar(c)) {
      Token();
    } else if (c == '"') {
      QuotedString();
    } else if (c == '(') {
      cfws::SkipComment(text_, &pos_);
    } else {
      ++pos_;
    }
  }

  // RFC 5322 §3.2.4 quoted-string at '"': escapes removed, line breaks of
  // folds removed. An unterminated string runs to the end.
  std::string QuotedString() {
    std::string out;
    ++pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (pos_ < text_.size()) out.push_back(text_[pos_++]);
      } else if (c != '\r' && c != '\n') {
        out.push_back(c);
      }
    }
    return out;
  }

  // A run of value characters. A value that starts with an encoded word runs
  // to ';' or whitespace, as in Dovecot ("name==?utf-8?q?(1)?="), and goes on
  // over whitespace while more encoded words follow ("name==?a?b?...?=
  // =?a?b?...?=.jpg", which Dovecot cuts at the first space).
  std::string UnquotedValue() {
    const bool encoded = pos_ + 1 < text_.size() && text_[pos_] == '=' && text_[pos_ + 1] == '?';
    auto run = [&] {
      size_t start = pos_;
      while (pos_ < text_.size() &&
             (encoded ? text_[pos_] != ';' && !cfws::IsWhitespace(text_[pos_])
                      : IsUnquotedValueChar(text_[pos_]))) {
        ++pos_;
      }
      return text_.substr(start, pos_ - start);
    };
    std::string out(run());
    if (!encoded) return out;
    while (true) {
      size_t next = pos_;
      while (next < text_.size() && cfws::IsWhitespace(text_[next])) ++next;
      if (next == pos_ || next + 1 >= text_.size() || text_[next] != '=' ||
          text_[next + 1] != '?') {
        return out;
      }
      out.append(text_.substr(pos_, next - pos_));
      pos_ = next;
      out.append(run());
    }
  }

  std::string_view text_;
  size_t pos_;
};

// One RFC 2231 §3 section: "name*2*=value" is {name, 2, extended}.
struct Section {
  std::string base;
  std::string key;  // lowercase base, for grouping
  uint32_t index = 0;
  bool extended = false;
  std::string value;
};

// Splits "name*<n>[*]" / "name*" the way Dovecot's rfc2231-parser does;
// false for a plain name (or one whose suffix is not RFC 2231's).
bool ParseSectionName(std::string_view name, Section* section) {
  size_t star = name.find('*');
  if (star == std::string_view::npos) return false;
  std::string_view rest = name.substr(star + 1);
  uint32_t index = 0;
  size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
    if (digits == 9) return false;  // no mail has a billion sections
    index = index * 10 + static_cast<uint32_t>(rest[digits] - '0');
    ++digits;
  }
  rest.remove_prefix(digits);
  bool extended = false;
  if (digits == 0 && rest.empty()) {
    extended = true;  // "name*"
  } else if (!rest.empty() && rest.front() == '*') {
    extended = true;
    rest.remove_prefix(1);
  }
  if (!rest.empty()) return false;
  section->base = std::string(name.substr(0, star));
  section->key = AsciiToLower(section->base);
  section->index = index;
  section->extended = extended;
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 2231 §4 %XX escapes; a malformed one is kept literally.
void AppendPercentDecoded(std::string_view s, std::string& out) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexDigit(s[i + 1]);
      int lo = HexDigit(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>((hi << 4) | lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
}

bool IsLanguageChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// The value of joined sections as a user sees it, in UTF-8. Extended sections
// are percent-decoded; the first one's "charset'language'" names the charset
// of all (RFC 2231 §4.1). Some mailers repeat "charset'" in later sections;
// that repetition is dropped.
std::string DecodeSections(const std::vector<const Section*>& sections) {
  bool any_extended = false;
  std::string joined;
  for (const Section* section : sections) {
    any_extended = any_extended || section->extended;
    joined += section->value;
  }
  if (!any_extended) return DecodeEncodedWords(joined);

  std::string charset;
  std::string bytes;
  bool first = true;
  for (const Section* section : sections) {
    std::string_view value = section->value;
    if (!section->extended) {
      bytes.append(value);
      first = false;
      continue;
    }
    if (first) {
      size_t quote = value.find('\'');
      if (quote != std::string_view::npos) {
        charset = std::string(value.substr(0, quote));
        size_t language_end = value.find('\'', quote + 1);
        value.remove_prefix(language_end == std::string_view::npos ? quote + 1 : language_end + 1);
      }
    } else if (!charset.empty() && value.size() > charset.size() &&
               StartsWithIgnoreCase(value, charset) && value[charset.size()] == '\'') {
      value.remove_prefix(charset.size() + 1);
      size_t language_end = 0;
      while (language_end < value.size() && IsLanguageChar(value[language_end])) ++language_end;
      if (language_end < value.size() && value[language_end] == '\'') {
        value.remove_prefix(language_end + 1);
      }
    }
    AppendPercentDecoded(value, bytes);
    first = false;
  }
  return ToUtf8(charset, bytes);
}

std::string EscapePercent(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%') {
      out += "%25";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Dovecot's BODYSTRUCTURE form of the parameters: plain ones first in header
// order, then the RFC 2231 ones by name, each name's sections joined into
// "name" (or "name*" with the extended value "charset'lang'%XX..."), or, when
// their indexes are not 0, 1, 2 ..., left apart as "name*<n>[*]".
std::vector<Parameter> AssembleParameters(std::vector<RawParameter> raw) {
  std::vector<Parameter> params;
  std::vector<Section> sections;
  for (RawParameter& param : raw) {
    Section section;
    if (ParseSectionName(param.name, &section)) {
      if (section.base.empty()) continue;
      section.value = std::move(param.value);
      sections.push_back(std::move(section));
      continue;
    }
    Parameter out;
    out.decoded = DecodeEncodedWords(param.value);
    out.name = std::move(param.name);
    out.value = std::move(param.value);
    params.push_back(std::move(out));
  }
  std::stable_sort(sections.begin(), sections.end(), [](const Section& a, const Section& b) {
    if (a.key != b.key) return a.key < b.key;
    return a.index < b.index;
  });

  for (size_t begin = 0; begin < sections.size();) {
    size_t end = begin;
    bool contiguous = true;
    bool have_extended = false;
    std::vector<const Section*> group;
    while (end < sections.size() && sections[end].key == sections[begin].key) {
      if (sections[end].index != end - begin) contiguous = false;
      have_extended = have_extended || sections[end].extended;
      group.push_back(&sections[end]);
      ++end;
    }
    if (contiguous) {
      Parameter out;
      out.name = sections[begin].base + (have_extended ? "*" : "");
      if (have_extended && !sections[begin].extended) out.value = "''";
      for (const Section* section : group) {
        out.value +=
            have_extended && !section->extended ? EscapePercent(section->value) : section->value;
      }
      out.decoded = DecodeSections(group);
      params.push_back(std::move(out));
    } else {
      // Broken numbering: Dovecot shows each section apart. The first one's
      // decoded value is what the sections join to anyway.
      for (size_t i = begin; i < end; ++i) {
        const Section& section = sections[i];
        Parameter out;
        out.name =
            section.base + "*" + std::to_string(section.index) + (section.extended ? "*" : "");
        out.value = section.value;
        out.decoded = i == begin ? DecodeSections(group) : DecodeSections({&section});
        params.push_back(std::move(out));
      }
    }
    begin = end;
  }
  return params;
}

// The attribute without an RFC 2231 suffix ("title*0*" is "title").
std::string_view BaseName(std::string_view name) {
  Section section;
  if (ParseSectionName(name, &section)) return name.substr(0, section.base.size());
  return name;
}

}  // namespace

ContentType ParseContentType(std::string_view raw_value) {
  ContentType result;
  ParameterLexer lexer(raw_value, 0);
  lexer.SkipCfws();
  std::string_view type = lexer.Token();
  lexer.SkipCfws();
  if (type.empty() || lexer.AtEnd() || lexer.Peek() != '/') return result;
  ParameterLexer after_slash(raw_value, lexer.pos() + 1);
  after_slash.SkipCfws();
  std::string_view subtype = after_slash.Token();
  if (subtype.empty()) return result;
  after_slash.SkipCfws();
  result.type = AsciiToLower(type);
  result.subtype = AsciiToLower(subtype);
  result.params = AssembleParameters(after_slash.Parameters());
  return result;
}

ContentDisposition ParseContentDisposition(std::string_view raw_value) {
  ContentDisposition result;
  ParameterLexer lexer(raw_value, 0);
  lexer.SkipCfws();
  result.type = std::string(lexer.Token());
  lexer.SkipCfws();
  result.params = AssembleParameters(lexer.Parameters());
  return result;
}

std::optional<std::string> FindParameter(const std::vector<Parameter>& params,
                                         std::string_view name) {
  for (const Parameter& param : params) {
    if (EqualsIgnoreCase(BaseName(param.name), name)) return param.decoded;
  }
  return std::nullopt;
}

}  // namespace postern::message
