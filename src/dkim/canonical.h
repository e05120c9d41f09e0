// DKIM canonicalization (RFC 6376 §3.4): the header fields and body of a
// message turned into the exact bytes that are hashed. Sans-I/O and pure;
// safe from any thread. Input is hostile: any bytes are accepted and give
// some output, never a crash.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::dkim {

enum class Canonicalization { kSimple, kRelaxed };

// One header field as it appears in the message.
struct RawField {
  std::string_view name;  // before the colon, trailing WSP removed
  std::string_view raw;   // the whole field, folding and final line break included
};

// A message split at the end of its header. Lines end in CRLF in mail we
// handle; a bare LF also ends a line here so hostile input stays bounded.
struct SplitMessage {
  std::vector<RawField> fields;  // in order, top to bottom
  std::string_view body;         // after the blank line ("" when there is none)
};

SplitMessage SplitHeader(std::string_view message);

// RFC 6376 §3.4.1/§3.4.2: the canonical form of `field`, ending in CRLF.
// (For the DKIM-Signature field itself the caller drops the CRLF, §3.7.)
std::string CanonicalizeHeader(const RawField& field, Canonicalization c);

// RFC 6376 §3.4.3/§3.4.4: the canonical body, passed to `out` in pieces (so
// a large body is hashed without a second copy). No `l=` limit.
void CanonicalizeBody(std::string_view body, Canonicalization c,
                      const std::function<void(std::string_view)>& out);
std::string CanonicalBody(std::string_view body, Canonicalization c);

// The name of `c` in a c= tag.
std::string_view CanonicalizationName(Canonicalization c);

}  // namespace postern::dkim
