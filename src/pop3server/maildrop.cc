#include "pop3server/maildrop.h"

#include "pop3/response.h"

namespace postern::pop3server {

Maildrop::Maildrop(const store::MailboxInfo& mailbox,
                   const std::vector<store::MessageInfo>& messages)
    : mailbox_id_(mailbox.id), uidvalidity_(mailbox.uidvalidity) {
  messages_.reserve(messages.size());
  for (const store::MessageInfo& m : messages) {
    Message message;
    message.id = m.id;
    message.uid = m.uid;
    // The store keeps messages with CRLF line ends (SMTP and APPEND
    // normalize), so the stored size is what RETR sends.
    message.size = m.size;
    message.seen = (m.flags & store::kFlagSeen) != 0;
    messages_.push_back(message);
    octets_ += m.size;
  }
  count_ = static_cast<uint32_t>(messages_.size());
}

Result<const Maildrop::Message*> Maildrop::Find(uint32_t number) const {
  if (number == 0 || number > messages_.size()) return NotFound("No such message");
  const Message& m = messages_[number - 1];
  if (m.deleted) return NotFound("Message " + std::to_string(number) + " is deleted");
  return &m;
}

std::string Maildrop::Uidl(uint32_t number) const {
  return pop3::Uidl(uidvalidity_, messages_.at(number - 1).uid);
}

Status Maildrop::Delete(uint32_t number) {
  PT_ASSIGN_OR_RETURN(const Message* found, Find(number));
  (void)found;
  Message& m = messages_[number - 1];
  m.deleted = true;
  --count_;
  octets_ -= m.size;
  return Status::Ok();
}

void Maildrop::Reset() {
  count_ = 0;
  octets_ = 0;
  for (Message& m : messages_) {
    m.deleted = false;
    ++count_;
    octets_ += m.size;
  }
}

void Maildrop::MarkRetrieved(uint32_t number) {
  if (number >= 1 && number <= messages_.size()) messages_[number - 1].retrieved = true;
}

std::vector<uint32_t> Maildrop::DeletedUids() const {
  std::vector<uint32_t> uids;
  for (const Message& m : messages_) {
    if (m.deleted) uids.push_back(m.uid);
  }
  return uids;
}

std::vector<uint32_t> Maildrop::NewlySeenUids() const {
  std::vector<uint32_t> uids;
  for (const Message& m : messages_) {
    if (m.retrieved && !m.deleted && !m.seen) uids.push_back(m.uid);
  }
  return uids;
}

MaildropLocks::Handle::~Handle() {
  std::lock_guard lock(registry_->mu);
  registry_->held.erase(account_id_);
}

std::unique_ptr<MaildropLocks::Handle> MaildropLocks::Lock(int64_t account_id) {
  std::lock_guard lock(registry_->mu);
  if (!registry_->held.insert(account_id).second) return nullptr;
  return std::make_unique<Handle>(registry_, account_id);
}

bool MaildropLocks::locked(int64_t account_id) const {
  std::lock_guard lock(registry_->mu);
  return registry_->held.count(account_id) != 0;
}

}  // namespace postern::pop3server
