// Strict base64 (RFC 4648 §4) for protocol fields where junk is an error:
// SASL exchanges and SCRAM attributes. Mail bodies use the tolerant decoder in
// message/codec.h instead. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postern {

// Base64 with padding and no line breaks.
std::string EncodeBase64Strict(std::string_view in);

// The decoded bytes, or nullopt unless `in` is canonical base64: length a
// multiple of 4, only the alphabet, "=" padding only at the end, and unused
// bits of the last group zero (RFC 4648 §3.5). "" decodes to "".
std::optional<std::string> DecodeBase64Strict(std::string_view in);

}  // namespace postern
