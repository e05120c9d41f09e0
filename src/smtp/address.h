// RFC 5321 §4.1.2 paths and mailboxes, with RFC 6531 (SMTPUTF8) extensions.
// Pure functions, no I/O; fuzzed (fuzz_address.cc). Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace postern::smtp {

// RFC 5321 §4.5.3.1 size limits.
inline constexpr size_t kMaxLocalPartLength = 64;
inline constexpr size_t kMaxDomainLength = 255;
inline constexpr size_t kMaxPathLength = 256;

struct Mailbox {
  // The local part with quoting removed: "\"a b\"@x" gives `a b`. Compare and
  // look up local parts in this form only, never in the quoted form.
  std::string local_part;
  // The domain as written, without a trailing dot (a trailing dot is a syntax
  // error, not stripped). An address literal keeps its brackets: "[192.0.2.1]".
  std::string domain;
  bool local_part_quoted = false;  // it was written as a quoted-string
  bool address_literal = false;    // domain is an RFC 5321 §4.1.3 address literal

  // local@domain with the local part re-quoted when it needs quotes.
  std::string ToString() const;
  // True if local part or domain has non-ASCII bytes (needs SMTPUTF8).
  bool IsInternational() const;
  bool empty() const { return local_part.empty() && domain.empty(); }
};

// A reverse-path or forward-path as written in MAIL FROM:<...> / RCPT TO:<...>.
struct Path {
  bool null = false;              // "<>"
  bool had_source_route = false;  // "<@a,@b:user@d>": the route is dropped (§4.1.1.3, §C)
  bool postmaster = false;        // "<Postmaster>" without domain (§4.1.1.3), any case
  Mailbox mailbox;                // empty for null and bare postmaster
};

enum class AddressError {
  kSyntax,         // not a valid path or mailbox
  kTooLong,        // a §4.5.3.1 size limit was exceeded
  kNonAscii,       // non-ASCII without SMTPUTF8 permission (RFC 6531 §3.5)
  kMissingDomain,  // "user" without "@domain" (and not the postmaster special case)
};

struct PathOptions {
  bool allow_utf8 = false;        // SMTPUTF8 was given for this transaction
  bool allow_null = false;        // "<>" is acceptable (MAIL FROM only)
  bool allow_postmaster = false;  // bare "<Postmaster>" is acceptable (RCPT TO only)
};

struct PathResult {
  bool ok = false;
  AddressError error = AddressError::kSyntax;
  Path path;
};

// Parses the text between "FROM:"/"TO:" and the parameters, angle brackets
// included: "<a@b>", "<>", "<@r1,@r2:a@b>". Brackets are required (RFC 5321
// §4.1.2); the command parser already tolerates a space after the colon.
PathResult ParsePath(std::string_view text, const PathOptions& options);

// Parses a bare "local@domain" (no brackets), as typed by an administrator.
Result<Mailbox> ParseMailbox(std::string_view text, bool allow_utf8 = true);

// The domain in canonical form for comparisons and storage: lowercase, IDNA
// A-labels (UTS #46 non-transitional, via ICU), no trailing dot. Address
// literals are returned lowercased unchanged. Errors for invalid names.
Result<std::string> NormalizeDomain(std::string_view domain);

}  // namespace postern::smtp
