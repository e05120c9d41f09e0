// SCRAM-SHA-256 secrets of an account (RFC 5802 §3, RFC 7677): what the
// server keeps so that clients can log in with SCRAM, instead of the password.
// Stored as text in the RFC 5803 §3 form
//   SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
// Deriving them runs PBKDF2 (milliseconds): never on an I/O thread. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "directory/directory.h"

namespace postern::directory {

// RFC 7677 §3: at least 4096. The upper bound keeps a stored (or configured)
// count from costing the server or the client seconds of CPU.
constexpr uint32_t kScramMinIterations = 4096;
constexpr uint32_t kScramMaxIterations = 1'000'000;
constexpr size_t kScramSaltSize = 16;  // random bytes in a new salt
constexpr size_t kScramKeySize = 32;   // SHA-256 output

struct ScramSecrets {
  std::string salt;  // raw bytes
  uint32_t iterations = 0;
  std::string stored_key;  // H(ClientKey)
  std::string server_key;  // HMAC(SaltedPassword, "Server Key")
};

// RFC 5802 §3 primitives over SHA-256.
std::string Sha256(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);
// Hi(password, salt, iterations): PBKDF2-HMAC-SHA-256 with one block.
std::string SaltedPassword(std::string_view password, std::string_view salt, uint32_t iterations);

// The secrets for `password` with this salt and count (both from the caller,
// for tests and for re-deriving).
ScramSecrets DeriveScramSecrets(std::string_view password, std::string_view salt,
                                uint32_t iterations);
// The secrets for `password` with a fresh random salt. InvalidArgument when
// `iterations` is outside [kScramMinIterations, kScramMaxIterations].
Result<ScramSecrets> NewScramSecrets(std::string_view password, uint32_t iterations);

// The RFC 5803 text form, and back. Parsing refuses anything malformed: a
// wrong scheme, a count out of bounds, a salt shorter than 8 bytes, keys that
// are not 32 bytes.
std::string FormatScramSecrets(const ScramSecrets& secrets);
Result<ScramSecrets> ParseScramSecrets(std::string_view text);

// Both forms for a new password: the argon2id hash and SCRAM-SHA-256 secrets
// with `scram_iterations`. Slow (tens of ms).
Result<StoredPassword> ProtectPassword(std::string_view password, uint32_t scram_iterations);

}  // namespace postern::directory
