// DKIM signatures (RFC 6376): making a DKIM-Signature field for a message,
// and checking one against a key record. Sans-I/O: the key record comes
// from a lookup function the caller supplies (DNS in the server, a table in
// tests). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "dkim/canonical.h"
#include "dkim/key.h"

namespace postern::dkim {

// A tag=value list (RFC 6376 §3.2): names are case-sensitive, values have
// their surrounding whitespace removed. Error on bad syntax or a repeated tag.
struct Tag {
  std::string_view name;
  std::string_view value;
  size_t value_begin = 0, value_end = 0;  // offsets of the raw value (with its WSP) in the input
};
Result<std::vector<Tag>> ParseTagList(std::string_view text);

struct SignOptions {
  std::string domain;    // d=
  std::string selector;  // s=
  Canonicalization header_canonicalization = Canonicalization::kRelaxed;
  Canonicalization body_canonicalization = Canonicalization::kRelaxed;
  std::optional<int64_t> timestamp;  // t=, when set
  // h=, in order; empty: RecommendedHeaders() of the message.
  std::vector<std::string> headers;
};

// The header fields to sign (RFC 6376 §5.4, §5.4.1): of the recommended set,
// those present, each name once per occurrence, and From once more
// (oversigned, so that a From added later breaks the signature, §8.15).
std::vector<std::string> RecommendedHeaders(const SplitMessage& message);

// The base64 body hash (bh=) of `body`, SHA-256 over its canonical form.
std::string BodyHash(std::string_view body, Canonicalization c);

// The bytes the b= signature covers (RFC 6376 §3.7): the fields named in
// `headers` (each name takes the lowest instance not yet taken; a missing
// one adds nothing), then `signature_field` (the whole DKIM-Signature field,
// name included) with the value of b= emptied and no final line break.
Result<std::string> SignedData(const SplitMessage& message, const std::vector<std::string>& headers,
                               std::string_view signature_field, Canonicalization c);

// A DKIM-Signature field for `message` (CRLF line ends, header then body)
// signed with `key`, folded to lines under 78 columns, ending in CRLF: put it
// at the top of the message.
Result<std::string> Sign(std::string_view message, const SignOptions& options,
                         const PrivateKey& key);

// The TXT record of a public key: "v=DKIM1; k=ed25519; p=...".
std::string KeyRecord(const PrivateKey& key);

// Finds the key record for (selector, domain): the TXT text, NotFound when
// there is none, another error when the lookup failed.
using KeyLookup =
    std::function<Result<std::string>(std::string_view selector, std::string_view domain)>;

struct Verification {
  Status status;  // OK: the signature verifies
  std::string domain, selector;
};

// Checks every DKIM-Signature field of `message`, top to bottom (at most
// `max_signatures`, the rest are ignored). Supports rsa-sha256 and
// ed25519-sha256 and simple/relaxed; signatures with l= are refused.
std::vector<Verification> Verify(std::string_view message, const KeyLookup& lookup,
                                 size_t max_signatures = 10);

}  // namespace postern::dkim
