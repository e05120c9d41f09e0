#include "sasl/credentials.h"

#include <openssl/rand.h>

#include "base/log.h"
#include "base/strings.h"
#include "directory/password.h"
#include "store/store.h"

namespace postern::sasl {
namespace {

// Spends the time of one argon2id verification, so a check of an unknown
// account takes as long as one of a known account.
void SpendVerifyTime(std::string_view password) {
  static const std::string dummy = [] {
    Result<std::string> hash = directory::HashPassword("postern-timing");
    return hash.ok() ? *hash : std::string();
  }();
  directory::VerifyPassword(password, dummy);
}

std::string RandomKey() {
  std::string key(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    // Without randomness made-up salts are predictable across restarts, which
    // tells an observer only that a name has no real secrets: log it loudly.
    LOG_ERROR("sasl: no random bytes for the made-up SCRAM salt key");
  }
  return key;
}

}  // namespace

std::string MadeUpSalt(std::string_view key, std::string_view user) {
  return directory::HmacSha256(key, user).substr(0, directory::kScramSaltSize);
}

StoreCredentials::StoreCredentials(store::Store& store, uint32_t scram_iterations)
    : store_(store), scram_iterations_(scram_iterations), fake_salt_key_(RandomKey()) {}

PasswordCheck StoreCredentials::CheckPassword(std::string_view user, std::string_view password) {
  PasswordCheck check;
  if (user.empty() || user.size() > kMaxUserName || password.size() > kMaxPassword) {
    check.reason = "user name or password too long or empty";
    return check;
  }
  const std::string address = AsciiToLower(user);
  Result<std::optional<directory::AccountInfo>> found = store_.FindAccount(address);
  if (!found.ok()) {
    SpendVerifyTime(password);
    check.outcome = PasswordCheck::Outcome::kUnavailable;
    check.reason = found.status().ToString();
    return check;
  }
  if (!found->has_value() || (*found)->disabled) {
    SpendVerifyTime(password);
    check.reason = found->has_value() ? "the account is disabled" : "no such account";
    return check;
  }
  if (!directory::VerifyPassword(password, (*found)->password_hash)) {
    // An app password of the account? Found by its hash (no slow hash to
    // try per app password). It never upgrades SCRAM secrets: those derive
    // from the main password.
    Result<std::optional<std::string>> app =
        store_.FindAppPassword((*found)->id, directory::AppPasswordHash(password));
    if (!app.ok()) {
      check.outcome = PasswordCheck::Outcome::kUnavailable;
      check.reason = app.status().ToString();
      return check;
    }
    if (!app->has_value()) {
      check.reason = "wrong password";
      return check;
    }
    check.outcome = PasswordCheck::Outcome::kAccepted;
    check.account = std::move(**found);
    check.app_password = std::move(**app);
    LOG_DEBUG("sasl: <{}> used app password \"{}\"", address, check.app_password);
    return check;
  }
  check.outcome = PasswordCheck::Outcome::kAccepted;
  check.account = std::move(**found);
  UpgradeScram(*check.account, password);
  return check;
}

void StoreCredentials::UpgradeScram(const directory::AccountInfo& account,
                                    std::string_view password) {
  if (!account.scram_sha256.empty()) {
    Result<directory::ScramSecrets> have = directory::ParseScramSecrets(account.scram_sha256);
    if (have.ok() && have->iterations >= scram_iterations_) return;
  }
  Result<directory::ScramSecrets> secrets = directory::NewScramSecrets(password, scram_iterations_);
  Status stored = secrets.ok() ? store_.SetScramSecrets(account.address, account.password_hash,
                                                        directory::FormatScramSecrets(*secrets))
                               : secrets.status();
  if (stored.ok()) {
    LOG_INFO("sasl: stored SCRAM-SHA-256 secrets for <{}> ({} iterations)", account.address,
             scram_iterations_);
  } else {
    LOG_WARN("sasl: could not store SCRAM-SHA-256 secrets for <{}>: {}", account.address,
             stored.ToString());
  }
}

Result<ScramLookup> StoreCredentials::FindScram(std::string_view user) {
  ScramLookup lookup;
  const std::string address = AsciiToLower(user);
  if (user.empty() || user.size() > kMaxUserName) {
    lookup.reason = "user name too long or empty";
  } else {
    PT_ASSIGN_OR_RETURN(std::optional<directory::AccountInfo> found, store_.FindAccount(address));
    if (!found) {
      lookup.reason = "no such account";
    } else if (found->disabled) {
      lookup.reason = "the account is disabled";
    } else if (found->scram_sha256.empty()) {
      lookup.reason = "no SCRAM-SHA-256 secrets yet: log in once with PLAIN or LOGIN";
    } else {
      Result<directory::ScramSecrets> secrets = directory::ParseScramSecrets(found->scram_sha256);
      if (secrets.ok()) {
        lookup.secrets = std::move(*secrets);
        lookup.account = std::move(found);
        return lookup;
      }
      lookup.reason = "its stored SCRAM-SHA-256 secrets are unreadable";
    }
  }
  lookup.secrets.salt = MadeUpSalt(fake_salt_key_, address);
  lookup.secrets.iterations = scram_iterations_;
  lookup.secrets.stored_key = directory::HmacSha256(fake_salt_key_, "stored:" + address);
  lookup.secrets.server_key = directory::HmacSha256(fake_salt_key_, "server:" + address);
  return lookup;
}

}  // namespace postern::sasl
