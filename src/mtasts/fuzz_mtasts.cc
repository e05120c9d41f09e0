// Fuzz target for the MTA-STS parsers. The whole input is a policy body, a
// TXT record and an HTTP response (fed in pieces of sizes taken from the
// input). Invariants: no crash; a parsed policy keeps the limits and has
// lowercase patterns, each matching a host made from it; a TXT id is 1 to 32
// letters and digits; the reader ends in one state and its body keeps the limit.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/fuzz_check.h"
#include "base/strings.h"
#include "mtasts/http_response.h"
#include "mtasts/policy.h"

using postern::mtasts::HttpResponseReader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto policy = postern::mtasts::ParsePolicy(input);
  if (policy.ok()) {
    FUZZ_CHECK(policy->max_age >= 0 && policy->max_age <= postern::mtasts::kMaxMaxAge);
    FUZZ_CHECK(policy->mx.size() <= postern::mtasts::kMaxMxPatterns);
    FUZZ_CHECK(!policy->mx.empty() || policy->mode == postern::mtasts::Policy::kNone);
    for (const std::string& pattern : policy->mx) {
      FUZZ_CHECK(pattern == postern::AsciiToLower(pattern));
      std::string host = pattern.starts_with("*.") ? "x" + pattern.substr(1) : pattern;
      FUZZ_CHECK(postern::mtasts::MxMatches(*policy, host));
    }
  }

  if (auto id = postern::mtasts::ParseTxtId(input)) {
    FUZZ_CHECK(!id->empty() && id->size() <= 32);
  }

  HttpResponseReader reader(4096);
  HttpResponseReader::State state = HttpResponseReader::State::kNeedMore;
  size_t step = size > 0 ? static_cast<uint8_t>(input[0]) % 17 + 1 : 1;
  for (size_t i = 0; i < input.size() && state == HttpResponseReader::State::kNeedMore; i += step) {
    state = reader.Feed(input.substr(i, step));
  }
  if (state == HttpResponseReader::State::kNeedMore) state = reader.Finish();
  FUZZ_CHECK(state != HttpResponseReader::State::kNeedMore);
  FUZZ_CHECK(reader.body().size() <= 4096);
  FUZZ_CHECK((state == HttpResponseReader::State::kError) == !reader.error().empty());
  return 0;
}
