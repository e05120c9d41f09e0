#include "sasl/guard.h"

#include <algorithm>

#include "base/log.h"
#include "base/strings.h"

namespace postern::sasl {

namespace {
// Successful clients remembered per account.
constexpr size_t kKnownClients = 8;
}  // namespace

AuthGuard::AuthGuard(GuardOptions options, const Clock& clock) : options_(options), clock_(clock) {}

AuthGuard::Record& AuthGuard::Find(Table& table, const std::string& key, int64_t now) {
  if (table.size() >= options_.max_entries && !table.contains(key)) Prune(table, now);
  Record& r = table[key];
  r.touched = now;
  return r;
}

void AuthGuard::Prune(Table& table, int64_t now) {
  // Only when the table is full: forget entries without a ban, without a
  // failure in the window and untouched for a window (an account's known
  // clients go with it); then, if still full, the half touched longest ago.
  std::erase_if(table, [&](const auto& entry) {
    const Record& r = entry.second;
    return r.banned_until <= now &&
           (r.failures.empty() || r.failures.back() <= now - options_.window) &&
           r.touched <= now - options_.window;
  });
  if (table.size() < options_.max_entries) return;
  std::vector<std::pair<int64_t, std::string>> ages;
  ages.reserve(table.size());
  for (const auto& [key, r] : table) ages.emplace_back(r.touched, key);
  const size_t drop = table.size() - options_.max_entries / 2;
  std::nth_element(ages.begin(), ages.begin() + static_cast<ptrdiff_t>(drop), ages.end());
  for (size_t i = 0; i < drop; ++i) table.erase(ages[i].second);
}

bool AuthGuard::Count(Table& table, const std::string& key, int limit, int64_t now) {
  Record& r = Find(table, key, now);
  while (!r.failures.empty() && r.failures.front() <= now - options_.window) {
    r.failures.pop_front();
  }
  r.failures.push_back(now);
  if (static_cast<int>(r.failures.size()) < limit || r.banned_until > now) return false;
  r.banned_until = now + options_.ban;
  r.failures.clear();
  return true;
}

int64_t AuthGuard::RetryAfter(const std::string& client, const std::string& account) {
  const int64_t now = clock_.NowUnix();
  std::lock_guard lock(mu_);
  int64_t until = 0;
  if (auto it = clients_.find(client); it != clients_.end()) until = it->second.banned_until;
  if (!account.empty()) {
    if (auto it = accounts_.find(account); it != accounts_.end()) {
      const Record& r = it->second;
      const bool known = std::find(r.known_clients.begin(), r.known_clients.end(), client) !=
                         r.known_clients.end();
      if (!known) until = std::max(until, r.banned_until);
    }
  }
  return until > now ? until - now : 0;
}

bool AuthGuard::Failed(const std::string& client, const std::string& account) {
  const int64_t now = clock_.NowUnix();
  std::lock_guard lock(mu_);
  bool banned = Count(clients_, client, options_.max_failures_per_client, now);
  if (!account.empty()) {
    banned = Count(accounts_, account, options_.max_failures_per_account, now) || banned;
  }
  return banned;
}

void AuthGuard::Succeeded(const std::string& client, const std::string& account) {
  const int64_t now = clock_.NowUnix();
  std::lock_guard lock(mu_);
  Record& r = Find(accounts_, account, now);
  std::erase(r.known_clients, client);
  r.known_clients.insert(r.known_clients.begin(), client);
  if (r.known_clients.size() > kKnownClients) r.known_clients.resize(kKnownClients);
}

namespace {
StepResult BlockedFor(int64_t seconds) {
  return Failed(Failure::kBlocked,
                "blocked for " + std::to_string(seconds) + "s more after too many failed logins");
}
}  // namespace

std::optional<StepResult> AuthGuard::Check(const std::string& client) {
  const int64_t wait = RetryAfter(client, "");
  if (wait > 0) return BlockedFor(wait);
  return std::nullopt;
}

StepResult AuthGuard::Review(const std::string& client, std::string_view protocol,
                             std::string_view user, StepResult step) {
  if (step.status == StepStatus::kSuccess && step.account) {
    const int64_t wait = RetryAfter(client, step.account->address);
    if (wait > 0) return BlockedFor(wait);
    Succeeded(client, step.account->address);
    return step;
  }
  if (step.status == StepStatus::kFailure &&
      (step.failure == Failure::kRejected || step.failure == Failure::kNotAuthorized)) {
    const std::string account = AsciiToLower(user);
    if (Failed(client, account)) {
      LOG_WARN("{}: too many failed logins from [{}] or for <{}>: blocking for {}s", protocol,
               client, SanitizeForLog(account), options_.ban);
    }
  }
  return step;
}

}  // namespace postern::sasl
