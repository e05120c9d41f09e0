// Recipient resolution: what an address of ours stands for. Pure logic over
// DirectoryLookup (no I/O of its own; the lookups may block, so call it off
// the I/O threads). Thread-safe.
//
// For local@domain, in this order:
//   1. an alias for exactly local@domain (its targets are resolved in turn;
//      a target equal to the alias itself means "also keep a copy here");
//   2. an account local@domain;
//   3. with sub-addressing, the same two for local-without-"+tag"@domain;
//   4. the domain's catch-all alias "@domain" (a target "@other" maps to
//      local@other, keeping the local part);
//   5. otherwise the user is unknown.
// Targets in non-local domains become remote destinations. Expansion stops
// at kMaxDepth levels and at cycles; duplicates are removed; an address
// reached twice is expanded once.
#pragma once

#include <string>
#include <vector>

#include "directory/directory.h"

namespace postern::directory {

struct Destination {
  std::string address;  // normalized
  bool local = false;   // an account here (else a remote forward)
  AccountInfo account;  // for local destinations
  bool operator==(const Destination& o) const { return address == o.address && local == o.local; }
};

struct Resolution {
  enum Kind {
    kDeliverable,  // at least one destination
    kNotLocal,     // the domain is not ours
    kUnknownUser,  // our domain, nobody by that name
  } kind = kUnknownUser;
  std::vector<Destination> destinations;
};

struct ResolverOptions {
  std::string recipient_delimiter = "+";  // "" disables sub-addressing
  // Bounds on one resolution; past them Resolve fails with
  // kResourceExhausted (a misconfigured or hostile alias tangle must not
  // cost unbounded time or memory).
  size_t max_destinations = 1000;
  int max_lookups = 5000;
};

inline constexpr int kMaxAliasDepth = 10;

// `address` must be normalized (NormalizeAddress).
Result<Resolution> Resolve(DirectoryLookup& lookup, const std::string& address,
                           const ResolverOptions& options);

// Whether the user of `account` may send as `sender` (both normalized) in
// MAIL FROM and From: on submission (RFC 6409 §6.1): its own address, the same
// with a "+tag", or an alias of exactly that address (or of it without the
// tag) whose expansion reaches the account. The domain's catch-all grants
// nothing: it would let its owner send as every unassigned address.
Result<bool> MaySendAs(DirectoryLookup& lookup, const std::string& account,
                       const std::string& sender, const ResolverOptions& options);

}  // namespace postern::directory
