#include "message/imap_structure.h"

#include <algorithm>

#include "base/strings.h"
#include "message/address.h"
#include "message/header_text.h"

namespace postern::message {
namespace {

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

constexpr std::string_view kEmptyBody =
    R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0))";
constexpr std::string_view kEmptyBodyStructure =
    R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))";

// A header value as IMAP shows it: unfolded, without line breaks, trimmed.
std::string FieldText(const Part& part, std::string_view name) {
  const HeaderField* field = part.FindField(name);
  if (field == nullptr) return {};
  return std::string(TrimWhitespace(Unfold(field->value)));
}

void AppendParams(const std::vector<Parameter>& params, bool default_charset, std::string* out) {
  if (params.empty() && !default_charset) {
    out->append("NIL");
    return;
  }
  out->push_back('(');
  bool seen_charset = false;
  bool first = true;
  for (const Parameter& param : params) {
    if (!first) out->push_back(' ');
    first = false;
    if (EqualsIgnoreCase(param.name, "charset")) seen_charset = true;
    AppendImapString(param.name, out);
    out->push_back(' ');
    AppendImapString(param.value, out);
  }
  if (default_charset && !seen_charset) {
    if (!first) out->push_back(' ');
    out->append(R"("charset" "us-ascii")");
  }
  out->push_back(')');
}

// Content-Language (RFC 3282): a comma-separated list of language tags.
void AppendLanguages(const Part& part, std::string* out) {
  std::string value = FieldText(part, "Content-Language");
  std::vector<std::string_view> tags;
  for (std::string_view item : Split(value, ',')) {
    item = TrimWhitespace(item);
    size_t n = 0;
    while (n < item.size() && (IsAsciiAlnum(item[n]) || item[n] == '-')) ++n;
    if (n > 0) tags.push_back(item.substr(0, n));
  }
  if (tags.empty()) {
    out->append("NIL");
    return;
  }
  out->push_back('(');
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i > 0) out->push_back(' ');
    AppendImapString(tags[i], out);
  }
  out->push_back(')');
}

// The extension data shared by all parts: disposition, language, location.
void AppendCommonExtension(const Part& part, std::string* out) {
  out->push_back(' ');
  ContentDisposition disposition;
  if (const HeaderField* field = part.FindField("Content-Disposition")) {
    disposition = ParseContentDisposition(field->value);
  }
  if (disposition.type.empty()) {
    out->append("NIL");
  } else {
    out->push_back('(');
    AppendImapString(disposition.type, out);
    out->push_back(' ');
    AppendParams(disposition.params, false, out);
    out->push_back(')');
  }
  out->push_back(' ');
  AppendLanguages(part, out);
  out->push_back(' ');
  AppendImapNString(FieldText(part, "Content-Location"), out);
}

void AppendAddressList(const Part& message, std::string_view name, std::string_view fallback,
                       std::string* out) {
  const HeaderField* field = message.FindField(name);
  std::vector<Address> list;
  if (field != nullptr) list = ParseAddressList(field->value);
  if (list.empty() && !fallback.empty()) {
    if (const HeaderField* from = message.FindField(fallback)) list = ParseAddressList(from->value);
  }
  if (list.empty()) {
    out->append("NIL");
    return;
  }
  out->push_back('(');
  for (const Address& address : list) {
    out->push_back('(');
    switch (address.kind) {
      case Address::Kind::kGroupStart:
        out->append("NIL NIL ");
        AppendImapString(address.mailbox, out);
        out->append(" NIL");
        break;
      case Address::Kind::kGroupEnd:
        out->append("NIL NIL NIL NIL");
        break;
      case Address::Kind::kMailbox:
        if (address.has_name || !address.name.empty()) {
          AppendImapString(address.name, out);
        } else {
          out->append("NIL");
        }
        out->push_back(' ');
        AppendImapNString(address.route, out);
        out->push_back(' ');
        AppendImapString(address.mailbox, out);
        out->push_back(' ');
        AppendImapString(address.host, out);
        break;
    }
    out->push_back(')');
  }
  out->push_back(')');
}

void AppendBody(const Part& part, bool extended, std::string* out);

void AppendMultipart(const Part& part, bool extended, std::string* out) {
  if (part.children.empty()) {
    out->append(extended ? kEmptyBodyStructure : kEmptyBody);
  } else {
    for (const Part& child : part.children) {
      out->push_back('(');
      AppendBody(child, extended, out);
      out->push_back(')');
    }
  }
  out->push_back(' ');
  AppendImapString(part.subtype, out);
  if (!extended) return;
  out->push_back(' ');
  AppendParams(part.content_type.params, false, out);
  AppendCommonExtension(part, out);
}

void AppendSinglePart(const Part& part, bool extended, std::string* out) {
  bool text = false;
  if (part.embedded) {
    AppendImapString(part.type, out);
    out->push_back(' ');
    AppendImapString(part.subtype, out);
  } else {
    text = part.type == "text";
    AppendImapString(part.type, out);
    out->push_back(' ');
    AppendImapString(part.subtype, out);
  }
  out->push_back(' ');
  AppendParams(part.content_type.params, text, out);
  out->push_back(' ');
  AppendImapNString(FieldText(part, "Content-ID"), out);
  out->push_back(' ');
  AppendImapNString(FieldText(part, "Content-Description"), out);
  out->push_back(' ');
  if (part.transfer_encoding.empty()) {
    out->append(R"("7bit")");
  } else {
    AppendImapString(part.transfer_encoding, out);
  }
  out->push_back(' ');
  out->append(std::to_string(part.body_size));
  if (text) {
    out->push_back(' ');
    out->append(std::to_string(part.body_lines));
  } else if (part.embedded) {
    const Part& inner = part.children.front();
    out->append(" (");
    out->append(ImapEnvelope(inner));
    out->append(") (");
    AppendBody(inner, extended, out);
    out->append(") ");
    out->append(std::to_string(part.body_lines));
  }
  if (!extended) return;
  out->push_back(' ');
  AppendImapNString(FieldText(part, "Content-MD5"), out);
  AppendCommonExtension(part, out);
}

void AppendBody(const Part& part, bool extended, std::string* out) {
  if (part.multipart) {
    AppendMultipart(part, extended, out);
  } else {
    AppendSinglePart(part, extended, out);
  }
}

// ---- reading body structures back (NormalizeBodyStructure) ----

// One IMAP value: NIL, an atom or number, a string, or a list.
struct Value {
  enum Kind { kNil, kAtom, kString, kList } kind = kNil;
  std::string text;
  std::vector<Value> items;
};

constexpr size_t kMaxValueDepth = 100;

class ValueReader {
 public:
  explicit ValueReader(std::string_view s) : s_(s) {}

  // The whole text as the items of one list.
  std::optional<std::vector<Value>> ReadAll() {
    std::vector<Value> items;
    if (!ReadItems(&items, 0)) return std::nullopt;
    SkipSpaces();
    if (pos_ != s_.size()) return std::nullopt;
    return items;
  }

 private:
  void SkipSpaces() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }

  bool ReadItems(std::vector<Value>* items, size_t depth) {
    while (true) {
      SkipSpaces();
      if (pos_ >= s_.size() || s_[pos_] == ')') return true;
      Value v;
      if (!ReadValue(&v, depth)) return false;
      items->push_back(std::move(v));
    }
  }

  bool ReadValue(Value* v, size_t depth) {
    char c = s_[pos_];
    if (c == '(') {
      if (depth >= kMaxValueDepth) return false;
      ++pos_;
      v->kind = Value::kList;
      if (!ReadItems(&v->items, depth + 1)) return false;
      if (pos_ >= s_.size()) return false;
      ++pos_;  // ')'
      return true;
    }
    if (c == '"') {
      v->kind = Value::kString;
      for (++pos_; pos_ < s_.size() && s_[pos_] != '"'; ++pos_) {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
        v->text.push_back(s_[pos_]);
      }
      if (pos_ >= s_.size()) return false;
      ++pos_;
      return true;
    }
    if (c == '{') {
      size_t close = s_.find("}\r\n", pos_);
      if (close == std::string_view::npos || close == pos_ + 1 || close - pos_ > 12) return false;
      size_t n = 0;
      for (size_t i = pos_ + 1; i < close; ++i) {
        if (s_[i] < '0' || s_[i] > '9') return false;
        n = n * 10 + static_cast<size_t>(s_[i] - '0');
      }
      size_t begin = close + 3;
      if (n > s_.size() - std::min(begin, s_.size())) return false;
      v->kind = Value::kString;
      v->text = std::string(s_.substr(begin, n));
      pos_ = begin + n;
      return true;
    }
    // An atom or number (RFC 9051 §9 ATOM-CHAR: no controls, no 8-bit).
    size_t begin = pos_;
    while (pos_ < s_.size() && s_[pos_] > ' ' && s_[pos_] < 0x7f && s_[pos_] != '(' &&
           s_[pos_] != ')' && s_[pos_] != '"' && s_[pos_] != '{' && s_[pos_] != '\\') {
      ++pos_;
    }
    if (pos_ == begin) return false;
    v->text = std::string(s_.substr(begin, pos_ - begin));
    v->kind = EqualsIgnoreCase(v->text, "NIL") ? Value::kNil : Value::kAtom;
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

void WriteValue(const Value& v, std::string* out) {
  switch (v.kind) {
    case Value::kNil:
      out->append("NIL");
      break;
    case Value::kAtom:
      out->append(v.text);
      break;
    case Value::kString:
      AppendImapString(v.text, out);
      break;
    case Value::kList: {
      // A list of lists (an address list) is written without separators.
      bool all_lists = std::all_of(v.items.begin(), v.items.end(),
                                   [](const Value& item) { return item.kind == Value::kList; });
      out->push_back('(');
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i > 0 && !all_lists) out->push_back(' ');
        WriteValue(v.items[i], out);
      }
      out->push_back(')');
      break;
    }
  }
}

// Extension fields from `i` on, `count` of them, NIL where absent; the
// language field (index `language`) as a list.
void WriteExtension(const std::vector<Value>& items, size_t i, size_t count, size_t language,
                    std::string* out) {
  for (size_t k = 0; k < count; ++k, ++i) {
    out->push_back(' ');
    if (i >= items.size()) {
      out->append("NIL");
    } else if (k == language && items[i].kind == Value::kString) {
      Value list;
      list.kind = Value::kList;
      list.items.push_back(items[i]);
      WriteValue(list, out);
    } else {
      WriteValue(items[i], out);
    }
  }
}

bool WriteNormalized(const std::vector<Value>& items, std::string* out) {
  if (items.empty()) return false;
  if (items[0].kind == Value::kList) {
    size_t i = 0;
    for (; i < items.size() && items[i].kind == Value::kList; ++i) {
      out->push_back('(');
      if (!WriteNormalized(items[i].items, out)) return false;
      out->push_back(')');
    }
    if (i >= items.size() || items[i].kind == Value::kList) return false;
    out->push_back(' ');
    WriteValue(items[i++], out);
    // params, disposition, language, location
    WriteExtension(items, i, 4, 2, out);
    return true;
  }
  // type subtype params id description encoding size
  if (items.size() < 7) return false;
  for (size_t i = 0; i < 7; ++i) {
    if (i > 0) out->push_back(' ');
    WriteValue(items[i], out);
  }
  size_t i = 7;
  const bool text = EqualsIgnoreCase(items[0].text, "text");
  const bool message = EqualsIgnoreCase(items[0].text, "message") &&
                       EqualsIgnoreCase(items[1].text, "rfc822") && items.size() >= 10 &&
                       items[7].kind == Value::kList && items[8].kind == Value::kList;
  if (text) {
    if (i >= items.size() || items[i].kind != Value::kAtom) return false;
    out->push_back(' ');
    WriteValue(items[i++], out);
  } else if (message) {
    out->push_back(' ');
    WriteValue(items[i++], out);  // envelope
    out->append(" (");
    if (!WriteNormalized(items[i++].items, out)) return false;
    out->append(") ");
    WriteValue(items[i++], out);  // lines
  }
  // md5, disposition, language, location
  WriteExtension(items, i, 4, 2, out);
  return true;
}

// The text of a string or atom; "" for NIL.
std::string TextOf(const Value& v) { return v.kind == Value::kNil ? std::string() : v.text; }

// An envelope's address list: the addresses of a list value, none for NIL.
std::vector<EnvelopeAddress> AddressesOf(const Value& list) {
  std::vector<EnvelopeAddress> out;
  for (const Value& item : list.items) {
    if (item.kind != Value::kList || item.items.size() != 4) continue;
    out.push_back({TextOf(item.items[0]), TextOf(item.items[2]), TextOf(item.items[3]),
                   item.items[0].kind != Value::kNil});
  }
  return out;
}

}  // namespace

std::optional<std::string> NormalizeBodyStructure(std::string_view text) {
  std::optional<std::vector<Value>> items = ValueReader(text).ReadAll();
  if (!items) return std::nullopt;
  std::string out;
  if (!WriteNormalized(*items, &out)) return std::nullopt;
  return out;
}

void AppendImapString(std::string_view s, std::string* out) {
  bool quotable = s.size() <= 1024;
  size_t kept = 0;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u == '\r' || u == '\n' || u == 0) continue;
    ++kept;
    if (u >= 0x80 || u < 0x20) {
      if (u != '\t') quotable = false;
    }
  }
  if (quotable) {
    out->push_back('"');
    for (char c : s) {
      if (c == '\r' || c == '\n' || c == 0) continue;
      if (c == '"' || c == '\\') out->push_back('\\');
      out->push_back(c);
    }
    out->push_back('"');
    return;
  }
  out->push_back('{');
  out->append(std::to_string(kept));
  out->append("}\r\n");
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == 0) continue;
    out->push_back(c);
  }
}

void AppendImapNString(std::string_view s, std::string* out) {
  if (s.empty()) {
    out->append("NIL");
  } else {
    AppendImapString(s, out);
  }
}

std::string ImapEnvelope(const Part& message) {
  std::string out;
  out.reserve(256);
  AppendImapNString(FieldText(message, "Date"), &out);
  out.push_back(' ');
  AppendImapNString(FieldText(message, "Subject"), &out);
  out.push_back(' ');
  AppendAddressList(message, "From", "", &out);
  out.push_back(' ');
  AppendAddressList(message, "Sender", "From", &out);
  out.push_back(' ');
  AppendAddressList(message, "Reply-To", "From", &out);
  out.push_back(' ');
  AppendAddressList(message, "To", "", &out);
  out.push_back(' ');
  AppendAddressList(message, "Cc", "", &out);
  out.push_back(' ');
  AppendAddressList(message, "Bcc", "", &out);
  out.push_back(' ');
  AppendImapNString(FieldText(message, "In-Reply-To"), &out);
  out.push_back(' ');
  AppendImapNString(FieldText(message, "Message-ID"), &out);
  return out;
}

std::string ImapBodyStructure(const Part& part, bool extended) {
  std::string out;
  out.reserve(256);
  AppendBody(part, extended, &out);
  return out;
}

std::optional<Envelope> ReadImapEnvelope(std::string_view text) {
  std::optional<std::vector<Value>> items = ValueReader(text).ReadAll();
  // date subject from sender reply-to to cc bcc in-reply-to message-id
  if (!items || items->size() != 10) return std::nullopt;
  const std::vector<Value>& v = *items;
  for (size_t i : {0, 1, 8, 9}) {
    if (v[i].kind == Value::kList) return std::nullopt;
  }
  for (size_t i = 2; i < 8; ++i) {
    if (v[i].kind != Value::kList && v[i].kind != Value::kNil) return std::nullopt;
  }
  Envelope envelope;
  envelope.date = TextOf(v[0]);
  envelope.subject = TextOf(v[1]);
  envelope.from = AddressesOf(v[2]);
  envelope.to = AddressesOf(v[5]);
  envelope.cc = AddressesOf(v[6]);
  envelope.in_reply_to = TextOf(v[8]);
  envelope.message_id = TextOf(v[9]);
  return envelope;
}

}  // namespace postern::message
