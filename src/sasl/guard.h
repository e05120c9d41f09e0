// Failed-login accounting shared by every protocol that logs users in
// (IMAP, POP3, submission): failures are counted per client and per account
// over a sliding window, and past a limit the client is banned for a while.
//
//   - A client (IP address; IPv6 per /64, see net::ConnectionLimiter::KeyFor)
//     with `max_failures_per_client` failures within `window` may not log in
//     at all for `ban` seconds: every attempt is refused without checking
//     a password, so guessing stops.
//   - An account with `max_failures_per_account` failures within `window`
//     (guessing spread over many addresses) is closed for `ban` seconds to
//     every client except those it logged in from successfully before, so
//     its owner is not locked out by someone else's guessing.
//
// State lives in memory only and is bounded (the oldest entries go first).
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "sasl/mechanism.h"

namespace postern::sasl {

struct GuardOptions {
  int max_failures_per_client = 10;
  int max_failures_per_account = 30;
  int64_t window = 600;         // seconds over which failures count
  int64_t ban = 900;            // seconds a ban lasts
  size_t max_entries = 100000;  // clients and accounts remembered, each
};

class AuthGuard {
 public:
  explicit AuthGuard(GuardOptions options = {}, const Clock& clock = Clock::Real());

  // Seconds until `client` may try to log in as `account` again; 0 if now.
  // `account` may be "" when the protocol does not know it yet.
  int64_t RetryAfter(const std::string& client, const std::string& account);
  // A failed login. Returns true if it started a ban (the caller logs it).
  bool Failed(const std::string& client, const std::string& account);
  // A successful login: `client` becomes a known address of `account`.
  void Succeeded(const std::string& client, const std::string& account);

  const GuardOptions& options() const { return options_; }

  // What a protocol calls around a login from `client` (the key of its
  // address). Before the exchange: a kBlocked failure while the client is
  // banned, else nullopt. After it, with the user name the client gave:
  // the final step as it is, except that a success during a ban becomes
  // kBlocked (a ban must not confirm guessed passwords); failures are
  // counted, a new ban logged (`protocol` names who saw it).
  std::optional<StepResult> Check(const std::string& client);
  StepResult Review(const std::string& client, std::string_view protocol, std::string_view user,
                    StepResult step);

 private:
  struct Record {
    std::deque<int64_t> failures;  // times, oldest first, within the window
    int64_t banned_until = 0;
    std::vector<std::string> known_clients;  // accounts only: recent successful logins
    int64_t touched = 0;
  };
  using Table = std::unordered_map<std::string, Record>;

  // Records a failure in `table` under `key`; true if the limit is reached now.
  bool Count(Table& table, const std::string& key, int limit, int64_t now);
  Record& Find(Table& table, const std::string& key, int64_t now);
  void Prune(Table& table, int64_t now);

  GuardOptions options_;
  const Clock& clock_;
  std::mutex mu_;
  Table clients_;
  Table accounts_;
};

}  // namespace postern::sasl
