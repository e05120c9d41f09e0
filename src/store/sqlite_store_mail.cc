// SqliteStore: mailbox and message reads, and local delivery into INBOX.
#include "store/sqlite_store.h"

namespace postern::store {

Result<std::vector<MailboxInfo>> SqliteStore::ListMailboxes(int64_t account_id) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  PT_ASSIGN_OR_RETURN(
      auto q, db->Prepare("SELECT " POSTERN_MAILBOX_COLUMNS " FROM mailboxes WHERE account_id = ? "
                          "ORDER BY name <> 'INBOX', name"));
  q.BindAll(account_id);
  std::vector<MailboxInfo> out;
  while (q.Step()) out.push_back(MailboxFromRow(q));
  PT_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::optional<MessageInfo>> SqliteStore::FindMessage(int64_t account_id,
                                                            const std::string& mailbox,
                                                            uint32_t uid) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  PT_ASSIGN_OR_RETURN(
      auto q,
      db->Prepare("SELECT m.id, m.mailbox_id, m.uid, m.modseq, m.flags, m.keywords, "
                  "m.internal_date, m.size, m.blob, m.saved, m.email_id, m.header_prefix FROM "
                  "messages m "
                  "JOIN mailboxes b ON m.mailbox_id = b.id WHERE b.account_id = ? AND "
                  "b.name = ? AND m.uid = ?"));
  q.BindAll(account_id, mailbox, uid);
  if (!q.Step()) {
    PT_RETURN_IF_ERROR(q.status());
    return std::optional<MessageInfo>();
  }
  MessageInfo m = MessageFromRow(q);
  m.header_prefix = q.Text(11);
  return std::optional<MessageInfo>(std::move(m));
}

// The queue path: claim the recipient row (still pending?), deliver, and
// record a deferral or failure on the row.
Result<DeliveryOutcome> SqliteStore::DeliverOne(Database& db, const LocalDelivery& item) {
  PT_ASSIGN_OR_RETURN(auto claim, db.Prepare("UPDATE queue_recipients SET state = 1, attempts = "
                                             "attempts + 1, last_error = '' WHERE id = ? AND "
                                             "state = 0"));
  PT_RETURN_IF_ERROR(claim.BindAll(item.recipient_id).Run());
  if (db.Changes() == 0) return DeliveryOutcome{};  // kSkipped: done or removed meanwhile
  PT_ASSIGN_OR_RETURN(DeliveryOutcome out, DeliverToInbox(db, item));
  if (out.kind == DeliveryOutcome::kDeferred || out.kind == DeliveryOutcome::kFailed) {
    PT_ASSIGN_OR_RETURN(auto upd, db.Prepare("UPDATE queue_recipients SET state = ?, "
                                             "next_attempt = ?, last_error = ? WHERE id = ?"));
    int state = out.kind == DeliveryOutcome::kDeferred ? 0 : 2;
    PT_RETURN_IF_ERROR(upd.BindAll(state, item.retry_at, out.error, item.recipient_id).Run());
  }
  return out;
}

// One recipient: check the account and its quota, append to INBOX with the
// next UID and MODSEQ, log the change. Touches no queue row.
Result<DeliveryOutcome> SqliteStore::DeliverToInbox(Database& db, const LocalDelivery& item) {
  DeliveryOutcome out;
  auto set_outcome = [&](DeliveryOutcome::Kind kind, std::string error) -> Status {
    out.kind = kind;
    out.error = std::move(error);
    return Status::Ok();
  };

  PT_ASSIGN_OR_RETURN(auto acct, db.Prepare("SELECT id, quota_bytes, quota_messages, used_bytes, "
                                            "used_messages, modseq, disabled FROM accounts "
                                            "WHERE address = ?"));
  acct.BindAll(item.address);
  if (!acct.Step()) {
    PT_RETURN_IF_ERROR(acct.status());
    PT_RETURN_IF_ERROR(set_outcome(DeliveryOutcome::kFailed,
                                   "550 5.1.1 mailbox " + item.address + " no longer exists"));
    return out;
  }
  AccountInfo account;
  account.id = acct.Int(0);
  account.quota_bytes = static_cast<uint64_t>(acct.Int(1));
  account.quota_messages = static_cast<uint64_t>(acct.Int(2));
  account.used_bytes = static_cast<uint64_t>(acct.Int(3));
  account.used_messages = static_cast<uint64_t>(acct.Int(4));
  const uint64_t modseq = static_cast<uint64_t>(acct.Int(5)) + 1;
  const bool disabled = acct.Int(6) != 0;
  acct.Reset();
  out.account_id = account.id;

  const uint64_t size = item.header_prefix.size() + item.blob_size;
  if (disabled) {
    PT_RETURN_IF_ERROR(set_outcome(DeliveryOutcome::kFailed,
                                   "550 5.2.1 mailbox " + item.address + " is disabled"));
    return out;
  }
  if (account.WouldExceedQuota(size)) {
    // RFC 3463: X.2.2 mailbox full. Temporary until the retry limit.
    if (item.last_chance) {
      PT_RETURN_IF_ERROR(
          set_outcome(DeliveryOutcome::kFailed, "552 5.2.2 mailbox " + item.address + " is full"));
    } else {
      PT_RETURN_IF_ERROR(set_outcome(DeliveryOutcome::kDeferred,
                                     "452 4.2.2 mailbox " + item.address + " is full"));
    }
    return out;
  }

  PT_ASSIGN_OR_RETURN(auto inbox, db.Prepare("SELECT id, uidnext FROM mailboxes WHERE "
                                             "account_id = ? AND role = 'inbox'"));
  inbox.BindAll(account.id);
  if (!inbox.Step()) {
    PT_RETURN_IF_ERROR(inbox.status());
    // The INBOX is missing (should not happen): recreate it rather than bounce.
    inbox.Reset();
    PT_ASSIGN_OR_RETURN(int64_t uidvalidity, NextUidValidity(db));
    PT_ASSIGN_OR_RETURN(auto mk, db.Prepare("INSERT INTO mailboxes(account_id, name, role, "
                                            "uidvalidity, created) VALUES(?, 'INBOX', 'inbox', "
                                            "?, ?)"));
    PT_RETURN_IF_ERROR(mk.BindAll(account.id, uidvalidity, Now()).Run());
    inbox.BindAll(account.id);
    if (!inbox.Step()) return Internal("cannot recreate INBOX of " + item.address);
  }
  out.mailbox_id = inbox.Int(0);
  out.uid = static_cast<uint32_t>(inbox.Int(1));
  out.modseq = modseq;
  inbox.Reset();

  PT_ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT INTO messages(mailbox_id, uid, modseq, "
                                           "internal_date, saved, size, blob, header_prefix, "
                                           "email_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?, random())"));
  PT_RETURN_IF_ERROR(ins.BindAll(out.mailbox_id, out.uid, modseq, item.internal_date, Now(), size,
                                 item.blob, item.header_prefix)
                         .Run());
  PT_ASSIGN_OR_RETURN(auto mbx, db.Prepare("UPDATE mailboxes SET uidnext = uidnext + 1, "
                                           "highestmodseq = ?, messages = messages + 1, unseen "
                                           "= unseen + 1, size = size + ? WHERE id = ?"));
  PT_RETURN_IF_ERROR(mbx.BindAll(modseq, size, out.mailbox_id).Run());
  PT_ASSIGN_OR_RETURN(auto upd, db.Prepare("UPDATE accounts SET modseq = ?, used_bytes = "
                                           "used_bytes + ?, used_messages = used_messages + 1 "
                                           "WHERE id = ?"));
  PT_RETURN_IF_ERROR(upd.BindAll(modseq, size, account.id).Run());
  PT_ASSIGN_OR_RETURN(auto ref, db.Prepare("UPDATE blobs SET refs = refs + 1 WHERE hash = ?"));
  PT_RETURN_IF_ERROR(ref.BindAll(item.blob).Run());
  if (db.Changes() == 0) return DataLoss("blob " + item.blob + " of a queued message is missing");
  out.kind = DeliveryOutcome::kDelivered;
  return out;
}

}  // namespace postern::store
