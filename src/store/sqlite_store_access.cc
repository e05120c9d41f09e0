// SqliteStore: what the access protocols (IMAP, POP3, JMAP) do to mailboxes
// and messages. Every write is one job on the writer thread, so it is atomic
// and ordered with deliveries; readers see it whole or not at all.
#include <algorithm>
#include <set>

#include "base/strings.h"
#include "store/sqlite_store.h"

namespace postern::store {
namespace {

// Change log kinds (schema.cc).
constexpr int kChangeExpunged = 3;
constexpr int kChangeCreated = 4;
constexpr int kChangeRenamed = 5;
constexpr int kChangeDeleted = 6;

// "INBOX" in any case is the inbox (RFC 3501 §5.1); other names are exact.
std::string CanonicalName(const std::string& name) {
  return EqualsIgnoreCase(name, "INBOX") ? "INBOX" : name;
}

std::vector<std::string> SplitKeywords(const std::string& keywords) {
  std::vector<std::string> out;
  for (std::string_view k : Split(keywords, ' ')) {
    if (!k.empty()) out.emplace_back(k);
  }
  return out;
}

bool HasKeyword(const std::vector<std::string>& list, const std::string& keyword) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& k) { return EqualsIgnoreCase(k, keyword); });
}

// The flags and keywords after `change`.
std::pair<uint32_t, std::string> Apply(const FlagChange& change, uint32_t flags,
                                       const std::string& keywords) {
  std::vector<std::string> list = SplitKeywords(keywords);
  switch (change.mode) {
    case FlagChange::kReplace:
      flags = change.flags;
      list.clear();
      for (const std::string& k : change.keywords) {
        if (!HasKeyword(list, k)) list.push_back(k);
      }
      break;
    case FlagChange::kAdd:
      flags |= change.flags;
      for (const std::string& k : change.keywords) {
        if (!HasKeyword(list, k)) list.push_back(k);
      }
      break;
    case FlagChange::kRemove:
      flags &= ~change.flags;
      std::erase_if(list, [&](const std::string& k) { return HasKeyword(change.keywords, k); });
      break;
  }
  return {flags, Join(list, " ")};
}

}  // namespace

std::string FormatEmailId(uint64_t email_id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(17, 'M');
  for (int i = 16; i >= 1; --i, email_id >>= 4) out[i] = kHex[email_id & 15];
  return out;
}

MessageInfo SqliteStore::MessageFromRow(Statement& q) {
  MessageInfo m;
  m.id = q.Int(0);
  m.mailbox_id = q.Int(1);
  m.uid = static_cast<uint32_t>(q.Int(2));
  m.modseq = static_cast<uint64_t>(q.Int(3));
  m.flags = static_cast<uint32_t>(q.Int(4));
  m.keywords = q.Text(5);
  m.internal_date = q.Int(6);
  m.size = static_cast<uint64_t>(q.Int(7));
  m.blob = q.Text(8);
  m.saved = q.Int(9);
  m.email_id = static_cast<uint64_t>(q.Int(10));
  return m;
}

MailboxInfo SqliteStore::MailboxFromRow(Statement& q) {
  MailboxInfo m;
  m.id = q.Int(0);
  m.account_id = q.Int(1);
  m.name = q.Text(2);
  m.role = q.Text(3);
  m.uidvalidity = static_cast<uint32_t>(q.Int(4));
  m.uidnext = static_cast<uint32_t>(q.Int(5));
  m.highestmodseq = static_cast<uint64_t>(q.Int(6));
  m.messages = static_cast<uint32_t>(q.Int(7));
  m.unseen = static_cast<uint32_t>(q.Int(8));
  m.size = static_cast<uint64_t>(q.Int(9));
  m.subscribed = q.Int(10) != 0;
  m.object_id = q.Text(11);
  return m;
}

Result<MailboxInfo> SqliteStore::MailboxById(Database& db, int64_t mailbox_id) {
  PT_ASSIGN_OR_RETURN(auto q,
                      db.Prepare("SELECT " POSTERN_MAILBOX_COLUMNS " FROM mailboxes WHERE id = ?"));
  q.BindAll(mailbox_id);
  if (!q.Step()) {
    PT_RETURN_IF_ERROR(q.status());
    return NotFound("the mailbox no longer exists");
  }
  return MailboxFromRow(q);
}

Result<uint64_t> SqliteStore::BumpModseq(Database& db, int64_t account_id) {
  PT_ASSIGN_OR_RETURN(auto q, db.Prepare("UPDATE accounts SET modseq = modseq + 1 WHERE id = ? "
                                         "RETURNING modseq"));
  q.BindAll(account_id);
  if (!q.Step()) {
    PT_RETURN_IF_ERROR(q.status());
    return NotFound("the account no longer exists");
  }
  return static_cast<uint64_t>(q.Int(0));
}

Status SqliteStore::LogChange(Database& db, int64_t account_id, int64_t mailbox_id, uint64_t modseq,
                              uint32_t uid, int kind) {
  PT_ASSIGN_OR_RETURN(auto q, db.Prepare("INSERT INTO changes(account_id, mailbox_id, modseq, "
                                         "uid, kind) VALUES(?, ?, ?, ?, ?)"));
  return q.BindAll(account_id, mailbox_id, modseq, uid, kind).Run();
}

// Deletes message rows (id, uid) of `mailbox`: counters, quota usage, blob
// references and the change log follow.
Status SqliteStore::RemoveMessages(Database& db, const MailboxInfo& mailbox,
                                   const std::vector<std::pair<int64_t, uint32_t>>& rows,
                                   uint64_t modseq, WriteEffects& effects) {
  uint64_t bytes = 0, unseen = 0;
  PT_ASSIGN_OR_RETURN(auto del, db.Prepare("DELETE FROM messages WHERE id = ? RETURNING size, "
                                           "flags, blob"));
  for (const auto& [id, uid] : rows) {
    del.Reset();
    del.BindAll(id);
    if (!del.Step()) {
      PT_RETURN_IF_ERROR(del.status());
      continue;
    }
    bytes += static_cast<uint64_t>(del.Int(0));
    if ((del.Int(1) & kFlagSeen) == 0) ++unseen;
    std::string blob = del.Text(2);
    del.Reset();
    PT_RETURN_IF_ERROR(ReleaseBlob(db, blob, effects));
    PT_RETURN_IF_ERROR(LogChange(db, mailbox.account_id, mailbox.id, modseq, uid, kChangeExpunged));
  }
  PT_ASSIGN_OR_RETURN(auto mbx, db.Prepare("UPDATE mailboxes SET messages = messages - ?, unseen "
                                           "= unseen - ?, size = size - ?, highestmodseq = ? "
                                           "WHERE id = ?"));
  PT_RETURN_IF_ERROR(mbx.BindAll(rows.size(), unseen, bytes, modseq, mailbox.id).Run());
  PT_ASSIGN_OR_RETURN(auto acct, db.Prepare("UPDATE accounts SET used_bytes = MAX(0, used_bytes - "
                                            "?), used_messages = MAX(0, used_messages - ?) "
                                            "WHERE id = ?"));
  return acct.BindAll(bytes, rows.size(), mailbox.account_id).Run();
}

Result<std::optional<MailboxInfo>> SqliteStore::GetMailbox(int64_t account_id,
                                                           const std::string& name) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  PT_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT " POSTERN_MAILBOX_COLUMNS
                                          " FROM mailboxes WHERE account_id = ? AND name = ?"));
  q.BindAll(account_id, CanonicalName(name));
  if (!q.Step()) {
    PT_RETURN_IF_ERROR(q.status());
    return std::optional<MailboxInfo>();
  }
  return std::optional<MailboxInfo>(MailboxFromRow(q));
}

Result<MailboxInfo> SqliteStore::GetMailboxById(int64_t mailbox_id) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  return MailboxById(*db, mailbox_id);
}

Result<std::vector<MessageInfo>> SqliteStore::ListMessages(int64_t mailbox_id,
                                                           uint64_t changed_since) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  // Sessions ask for what changed since they last looked: usually a few rows
  // of a large mailbox. The index by MODSEQ (schema 11) reads only those; the
  // planner, which has no statistics, could otherwise walk the (mailbox, uid)
  // index for the ORDER BY and test every row. Sorted by UID here instead.
  const bool changes_only = changed_since > 0;
  PT_ASSIGN_OR_RETURN(
      auto q, db->Prepare(changes_only ? "SELECT " POSTERN_MESSAGE_COLUMNS
                                         " FROM messages INDEXED BY messages_by_modseq"
                                         " WHERE mailbox_id = ? AND modseq > ?"
                                       : "SELECT " POSTERN_MESSAGE_COLUMNS
                                         " FROM messages WHERE mailbox_id = ? ORDER BY uid"));
  q.Bind(1, mailbox_id);
  if (changes_only) q.Bind(2, static_cast<int64_t>(changed_since));
  std::vector<MessageInfo> out;
  while (q.Step()) out.push_back(MessageFromRow(q));
  PT_RETURN_IF_ERROR(q.status());
  if (changes_only) {
    std::sort(out.begin(), out.end(),
              [](const MessageInfo& a, const MessageInfo& b) { return a.uid < b.uid; });
  }
  return out;
}

Result<std::vector<uint32_t>> SqliteStore::ExpungedSince(int64_t mailbox_id, uint64_t since) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  PT_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT DISTINCT uid FROM changes WHERE mailbox_id = ? "
                                          "AND modseq > ? AND kind = 3 ORDER BY uid"));
  q.BindAll(mailbox_id, since);
  std::vector<uint32_t> out;
  while (q.Step()) out.push_back(static_cast<uint32_t>(q.Int(0)));
  PT_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::string> SqliteStore::ReadMessageById(int64_t message_id) {
  std::string prefix, blob;
  {
    PT_ASSIGN_OR_RETURN(auto db, Read());
    PT_ASSIGN_OR_RETURN(auto q,
                        db->Prepare("SELECT header_prefix, blob FROM messages WHERE id = ?"));
    q.BindAll(message_id);
    if (!q.Step()) {
      PT_RETURN_IF_ERROR(q.status());
      return NotFound("the message no longer exists");
    }
    prefix = q.Text(0);
    blob = q.Text(1);
  }
  PT_ASSIGN_OR_RETURN(std::string body, ReadBody(blob));
  if (prefix.empty()) return body;
  return prefix + body;
}

Result<FlagChangeResult> SqliteStore::ChangeFlags(int64_t mailbox_id,
                                                  const std::vector<uint32_t>& uids,
                                                  const FlagChange& change) {
  FlagChangeResult result;
  PT_RETURN_IF_ERROR(Write([&](Database& db, WriteEffects&) -> Status {
    result = FlagChangeResult{};
    PT_ASSIGN_OR_RETURN(MailboxInfo mailbox, MailboxById(db, mailbox_id));
    PT_ASSIGN_OR_RETURN(auto get, db.Prepare("SELECT " POSTERN_MESSAGE_COLUMNS
                                             " FROM messages WHERE mailbox_id = ? AND uid = ?"));
    PT_ASSIGN_OR_RETURN(auto set, db.Prepare("UPDATE messages SET flags = ?, keywords = ?, "
                                             "modseq = ? WHERE id = ?"));
    std::optional<uint64_t> modseq;  // one new MODSEQ for the whole change
    int64_t unseen_delta = 0;
    for (uint32_t uid : uids) {
      get.Reset();
      get.BindAll(mailbox_id, uid);
      if (!get.Step()) {
        PT_RETURN_IF_ERROR(get.status());
        result.missing.push_back(uid);
        continue;
      }
      MessageInfo m = MessageFromRow(get);
      if (change.unchanged_since && m.modseq > *change.unchanged_since) {
        result.modified.push_back(uid);  // RFC 7162 §3.1.3
        continue;
      }
      auto [flags, keywords] = Apply(change, m.flags, m.keywords);
      if (flags != m.flags || keywords != m.keywords) {
        if (!modseq) {
          PT_ASSIGN_OR_RETURN(uint64_t next, BumpModseq(db, mailbox.account_id));
          modseq = next;
        }
        set.Reset();
        PT_RETURN_IF_ERROR(set.BindAll(flags, keywords, *modseq, m.id).Run());
        if ((m.flags & kFlagSeen) != (flags & kFlagSeen))
          unseen_delta += (flags & kFlagSeen) ? -1 : 1;
        m.flags = flags;
        m.keywords = keywords;
        m.modseq = *modseq;
      }
      result.changed.push_back(std::move(m));
    }
    result.highestmodseq = mailbox.highestmodseq;
    if (modseq) {
      PT_ASSIGN_OR_RETURN(auto mbx, db.Prepare("UPDATE mailboxes SET highestmodseq = ?, unseen = "
                                               "unseen + ? WHERE id = ?"));
      PT_RETURN_IF_ERROR(mbx.BindAll(*modseq, unseen_delta, mailbox_id).Run());
      result.highestmodseq = *modseq;
    }
    return Status::Ok();
  }));
  return result;
}

Result<ExpungeResult> SqliteStore::Expunge(int64_t mailbox_id,
                                           const std::optional<std::vector<uint32_t>>& uids) {
  ExpungeResult result;
  PT_RETURN_IF_ERROR(Write([&](Database& db, WriteEffects& effects) -> Status {
    result = ExpungeResult{};
    PT_ASSIGN_OR_RETURN(MailboxInfo mailbox, MailboxById(db, mailbox_id));
    std::set<uint32_t> only;
    if (uids) only.insert(uids->begin(), uids->end());
    PT_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT id, uid FROM messages WHERE mailbox_id = ? "
                                           "AND (flags & 8) <> 0 ORDER BY uid"));
    q.BindAll(mailbox_id);
    std::vector<std::pair<int64_t, uint32_t>> rows;
    while (q.Step()) {
      auto uid = static_cast<uint32_t>(q.Int(1));
      if (!uids || only.count(uid)) rows.emplace_back(q.Int(0), uid);
    }
    PT_RETURN_IF_ERROR(q.status());
    result.highestmodseq = mailbox.highestmodseq;
    if (rows.empty()) return Status::Ok();
    PT_ASSIGN_OR_RETURN(uint64_t modseq, BumpModseq(db, mailbox.account_id));
    PT_RETURN_IF_ERROR(RemoveMessages(db, mailbox, rows, modseq, effects));
    for (const auto& row : rows) result.uids.push_back(row.second);
    result.highestmodseq = modseq;
    return Status::Ok();
  }));
  return result;
}

Result<CopyResult> SqliteStore::CopyMessages(int64_t from_mailbox,
                                             const std::vector<uint32_t>& uids, int64_t to_mailbox,
                                             bool move) {
  CopyResult result;
  PT_RETURN_IF_ERROR(Write([&](Database& db, WriteEffects& effects) -> Status {
    result = CopyResult{};
    PT_ASSIGN_OR_RETURN(MailboxInfo from, MailboxById(db, from_mailbox));
    PT_ASSIGN_OR_RETURN(MailboxInfo to, MailboxById(db, to_mailbox));
    if (from.account_id != to.account_id) return PermissionDenied("another account's mailbox");
    std::vector<uint32_t> sorted(uids);
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());

    PT_ASSIGN_OR_RETURN(auto get, db.Prepare("SELECT id, flags, keywords, internal_date, size, "
                                             "blob, header_prefix, email_id FROM messages WHERE "
                                             "mailbox_id = ? AND uid = ?"));
    struct Row {
      int64_t id;
      uint32_t uid, flags;
      std::string keywords;
      int64_t internal_date;
      uint64_t size;
      std::string blob, prefix;
      int64_t email_id;  // RFC 8474 §5.1: the copy keeps it
    };
    std::vector<Row> rows;
    uint64_t bytes = 0;
    for (uint32_t uid : sorted) {
      get.Reset();
      get.BindAll(from_mailbox, uid);
      if (!get.Step()) {
        PT_RETURN_IF_ERROR(get.status());
        continue;
      }
      rows.push_back(Row{get.Int(0), uid, static_cast<uint32_t>(get.Int(1)), get.Text(2),
                         get.Int(3), static_cast<uint64_t>(get.Int(4)), get.Text(5), get.Text(6),
                         get.Int(7)});
      bytes += rows.back().size;
    }
    result.uidvalidity = to.uidvalidity;
    result.highestmodseq = to.highestmodseq;
    if (rows.empty()) return Status::Ok();
    if (!move) {
      PT_ASSIGN_OR_RETURN(auto acct, db.Prepare("SELECT quota_bytes, quota_messages, used_bytes, "
                                                "used_messages FROM accounts WHERE id = ?"));
      acct.BindAll(to.account_id);
      if (!acct.Step()) return NotFound("the account no longer exists");
      AccountInfo a;
      a.quota_bytes = static_cast<uint64_t>(acct.Int(0));
      a.quota_messages = static_cast<uint64_t>(acct.Int(1));
      a.used_bytes = static_cast<uint64_t>(acct.Int(2));
      a.used_messages = static_cast<uint64_t>(acct.Int(3)) + rows.size() - 1;
      if (a.WouldExceedQuota(bytes)) return ResourceExhausted("the copy would exceed the quota");
    }
    PT_ASSIGN_OR_RETURN(uint64_t modseq, BumpModseq(db, to.account_id));
    PT_ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT INTO messages(mailbox_id, uid, modseq, "
                                             "flags, keywords, internal_date, saved, size, "
                                             "blob, header_prefix, email_id) VALUES(?, ?, ?, ?, "
                                             "?, ?, ?, ?, ?, ?, ?)"));
    PT_ASSIGN_OR_RETURN(auto ref, db.Prepare("UPDATE blobs SET refs = refs + 1 WHERE hash = ?"));
    uint32_t uid = to.uidnext;
    uint32_t unseen = 0;
    for (const Row& r : rows) {
      ins.Reset();
      PT_RETURN_IF_ERROR(ins.BindAll(to_mailbox, uid, modseq, r.flags, r.keywords, r.internal_date,
                                     Now(), r.size, r.blob, r.prefix, r.email_id)
                             .Run());
      ref.Reset();
      PT_RETURN_IF_ERROR(ref.BindAll(r.blob).Run());
      if ((r.flags & kFlagSeen) == 0) ++unseen;
      result.source_uids.push_back(r.uid);
      result.dest_uids.push_back(uid++);
    }
    PT_ASSIGN_OR_RETURN(auto mbx, db.Prepare("UPDATE mailboxes SET uidnext = ?, highestmodseq = ?, "
                                             "messages = messages + ?, unseen = unseen + ?, size "
                                             "= size + ? WHERE id = ?"));
    PT_RETURN_IF_ERROR(mbx.BindAll(uid, modseq, rows.size(), unseen, bytes, to_mailbox).Run());
    PT_ASSIGN_OR_RETURN(auto acct, db.Prepare("UPDATE accounts SET used_bytes = used_bytes + ?, "
                                              "used_messages = used_messages + ? WHERE id = ?"));
    PT_RETURN_IF_ERROR(acct.BindAll(bytes, rows.size(), to.account_id).Run());
    result.highestmodseq = modseq;
    if (move) {
      std::vector<std::pair<int64_t, uint32_t>> gone;
      for (const Row& r : rows) gone.emplace_back(r.id, r.uid);
      PT_RETURN_IF_ERROR(RemoveMessages(db, from, gone, modseq, effects));
    }
    return Status::Ok();
  }));
  return result;
}

Result<AppendResult> SqliteStore::Append(int64_t mailbox_id, const Body& body,
                                         const AppendOptions& options) {
  PT_ASSIGN_OR_RETURN(std::vector<AppendResult> results,
                      AppendMessages(mailbox_id, {NewMessage{body, options}}));
  return results.front();
}

Result<std::vector<AppendResult>> SqliteStore::AppendMessages(
    int64_t mailbox_id, const std::vector<NewMessage>& messages) {
  std::vector<AppendResult> results;
  Status written = Write([&](Database& db, WriteEffects&) -> Status {
    results.clear();
    if (messages.empty()) return Status::Ok();
    PT_ASSIGN_OR_RETURN(MailboxInfo mailbox, MailboxById(db, mailbox_id));
    PT_ASSIGN_OR_RETURN(auto acct, db.Prepare("SELECT quota_bytes, quota_messages, used_bytes, "
                                              "used_messages FROM accounts WHERE id = ?"));
    acct.BindAll(mailbox.account_id);
    if (!acct.Step()) return NotFound("the account no longer exists");
    AccountInfo a;
    a.quota_bytes = static_cast<uint64_t>(acct.Int(0));
    a.quota_messages = static_cast<uint64_t>(acct.Int(1));
    a.used_bytes = static_cast<uint64_t>(acct.Int(2));
    a.used_messages = static_cast<uint64_t>(acct.Int(3));
    acct.Reset();
    PT_ASSIGN_OR_RETURN(uint64_t modseq, BumpModseq(db, mailbox.account_id));
    PT_ASSIGN_OR_RETURN(auto ref, db.Prepare("UPDATE blobs SET refs = refs + 1 WHERE hash = ?"));
    PT_ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT INTO messages(mailbox_id, uid, modseq, "
                                             "flags, keywords, internal_date, saved, size, blob, "
                                             "email_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                             "random())"));
    uint32_t uid = mailbox.uidnext;
    uint64_t bytes = 0;
    uint32_t unseen = 0;
    for (const NewMessage& m : messages) {
      const Body& body = m.body;
      // Each message counts against what the batch already added.
      if (a.WouldExceedQuota(body.ref.size)) return ResourceExhausted("the mailbox is over quota");
      a.used_bytes += body.ref.size;
      a.used_messages += 1;
      const std::string_view inline_body =
          body.in_file ? std::string_view() : std::string_view(body.compressed);
      PT_RETURN_IF_ERROR(InsertBlob(db, body.ref.hash, body.ref.size, body.ref.stored_size,
                                    inline_body, m.options.parse));
      ref.Reset();
      PT_RETURN_IF_ERROR(ref.BindAll(body.ref.hash).Run());
      std::vector<std::string> keywords;
      for (const std::string& k : m.options.keywords) {
        if (!HasKeyword(keywords, k)) keywords.push_back(k);
      }
      ins.Reset();
      PT_RETURN_IF_ERROR(ins.BindAll(mailbox_id, uid, modseq, m.options.flags, Join(keywords, " "),
                                     m.options.internal_date, Now(), body.ref.size, body.ref.hash)
                             .Run());
      if ((m.options.flags & kFlagSeen) == 0) ++unseen;
      bytes += body.ref.size;
      results.push_back(AppendResult{mailbox.uidvalidity, uid++, modseq});
    }
    PT_ASSIGN_OR_RETURN(auto mbx, db.Prepare("UPDATE mailboxes SET uidnext = ?, highestmodseq = ?, "
                                             "messages = messages + ?, unseen = unseen + ?, size "
                                             "= size + ? WHERE id = ?"));
    PT_RETURN_IF_ERROR(mbx.BindAll(uid, modseq, messages.size(), unseen, bytes, mailbox_id).Run());
    PT_ASSIGN_OR_RETURN(auto use, db.Prepare("UPDATE accounts SET used_bytes = used_bytes + ?, "
                                             "used_messages = used_messages + ? WHERE id = ?"));
    return use.BindAll(bytes, messages.size(), mailbox.account_id).Run();
  });
  for (const NewMessage& m : messages) {
    if (m.body.in_file) blobs_->Unpin(m.body.ref.hash);
  }
  PT_RETURN_IF_ERROR(written);
  return results;
}

Result<MailboxInfo> SqliteStore::CreateMailbox(int64_t account_id, const std::string& name,
                                               const std::string& role) {
  MailboxInfo created;
  PT_RETURN_IF_ERROR(Write([&](Database& db, WriteEffects&) -> Status {
    const std::string canonical = CanonicalName(name);
    PT_ASSIGN_OR_RETURN(auto exists, db.Prepare("SELECT 1 FROM mailboxes WHERE account_id = ? "
                                                "AND name = ?"));
    exists.BindAll(account_id, canonical);
    if (exists.Step()) return AlreadyExists("mailbox " + canonical + " already exists");
    PT_RETURN_IF_ERROR(exists.status());
    exists.Reset();
    PT_ASSIGN_OR_RETURN(int64_t uidvalidity, NextUidValidity(db));
    PT_ASSIGN_OR_RETURN(uint64_t modseq, BumpModseq(db, account_id));
    PT_ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT INTO mailboxes(account_id, name, role, "
                                             "uidvalidity, highestmodseq, created) VALUES(?, ?, "
                                             "?, ?, ?, ?) RETURNING id"));
    ins.BindAll(account_id, canonical, role, uidvalidity, modseq, Now());
    if (!ins.Step()) return ins.status();
    const int64_t id = ins.Int(0);
    ins.Reset();
    PT_RETURN_IF_ERROR(LogChange(db, account_id, id, modseq, 0, kChangeCreated));
    PT_ASSIGN_OR_RETURN(created, MailboxById(db, id));
    return Status::Ok();
  }));
  return created;
}

Status SqliteStore::DeleteMailbox(int64_t account_id, const std::string& name) {
  return Write([&](Database& db, WriteEffects& effects) -> Status {
    const std::string canonical = CanonicalName(name);
    if (canonical == "INBOX") return PermissionDenied("INBOX cannot be deleted");
    PT_ASSIGN_OR_RETURN(auto find, db.Prepare("SELECT id FROM mailboxes WHERE account_id = ? AND "
                                              "name = ?"));
    find.BindAll(account_id, canonical);
    if (!find.Step()) {
      PT_RETURN_IF_ERROR(find.status());
      return NotFound("no mailbox " + canonical);
    }
    PT_ASSIGN_OR_RETURN(MailboxInfo mailbox, MailboxById(db, find.Int(0)));
    find.Reset();
    PT_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT id, uid FROM messages WHERE mailbox_id = ?"));
    q.BindAll(mailbox.id);
    std::vector<std::pair<int64_t, uint32_t>> rows;
    while (q.Step()) rows.emplace_back(q.Int(0), static_cast<uint32_t>(q.Int(1)));
    PT_RETURN_IF_ERROR(q.status());
    PT_ASSIGN_OR_RETURN(uint64_t modseq, BumpModseq(db, account_id));
    if (!rows.empty()) PT_RETURN_IF_ERROR(RemoveMessages(db, mailbox, rows, modseq, effects));
    // The mailbox's own log rows go with it; its deletion is recorded.
    PT_ASSIGN_OR_RETURN(auto log, db.Prepare("DELETE FROM changes WHERE mailbox_id = ?"));
    PT_RETURN_IF_ERROR(log.BindAll(mailbox.id).Run());
    PT_ASSIGN_OR_RETURN(auto del, db.Prepare("DELETE FROM mailboxes WHERE id = ?"));
    PT_RETURN_IF_ERROR(del.BindAll(mailbox.id).Run());
    return LogChange(db, account_id, mailbox.id, modseq, 0, kChangeDeleted);
  });
}

Status SqliteStore::RenameMailbox(int64_t account_id, const std::string& from,
                                  const std::string& to) {
  return Write([&](Database& db, WriteEffects&) -> Status {
    const std::string old_name = CanonicalName(from);
    const std::string new_name = CanonicalName(to);
    if (new_name == "INBOX") return AlreadyExists("INBOX already exists");
    PT_ASSIGN_OR_RETURN(auto find, db.Prepare("SELECT id FROM mailboxes WHERE account_id = ? AND "
                                              "name = ?"));
    find.BindAll(account_id, new_name);
    if (find.Step()) return AlreadyExists("mailbox " + new_name + " already exists");
    PT_RETURN_IF_ERROR(find.status());
    find.Reset();
    find.BindAll(account_id, old_name);
    if (!find.Step()) {
      PT_RETURN_IF_ERROR(find.status());
      return NotFound("no mailbox " + old_name);
    }
    const int64_t id = find.Int(0);
    find.Reset();
    PT_ASSIGN_OR_RETURN(uint64_t modseq, BumpModseq(db, account_id));
    if (old_name == "INBOX") {
      // RFC 3501 §6.3.5: the messages move to a new mailbox; INBOX stays.
      PT_ASSIGN_OR_RETURN(MailboxInfo inbox, MailboxById(db, id));
      PT_ASSIGN_OR_RETURN(int64_t uidvalidity, NextUidValidity(db));
      PT_ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT INTO mailboxes(account_id, name, role, "
                                               "uidvalidity, uidnext, highestmodseq, messages, "
                                               "unseen, size, created) VALUES(?, ?, '', ?, ?, ?, "
                                               "?, ?, ?, ?) RETURNING id"));
      ins.BindAll(account_id, new_name, uidvalidity, inbox.uidnext, modseq, inbox.messages,
                  inbox.unseen, inbox.size, Now());
      if (!ins.Step()) return ins.status();
      const int64_t target = ins.Int(0);
      ins.Reset();
      // The rows keep their UIDs: the new mailbox has a new UIDVALIDITY.
      PT_ASSIGN_OR_RETURN(auto mv, db.Prepare("UPDATE messages SET mailbox_id = ? WHERE "
                                              "mailbox_id = ?"));
      PT_RETURN_IF_ERROR(mv.BindAll(target, id).Run());
      // INBOX looks expunged to whoever has it selected.
      PT_ASSIGN_OR_RETURN(auto uids, db.Prepare("SELECT uid FROM messages WHERE mailbox_id = ?"));
      uids.BindAll(target);
      while (uids.Step()) {
        PT_RETURN_IF_ERROR(LogChange(db, account_id, id, modseq, static_cast<uint32_t>(uids.Int(0)),
                                     kChangeExpunged));
      }
      PT_RETURN_IF_ERROR(uids.status());
      PT_ASSIGN_OR_RETURN(auto reset, db.Prepare("UPDATE mailboxes SET messages = 0, unseen = 0, "
                                                 "size = 0, highestmodseq = ? WHERE id = ?"));
      PT_RETURN_IF_ERROR(reset.BindAll(modseq, id).Run());
      return LogChange(db, account_id, target, modseq, 0, kChangeCreated);
    }
    // The mailbox and everything under it ("old/...").
    PT_ASSIGN_OR_RETURN(auto kids, db.Prepare("SELECT id, name FROM mailboxes WHERE account_id = "
                                              "? AND (name = ? OR substr(name, 1, ?) = ?)"));
    kids.BindAll(account_id, old_name, old_name.size() + 1, old_name + "/");
    std::vector<std::pair<int64_t, std::string>> renames;
    while (kids.Step()) {
      std::string name = kids.Text(1);
      renames.emplace_back(kids.Int(0), new_name + name.substr(old_name.size()));
    }
    PT_RETURN_IF_ERROR(kids.status());
    PT_ASSIGN_OR_RETURN(auto upd, db.Prepare("UPDATE mailboxes SET name = ?, highestmodseq = ? "
                                             "WHERE id = ?"));
    for (const auto& [mailbox_id, name] : renames) {
      upd.Reset();
      Status s = upd.BindAll(name, modseq, mailbox_id).Run();
      if (!s.ok()) return AlreadyExists("mailbox " + name + " already exists");
      PT_RETURN_IF_ERROR(LogChange(db, account_id, mailbox_id, modseq, 0, kChangeRenamed));
    }
    return Status::Ok();
  });
}

Status SqliteStore::SetSubscribed(int64_t account_id, const std::string& name, bool subscribed) {
  return Write([&](Database& db, WriteEffects&) -> Status {
    PT_ASSIGN_OR_RETURN(auto q, db.Prepare("UPDATE mailboxes SET subscribed = ? WHERE account_id "
                                           "= ? AND name = ?"));
    PT_RETURN_IF_ERROR(q.BindAll(subscribed, account_id, CanonicalName(name)).Run());
    if (db.Changes() == 0) return NotFound("no mailbox " + CanonicalName(name));
    return Status::Ok();
  });
}

}  // namespace postern::store
