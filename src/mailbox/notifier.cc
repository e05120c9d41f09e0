#include "mailbox/notifier.h"

#include <vector>

namespace postern::mailbox {

uint64_t ChangeNotifier::Subscribe(int64_t account_id, Callback callback) {
  std::lock_guard lock(mu_);
  uint64_t token = next_token_++;
  subscriptions_[token] = {account_id, std::make_shared<Callback>(std::move(callback))};
  by_account_.emplace(account_id, token);
  return token;
}

void ChangeNotifier::Unsubscribe(uint64_t token) {
  std::lock_guard lock(mu_);
  auto it = subscriptions_.find(token);
  if (it == subscriptions_.end()) return;
  auto range = by_account_.equal_range(it->second.account_id);
  for (auto a = range.first; a != range.second; ++a) {
    if (a->second == token) {
      by_account_.erase(a);
      break;
    }
  }
  subscriptions_.erase(it);
}

void ChangeNotifier::Publish(const MailboxChange& change) {
  std::vector<std::shared_ptr<Callback>> targets;
  {
    std::lock_guard lock(mu_);
    auto range = by_account_.equal_range(change.account_id);
    for (auto it = range.first; it != range.second; ++it) {
      targets.push_back(subscriptions_.at(it->second).callback);
    }
  }
  // Outside the lock: a callback may subscribe or unsubscribe.
  for (const auto& cb : targets) (*cb)(change);
}

size_t ChangeNotifier::subscribers() const {
  std::lock_guard lock(mu_);
  return subscriptions_.size();
}

}  // namespace postern::mailbox
