#include "directory/scram_secrets.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>

#include "base/base64.h"
#include "base/strings.h"
#include "directory/password.h"

namespace postern::directory {
namespace {

constexpr std::string_view kScheme = "SCRAM-SHA-256$";
constexpr size_t kMinSaltSize = 8;
constexpr size_t kMaxSaltSize = 256;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string Sha256(std::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(Bytes(data), data.size(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), Bytes(data), data.size(),
       reinterpret_cast<unsigned char*>(out.data()), &size);
  out.resize(size);
  return out;
}

std::string SaltedPassword(std::string_view password, std::string_view salt, uint32_t iterations) {
  std::string out(kScramKeySize, '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), Bytes(salt),
                    static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                    static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

ScramSecrets DeriveScramSecrets(std::string_view password, std::string_view salt,
                                uint32_t iterations) {
  // RFC 5802 §3: ClientKey, StoredKey, ServerKey.
  const std::string salted = SaltedPassword(password, salt, iterations);
  ScramSecrets s;
  s.salt = std::string(salt);
  s.iterations = iterations;
  s.stored_key = Sha256(HmacSha256(salted, "Client Key"));
  s.server_key = HmacSha256(salted, "Server Key");
  return s;
}

Result<ScramSecrets> NewScramSecrets(std::string_view password, uint32_t iterations) {
  if (iterations < kScramMinIterations || iterations > kScramMaxIterations) {
    return InvalidArgument("the SCRAM iteration count must be between " +
                           std::to_string(kScramMinIterations) + " and " +
                           std::to_string(kScramMaxIterations));
  }
  std::string salt(kScramSaltSize, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) !=
      1) {
    return Internal("no random bytes for a SCRAM salt");
  }
  return DeriveScramSecrets(password, salt, iterations);
}

std::string FormatScramSecrets(const ScramSecrets& s) {
  return std::string(kScheme) + std::to_string(s.iterations) + ":" + EncodeBase64Strict(s.salt) +
         "$" + EncodeBase64Strict(s.stored_key) + ":" + EncodeBase64Strict(s.server_key);
}

Result<ScramSecrets> ParseScramSecrets(std::string_view text) {
  auto malformed = [] { return DataLoss("malformed SCRAM-SHA-256 secrets"); };
  if (!text.starts_with(kScheme)) return malformed();
  text.remove_prefix(kScheme.size());
  std::vector<std::string_view> halves = Split(text, '$');
  if (halves.size() != 2) return malformed();
  std::vector<std::string_view> first = Split(halves[0], ':');
  std::vector<std::string_view> second = Split(halves[1], ':');
  if (first.size() != 2 || second.size() != 2) return malformed();
  ScramSecrets s;
  auto [end, ec] =
      std::from_chars(first[0].data(), first[0].data() + first[0].size(), s.iterations);
  if (ec != std::errc() || end != first[0].data() + first[0].size() ||
      s.iterations < kScramMinIterations || s.iterations > kScramMaxIterations) {
    return malformed();
  }
  std::optional<std::string> salt = DecodeBase64Strict(first[1]);
  std::optional<std::string> stored = DecodeBase64Strict(second[0]);
  std::optional<std::string> server = DecodeBase64Strict(second[1]);
  if (!salt || salt->size() < kMinSaltSize || salt->size() > kMaxSaltSize || !stored ||
      stored->size() != kScramKeySize || !server || server->size() != kScramKeySize) {
    return malformed();
  }
  s.salt = std::move(*salt);
  s.stored_key = std::move(*stored);
  s.server_key = std::move(*server);
  return s;
}

Result<StoredPassword> ProtectPassword(std::string_view password, uint32_t scram_iterations) {
  PT_ASSIGN_OR_RETURN(ScramSecrets secrets, NewScramSecrets(password, scram_iterations));
  PT_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  return StoredPassword{std::move(hash), FormatScramSecrets(secrets)};
}

}  // namespace postern::directory
