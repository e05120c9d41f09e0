// Fuzz target for ParsePath, ParseMailbox and NormalizeDomain: the input is
// the text of a path ("<...>"); bracket-less inputs exercise ParseMailbox.
// Invariants: results respect the size limits and the permission options,
// a parsed mailbox survives ToString and reparsing unchanged, and
// NormalizeDomain is idempotent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/strings.h"
#include "smtp/address.h"
#include "smtp/fuzz_check.h"

namespace {

using postern::smtp::Mailbox;
using postern::smtp::PathOptions;
using postern::smtp::PathResult;

void CheckRoundTrip(const Mailbox& mailbox) {
  PathOptions options;
  options.allow_utf8 = true;
  PathResult again = postern::smtp::ParsePath("<" + mailbox.ToString() + ">", options);
  FUZZ_CHECK(again.ok);
  FUZZ_CHECK(again.path.mailbox.local_part == mailbox.local_part);
  FUZZ_CHECK(again.path.mailbox.domain == mailbox.domain);
  FUZZ_CHECK(again.path.mailbox.address_literal == mailbox.address_literal);
  auto bare = postern::smtp::ParseMailbox(mailbox.ToString(), true);
  FUZZ_CHECK(bare.ok());
  FUZZ_CHECK(bare->local_part == mailbox.local_part && bare->domain == mailbox.domain);
}

void CheckNormalize(std::string_view domain) {
  auto normalized = postern::smtp::NormalizeDomain(domain);
  if (!normalized.ok()) {
    FUZZ_CHECK(normalized.status().code() == postern::StatusCode::kInvalidArgument);
    return;
  }
  FUZZ_CHECK(!normalized->empty());
  FUZZ_CHECK(!postern::HasNonAscii(*normalized));
  auto again = postern::smtp::NormalizeDomain(*normalized);
  FUZZ_CHECK(again.ok() && *again == *normalized);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (int variant = 0; variant < 8; ++variant) {
    PathOptions options;
    options.allow_utf8 = (variant & 1) != 0;
    options.allow_null = (variant & 2) != 0;
    options.allow_postmaster = (variant & 4) != 0;
    PathResult result = postern::smtp::ParsePath(text, options);
    if (!result.ok) {
      FUZZ_CHECK(result.path.mailbox.empty());
      continue;
    }
    const auto& path = result.path;
    FUZZ_CHECK(text.size() <= postern::smtp::kMaxPathLength);
    if (path.null) {
      FUZZ_CHECK(options.allow_null && text == "<>");
      continue;
    }
    if (path.postmaster) {
      FUZZ_CHECK(options.allow_postmaster && path.mailbox.empty());
      continue;
    }
    const Mailbox& mailbox = path.mailbox;
    FUZZ_CHECK(!mailbox.domain.empty());
    FUZZ_CHECK(mailbox.local_part.size() <= postern::smtp::kMaxLocalPartLength);
    FUZZ_CHECK(mailbox.domain.size() <= postern::smtp::kMaxDomainLength);
    if (!options.allow_utf8) FUZZ_CHECK(!mailbox.IsInternational());
    FUZZ_CHECK(postern::IsValidUtf8(mailbox.local_part) || mailbox.local_part.empty());
    CheckRoundTrip(mailbox);
    // Every accepted domain normalizes, except that the path grammar takes
    // any LDH label while NormalizeDomain also checks "xn--" labels' punycode.
    auto normalized = postern::smtp::NormalizeDomain(mailbox.domain);
    FUZZ_CHECK(normalized.ok() ||
               postern::AsciiToLower(mailbox.domain).find("xn--") != std::string::npos);
    CheckNormalize(mailbox.domain);
  }
  for (bool utf8 : {false, true}) {
    auto mailbox = postern::smtp::ParseMailbox(text, utf8);
    if (!mailbox.ok()) continue;
    if (!utf8) FUZZ_CHECK(!mailbox->IsInternational());
    CheckRoundTrip(*mailbox);
  }
  CheckNormalize(text);
  return 0;
}
