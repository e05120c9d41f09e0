// Fetching an MTA-STS policy over HTTPS (RFC 8461 §3.3). Runs on the thread
// of `ex`, which must be the thread of `resolver`.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "dns/resolver.h"
#include "net/asio.h"

namespace postern::mtasts {

// GETs https://mta-sts.<domain>/.well-known/mta-sts.txt: resolves the policy
// host with `resolver`, tries its addresses in turn on `port` (443 in
// production), verifies the certificate against the policy host name with the
// trust anchors of `tls` (SNI sent), and returns the body of a 200 response
// of media type text/plain, at most kMaxPolicySize bytes. Redirects are not
// followed. `timeout` bounds everything after the DNS lookup (which has the
// resolver's own timeout). Errors: the lookup's status, Unavailable for
// network and TLS trouble, DeadlineExceeded, InvalidArgument for a response
// that is not a policy (status, media type, size, malformed HTTP).
asio::awaitable<Result<std::string>> FetchPolicy(asio::any_io_executor ex, dns::Resolver& resolver,
                                                 std::string domain, asio::ssl::context& tls,
                                                 uint16_t port, std::chrono::seconds timeout);

}  // namespace postern::mtasts
