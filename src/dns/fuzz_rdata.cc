// Fuzz target for the record-data parsers: the bytes of an answer come from
// whichever DNS server replied. Every parser sees the whole input.
// Invariants: no crash; a name is lowercase, has no empty label and no byte
// outside [a-z0-9-_.\\] (anything else is escaped as \DDD); a TXT text is never
// longer than its record; an address is 4 or 16 bytes of input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/fuzz_check.h"
#include "dns/rdata.h"

namespace {

void CheckName(std::string_view name) {
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    c == '.' || c == '\\';
    FUZZ_CHECK(ok);
  }
  FUZZ_CHECK(name.find("..") == std::string_view::npos);
  FUZZ_CHECK(name.empty() || (name.front() != '.' && name.back() != '.'));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto name = postern::dns::WireNameToText(input)) CheckName(*name);
  if (auto mx = postern::dns::ParseMxRdata(input)) CheckName(mx->host);
  if (auto tlsa = postern::dns::ParseTlsaRdata(input)) {
    FUZZ_CHECK(tlsa->data.size() + 3 == size);
  }
  if (auto txt = postern::dns::ParseTxtRdata(input)) FUZZ_CHECK(txt->size() < size);
  if (auto address = postern::dns::ParseAddressRdata(input)) {
    FUZZ_CHECK(size == 4 || size == 16);
    FUZZ_CHECK(address->is_v4() == (size == 4));
  }
  return 0;
}
