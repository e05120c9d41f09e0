// Fuzz target: hostile messages through header splitting, both
// canonicalizations, tag-list parsing and verification (with a fixed key
// record), checking the invariants canonical forms must keep.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/fuzz_check.h"
#include "dkim/signature.h"

using namespace postern;
using namespace postern::dkim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const SplitMessage split = SplitHeader(input);
  for (const RawField& field : split.fields) {
    const std::string relaxed = CanonicalizeHeader(field, Canonicalization::kRelaxed);
    FUZZ_CHECK(relaxed.ends_with("\r\n"));
    FUZZ_CHECK(relaxed.find("\t") == std::string::npos);
    FUZZ_CHECK(CanonicalizeHeader(field, Canonicalization::kSimple) == field.raw);
    (void)ParseTagList(field.raw);
  }
  const std::string simple = CanonicalBody(split.body, Canonicalization::kSimple);
  FUZZ_CHECK(simple.ends_with("\r\n"));
  FUZZ_CHECK(!simple.ends_with("\r\n\r\n"));
  const std::string relaxed = CanonicalBody(split.body, Canonicalization::kRelaxed);
  FUZZ_CHECK(relaxed.empty() || relaxed.ends_with("\r\n"));
  FUZZ_CHECK(relaxed.find("\t") == std::string::npos);
  FUZZ_CHECK(relaxed.find(" \r\n") == std::string::npos);
  // Relaxed is idempotent.
  FUZZ_CHECK(CanonicalBody(relaxed, Canonicalization::kRelaxed) == relaxed);
  (void)RecommendedHeaders(split);
  (void)Verify(input, [](std::string_view, std::string_view) -> Result<std::string> {
    return std::string("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  });
  return 0;
}
