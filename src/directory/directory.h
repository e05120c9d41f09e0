// The directory: domains, accounts and aliases as the rest of the server sees
// them, and the lookup interface the recipient resolver works over. The store
// implements DirectoryLookup; tests use a map-backed fake.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace postern::directory {

struct DomainInfo {
  int64_t id = 0;
  std::string name;  // normalized (lowercase, A-labels)
  int64_t created = 0;
  int64_t accounts = 0;
  int64_t aliases = 0;
};

struct AccountInfo {
  int64_t id = 0;
  std::string address;  // localpart@domain, normalized
  std::string password_hash;
  std::string scram_sha256;     // RFC 5803 form (scram_secrets.h); "" until known
  uint64_t quota_bytes = 0;     // 0: unlimited
  uint64_t quota_messages = 0;  // 0: unlimited
  uint64_t used_bytes = 0;
  uint64_t used_messages = 0;
  int64_t created = 0;
  bool disabled = false;

  // True if one more message of `size` bytes would exceed a quota.
  bool WouldExceedQuota(uint64_t size) const {
    return (quota_bytes && used_bytes + size > quota_bytes) ||
           (quota_messages && used_messages + 1 > quota_messages);
  }
  // True if no further message fits at all.
  bool OverQuota() const {
    return (quota_bytes && used_bytes >= quota_bytes) ||
           (quota_messages && used_messages >= quota_messages);
  }
};

// What an account stores for its password, never the password itself: the
// argon2id hash (password.h) and the SCRAM-SHA-256 secrets (scram_secrets.h,
// ProtectPassword makes both). A hash alone (an imported hash, a test) is a
// StoredPassword too: its SCRAM secrets follow at the next plaintext login.
struct StoredPassword {
  StoredPassword() = default;
  StoredPassword(std::string hash_only) : hash(std::move(hash_only)) {}  // NOLINT: implicit
  StoredPassword(const char* hash_only) : hash(hash_only) {}             // NOLINT: implicit
  StoredPassword(std::string password_hash, std::string scram)
      : hash(std::move(password_hash)), scram_sha256(std::move(scram)) {}

  std::string hash;
  std::string scram_sha256;  // RFC 5803 form, or "" when not known yet
};

struct AliasInfo {
  std::string source;  // "local@domain" or "@domain" (catch-all)
  std::vector<std::string> targets;
};

// Read-only lookups by normalized name. Thread-safe implementations only.
class DirectoryLookup {
 public:
  virtual ~DirectoryLookup() = default;
  virtual Result<bool> IsLocalDomain(const std::string& domain) = 0;
  virtual Result<std::optional<AccountInfo>> FindAccount(const std::string& address) = 0;
  virtual Result<std::vector<std::string>> FindAliasTargets(const std::string& source) = 0;
};

// Canonical form of an address for storage and lookup: the local part with
// ASCII letters lowercased, "@", the domain normalized (lowercase A-labels).
// Accepts "local@domain" and, when `allow_catch_all`, "@domain".
Result<std::string> NormalizeAddress(std::string_view address, bool allow_catch_all = false);
// Canonical form of a domain name (see smtp::NormalizeDomain).
Result<std::string> NormalizeDomainName(std::string_view domain);

}  // namespace postern::directory
