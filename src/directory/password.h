// Password hashing: argon2id (libsodium, the "interactive" limits: 64 MiB,
// 2 passes). Hashes are stored as "{ARGON2ID}$argon2id$v=19$...". Slow by
// design (tens of ms): never call on an I/O thread. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace postern::directory {

Result<std::string> HashPassword(std::string_view password);
// False for a wrong password or an unknown hash scheme.
bool VerifyPassword(std::string_view password, std::string_view stored_hash);

// Rules for new passwords: 8 to 1024 bytes, no NUL, not only spaces.
Status CheckPasswordPolicy(std::string_view password);

// A random password of `length` characters from an unambiguous alphabet.
std::string GeneratePassword(size_t length = 16);

// App passwords: generated here, one per device or program, each revocable
// on its own and usable wherever the account's password is (except SCRAM,
// whose secrets derive from the main password). "abcd-efgh-jkmn-pqrs": 16
// characters of a 32-letter alphabet, 80 random bits, so a fast hash
// suffices and a login finds one by its hash without trying each in turn.
std::string GenerateAppPassword();
// The stored form: hex SHA-256 of the password with the dashes and spaces
// removed and letters lowercased (so it may be typed either way).
std::string AppPasswordHash(std::string_view password);

}  // namespace postern::directory
