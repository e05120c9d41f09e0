// MTA-STS (RFC 8461): the policy file grammar, the "_mta-sts" TXT record and
// MX host matching. Pure functions, fuzzed (fuzz_mtasts.cc); thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace postern::mtasts {

// Limits on what a policy host may send (RFC 8461 §3.3 suggests 64 KB).
inline constexpr size_t kMaxPolicySize = 64 * 1024;
inline constexpr size_t kMaxMxPatterns = 100;
inline constexpr int64_t kMaxMaxAge = 31557600;  // RFC 8461 §3.2

struct Policy {
  enum Mode { kEnforce, kTesting, kNone };
  Mode mode = kNone;
  std::vector<std::string> mx;  // lowercase patterns: "mx.example.net" or "*.example.net"
  int64_t max_age = 0;          // seconds
  std::string id;               // from the TXT record (ParseTxtId); ParsePolicy leaves it empty
};

// Parses a policy body per the ABNF of RFC 8461 §3.2: lines end in LF or
// CRLF; version (STSv1), mode and max_age are required, mx at least once
// unless the mode is none; the first of a repeated field counts; unknown
// fields are ignored but must be well-formed. Blank lines after the last
// field are tolerated. InvalidArgument says what is wrong.
Result<Policy> ParsePolicy(std::string_view text);

// RFC 8461 §4.1: whether `mx_host` (any case, trailing dot allowed) matches a
// pattern of the policy; "*.example.net" matches exactly one more label.
bool MxMatches(const Policy& policy, std::string_view mx_host);

// The id of a "_mta-sts" TXT record (RFC 8461 §3.1: "v=STSv1; id=...;"), or
// nullopt when the record is not a valid STSv1 record.
std::optional<std::string> ParseTxtId(std::string_view txt);

}  // namespace postern::mtasts
