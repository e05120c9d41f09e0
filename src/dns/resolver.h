// DNS lookups for outbound delivery: MX, addresses, TLSA and TXT records over
// libunbound (`MakeResolver`), with DNSSEC status on every answer.
// Thread safety: a Resolver is used on the thread of the io_context it was
// made for, and only there. OrderMx and IsNullMx are pure.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "net/asio.h"

namespace postern::dns {

struct MxRecord {
  uint16_t preference = 0;
  std::string host;  // lowercase, no trailing dot; "" for the null MX "." (RFC 7505)
};

struct TlsaRecord {
  uint8_t usage = 0, selector = 0, matching = 0;  // RFC 6698 §2.1
  std::string data;                               // raw bytes
};

// Every lookup result. `status` is OK whenever the server answered, NXDOMAIN
// and NODATA included (then the records are empty); Unavailable for SERVFAIL,
// timeouts, network trouble and answers that failed DNSSEC validation
// (`bogus`): the caller retries later.
struct Answer {
  Status status;
  bool nxdomain = false;
  bool secure = false;  // DNSSEC-validated
  bool bogus = false;   // DNSSEC validation failed; status is Unavailable
};

struct MxAnswer : Answer {
  std::vector<MxRecord> records;  // in the server's order: see OrderMx
};

// A and AAAA together: the A records first, then the AAAA records. OK when
// either query answered with addresses, or both answered, but never when
// either was bogus; `secure` only when both answers were validated.
struct AddressAnswer : Answer {
  std::vector<asio::ip::address> addresses;
};

struct TlsaAnswer : Answer {
  std::vector<TlsaRecord> records;
};

struct TxtAnswer : Answer {
  std::vector<std::string> texts;  // each TXT record's strings concatenated (RFC 7208 §3.3)
};

// Malformed records in an answer are skipped. Names may end in a dot or not.
class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual asio::awaitable<MxAnswer> Mx(std::string domain) = 0;
  virtual asio::awaitable<AddressAnswer> Addresses(std::string host) = 0;
  virtual asio::awaitable<TlsaAnswer> Tlsa(std::string name) = 0;  // "_25._tcp.mx.example.net"
  virtual asio::awaitable<TxtAnswer> Txt(std::string name) = 0;
};

// A libunbound resolver per `config` (docs/dns.md): forwarding to
// config.resolvers or to the servers of /etc/resolv.conf, validating with the
// trust anchor when config.dnssec, or answering from config.static_zone alone.
// All calls on `context`'s thread; destroy the resolver before `context`.
// Destroying it while lookups are outstanding is safe: they complete with
// Unavailable. Errors: a static zone line that does not parse
// (InvalidArgument naming file and line), an unreadable file, a libunbound
// setting it refuses.
Result<std::unique_ptr<Resolver>> MakeResolver(asio::io_context& context,
                                               const config::DnsConfig& config);

// RFC 5321 §5.1: ascending preference; records of equal preference in an
// order drawn from `rng`.
std::vector<MxRecord> OrderMx(std::vector<MxRecord> records, std::mt19937_64& rng);

// RFC 7505 §3: exactly one MX record, whose host is the root ("").
bool IsNullMx(const std::vector<MxRecord>& records);

}  // namespace postern::dns
