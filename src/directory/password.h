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

}  // namespace postern::directory
