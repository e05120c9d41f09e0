// Where mail for a domain goes, decided from DNS answers: pure functions,
// unit-tested without a network.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "dns/resolver.h"

namespace postern::delivery {

// The hosts to try for one destination, best first, or why there are none.
struct Route {
  enum class Kind { kHosts, kTemporary, kPermanent } kind = Kind::kHosts;
  std::vector<std::string> hosts;
  bool secure = false;  // the MX answer was DNSSEC-validated (DANE needs it)
  std::string error;    // "451 4.4.3 ..." / "550 5.1.2 ...": a reply-like text for the DSN
};

// RFC 5321 §5.1 and RFC 7505:
// - MX hosts by ascending preference, equal preferences in random order;
// - no MX record (NODATA): the domain itself, as an implicit MX;
// - a null MX ("MX 0 ."): permanent failure 556 5.1.10;
// - a domain that does not exist: permanent failure 550 5.1.2;
// - a lookup that failed (server failure, timeout, DNSSEC bogus): temporary;
// - an MX that is this server (`our_hostname`): that host and every host of
//   the same or a higher preference is dropped; if none is left the mail
//   would loop: permanent failure 550 5.4.6.
Route PlanRoute(const std::string& domain, const dns::MxAnswer& mx, const std::string& our_hostname,
                std::mt19937_64& rng);

// How a connection must be secured.
struct TlsPolicy {
  enum class Mode {
    kOpportunistic,  // STARTTLS when offered, certificate not checked; plaintext otherwise
    kVerify,         // TLS required, certificate must chain to a trusted CA and match `names`
    kDane,           // TLS required, certificate must match the TLSA records
  } mode = Mode::kOpportunistic;
  std::vector<std::string> names;  // kVerify: acceptable names ("*.example.net" allowed)
  std::vector<dns::TlsaRecord> tlsa;
  std::string source;     // for logs and errors: "MTA-STS", "DANE", "smarthost"
  bool implicit = false;  // TLS from the first byte (a smarthost on port 465), not STARTTLS
};

// RFC 8461 §4.1: which MX hosts an enforced MTA-STS policy allows.
std::vector<std::string> FilterByMtaSts(const std::vector<std::string>& hosts,
                                        const std::vector<std::string>& patterns);

}  // namespace postern::delivery
