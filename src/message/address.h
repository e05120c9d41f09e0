// RFC 5322 §3.4 address lists as IMAP's ENVELOPE needs them (RFC 3501
// §7.4.2, RFC 9051 §7.5.2), tolerant of the obsolete syntax and of broken
// input the way Dovecot is. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace postern::message {

struct Address {
  enum class Kind {
    kMailbox,     // name, route, mailbox, host
    kGroupStart,  // mailbox holds the group's display name; the rest is empty
    kGroupEnd,    // everything empty
  };
  Kind kind = Kind::kMailbox;
  // Display name as written: quoted strings unquoted (backslash escapes
  // removed), encoded words NOT decoded, runs of whitespace kept as one
  // space. When there is no phrase, a comment after the address gives the
  // name ("user@domain (Real Name)"). Empty: none (NIL).
  std::string name;
  std::string route;      // obsolete source route "@a,@b" (empty: NIL)
  std::string mailbox;    // local part as written (quotes kept if it needed them)
  std::string host;       // domain (empty with a mailbox: the host was missing)
  bool has_name = false;  // distinguishes "" "" from NIL where Dovecot does
  // What Dovecot's ENVELOPE shows in place of broken parts (it parses with
  // MESSAGE_ADDRESS_PARSE_FLAG_FILL_MISSING): an angle address that did not
  // parse has host "SYNTAX_ERROR" there, a route without its ':' (or one
  // that did not parse) is "INVALID_ROUTE". An empty mailbox or host of a
  // kMailbox is "MISSING_MAILBOX" / "MISSING_DOMAIN" there.
  bool syntax_error = false;
  bool invalid_route = false;
};

// Parses an address-list (From, To, Cc, Bcc, Sender, Reply-To values, folded
// or not). Never fails: what cannot be parsed is skipped or kept as a mailbox
// without host, as Dovecot does (see the Dovecot envelope test vectors). At
// most 10000 entries are returned; hostile input can hold more.
std::vector<Address> ParseAddressList(std::string_view raw_value);

// The address as "local@host" (or "local" without host); empty for groups.
std::string AddressSpec(const Address& address);

// Display name decoded to UTF-8 (RFC 2047); for kGroupStart, the group's
// name. Whitespace is kept as in `name`.
std::string DecodedName(const Address& address);

}  // namespace postern::message
