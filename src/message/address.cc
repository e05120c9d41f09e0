#include "message/address.h"

#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "message/cfws.h"
#include "message/header_text.h"

namespace postern::message {
namespace {

// Hostile mail can hold a megabyte of commas; a real list is far shorter.
constexpr size_t kMaxAddresses = 10000;

// A local part that is not a (loosely dotted) atom must keep its quotes to
// stay one local part.
std::string MailboxAsWritten(const std::string& local_part, bool was_quoted) {
  if (!was_quoted) return local_part;
  bool needs_quotes = local_part.empty();
  for (char c : local_part) {
    if (!IsAtext(c) && c != '.') needs_quotes = true;
  }
  if (!needs_quotes) return local_part;
  std::string out = "\"";
  for (char c : local_part) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// The RFC 5322 §3.4 address-list grammar with the obsolete forms, recovering
// from broken input the way Dovecot's lib-mail does so that ENVELOPE shows
// the same addresses: each step reports kBroken, kEnd (input exhausted) or
// kMore, and callers backtrack to the start of an address on kBroken.
class AddressListParser {
 public:
  explicit AddressListParser(std::string_view text) : text_(text) {}

  std::vector<Address> Parse() {
    if (SkipCfws() <= 0) return {};
    while (!Full()) {
      if (ParseAddress() == kEnd) break;
      if (AtEnd() || Peek() != ',') break;
      ++pos_;
      int step = SkipCfws();
      if (step <= 0) {
        if (step == kBroken) AddMailbox();  // a trailing broken comment
        break;
      }
    }
    return std::move(addresses_);
  }

 private:
  static constexpr int kBroken = -1;
  static constexpr int kEnd = 0;
  static constexpr int kMore = 1;
  static constexpr int kNoDomain = -2;  // addr-spec without "@": no domain tried

  // The mailbox being parsed; "has_" distinguishes absent from empty.
  struct Pending {
    std::string name, route, mailbox, domain;
    bool has_name = false, has_mailbox = false, has_domain = false;
    bool mailbox_quoted = false;
    bool invalid = false, syntax_error = false, invalid_route = false;
  };

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  bool Full() const { return addresses_.size() >= kMaxAddresses; }

  int SkipCfws() {
    if (!cfws::Skip(text_, &pos_, &last_comment_)) return kBroken;
    return AtEnd() ? kEnd : kMore;
  }

  // atom = 1*atext [CFWS]
  int ParseAtom(std::string* out) {
    if (AtEnd() || !IsAtext(Peek())) return kBroken;
    size_t start = pos_;
    while (!AtEnd() && IsAtext(Peek())) ++pos_;
    out->append(text_.substr(start, pos_ - start));
    return SkipCfws();
  }

  // dot-atom with the RFC 822 CFWS around dots ("a . b" is "a.b"); empty
  // atoms between dots are accepted.
  int ParseDotAtom(std::string* out) {
    if (AtEnd() || !IsAtext(Peek())) return kBroken;
    while (true) {
      size_t start = pos_;
      while (!AtEnd() && IsAtext(Peek())) ++pos_;
      out->append(text_.substr(start, pos_ - start));
      int step = SkipCfws();
      if (step <= 0) return step;
      if (Peek() != '.') return kMore;
      ++pos_;
      out->push_back('.');
      step = SkipCfws();
      if (step <= 0) return step;
    }
  }

  // Local parts with leading, trailing or doubled dots are common (in Japan
  // especially), so dots are not checked. CFWS may follow a dot (RFC 5322
  // §4.4 obs-local-part; Dovecot's loose parser stops there).
  int ParseLooseDotAtom(std::string* out) {
    int step = kBroken;
    do {
      while (!AtEnd() && Peek() == '.') {
        out->push_back('.');
        ++pos_;
        step = SkipCfws();
        if (step != kMore) return step;  // kEnd: the local part ends the input
      }
      if (Peek() == '@') break;
      step = ParseAtom(out);
    } while (step == kMore && Peek() == '.');
    return step;
  }

  // quoted-string at '"': escapes removed, the CRLF of a fold removed.
  int ParseQuotedString(std::string* out) {
    ++pos_;
    while (!AtEnd()) {
      char c = text_[pos_++];
      if (c == '"') return SkipCfws();
      if (c == '\\') {
        if (AtEnd()) return kBroken;
        out->push_back(text_[pos_++]);
      } else if (c == '\r' && !AtEnd() && Peek() == '\n') {
        ++pos_;
      } else if (c != '\n') {
        out->push_back(c);
      }
    }
    return kBroken;
  }

  int ParseAtomOrDots(std::string* out) {
    size_t start = pos_;
    while (!AtEnd() && (IsAtext(Peek()) || Peek() == '.')) ++pos_;
    out->append(text_.substr(start, pos_ - start));
    return SkipCfws();
  }

  // phrase = 1*word / obs-phrase; words are joined by one space.
  int ParsePhrase(std::string* out) {
    if (AtEnd()) return kEnd;
    if (Peek() == '.') return kBroken;
    while (true) {
      int step = Peek() == '"' ? ParseQuotedString(out) : ParseAtomOrDots(out);
      if (step <= 0) return step;
      char c = Peek();
      if (!IsAtext(c) && c != '"' && c != '.') break;
      out->push_back(' ');
    }
    return SkipCfws();
  }

  int ParseDomainLiteral(std::string* out) {
    size_t start = pos_;
    while (!AtEnd()) {
      char c = text_[pos_++];
      if (c == '\\') {
        if (AtEnd()) break;
        ++pos_;
      } else if (c == ']') {
        out->append(text_.substr(start, pos_ - start));
        return SkipCfws();
      }
    }
    return kBroken;
  }

  // "@" domain; nothing after the "@" is an empty domain.
  int ParseDomain(std::string* out) {
    ++pos_;
    int step = SkipCfws();
    if (step <= 0) return step;
    return Peek() == '[' ? ParseDomainLiteral(out) : ParseDotAtom(out);
  }

  int ParseLocalPart() {
    local_.clear();
    bool quoted = Peek() == '"';
    int step = quoted ? ParseQuotedString(&local_) : ParseLooseDotAtom(&local_);
    if (step == kBroken) return kBroken;
    pending_.mailbox = local_;
    pending_.has_mailbox = true;
    pending_.mailbox_quoted = quoted;
    return step;
  }

  int ParseMailboxDomain() {
    std::string domain;
    int step = ParseDomain(&domain);
    if (step == kBroken) return kBroken;
    pending_.domain = std::move(domain);
    pending_.has_domain = true;
    return step;
  }

  // obs-domain-list = "@" domain *(*(CFWS / ",") [CFWS] "@" domain)
  int ParseRoute() {
    std::string route;
    while (true) {
      if (AtEnd()) return kEnd;
      if (Peek() != '@') break;
      if (!route.empty()) route.push_back(',');
      route.push_back('@');
      int step = ParseDomain(&route);
      if (step <= 0) return step;
      while (SkipCfws() == kMore && Peek() == ',') ++pos_;
    }
    pending_.route = std::move(route);
    return kMore;
  }

  // angle-addr = "<" [obs-route] addr-spec ">"
  int ParseAngleAddr() {
    ++pos_;
    if (SkipCfws() <= 0) return kBroken;
    if (Peek() == '@') {
      if (ParseRoute() == kMore && Peek() == ':') {
        ++pos_;
      } else {
        pending_.invalid_route = true;
        if (AtEnd()) return kBroken;
      }
      if (SkipCfws() <= 0) return kBroken;
    }
    if (Peek() != '>') {  // "<>" is left empty
      if (ParseLocalPart() <= 0) return kBroken;
      if (Peek() == '@' && ParseMailboxDomain() <= 0) return kBroken;
    }
    if (Peek() != '>') return kBroken;
    ++pos_;
    return SkipCfws();
  }

  // name-addr = [display-name] angle-addr
  int ParseNameAddr() {
    std::string phrase;
    if (ParsePhrase(&phrase) <= 0 || Peek() != '<') return kBroken;
    if (!phrase.empty()) {
      pending_.name = std::move(phrase);
      pending_.has_name = true;
    }
    if (ParseAngleAddr() == kBroken) {
      pending_.syntax_error = true;
      pending_.invalid = true;
    }
    return AtEnd() ? kEnd : kMore;
  }

  // addr-spec = local-part "@" domain. Without a phrase, the last comment
  // names the mailbox ("user@domain (Real Name)"); a local part followed by
  // more words is really a display name without an address.
  int ParseAddrSpec() {
    last_comment_.clear();
    bool quoted = Peek() == '"';
    int step = ParseLocalPart();
    if (step <= 0) pending_.invalid = true;
    int domain_step = kNoDomain;
    if (step != kEnd && !AtEnd() && Peek() == '@') {
      domain_step = ParseMailboxDomain();
      if (domain_step <= 0) step = domain_step;
    }
    if (!last_comment_.empty()) {
      pending_.name = last_comment_;
      pending_.has_name = true;
    } else if (domain_step == kNoDomain) {
      std::string name = local_ + " ";
      size_t before = name.size();
      ParsePhrase(&name);
      if (name.size() != before) {
        pending_.has_mailbox = false;
        pending_.name = std::move(name);
        pending_.has_name = true;
      } else if (!quoted) {
        pending_.has_domain = true;
      }
      pending_.invalid = true;
      step = kBroken;
    }
    return step;
  }

  // mailbox = name-addr / addr-spec
  int ParseMailbox() {
    size_t start = pos_;
    int step = ParseNameAddr();
    if (step == kBroken) {
      pos_ = start;
      step = ParseAddrSpec();
      if (pending_.invalid && !pending_.has_name && pending_.has_mailbox && !pending_.has_domain) {
        // A lone (quoted) word: a name without an address.
        pending_.name = local_;
        pending_.has_name = true;
        pending_.has_mailbox = false;
      }
    }
    AddMailbox();
    return step;
  }

  // group = display-name ":" [group-list] ";" [CFWS]
  int ParseGroup() {
    std::string phrase;
    if (ParsePhrase(&phrase) <= 0 || Peek() != ':') return kBroken;
    ++pos_;
    int step = SkipCfws();
    Address start;
    start.kind = Address::Kind::kGroupStart;
    start.mailbox = std::move(phrase);
    addresses_.push_back(std::move(start));
    if (step == kMore && Peek() != ';') {
      while (!Full()) {
        ParseMailbox();
        if (AtEnd() || Peek() != ',') break;
        ++pos_;
        if (SkipCfws() <= 0) {
          step = kBroken;
          break;
        }
      }
    }
    if (step >= 0) {
      if (AtEnd() || Peek() != ';') {
        step = kBroken;
      } else {
        ++pos_;
        step = SkipCfws();
      }
    }
    Address end;
    end.kind = Address::Kind::kGroupEnd;
    addresses_.push_back(std::move(end));
    return step == kEnd ? kEnd : kMore;
  }

  // address = mailbox / group
  int ParseAddress() {
    size_t start = pos_;
    int step = ParseGroup();
    if (step == kBroken) {
      pos_ = start;
      step = ParseMailbox();
    }
    return step;
  }

  void AddMailbox() {
    Address address;
    address.kind = Address::Kind::kMailbox;
    address.has_name = pending_.has_name;
    if (pending_.has_name) address.name = std::move(pending_.name);
    address.route = std::move(pending_.route);
    if (pending_.has_mailbox) {
      address.mailbox = MailboxAsWritten(pending_.mailbox, pending_.mailbox_quoted);
    }
    if (pending_.has_domain) address.host = std::move(pending_.domain);
    address.syntax_error = pending_.syntax_error;
    address.invalid_route = pending_.invalid_route;
    addresses_.push_back(std::move(address));
    pending_ = Pending();
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string last_comment_;
  std::string local_;  // what the last local part parse collected
  Pending pending_;
  std::vector<Address> addresses_;
};

}  // namespace

std::vector<Address> ParseAddressList(std::string_view raw_value) {
  return AddressListParser(raw_value).Parse();
}

std::string AddressSpec(const Address& address) {
  if (address.kind != Address::Kind::kMailbox) return "";
  if (address.host.empty()) return address.mailbox;
  return address.mailbox + "@" + address.host;
}

std::string DecodedName(const Address& address) {
  switch (address.kind) {
    case Address::Kind::kMailbox:
      return DecodeEncodedWords(address.name);
    case Address::Kind::kGroupStart:
      return DecodeEncodedWords(address.mailbox);
    case Address::Kind::kGroupEnd:
      return "";
  }
  return "";
}

}  // namespace postern::message
