// DKIM signing and verification, RFC 6376 §3.5, §3.7, §5, §6.
#include "dkim/signature.h"

#include <set>

#include "base/base64.h"
#include "base/strings.h"

namespace postern::dkim {
namespace {

constexpr std::string_view kFieldName = "DKIM-Signature";
constexpr size_t kMaxColumns = 78;  // RFC 5322 §2.1.1: SHOULD stay within 78

// RFC 6376 §5.4.1 (plus the MIME and Message-ID/Sender fields, which a
// mailing list or forwarder has no business changing either).
constexpr std::string_view kRecommended[] = {
    "From",
    "Reply-To",
    "Subject",
    "Date",
    "To",
    "Cc",
    "Resent-Date",
    "Resent-From",
    "Resent-To",
    "Resent-Cc",
    "In-Reply-To",
    "References",
    "List-Id",
    "List-Help",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Subscribe",
    "List-Post",
    "List-Owner",
    "List-Archive",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Sender",
};

bool IsWsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

std::string WithoutWhitespace(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (!IsWsp(c)) out += c;
  }
  return out;
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Builds a header field folded before a token that would pass the limit.
class FoldedField {
 public:
  explicit FoldedField(std::string_view name) : text_(name), column_(name.size()) {
    text_ += ':';
    ++column_;
  }
  // Appends `token`, after a space (or a fold) when `space`, otherwise
  // directly (or after a fold, which is FWS too).
  void Add(std::string_view token, bool space = true) {
    if (column_ + (space ? 1 : 0) + token.size() > kMaxColumns && column_ > 1) {
      text_ += "\r\n ";
      column_ = 1;
    } else if (space) {
      text_ += ' ';
      ++column_;
    }
    text_ += token;
    column_ += token.size();
  }
  void Fold() {
    text_ += "\r\n ";
    column_ = 1;
  }
  size_t column() const { return column_; }
  std::string& text() { return text_; }

 private:
  std::string text_;
  size_t column_;
};

// The field with the value of its b= tag removed (RFC 6376 §3.7), without
// the final line break.
Result<std::string> WithEmptyB(std::string_view field) {
  while (!field.empty() && (field.back() == '\n' || field.back() == '\r')) field.remove_suffix(1);
  const size_t colon = field.find(':');
  if (colon == std::string_view::npos) return InvalidArgument("not a header field");
  const std::string_view value = field.substr(colon + 1);
  PT_ASSIGN_OR_RETURN(std::vector<Tag> tags, ParseTagList(value));
  for (const Tag& tag : tags) {
    if (tag.name != "b") continue;
    std::string out(field.substr(0, colon + 1 + tag.value_begin));
    out += value.substr(tag.value_end);
    return out;
  }
  return InvalidArgument("no b= tag");
}

std::optional<Canonicalization> ParseCanonicalization(std::string_view s) {
  if (s == "simple") return Canonicalization::kSimple;
  if (s == "relaxed") return Canonicalization::kRelaxed;
  return std::nullopt;
}

// Parses and checks one signature; OK when it verifies.
Status VerifyOne(const SplitMessage& message, const RawField& field, const KeyLookup& lookup,
                 Verification& out) {
  const size_t colon = field.raw.find(':');
  PT_ASSIGN_OR_RETURN(std::vector<Tag> tags, ParseTagList(field.raw.substr(colon + 1)));
  std::map<std::string_view, std::string_view> tag;
  for (const Tag& t : tags) tag[t.name] = t.value;
  for (std::string_view required : {"v", "a", "b", "bh", "d", "h", "s"}) {
    if (!tag.contains(required)) {
      return InvalidArgument("missing " + std::string(required) + "= tag (RFC 6376 §6.1.1)");
    }
  }
  out.domain = std::string(tag["d"]);
  out.selector = std::string(tag["s"]);
  if (tag["v"] != "1") return InvalidArgument("unsupported version v=" + std::string(tag["v"]));
  if (tag.contains("l")) return InvalidArgument("l= is not supported");
  Algorithm algorithm;
  if (tag["a"] == "rsa-sha256") {
    algorithm = Algorithm::kRsaSha256;
  } else if (tag["a"] == "ed25519-sha256") {
    algorithm = Algorithm::kEd25519Sha256;
  } else {
    // RFC 8301 §3.1: rsa-sha1 is no longer acceptable.
    return InvalidArgument("unsupported algorithm a=" + std::string(tag["a"]));
  }
  Canonicalization header_c = Canonicalization::kSimple, body_c = Canonicalization::kSimple;
  if (tag.contains("c")) {
    const std::string_view c = tag["c"];
    const size_t slash = c.find('/');
    auto h = ParseCanonicalization(c.substr(0, slash));
    auto b = slash == std::string_view::npos ? std::optional(Canonicalization::kSimple)
                                             : ParseCanonicalization(c.substr(slash + 1));
    if (!h || !b) return InvalidArgument("bad c= tag");
    header_c = *h;
    body_c = *b;
  }
  std::vector<std::string> headers;
  bool signs_from = false;
  for (std::string_view name : postern::Split(tag["h"], ':')) {
    std::string n(Trim(name));
    if (n.empty()) return InvalidArgument("empty name in h=");
    signs_from = signs_from || EqualsIgnoreCase(n, "From");
    headers.push_back(std::move(n));
  }
  // RFC 6376 §5.4: From must be signed.
  if (!signs_from) return InvalidArgument("h= does not include From");
  std::optional<std::string> bh = DecodeBase64Strict(WithoutWhitespace(tag["bh"]));
  std::optional<std::string> b = DecodeBase64Strict(WithoutWhitespace(tag["b"]));
  if (!bh || !b) return InvalidArgument("bh= or b= is not base64");
  if (Sha256(CanonicalBody(message.body, body_c)) != *bh) {
    return InvalidArgument("body hash does not match (the body was changed)");
  }
  PT_ASSIGN_OR_RETURN(std::string record, lookup(out.selector, out.domain));
  PT_ASSIGN_OR_RETURN(std::vector<Tag> key_tags, ParseTagList(record));
  std::map<std::string_view, std::string_view> key;
  for (const Tag& t : key_tags) key[t.name] = t.value;
  if (key.contains("v") && key["v"] != "DKIM1")
    return InvalidArgument("key record v= is not DKIM1");
  const std::string_view k = key.contains("k") ? key["k"] : "rsa";
  if (k != KeyTypeName(algorithm)) return InvalidArgument("key type k= does not match a=");
  if (!key.contains("p")) return InvalidArgument("key record has no p=");
  PT_ASSIGN_OR_RETURN(PublicKey public_key, PublicKey::FromRecord(algorithm, key["p"]));
  PT_ASSIGN_OR_RETURN(std::string data, SignedData(message, headers, field.raw, header_c));
  if (!public_key.Verify(data, *b)) return InvalidArgument("signature does not verify");
  return Status::Ok();
}

}  // namespace

Result<std::vector<Tag>> ParseTagList(std::string_view text) {
  std::vector<Tag> tags;
  std::set<std::string_view> seen;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(';', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view spec = text.substr(pos, end - pos);
    const size_t equals = spec.find('=');
    if (equals == std::string_view::npos) {
      // Only an empty spec may lack "=": after a final ";" (§3.2).
      if (!Trim(spec).empty()) return InvalidArgument("tag without '='");
    } else {
      const std::string_view name = Trim(spec.substr(0, equals));
      if (name.empty() || !IsAlpha(name[0])) return InvalidArgument("bad tag name");
      for (char c : name) {
        if (!IsAlpha(c) && !IsDigit(c) && c != '_') return InvalidArgument("bad tag name");
      }
      if (!seen.insert(name).second) {
        return InvalidArgument("tag " + std::string(name) + "= appears twice");
      }
      Tag tag;
      tag.name = name;
      tag.value = Trim(spec.substr(equals + 1));
      tag.value_begin = pos + equals + 1;
      tag.value_end = end;
      tags.push_back(tag);
    }
    pos = end + 1;
  }
  return tags;
}

std::vector<std::string> RecommendedHeaders(const SplitMessage& message) {
  std::vector<std::string> names;
  for (const RawField& field : message.fields) {
    for (std::string_view name : kRecommended) {
      if (EqualsIgnoreCase(field.name, name)) {
        names.emplace_back(name);
        break;
      }
    }
  }
  names.emplace_back("From");
  return names;
}

std::string BodyHash(std::string_view body, Canonicalization c) {
  return EncodeBase64Strict(Sha256(CanonicalBody(body, c)));
}

Result<std::string> SignedData(const SplitMessage& message, const std::vector<std::string>& headers,
                               std::string_view signature_field, Canonicalization c) {
  std::string data;
  // §5.4.2: instances are taken from the bottom up; `taken[i]` marks field i.
  std::vector<bool> taken(message.fields.size(), false);
  for (const std::string& name : headers) {
    for (size_t i = message.fields.size(); i-- > 0;) {
      if (taken[i] || !EqualsIgnoreCase(message.fields[i].name, name)) continue;
      taken[i] = true;
      data += CanonicalizeHeader(message.fields[i], c);
      // Hostile input: a field without its line break (the last one of a
      // message without a body) still ends in CRLF when hashed.
      if (!data.ends_with("\r\n")) data += "\r\n";
      break;
    }
  }
  PT_ASSIGN_OR_RETURN(std::string field, WithEmptyB(signature_field));
  const size_t colon = field.find(':');
  RawField raw{Trim(std::string_view(field).substr(0, colon)), field};
  std::string canonical = CanonicalizeHeader(raw, c);
  if (canonical.ends_with("\r\n")) canonical.resize(canonical.size() - 2);
  data += canonical;
  return data;
}

Result<std::string> Sign(std::string_view message, const SignOptions& options,
                         const PrivateKey& key) {
  const SplitMessage split = SplitHeader(message);
  std::vector<std::string> headers =
      options.headers.empty() ? RecommendedHeaders(split) : options.headers;
  bool has_from = false;
  for (const RawField& f : split.fields) has_from = has_from || EqualsIgnoreCase(f.name, "From");
  if (!has_from) return FailedPrecondition("the message has no From: field to sign");

  FoldedField field(kFieldName);
  field.Add("v=1;");
  field.Add("a=" + std::string(AlgorithmName(key.algorithm())) + ";");
  field.Add("c=" + std::string(CanonicalizationName(options.header_canonicalization)) + "/" +
            std::string(CanonicalizationName(options.body_canonicalization)) + ";");
  field.Add("d=" + options.domain + ";");
  field.Add("s=" + options.selector + ";");
  if (options.timestamp) field.Add("t=" + std::to_string(*options.timestamp) + ";");
  for (size_t i = 0; i < headers.size(); ++i) {
    const bool last = i + 1 == headers.size();
    field.Add((i == 0 ? "h=" : "") + headers[i] + (last ? ";" : ":"), i == 0);
  }
  field.Add("bh=" + BodyHash(split.body, options.body_canonicalization) + ";");
  field.Fold();
  field.text() += "b=";
  PT_ASSIGN_OR_RETURN(std::string data,
                      SignedData(split, headers, field.text(), options.header_canonicalization));
  PT_ASSIGN_OR_RETURN(std::string signature, key.Sign(data));
  const std::string b = EncodeBase64Strict(signature);
  // The b= value folded: the first piece after " b=", then whole lines.
  size_t pos = 0;
  std::string& text = field.text();
  size_t room = kMaxColumns - 3;
  while (pos < b.size()) {
    if (pos > 0) text += "\r\n ";
    text += b.substr(pos, room);
    pos += room;
    room = kMaxColumns - 1;
  }
  text += "\r\n";
  return text;
}

std::string KeyRecord(const PrivateKey& key) {
  return "v=DKIM1; k=" + std::string(KeyTypeName(key.algorithm())) + "; p=" + key.PublicKeyBase64();
}

std::vector<Verification> Verify(std::string_view message, const KeyLookup& lookup,
                                 size_t max_signatures) {
  const SplitMessage split = SplitHeader(message);
  std::vector<Verification> results;
  for (const RawField& field : split.fields) {
    if (!EqualsIgnoreCase(field.name, kFieldName)) continue;
    if (results.size() == max_signatures) break;
    Verification v;
    v.status = VerifyOne(split, field, lookup, v);
    results.push_back(std::move(v));
  }
  return results;
}

}  // namespace postern::dkim
