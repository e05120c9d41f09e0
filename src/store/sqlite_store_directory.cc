// SqliteStore: domains, accounts and aliases. Callers pass normalized names
// (lowercase, A-label domains); the store does not interpret addresses beyond
// splitting off the domain.
#include <algorithm>
#include <map>

#include "store/sqlite_store.h"

namespace postern::store {
namespace {

std::string DomainOf(const std::string& address) {
  size_t at = address.rfind('@');
  return at == std::string::npos ? std::string() : address.substr(at + 1);
}

Result<int64_t> DomainId(Database& db, const std::string& domain) {
  PT_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT id FROM domains WHERE name = ?"));
  q.BindAll(domain);
  if (q.Step()) return q.Int(0);
  PT_RETURN_IF_ERROR(q.status());
  return NotFound("domain " + domain + " is not served here: postern domain add " + domain);
}

AccountInfo ReadAccount(const Statement& q) {
  AccountInfo a;
  a.id = q.Int(0);
  a.address = q.Text(1);
  a.password_hash = q.Text(2);
  a.quota_bytes = static_cast<uint64_t>(q.Int(3));
  a.quota_messages = static_cast<uint64_t>(q.Int(4));
  a.used_bytes = static_cast<uint64_t>(q.Int(5));
  a.used_messages = static_cast<uint64_t>(q.Int(6));
  a.created = q.Int(7);
  a.disabled = q.Int(8) != 0;
  a.scram_sha256 = q.Text(9);
  return a;
}

#define ACCOUNT_COLUMNS                                                                           \
  "id, address, password_hash, quota_bytes, quota_messages, used_bytes, used_messages, created, " \
  "disabled, scram_sha256"

}  // namespace

Result<DomainInfo> SqliteStore::AddDomain(const std::string& name) {
  DomainInfo info;
  info.name = name;
  info.created = Now();
  PT_RETURN_IF_ERROR(Write([&](Database& db, WriteEffects&) -> Status {
    PT_ASSIGN_OR_RETURN(auto exists, db.Prepare("SELECT 1 FROM domains WHERE name = ?"));
    exists.BindAll(name);
    if (exists.Step()) return AlreadyExists("domain " + name + " is already served here");
    PT_ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT INTO domains(name, created) VALUES(?, ?)"));
    PT_RETURN_IF_ERROR(ins.BindAll(name, info.created).Run());
    info.id = db.LastInsertId();
    return Status::Ok();
  }));
  return info;
}

Status SqliteStore::RemoveDomain(const std::string& name, bool force) {
  return Write([&](Database& db, WriteEffects& effects) -> Status {
    PT_ASSIGN_OR_RETURN(int64_t domain_id, DomainId(db, name));
    PT_ASSIGN_OR_RETURN(auto count,
                        db.Prepare("SELECT (SELECT COUNT(*) FROM accounts WHERE domain_id = ?1), "
                                   "(SELECT COUNT(*) FROM aliases WHERE domain_id = ?1)"));
    count.BindAll(domain_id);
    if (!count.Step()) return count.status();
    int64_t accounts = count.Int(0), aliases = count.Int(1);
    count.Reset();
    if ((accounts || aliases) && !force) {
      return FailedPrecondition("domain " + name + " still has " + std::to_string(accounts) +
                                " users and " + std::to_string(aliases) +
                                " alias entries: remove them first, or add --force to remove "
                                "them with the domain (their mail is deleted)");
    }
    PT_ASSIGN_OR_RETURN(auto ids, db.Prepare("SELECT id FROM accounts WHERE domain_id = ?"));
    ids.BindAll(domain_id);
    std::vector<int64_t> account_ids;
    while (ids.Step()) account_ids.push_back(ids.Int(0));
    PT_RETURN_IF_ERROR(ids.status());
    ids.Reset();
    for (int64_t id : account_ids) PT_RETURN_IF_ERROR(DeleteAccountData(db, id, effects));
    PT_ASSIGN_OR_RETURN(auto del_aliases, db.Prepare("DELETE FROM aliases WHERE domain_id = ?"));
    PT_RETURN_IF_ERROR(del_aliases.BindAll(domain_id).Run());
    PT_ASSIGN_OR_RETURN(auto del, db.Prepare("DELETE FROM domains WHERE id = ?"));
    return del.BindAll(domain_id).Run();
  });
}

Result<std::vector<DomainInfo>> SqliteStore::ListDomains() {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  PT_ASSIGN_OR_RETURN(
      auto q, db->Prepare("SELECT d.id, d.name, d.created, "
                          "(SELECT COUNT(*) FROM accounts a WHERE a.domain_id = d.id), "
                          "(SELECT COUNT(DISTINCT source) FROM aliases l WHERE l.domain_id = d.id) "
                          "FROM domains d ORDER BY d.name"));
  std::vector<DomainInfo> out;
  while (q.Step()) {
    out.push_back(DomainInfo{q.Int(0), q.Text(1), q.Int(2), q.Int(3), q.Int(4)});
  }
  PT_RETURN_IF_ERROR(q.status());
  return out;
}

Result<int64_t> SqliteStore::NextUidValidity(Database& db) {
  // UIDVALIDITY: the creation time, but strictly increasing across the store
  // so a mailbox deleted and recreated within a second still gets a new one.
  PT_ASSIGN_OR_RETURN(auto maxq, db.Prepare("SELECT COALESCE(MAX(uidvalidity), 0) FROM mailboxes"));
  if (!maxq.Step()) return maxq.status();
  return std::max<int64_t>(Now(), maxq.Int(0) + 1) & 0xffffffff;
}

Status SqliteStore::CreateMailboxes(Database& db, int64_t account_id) {
  PT_ASSIGN_OR_RETURN(int64_t uidvalidity, NextUidValidity(db));
  PT_ASSIGN_OR_RETURN(auto ins,
                      db.Prepare("INSERT INTO mailboxes(account_id, name, role, uidvalidity, "
                                 "created) VALUES(?, ?, ?, ?, ?)"));
  for (const DefaultMailbox& m : kDefaultMailboxes) {
    ins.Reset();
    PT_RETURN_IF_ERROR(ins.BindAll(account_id, m.name, m.role, uidvalidity++, Now()).Run());
  }
  return Status::Ok();
}

Result<AccountInfo> SqliteStore::AddAccount(const std::string& address,
                                            const StoredPassword& password, uint64_t quota_bytes,
                                            uint64_t quota_messages) {
  AccountInfo info;
  info.address = address;
  info.password_hash = password.hash;
  info.scram_sha256 = password.scram_sha256;
  info.quota_bytes = quota_bytes;
  info.quota_messages = quota_messages;
  info.created = Now();
  PT_RETURN_IF_ERROR(Write([&](Database& db, WriteEffects&) -> Status {
    PT_ASSIGN_OR_RETURN(int64_t domain_id, DomainId(db, DomainOf(address)));
    PT_ASSIGN_OR_RETURN(auto exists, db.Prepare("SELECT 1 FROM accounts WHERE address = ?"));
    exists.BindAll(address);
    if (exists.Step()) return AlreadyExists("user " + address + " exists already");
    exists.Reset();
    PT_ASSIGN_OR_RETURN(auto ins,
                        db.Prepare("INSERT INTO accounts(domain_id, address, "
                                   "password_hash, scram_sha256, quota_bytes, "
                                   "quota_messages, created) VALUES(?, ?, ?, ?, ?, ?, ?)"));
    PT_RETURN_IF_ERROR(ins.BindAll(domain_id, address, password.hash, password.scram_sha256,
                                   quota_bytes, quota_messages, info.created)
                           .Run());
    info.id = db.LastInsertId();
    return CreateMailboxes(db, info.id);
  }));
  return info;
}

Status SqliteStore::DeleteAccountData(Database& db, int64_t account_id, WriteEffects& effects) {
  PT_ASSIGN_OR_RETURN(auto blobs, db.Prepare("SELECT m.blob FROM messages m JOIN mailboxes b ON "
                                             "m.mailbox_id = b.id WHERE b.account_id = ?"));
  blobs.BindAll(account_id);
  std::vector<std::string> hashes;
  while (blobs.Step()) hashes.push_back(blobs.Text(0));
  PT_RETURN_IF_ERROR(blobs.status());
  blobs.Reset();
  for (const char* sql : {
           "DELETE FROM messages WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id "
           "= ?)",
           "DELETE FROM changes WHERE account_id = ?",
           "DELETE FROM mailboxes WHERE account_id = ?",
           "DELETE FROM app_passwords WHERE account_id = ?",
           "DELETE FROM accounts WHERE id = ?",
       }) {
    PT_ASSIGN_OR_RETURN(auto del, db.Prepare(sql));
    PT_RETURN_IF_ERROR(del.BindAll(account_id).Run());
  }
  // After the messages are gone, or the foreign key would refuse.
  for (const auto& h : hashes) PT_RETURN_IF_ERROR(ReleaseBlob(db, h, effects));
  return Status::Ok();
}

Status SqliteStore::RemoveAccount(const std::string& address) {
  return Write([&](Database& db, WriteEffects& effects) -> Status {
    PT_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT id FROM accounts WHERE address = ?"));
    q.BindAll(address);
    if (!q.Step()) {
      PT_RETURN_IF_ERROR(q.status());
      return NotFound("no user " + address + ": see `postern user list`");
    }
    int64_t id = q.Int(0);
    q.Reset();
    return DeleteAccountData(db, id, effects);
  });
}

Result<std::vector<AccountInfo>> SqliteStore::ListAccounts(const std::string& domain) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  std::vector<AccountInfo> out;
  if (domain.empty()) {
    PT_ASSIGN_OR_RETURN(auto q,
                        db->Prepare("SELECT " ACCOUNT_COLUMNS " FROM accounts ORDER BY address"));
    while (q.Step()) out.push_back(ReadAccount(q));
    PT_RETURN_IF_ERROR(q.status());
  } else {
    PT_ASSIGN_OR_RETURN(int64_t domain_id, DomainId(*db, domain));
    PT_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT " ACCOUNT_COLUMNS
                                            " FROM accounts WHERE domain_id = ? ORDER BY address"));
    q.BindAll(domain_id);
    while (q.Step()) out.push_back(ReadAccount(q));
    PT_RETURN_IF_ERROR(q.status());
  }
  return out;
}

Status SqliteStore::SetPassword(const std::string& address, const StoredPassword& password) {
  return Write([&](Database& db, WriteEffects&) -> Status {
    PT_ASSIGN_OR_RETURN(auto q, db.Prepare("UPDATE accounts SET password_hash = ?, scram_sha256 = "
                                           "? WHERE address = ?"));
    PT_RETURN_IF_ERROR(q.BindAll(password.hash, password.scram_sha256, address).Run());
    if (db.Changes() == 0) return NotFound("no user " + address + ": see `postern user list`");
    return Status::Ok();
  });
}

Status SqliteStore::SetScramSecrets(const std::string& address, const std::string& password_hash,
                                    const std::string& scram_sha256) {
  return Write([&](Database& db, WriteEffects&) -> Status {
    PT_ASSIGN_OR_RETURN(auto q, db.Prepare("UPDATE accounts SET scram_sha256 = ? WHERE address = "
                                           "? AND password_hash = ?"));
    PT_RETURN_IF_ERROR(q.BindAll(scram_sha256, address, password_hash).Run());
    if (db.Changes() == 0) {
      return FailedPrecondition("user " + address + " is gone or has a new password");
    }
    return Status::Ok();
  });
}

Status SqliteStore::SetQuota(const std::string& address, uint64_t quota_bytes,
                             uint64_t quota_messages) {
  return Write([&](Database& db, WriteEffects&) -> Status {
    PT_ASSIGN_OR_RETURN(auto q, db.Prepare("UPDATE accounts SET quota_bytes = ?, "
                                           "quota_messages = ? WHERE address = ?"));
    PT_RETURN_IF_ERROR(q.BindAll(quota_bytes, quota_messages, address).Run());
    if (db.Changes() == 0) return NotFound("no user " + address + ": see `postern user list`");
    return Status::Ok();
  });
}

namespace {
Result<int64_t> AccountId(Database& db, const std::string& address) {
  PT_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT id FROM accounts WHERE address = ?"));
  q.BindAll(address);
  if (!q.Step()) {
    PT_RETURN_IF_ERROR(q.status());
    return NotFound("no user " + address + ": see `postern user list`");
  }
  return q.Int(0);
}
}  // namespace

Status SqliteStore::AddAppPassword(const std::string& address, const std::string& name,
                                   const std::string& hash) {
  return Write([&](Database& db, WriteEffects&) -> Status {
    PT_ASSIGN_OR_RETURN(int64_t id, AccountId(db, address));
    PT_ASSIGN_OR_RETURN(auto q, db.Prepare("INSERT OR IGNORE INTO app_passwords(account_id, name, "
                                           "hash, created) VALUES(?, ?, ?, ?)"));
    PT_RETURN_IF_ERROR(q.BindAll(id, name, hash, Now()).Run());
    if (db.Changes() == 0) {
      return AlreadyExists("user " + address + " already has an app password named " + name);
    }
    return Status::Ok();
  });
}

Result<std::vector<AppPasswordInfo>> SqliteStore::ListAppPasswords(const std::string& address) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  PT_ASSIGN_OR_RETURN(int64_t id, AccountId(*db, address));
  PT_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT name, created FROM app_passwords WHERE "
                                          "account_id = ? ORDER BY name"));
  q.BindAll(id);
  std::vector<AppPasswordInfo> out;
  while (q.Step()) out.push_back(AppPasswordInfo{q.Text(0), q.Int(1)});
  PT_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::RemoveAppPassword(const std::string& address, const std::string& name) {
  return Write([&](Database& db, WriteEffects&) -> Status {
    PT_ASSIGN_OR_RETURN(int64_t id, AccountId(db, address));
    PT_ASSIGN_OR_RETURN(auto q,
                        db.Prepare("DELETE FROM app_passwords WHERE account_id = ? AND name = ?"));
    PT_RETURN_IF_ERROR(q.BindAll(id, name).Run());
    if (db.Changes() == 0) {
      return NotFound("user " + address + " has no app password named " + name +
                      ": see `postern user app-password list " + address + "`");
    }
    return Status::Ok();
  });
}

Result<std::optional<std::string>> SqliteStore::FindAppPassword(int64_t account_id,
                                                                const std::string& hash) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  PT_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT name FROM app_passwords WHERE hash = ? AND "
                                          "account_id = ?"));
  q.BindAll(hash, account_id);
  if (q.Step()) return std::optional<std::string>(q.Text(0));
  PT_RETURN_IF_ERROR(q.status());
  return std::optional<std::string>();
}

Status SqliteStore::InsertAlias(Database& db, const std::string& source,
                                const std::vector<std::string>& targets) {
  if (targets.empty()) return InvalidArgument("alias " + source + " needs at least one target");
  PT_ASSIGN_OR_RETURN(int64_t domain_id, DomainId(db, DomainOf(source)));
  PT_ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT OR IGNORE INTO aliases(source, target, "
                                           "domain_id, created) VALUES(?, ?, ?, ?)"));
  for (const auto& t : targets) {
    ins.Reset();
    PT_RETURN_IF_ERROR(ins.BindAll(source, t, domain_id, Now()).Run());
  }
  return Status::Ok();
}

Status SqliteStore::AddAlias(const std::string& source, const std::vector<std::string>& targets) {
  return Write([&](Database& db, WriteEffects&) { return InsertAlias(db, source, targets); });
}

Status SqliteStore::AddAliases(const std::vector<AliasInfo>& aliases) {
  return Write([&](Database& db, WriteEffects&) -> Status {
    for (const auto& a : aliases) PT_RETURN_IF_ERROR(InsertAlias(db, a.source, a.targets));
    return Status::Ok();
  });
}

Result<StoreStats> SqliteStore::Stats() {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  PT_ASSIGN_OR_RETURN(
      auto q, db->Prepare("SELECT (SELECT COUNT(*) FROM domains), (SELECT COUNT(*) FROM accounts), "
                          "(SELECT COUNT(DISTINCT source) FROM aliases), "
                          "(SELECT COALESCE(SUM(messages), 0) FROM mailboxes), "
                          "(SELECT COALESCE(SUM(size), 0) FROM mailboxes), "
                          "(SELECT COUNT(*) FROM blobs), "
                          "(SELECT COALESCE(SUM(stored_size), 0) FROM blobs), "
                          "(SELECT COUNT(*) FROM queue), "
                          "(SELECT COUNT(*) FROM queue_recipients WHERE state = 0)"));
  if (!q.Step()) return q.status();
  StoreStats s;
  s.domains = q.Int(0);
  s.accounts = q.Int(1);
  s.aliases = q.Int(2);
  s.messages = q.Int(3);
  s.message_bytes = q.Int(4);
  s.blobs = q.Int(5);
  s.blob_bytes = q.Int(6);
  s.queued = q.Int(7);
  s.pending_recipients = q.Int(8);
  return s;
}

Status SqliteStore::RemoveAlias(const std::string& source, const std::string& target) {
  return Write([&](Database& db, WriteEffects&) -> Status {
    if (target.empty()) {
      PT_ASSIGN_OR_RETURN(auto q, db.Prepare("DELETE FROM aliases WHERE source = ?"));
      PT_RETURN_IF_ERROR(q.BindAll(source).Run());
    } else {
      PT_ASSIGN_OR_RETURN(auto q,
                          db.Prepare("DELETE FROM aliases WHERE source = ? AND target = ?"));
      PT_RETURN_IF_ERROR(q.BindAll(source, target).Run());
    }
    if (db.Changes() == 0) {
      return NotFound("no alias " + source + (target.empty() ? "" : " -> " + target) +
                      ": see `postern alias list`");
    }
    return Status::Ok();
  });
}

Result<std::vector<AliasInfo>> SqliteStore::ListAliases(const std::string& domain) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  std::map<std::string, std::vector<std::string>> by_source;
  if (domain.empty()) {
    PT_ASSIGN_OR_RETURN(auto q,
                        db->Prepare("SELECT source, target FROM aliases ORDER BY source, id"));
    while (q.Step()) by_source[q.Text(0)].push_back(q.Text(1));
    PT_RETURN_IF_ERROR(q.status());
  } else {
    PT_ASSIGN_OR_RETURN(int64_t domain_id, DomainId(*db, domain));
    PT_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT source, target FROM aliases WHERE domain_id "
                                            "= ? ORDER BY source, id"));
    q.BindAll(domain_id);
    while (q.Step()) by_source[q.Text(0)].push_back(q.Text(1));
    PT_RETURN_IF_ERROR(q.status());
  }
  std::vector<AliasInfo> out;
  for (auto& [source, targets] : by_source) out.push_back(AliasInfo{source, std::move(targets)});
  return out;
}

Result<bool> SqliteStore::IsLocalDomainIn(Database& db, const std::string& domain) {
  PT_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT 1 FROM domains WHERE name = ?"));
  q.BindAll(domain);
  bool found = q.Step();
  PT_RETURN_IF_ERROR(q.status());
  return found;
}

Result<std::optional<AccountInfo>> SqliteStore::FindAccountIn(Database& db,
                                                              const std::string& address) {
  PT_ASSIGN_OR_RETURN(auto q,
                      db.Prepare("SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE address = ?"));
  q.BindAll(address);
  if (q.Step()) return std::optional<AccountInfo>(ReadAccount(q));
  PT_RETURN_IF_ERROR(q.status());
  return std::optional<AccountInfo>();
}

Result<std::vector<std::string>> SqliteStore::FindAliasTargetsIn(Database& db,
                                                                 const std::string& source) {
  PT_ASSIGN_OR_RETURN(auto q,
                      db.Prepare("SELECT target FROM aliases WHERE source = ? ORDER BY id"));
  q.BindAll(source);
  std::vector<std::string> out;
  while (q.Step()) out.push_back(q.Text(0));
  PT_RETURN_IF_ERROR(q.status());
  return out;
}

Result<bool> SqliteStore::IsLocalDomain(const std::string& domain) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  return IsLocalDomainIn(*db, domain);
}

Result<std::optional<AccountInfo>> SqliteStore::FindAccount(const std::string& address) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  return FindAccountIn(*db, address);
}

Result<std::vector<std::string>> SqliteStore::FindAliasTargets(const std::string& source) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  return FindAliasTargetsIn(*db, source);
}

// One read transaction for all the lookups of a view: the snapshot is taken
// (and the connection's WAL read lock acquired) once, at the first lookup.
class SqliteStore::View final : public directory::DirectoryLookup {
 public:
  explicit View(ReadLease lease) : lease_(std::move(lease)) {}
  ~View() override {
    // The connection goes back to the pool: never with the old snapshot.
    if (lease_->InTransaction() && !lease_->Run("COMMIT").ok()) (void)lease_->Run("ROLLBACK");
  }

  Result<bool> IsLocalDomain(const std::string& domain) override {
    PT_RETURN_IF_ERROR(Begin());
    return IsLocalDomainIn(*lease_, domain);
  }
  Result<std::optional<AccountInfo>> FindAccount(const std::string& address) override {
    PT_RETURN_IF_ERROR(Begin());
    return FindAccountIn(*lease_, address);
  }
  Result<std::vector<std::string>> FindAliasTargets(const std::string& source) override {
    PT_RETURN_IF_ERROR(Begin());
    return FindAliasTargetsIn(*lease_, source);
  }

 private:
  Status Begin() {
    if (lease_->InTransaction()) return Status::Ok();
    return lease_->Run("BEGIN");
  }

  ReadLease lease_;
};

Result<std::unique_ptr<directory::DirectoryLookup>> SqliteStore::DirectoryView() {
  PT_ASSIGN_OR_RETURN(auto lease, Read());
  return std::unique_ptr<directory::DirectoryLookup>(std::make_unique<View>(std::move(lease)));
}

}  // namespace postern::store
