#include "delivery/route.h"

#include <algorithm>

#include "base/strings.h"
#include "mtasts/policy.h"

namespace postern::delivery {

Route PlanRoute(const std::string& domain, const dns::MxAnswer& mx, const std::string& our_hostname,
                std::mt19937_64& rng) {
  Route route;
  route.secure = mx.secure;
  if (!mx.status.ok() || mx.bogus) {
    route.kind = Route::Kind::kTemporary;
    route.error = "451 4.4.3 cannot look up the mail exchangers of " + domain + ": " +
                  (mx.bogus ? std::string("DNSSEC validation failed") : mx.status.message());
    return route;
  }
  if (mx.nxdomain) {
    route.kind = Route::Kind::kPermanent;
    route.error = "550 5.1.2 the domain " + domain + " does not exist";
    return route;
  }
  if (dns::IsNullMx(mx.records)) {
    route.kind = Route::Kind::kPermanent;
    route.error = "556 5.1.10 the domain " + domain + " accepts no mail (null MX, RFC 7505)";
    return route;
  }
  std::vector<dns::MxRecord> records;
  for (const auto& r : mx.records) {
    if (!r.host.empty()) records.push_back(r);  // a stray "." among real MXs means nothing
  }
  if (records.empty()) {
    route.hosts.push_back(AsciiToLower(domain));  // RFC 5321 §5.1: the implicit MX
    return route;
  }
  records = dns::OrderMx(std::move(records), rng);
  const std::string self = AsciiToLower(our_hostname);
  for (const auto& r : records) {
    if (!self.empty() && AsciiToLower(r.host) == self) {
      // RFC 5321 §5.1: drop ourselves and everything at our preference or worse.
      std::vector<std::string> better;
      for (const auto& b : records) {
        if (b.preference < r.preference) better.push_back(AsciiToLower(b.host));
      }
      if (better.empty()) {
        route.kind = Route::Kind::kPermanent;
        route.error =
            "550 5.4.6 mail for " + domain + " loops back to this server (MX " + r.host + ")";
        return route;
      }
      route.hosts = std::move(better);
      return route;
    }
  }
  for (const auto& r : records) route.hosts.push_back(AsciiToLower(r.host));
  return route;
}

std::vector<std::string> FilterByMtaSts(const std::vector<std::string>& hosts,
                                        const std::vector<std::string>& patterns) {
  // mtasts::MxMatches per pattern: RFC 8461 §4.1 matching in one place.
  auto allowed = [](const std::string& pattern, const std::string& host) {
    mtasts::Policy one;
    one.mx = {pattern};
    return mtasts::MxMatches(one, host);
  };
  std::vector<std::string> out;
  for (const auto& h : hosts) {
    for (const auto& p : patterns) {
      if (allowed(p, h)) {
        out.push_back(h);
        break;
      }
    }
  }
  return out;
}

}  // namespace postern::delivery
