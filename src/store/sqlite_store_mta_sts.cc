// SqliteStore: the MTA-STS policy cache (RFC 8461 §5), one row per policy
// domain in mta_sts_policies.
#include "store/sqlite_store.h"

namespace postern::store {

Result<std::optional<MtaStsRecord>> SqliteStore::GetMtaStsPolicy(const std::string& domain) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  PT_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT domain, policy_id, policy, fetched, expires "
                                          "FROM mta_sts_policies WHERE domain = ?"));
  q.BindAll(domain);
  if (!q.Step()) {
    PT_RETURN_IF_ERROR(q.status());
    return std::optional<MtaStsRecord>();
  }
  MtaStsRecord r;
  r.domain = q.Text(0);
  r.policy_id = q.Text(1);
  r.policy = q.Text(2);
  r.fetched = q.Int(3);
  r.expires = q.Int(4);
  return std::optional<MtaStsRecord>(std::move(r));
}

Status SqliteStore::PutMtaStsPolicy(const MtaStsRecord& record) {
  if (record.domain.empty()) return InvalidArgument("an MTA-STS policy needs its domain");
  return Write([&](Database& db, WriteEffects&) -> Status {
    PT_ASSIGN_OR_RETURN(auto q, db.Prepare("INSERT OR REPLACE INTO mta_sts_policies(domain, "
                                           "policy_id, policy, fetched, expires) "
                                           "VALUES(?, ?, ?, ?, ?)"));
    return q.BindAll(record.domain, record.policy_id, record.policy, record.fetched, record.expires)
        .Run();
  });
}

}  // namespace postern::store
