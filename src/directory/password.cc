#include "directory/password.h"

#include <sodium.h>

#include "base/strings.h"
#include "directory/scram_secrets.h"

namespace postern::directory {
namespace {

constexpr std::string_view kScheme = "{ARGON2ID}";

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace

Status CheckPasswordPolicy(std::string_view password) {
  if (password.size() < 8)
    return InvalidArgument("the password is too short: use at least 8 characters");
  if (password.size() > 1024)
    return InvalidArgument("the password is too long: at most 1024 bytes");
  if (password.find('\0') != std::string_view::npos) {
    return InvalidArgument("the password contains a NUL byte");
  }
  if (TrimWhitespace(password).empty()) return InvalidArgument("the password is only spaces");
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password) {
  if (!SodiumReady()) return Internal("libsodium failed to initialize");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return ResourceExhausted("not enough memory to hash the password");
  }
  return std::string(kScheme) + out;
}

bool VerifyPassword(std::string_view password, std::string_view stored_hash) {
  if (!SodiumReady()) return false;
  if (stored_hash.substr(0, kScheme.size()) != kScheme) return false;
  std::string hash(stored_hash.substr(kScheme.size()));
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string GeneratePassword(size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  SodiumReady();
  std::string out;
  for (size_t i = 0; i < length; ++i) {
    out.push_back(kAlphabet[randombytes_uniform(sizeof(kAlphabet) - 1)]);
  }
  return out;
}

std::string GenerateAppPassword() {
  // 32 characters, 5 bits each: lowercase letters without i, l, o and
  // digits without 1, so none can be misread as another.
  static constexpr char kAlphabet[] = "abcdefghjkmnpqrstuvwxyz023456789";
  static_assert(sizeof(kAlphabet) - 1 == 32);
  SodiumReady();
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i > 0 && i % 4 == 0) out.push_back('-');
    out.push_back(kAlphabet[randombytes_uniform(32)]);
  }
  return out;
}

std::string AppPasswordHash(std::string_view password) {
  std::string canonical;
  for (char c : password) {
    if (c == '-' || c == ' ') continue;
    canonical.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : Sha256(canonical)) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace postern::directory
