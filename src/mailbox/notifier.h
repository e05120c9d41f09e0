// Change notifications inside one process: delivery (and later IMAP, JMAP)
// publish "this mailbox changed"; IMAP IDLE and JMAP push subscribe per
// account. Callbacks run on the publisher's thread and must only post work
// to their own executor. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace postern::mailbox {

struct MailboxChange {
  int64_t account_id = 0;
  int64_t mailbox_id = 0;
  uint64_t modseq = 0;  // the account's MODSEQ after the change
  uint32_t uid = 0;     // a new message's UID, 0 for other changes
};

class ChangeNotifier {
 public:
  using Callback = std::function<void(const MailboxChange&)>;

  // Returns a token for Unsubscribe().
  uint64_t Subscribe(int64_t account_id, Callback callback);
  void Unsubscribe(uint64_t token);
  void Publish(const MailboxChange& change);
  size_t subscribers() const;

 private:
  struct Subscription {
    int64_t account_id;
    std::shared_ptr<Callback> callback;
  };
  mutable std::mutex mu_;
  uint64_t next_token_ = 1;
  std::unordered_map<uint64_t, Subscription> subscriptions_;
  std::unordered_multimap<int64_t, uint64_t> by_account_;
};

}  // namespace postern::mailbox
