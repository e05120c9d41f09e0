#include "dns/rdata.h"

#include <array>
#include <cstdio>

namespace postern::dns {
namespace {

uint8_t Byte(std::string_view s, size_t i) { return static_cast<uint8_t>(s[i]); }

}  // namespace

std::optional<std::string> WireNameToText(std::string_view wire) {
  std::string text;
  size_t i = 0;
  // RFC 1035 §2.3.4: 255 octets at most, labels of 63 at most.
  if (wire.size() > 255) return std::nullopt;
  while (true) {
    if (i >= wire.size()) return std::nullopt;
    uint8_t length = Byte(wire, i++);
    if (length == 0) break;
    if (length > 63 || i + length > wire.size()) return std::nullopt;  // also compression pointers
    if (!text.empty()) text += '.';
    for (size_t j = 0; j < length; ++j) {
      char c = wire[i + j];
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
        text += c;
      } else if (c >= 'A' && c <= 'Z') {
        text += static_cast<char>(c - 'A' + 'a');
      } else {
        char escaped[5];
        std::snprintf(escaped, sizeof escaped, "\\%03u", static_cast<unsigned>(Byte(wire, i + j)));
        text += escaped;
      }
    }
    i += length;
  }
  if (i != wire.size()) return std::nullopt;
  return text;
}

std::optional<MxRecord> ParseMxRdata(std::string_view rdata) {
  if (rdata.size() < 3) return std::nullopt;
  auto host = WireNameToText(rdata.substr(2));
  if (!host) return std::nullopt;
  MxRecord record;
  record.preference = static_cast<uint16_t>(Byte(rdata, 0) << 8 | Byte(rdata, 1));
  record.host = std::move(*host);
  return record;
}

std::optional<TlsaRecord> ParseTlsaRdata(std::string_view rdata) {
  if (rdata.size() < 3) return std::nullopt;
  TlsaRecord record;
  record.usage = Byte(rdata, 0);
  record.selector = Byte(rdata, 1);
  record.matching = Byte(rdata, 2);
  record.data = std::string(rdata.substr(3));
  return record;
}

std::optional<std::string> ParseTxtRdata(std::string_view rdata) {
  if (rdata.empty()) return std::nullopt;
  std::string text;
  size_t i = 0;
  while (i < rdata.size()) {
    size_t length = Byte(rdata, i++);
    if (i + length > rdata.size()) return std::nullopt;
    text.append(rdata.substr(i, length));
    i += length;
  }
  return text;
}

std::optional<asio::ip::address> ParseAddressRdata(std::string_view rdata) {
  if (rdata.size() == 4) {
    asio::ip::address_v4::bytes_type bytes;
    for (size_t i = 0; i < 4; ++i) bytes[i] = Byte(rdata, i);
    return asio::ip::address(asio::ip::address_v4(bytes));
  }
  if (rdata.size() == 16) {
    asio::ip::address_v6::bytes_type bytes;
    for (size_t i = 0; i < 16; ++i) bytes[i] = Byte(rdata, i);
    return asio::ip::address(asio::ip::address_v6(bytes));
  }
  return std::nullopt;
}

}  // namespace postern::dns
