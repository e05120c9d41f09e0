// Record data (RDATA) of single resource records in DNS wire format, as
// libunbound hands it over (names uncompressed). Pure functions; nullopt
// means the record is malformed and is skipped.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dns/resolver.h"

namespace postern::dns {

// RFC 1035 §3.3.9: 16-bit preference, exchange name.
std::optional<MxRecord> ParseMxRdata(std::string_view rdata);

// RFC 6698 §2.1: usage, selector, matching type, association data.
std::optional<TlsaRecord> ParseTlsaRdata(std::string_view rdata);

// RFC 1035 §3.3.14: one or more length-prefixed strings, returned concatenated.
std::optional<std::string> ParseTxtRdata(std::string_view rdata);

// A (4 bytes) or AAAA (16 bytes).
std::optional<asio::ip::address> ParseAddressRdata(std::string_view rdata);

// The wire-format name that fills all of `wire`, as lowercase text without
// the trailing dot ("" for the root). Bytes other than letters, digits, '-'
// and '_' are written as \DDD (RFC 1035 §5.1), so a hostile label can never
// pass for a dot or another name.
std::optional<std::string> WireNameToText(std::string_view wire);

}  // namespace postern::dns
