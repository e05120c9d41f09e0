// Internal to the smtp library: RFC 5321 §4.1.2 / §4.1.3 syntax checks for
// domains and address literals, shared by the path parser and
// NormalizeDomain. Pure functions. Thread-safe.
#pragma once

#include <string_view>

namespace postern::smtp {

enum class DomainSyntax { kOk, kSyntax, kTooLong };

// Domain = sub-domain *("." sub-domain) (RFC 5321 §4.1.2), where a
// sub-domain may also be a U-label (RFC 6531 §3.3) made of valid UTF-8 that
// IDNA accepts. No trailing dot. Labels longer than 63 octets (RFC 1035
// §2.3.4) and names longer than kMaxDomainLength give kTooLong. Does not
// check whether non-ASCII is permitted: the caller does.
DomainSyntax CheckDomain(std::string_view domain);

// An LDH label: Let-dig [Ldh-str] (RFC 5321 §4.1.2), any length.
bool IsLdhLabel(std::string_view label);

// address-literal with its brackets (RFC 5321 §4.1.3): "[192.0.2.1]",
// "[IPv6:2001:db8::1]", or a General-address-literal "[tag:content]".
bool IsAddressLiteral(std::string_view literal);

// Snum 3("." Snum), each 0..255 (RFC 5321 §4.1.3).
bool IsIpv4AddressText(std::string_view text);

// IPv6-addr of RFC 5321 §4.1.3 (without the "IPv6:" tag).
bool IsIpv6AddressText(std::string_view text);

}  // namespace postern::smtp
