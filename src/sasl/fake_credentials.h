// Credentials from a map, for tests and the fuzz target: accounts with a
// password and, optionally, SCRAM secrets; counts the checks made.
#pragma once

#include <map>
#include <string>

#include "base/strings.h"
#include "sasl/credentials.h"

namespace postern::sasl {

class FakeCredentials final : public Credentials {
 public:
  struct Entry {
    std::string password;
    std::optional<directory::ScramSecrets> scram;
    bool disabled = false;
  };

  // Adds `user` with `password`; SCRAM secrets too unless `scram` is false.
  void Add(const std::string& user, const std::string& password, bool scram = true,
           std::string salt = "0123456789abcdef", uint32_t iterations = 4096) {
    Entry e;
    e.password = password;
    if (scram) e.scram = directory::DeriveScramSecrets(password, salt, iterations);
    accounts_[AsciiToLower(user)] = std::move(e);
  }
  Entry& at(const std::string& user) { return accounts_.at(user); }

  PasswordCheck CheckPassword(std::string_view user, std::string_view password) override {
    ++password_checks;
    PasswordCheck check;
    if (unavailable) {
      check.outcome = PasswordCheck::Outcome::kUnavailable;
      return check;
    }
    auto it = accounts_.find(AsciiToLower(user));
    if (it == accounts_.end() || it->second.disabled || it->second.password != password) {
      check.reason = "rejected";
      return check;
    }
    check.outcome = PasswordCheck::Outcome::kAccepted;
    check.account = Account(it->first);
    return check;
  }

  Result<ScramLookup> FindScram(std::string_view user) override {
    ++scram_lookups;
    if (unavailable) return Unavailable("fake store down");
    ScramLookup lookup;
    auto it = accounts_.find(AsciiToLower(user));
    if (it != accounts_.end() && !it->second.disabled && it->second.scram) {
      lookup.account = Account(it->first);
      lookup.secrets = *it->second.scram;
      return lookup;
    }
    lookup.reason = "no secrets";
    lookup.secrets.salt = MadeUpSalt("key", user);
    lookup.secrets.iterations = 4096;
    lookup.secrets.stored_key = directory::HmacSha256("key", "stored");
    lookup.secrets.server_key = directory::HmacSha256("key", "server");
    return lookup;
  }

  bool unavailable = false;
  int password_checks = 0;
  int scram_lookups = 0;

 private:
  static directory::AccountInfo Account(const std::string& address) {
    directory::AccountInfo a;
    a.id = 7;
    a.address = address;
    return a;
  }

  std::map<std::string, Entry> accounts_;
};

}  // namespace postern::sasl
