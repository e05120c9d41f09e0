// The POP3 view of a maildrop (RFC 1939 §5-6): the INBOX as it was at login,
// numbered 1..N for the whole session, with deletion marks that take effect
// only in the UPDATE state; and the per-account lock that allows one POP3
// session per maildrop (RFC 1939 §4, RFC 2449 §8.1.2 [IN-USE]).
// Maildrop: one session's, not thread-safe. MaildropLocks: thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace postern::pop3server {

class Maildrop {
 public:
  struct Message {
    int64_t id = 0;  // MessageInfo::id, for ReadMessageById
    uint32_t uid = 0;
    uint64_t size = 0;  // octets RETR sends before dot-stuffing
    bool seen = false;  // \Seen at login
    bool deleted = false;
    bool retrieved = false;  // RETR sent it whole
  };

  Maildrop() = default;
  // `messages` in UID order, as Store::ListMessages returns them.
  Maildrop(const store::MailboxInfo& mailbox, const std::vector<store::MessageInfo>& messages);

  int64_t mailbox_id() const { return mailbox_id_; }
  // Every message number ever valid in this session, deleted ones included.
  uint32_t size() const { return static_cast<uint32_t>(messages_.size()); }
  // Messages not marked deleted, and their octets (STAT, RFC 1939 §5).
  uint32_t count() const { return count_; }
  uint64_t octets() const { return octets_; }

  // The message numbered `number`, or an error for "-ERR": no such message,
  // or already deleted (RFC 1939 §5: deleted messages are not listed).
  Result<const Message*> Find(uint32_t number) const;
  std::string Uidl(uint32_t number) const;

  // DELE: marks the message; it goes at QUIT.
  Status Delete(uint32_t number);
  // RSET: unmarks every message.
  void Reset();
  void MarkRetrieved(uint32_t number);

  // UIDs of the messages marked deleted (UPDATE state), ascending.
  std::vector<uint32_t> DeletedUids() const;
  // UIDs of messages retrieved, not deleted, and not yet \Seen: they get \Seen.
  std::vector<uint32_t> NewlySeenUids() const;

 private:
  int64_t mailbox_id_ = 0;
  uint32_t uidvalidity_ = 0;
  std::vector<Message> messages_;
  uint32_t count_ = 0;
  uint64_t octets_ = 0;
};

// Which accounts have a POP3 session in the TRANSACTION state, in this
// process. Lock() returns a handle that releases the account when destroyed
// (also after the MaildropLocks itself is gone), or null when another
// session holds it.
class MaildropLocks {
  struct Registry {
    std::mutex mu;
    std::unordered_set<int64_t> held;
  };

 public:
  class Handle {
   public:
    Handle(std::shared_ptr<Registry> registry, int64_t account_id)
        : registry_(std::move(registry)), account_id_(account_id) {}
    ~Handle();
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

   private:
    std::shared_ptr<Registry> registry_;
    int64_t account_id_;
  };

  std::unique_ptr<Handle> Lock(int64_t account_id);
  bool locked(int64_t account_id) const;

 private:
  std::shared_ptr<Registry> registry_ = std::make_shared<Registry>();
};

}  // namespace postern::pop3server
