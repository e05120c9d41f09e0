// Credential checks shared by every protocol (IMAP, POP3, SMTP submission):
// the plaintext password check behind PLAIN, LOGIN and IMAP's LOGIN command,
// and the SCRAM secrets lookup behind SCRAM-SHA-256. Both block (store reads,
// argon2id, PBKDF2): run them on the blocking pool, never on an I/O thread.
// Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "directory/directory.h"
#include "directory/scram_secrets.h"

namespace postern::store {
class Store;
}

namespace postern::sasl {

// Longest user name and password a check looks at; longer ones fail.
constexpr size_t kMaxUserName = 320;
constexpr size_t kMaxPassword = 1024;

// The outcome of a password check.
struct PasswordCheck {
  enum class Outcome { kAccepted, kRejected, kUnavailable };
  Outcome outcome = Outcome::kRejected;
  std::optional<directory::AccountInfo> account;  // kAccepted
  std::string app_password;  // kAccepted with an app password: its name (for logs)
  // kRejected / kUnavailable: why, for the server log only. A client is never
  // told whether the account exists.
  std::string reason;
};

// What SCRAM needs to run an exchange for one user name. An unknown or
// disabled account, or one without SCRAM secrets yet, still gets secrets
// (made up, with a salt that stays the same for that name), so the exchange
// runs to its end and fails at the proof, like a wrong password.
struct ScramLookup {
  std::optional<directory::AccountInfo> account;  // nullopt: the exchange must fail
  directory::ScramSecrets secrets;
  std::string reason;  // why `account` is empty, for the log
};

class Credentials {
 public:
  virtual ~Credentials() = default;
  // `user` as the client sent it. Spends about the same time whether the
  // account exists or not. Blocking.
  virtual PasswordCheck CheckPassword(std::string_view user, std::string_view password) = 0;
  // Unavailable when the store cannot answer. Blocking.
  virtual Result<ScramLookup> FindScram(std::string_view user) = 0;
};

// The credentials in the store. A successful plaintext check of an account
// without SCRAM secrets (created before they existed), or with fewer
// iterations than `scram_iterations`, stores new secrets derived from the
// password that just matched (an upgrade in place).
class StoreCredentials final : public Credentials {
 public:
  StoreCredentials(store::Store& store, uint32_t scram_iterations);

  PasswordCheck CheckPassword(std::string_view user, std::string_view password) override;
  Result<ScramLookup> FindScram(std::string_view user) override;

 private:
  void UpgradeScram(const directory::AccountInfo& account, std::string_view password);

  store::Store& store_;
  uint32_t scram_iterations_;
  std::string fake_salt_key_;  // random per process: made-up salts for unknown names
};

// A salt for a name that has no secrets: the same for the same name and key,
// unrelated across names.
std::string MadeUpSalt(std::string_view key, std::string_view user);

}  // namespace postern::sasl
