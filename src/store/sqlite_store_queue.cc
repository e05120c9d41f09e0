// SqliteStore: the message queue (entries, recipients, bounces).
#include <future>
#include <set>

#include "base/log.h"
#include "store/sqlite_store.h"

namespace postern::store {
namespace {

QueueEntry ReadEntry(const Statement& q) {
  QueueEntry e;
  e.id = q.Text(0);
  e.created = q.Int(1);
  e.mail_from = q.Text(2);
  e.blob = q.Text(3);
  e.size = static_cast<uint64_t>(q.Int(4));
  e.body_type = q.Text(5);
  e.smtputf8 = q.Int(6) != 0;
  e.dsn_ret = q.Text(7);
  e.dsn_envid = q.Text(8);
  e.client = q.Text(9);
  e.kind = q.Text(10);
  e.held = q.Int(11) != 0;
  e.requiretls = q.Int(12) != 0;
  return e;
}

QueueRecipient ReadRecipient(const Statement& q) {
  QueueRecipient r;
  r.id = q.Int(0);
  r.address = q.Text(1);
  r.original = q.Text(2);
  r.orcpt = q.Text(3);
  r.notify = static_cast<unsigned>(q.Int(4));
  r.local = q.Int(5) != 0;
  r.state = static_cast<RecipientState>(q.Int(6));
  r.attempts = static_cast<int>(q.Int(7));
  r.next_attempt = q.Int(8);
  r.last_error = q.Text(9);
  r.warned = q.Int(10) != 0;
  return r;
}

#define ENTRY_COLUMNS                                                                           \
  "id, created, mail_from, blob, size, body_type, smtputf8, dsn_ret, dsn_envid, client, kind, " \
  "held, requiretls"
// A condition on queue_recipients: its entry is not held.
#define NOT_HELD \
  "NOT EXISTS (SELECT 1 FROM queue WHERE queue.id = queue_recipients.queue_id AND held = 1)"
#define RECIPIENT_COLUMNS                                                                    \
  "id, address, original, orcpt, notify, local, state, attempts, next_attempt, last_error, " \
  "warned"

// Recipient filters for LoadEntries (string literals: statement cache keys).
constexpr const char* kAllRecipients =
    "SELECT " RECIPIENT_COLUMNS " FROM queue_recipients WHERE queue_id = ? ORDER BY id";
constexpr const char* kPendingLocalRecipients =
    "SELECT " RECIPIENT_COLUMNS
    " FROM queue_recipients WHERE queue_id = ? AND state = 0 AND local = 1 ORDER BY id";
constexpr const char* kFailedRecipients =
    "SELECT " RECIPIENT_COLUMNS
    " FROM queue_recipients WHERE queue_id = ? AND state = 2 ORDER BY id";
constexpr const char* kPendingRemoteRecipients =
    "SELECT " RECIPIENT_COLUMNS
    " FROM queue_recipients WHERE queue_id = ? AND state = 0 AND local = 0 ORDER BY id";
constexpr const char* kUnwarnedRecipients =
    "SELECT " RECIPIENT_COLUMNS
    " FROM queue_recipients WHERE queue_id = ? AND state = 0 AND warned = 0 ORDER BY id";

// The first row's next_attempt of "SELECT next_attempt ... ORDER BY
// next_attempt LIMIT 1" (walks the partial index in order and stops at the
// first recipient of an entry not held), if any.
Result<std::optional<int64_t>> EarliestOf(Statement& q) {
  if (!q.Step()) {
    PT_RETURN_IF_ERROR(q.status());
    return std::optional<int64_t>();
  }
  return std::optional<int64_t>(q.Int(0));
}

std::string NoSuchEntry(const std::string& id) {
  return "no queue entry " + id + ": see `postern queue list`";
}

}  // namespace

Status SqliteStore::InsertBlob(Database& db, const QueueEntry& e) {
  return InsertBlob(db, e.blob, e.size, e.stored_size, e.inline_body, e.parse);
}

Status SqliteStore::InsertBlob(Database& db, const std::string& hash, uint64_t size,
                               uint64_t stored_size, std::string_view inline_body,
                               const std::optional<MessageParse>& parse) {
  // A body already stored (the same message again) keeps its row and data.
  PT_ASSIGN_OR_RETURN(auto known, db.Prepare("SELECT 1 FROM blobs WHERE hash = ?"));
  known.BindAll(hash);
  const bool exists = known.Step();
  PT_RETURN_IF_ERROR(known.status());
  known.Reset();
  if (exists) return Status::Ok();
  PT_ASSIGN_OR_RETURN(auto blob,
                      db.Prepare("INSERT INTO blobs(hash, size, stored_size, refs, created, "
                                 "data_id, parse_id, text_id) VALUES(?, ?, ?, 0, ?, ?, ?, ?)"));
  blob.BindAll(hash, size, stored_size, Now());
  if (inline_body.empty()) {
    blob.BindNull(5);  // the body is in a file
  } else {
    PT_ASSIGN_OR_RETURN(auto data, db.Prepare("INSERT INTO bodies(data) VALUES(?)"));
    PT_RETURN_IF_ERROR(data.BindBlob(1, inline_body).Run());
    blob.Bind(5, db.LastInsertId());
  }
  if (!parse) {
    blob.BindNull(6);
  } else {
    PT_ASSIGN_OR_RETURN(int64_t parse_id, InsertParse(db, *parse));
    blob.Bind(6, parse_id);
  }
  std::optional<int64_t> text_id;
  if (parse && parse->text) {
    PT_ASSIGN_OR_RETURN(text_id, TryInsertText(db, hash, *parse->text));
  }
  if (text_id) {
    blob.Bind(7, *text_id);
  } else {
    blob.BindNull(7);
  }
  return blob.Run();
}

Result<int64_t> SqliteStore::InsertParse(Database& db, const MessageParse& parse) {
  PT_ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT INTO parses(envelope, body, bodystructure, "
                                           "preview, header) VALUES(?, ?, ?, ?, ?)"));
  ins.BindAll(parse.envelope, parse.body, parse.body_structure);
  if (parse.preview) {
    ins.Bind(4, *parse.preview);
  } else {
    ins.BindNull(4);
  }
  if (parse.header && parse.header->size() <= kMaxCachedHeader) {
    ins.BindBlob(5, *parse.header);
  } else {
    ins.BindNull(5);
  }
  PT_RETURN_IF_ERROR(ins.Run());
  return db.LastInsertId();
}

Status SqliteStore::InsertQueueEntry(Database& db, QueueEntry& e) {
  PT_RETURN_IF_ERROR(InsertBlob(db, e));
  PT_ASSIGN_OR_RETURN(auto ref, db.Prepare("UPDATE blobs SET refs = refs + 1 WHERE hash = ?"));
  PT_RETURN_IF_ERROR(ref.BindAll(e.blob).Run());
  PT_ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT INTO queue(" ENTRY_COLUMNS
                                           ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  PT_RETURN_IF_ERROR(ins.BindAll(e.id, e.created, e.mail_from, e.blob, e.size, e.body_type,
                                 e.smtputf8, e.dsn_ret, e.dsn_envid, e.client, e.kind, e.held,
                                 e.requiretls)
                         .Run());
  PT_ASSIGN_OR_RETURN(auto rcpt, db.Prepare("INSERT INTO queue_recipients(queue_id, address, "
                                            "original, orcpt, notify, local, state, attempts, "
                                            "next_attempt, last_error, warned) VALUES(?, ?, ?, "
                                            "?, ?, ?, ?, ?, ?, ?, ?)"));
  for (auto& r : e.recipients) {
    rcpt.Reset();
    PT_RETURN_IF_ERROR(rcpt.BindAll(e.id, r.address, r.original, r.orcpt, r.notify, r.local,
                                    static_cast<int>(r.state), r.attempts, r.next_attempt,
                                    r.last_error, r.warned)
                           .Run());
    r.id = db.LastInsertId();
  }
  return Status::Ok();
}

Status SqliteStore::Enqueue(const QueueEntry& entry) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  AcceptAsync(entry, {}, [&promise](Status s, QueueEntry, std::vector<DeliveryOutcome>) {
    promise.set_value(std::move(s));
  });
  return future.get();
}

void SqliteStore::AcceptAsync(QueueEntry entry, std::vector<LocalDelivery> deliver_now,
                              AcceptDone done, bool may_block) {
  struct State {
    QueueEntry entry;
    std::vector<LocalDelivery> deliveries;
    std::vector<DeliveryOutcome> outcomes;
  };
  auto state = std::make_shared<State>();
  state->entry = std::move(entry);
  state->deliveries = std::move(deliver_now);
  // Deliver first; only recipients left to do (remote, deferred, failed) are
  // queued. A message delivered to everyone writes no queue rows at all.
  auto run = [this, state](Database& db, WriteEffects&) -> Status {
    QueueEntry& e = state->entry;
    PT_RETURN_IF_ERROR(InsertBlob(db, e));
    std::vector<bool> delivered(e.recipients.size(), false);
    state->outcomes.assign(state->deliveries.size(), DeliveryOutcome{});
    for (size_t i = 0; i < state->deliveries.size(); ++i) {
      LocalDelivery& d = state->deliveries[i];
      const auto index = static_cast<size_t>(d.recipient_index);
      if (d.recipient_index < 0 || index >= e.recipients.size()) {
        return Internal("delivery names no recipient of " + e.id);
      }
      d.queue_id = e.id;
      auto outcome = InSavepoint(db, [&] { return DeliverToInbox(db, d); });
      if (!outcome.ok()) return outcome.status();
      ErrorToFailure(*outcome, d);
      QueueRecipient& r = e.recipients[index];
      switch (outcome->kind) {
        case DeliveryOutcome::kDelivered:
          delivered[index] = true;
          break;
        case DeliveryOutcome::kDeferred:
        case DeliveryOutcome::kFailed:
          r.state = outcome->kind == DeliveryOutcome::kDeferred ? RecipientState::kPending
                                                                : RecipientState::kFailed;
          r.attempts = 1;
          r.next_attempt = d.retry_at;
          r.last_error = outcome->error;
          break;
        case DeliveryOutcome::kSkipped:
          break;  // stays pending, untried: the queue runner tries again
      }
      state->outcomes[i] = std::move(*outcome);
    }
    if (state->deliveries.empty()) return InsertQueueEntry(db, e);  // a plain enqueue
    std::vector<QueueRecipient> left;
    for (size_t i = 0; i < e.recipients.size(); ++i) {
      if (!delivered[i]) left.push_back(std::move(e.recipients[i]));
    }
    e.recipients = std::move(left);
    if (!e.recipients.empty()) PT_RETURN_IF_ERROR(InsertQueueEntry(db, e));
    return Status::Ok();
  };
  auto finish = [this, state, done = std::move(done)](Status s) {
    blobs_->Unpin(state->entry.blob);  // a no-op for inline bodies
    state->entry.inline_body.clear();
    if (!s.ok()) state->outcomes.clear();  // rolled back: nothing was delivered
    done(std::move(s), std::move(state->entry), std::move(state->outcomes));
  };
  Submit(Job{std::move(run), std::move(finish)}, may_block);
}

bool SqliteStore::ErrorToFailure(DeliveryOutcome& outcome, const LocalDelivery& item) {
  if (outcome.kind != DeliveryOutcome::kSkipped || outcome.error.empty()) return false;
  // An error inside one delivery (its savepoint rolled back) is a temporary
  // failure like any other: it counts as an attempt, waits for the next
  // retry, and becomes permanent on the last chance, so a recipient that
  // always fails neither spins nor stays queued for ever.
  // The details go to the log only: last_error ends up in bounces to
  // senders elsewhere, who have no business reading our internals.
  LOG_ERROR("delivery: {} to=<{}> failed inside the server: {}", item.queue_id, item.address,
            outcome.error);
  outcome.kind = item.last_chance ? DeliveryOutcome::kFailed : DeliveryOutcome::kDeferred;
  outcome.error = std::string(item.last_chance ? "554 5.3.0" : "451 4.3.0") +
                  " local delivery failed because of an error in the mail server";
  return true;
}

Result<DeliveryOutcome> SqliteStore::InSavepoint(
    Database& db, const std::function<Result<DeliveryOutcome>()>& deliver) {
  PT_RETURN_IF_ERROR(db.Run("SAVEPOINT item"));
  auto r = deliver();
  // If SQLite rolled the whole transaction back, this is not a skipped item
  // but a failed job: say so, and let the writer handle it.
  if (!db.InTransaction()) return r.ok() ? Unavailable("transaction rolled back") : r.status();
  DeliveryOutcome out;
  if (!r.ok()) {
    PT_RETURN_IF_ERROR(db.Run("ROLLBACK TO item"));
    out.kind = DeliveryOutcome::kSkipped;
    out.error = r.status().ToString();
  } else {
    out = std::move(*r);
  }
  PT_RETURN_IF_ERROR(db.Run("RELEASE item"));
  return out;
}

Result<std::vector<QueueEntry>> SqliteStore::LoadEntries(Database& db,
                                                         const std::vector<std::string>& ids,
                                                         const char* recipient_sql) {
  std::vector<QueueEntry> out;
  for (const auto& id : ids) {
    PT_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT " ENTRY_COLUMNS " FROM queue WHERE id = ?"));
    q.BindAll(id);
    if (!q.Step()) {
      PT_RETURN_IF_ERROR(q.status());
      continue;
    }
    QueueEntry e = ReadEntry(q);
    PT_ASSIGN_OR_RETURN(auto r, db.Prepare(recipient_sql));
    r.BindAll(id);
    while (r.Step()) e.recipients.push_back(ReadRecipient(r));
    PT_RETURN_IF_ERROR(r.status());
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<QueueEntry>> SqliteStore::LoadMatching(
    const char* id_sql, const std::function<void(Statement&)>& bind, const char* recipient_sql) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  // One snapshot for the ids and their rows; the transaction always ends, so
  // the connection goes back to the pool without pinning the WAL.
  PT_RETURN_IF_ERROR(db->Run("BEGIN"));
  auto load = [&]() -> Result<std::vector<QueueEntry>> {
    PT_ASSIGN_OR_RETURN(auto q, db->Prepare(id_sql));
    bind(q);
    std::vector<std::string> ids;
    while (q.Step()) ids.push_back(q.Text(0));
    PT_RETURN_IF_ERROR(q.status());
    return LoadEntries(*db, ids, recipient_sql);
  };
  Result<std::vector<QueueEntry>> out = load();
  if (db->InTransaction()) (void)db->Run("COMMIT");
  return out;
}

Result<std::vector<QueueEntry>> SqliteStore::ListQueue() {
  return LoadMatching(
      "SELECT id FROM queue ORDER BY created, id", [](Statement&) {}, kAllRecipients);
}

Result<std::optional<QueueEntry>> SqliteStore::GetQueueEntry(const std::string& id) {
  PT_ASSIGN_OR_RETURN(auto entries, LoadMatching(
                                        "SELECT id FROM queue WHERE id = ?",
                                        [&](Statement& q) { q.BindAll(id); }, kAllRecipients));
  if (entries.empty()) return std::optional<QueueEntry>();
  return std::optional<QueueEntry>(std::move(entries.front()));
}

Status SqliteStore::DeleteQueueEntry(Database& db, const std::string& id, WriteEffects& effects) {
  PT_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT blob FROM queue WHERE id = ?"));
  q.BindAll(id);
  if (!q.Step()) {
    PT_RETURN_IF_ERROR(q.status());
    return NotFound(NoSuchEntry(id));
  }
  std::string blob = q.Text(0);
  q.Reset();
  PT_ASSIGN_OR_RETURN(auto dr, db.Prepare("DELETE FROM queue_recipients WHERE queue_id = ?"));
  PT_RETURN_IF_ERROR(dr.BindAll(id).Run());
  PT_ASSIGN_OR_RETURN(auto dq, db.Prepare("DELETE FROM queue WHERE id = ?"));
  PT_RETURN_IF_ERROR(dq.BindAll(id).Run());
  return ReleaseBlob(db, blob, effects);
}

// Removes the entry (and releases its blob) once no recipient is pending or
// waiting for its bounce.
Status SqliteStore::RemoveIfFinished(Database& db, const std::string& id, WriteEffects& effects) {
  PT_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT COUNT(*) FROM queue_recipients WHERE "
                                         "queue_id = ? AND state IN (0, 2)"));
  q.BindAll(id);
  if (!q.Step()) return q.status();
  int64_t open = q.Int(0);
  q.Reset();
  if (open > 0) return Status::Ok();
  Status s = DeleteQueueEntry(db, id, effects);
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

Status SqliteStore::RemoveQueueEntry(const std::string& id) {
  return Write(
      [&](Database& db, WriteEffects& effects) { return DeleteQueueEntry(db, id, effects); });
}

Result<int64_t> SqliteStore::FlushQueue() {
  int64_t n = 0;
  PT_RETURN_IF_ERROR(Write([&](Database& db, WriteEffects&) -> Status {
    PT_ASSIGN_OR_RETURN(auto q, db.Prepare("UPDATE queue_recipients SET next_attempt = 0 WHERE "
                                           "state = 0"));
    PT_RETURN_IF_ERROR(q.Run());
    n = db.Changes();
    return Status::Ok();
  }));
  return n;
}

Result<std::vector<QueueEntry>> SqliteStore::LoadDueLocal(int64_t now, bool include_untried,
                                                          int limit) {
  auto bind = [&](Statement& q) { q.BindAll(now, limit); };
  // Held entries are left alone (a held entry is rare: the check is per
  // recipient found, through the queue's primary key).
  if (!include_untried) {
    return LoadMatching(
        "SELECT DISTINCT queue_id FROM queue_recipients WHERE state = 0 AND "
        "local = 1 AND next_attempt <= ? AND " NOT_HELD " LIMIT ?",
        bind, kPendingLocalRecipients);
  }
  return LoadMatching(
      "SELECT queue_id FROM queue_recipients WHERE state = 0 AND local = 1 AND "
      "next_attempt <= ?1 AND " NOT_HELD
      " UNION SELECT queue_id FROM queue_recipients WHERE "
      "state = 0 AND local = 1 AND attempts = 0 AND " NOT_HELD " LIMIT ?2",
      bind, kPendingLocalRecipients);
}

Result<std::vector<QueueEntry>> SqliteStore::LoadFailed(int limit) {
  return LoadMatching(
      "SELECT DISTINCT queue_id FROM queue_recipients WHERE state = 2 LIMIT ?",
      [&](Statement& q) { q.BindAll(limit); }, kFailedRecipients);
}

Result<std::optional<int64_t>> SqliteStore::NextLocalAttempt() {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  PT_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT next_attempt FROM queue_recipients WHERE "
                                          "state = 0 AND local = 1 AND " NOT_HELD
                                          " ORDER BY next_attempt LIMIT 1"));
  return EarliestOf(q);
}

Result<std::vector<DeliveryOutcome>> SqliteStore::DeliverLocal(
    const std::vector<LocalDelivery>& batch) {
  std::vector<DeliveryOutcome> outcomes(batch.size());
  PT_RETURN_IF_ERROR(Write([&](Database& db, WriteEffects& effects) -> Status {
    std::set<std::string> touched;
    for (size_t i = 0; i < batch.size(); ++i) {
      const LocalDelivery& d = batch[i];
      PT_ASSIGN_OR_RETURN(outcomes[i], InSavepoint(db, [&] { return DeliverOne(db, d); }));
      if (ErrorToFailure(outcomes[i], d)) {
        // The savepoint undid the claim too: count the attempt here.
        PT_ASSIGN_OR_RETURN(auto upd, db.Prepare("UPDATE queue_recipients SET state = ?, "
                                                 "attempts = attempts + 1, next_attempt = ?, "
                                                 "last_error = ? WHERE id = ? AND state = 0"));
        const int state = outcomes[i].kind == DeliveryOutcome::kFailed ? 2 : 0;
        PT_RETURN_IF_ERROR(upd.BindAll(state, d.retry_at, outcomes[i].error, d.recipient_id).Run());
      }
      touched.insert(d.queue_id);
    }
    for (const auto& id : touched) PT_RETURN_IF_ERROR(RemoveIfFinished(db, id, effects));
    return Status::Ok();
  }));
  return outcomes;
}

Status SqliteStore::QueueNotice(const std::optional<QueueEntry>& notice, const WriteFn& then) {
  std::optional<QueueEntry> entry = notice;
  Status s = Write([&](Database& db, WriteEffects& effects) -> Status {
    if (entry) PT_RETURN_IF_ERROR(InsertQueueEntry(db, *entry));
    return then(db, effects);
  });
  if (notice) blobs_->Unpin(notice->blob);
  return s;
}

Status SqliteStore::QueueBounce(const std::optional<QueueEntry>& bounce,
                                const std::vector<int64_t>& notified) {
  return QueueNotice(bounce, [&](Database& db, WriteEffects& effects) -> Status {
    std::set<std::string> touched;
    for (int64_t id : notified) {
      PT_ASSIGN_OR_RETURN(auto q, db.Prepare("UPDATE queue_recipients SET state = 3 WHERE id = ? "
                                             "AND state = 2 RETURNING queue_id"));
      q.BindAll(id);
      while (q.Step()) touched.insert(q.Text(0));
      PT_RETURN_IF_ERROR(q.status());
    }
    for (const auto& id : touched) PT_RETURN_IF_ERROR(RemoveIfFinished(db, id, effects));
    return Status::Ok();
  });
}

Result<std::vector<QueueEntry>> SqliteStore::LoadDueRemote(int64_t now, int limit) {
  return LoadMatching(
      "SELECT DISTINCT queue_id FROM queue_recipients WHERE state = 0 AND local = 0 AND "
      "next_attempt <= ? AND " NOT_HELD " LIMIT ?",
      [&](Statement& q) { q.BindAll(now, limit); }, kPendingRemoteRecipients);
}

Result<std::optional<int64_t>> SqliteStore::NextRemoteAttempt() {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  PT_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT next_attempt FROM queue_recipients WHERE "
                                          "state = 0 AND local = 0 AND " NOT_HELD
                                          " ORDER BY next_attempt LIMIT 1"));
  return EarliestOf(q);
}

Status SqliteStore::RecordRemoteOutcomes(const std::vector<RemoteOutcome>& outcomes) {
  return Write([&](Database& db, WriteEffects& effects) {
    return RecordRemoteOutcomesIn(db, outcomes, effects);
  });
}

void SqliteStore::RecordRemoteOutcomesAsync(std::vector<RemoteOutcome> outcomes,
                                            std::function<void(Status)> done) {
  auto shared = std::make_shared<const std::vector<RemoteOutcome>>(std::move(outcomes));
  Submit(Job{[this, shared](Database& db, WriteEffects& effects) {
               return RecordRemoteOutcomesIn(db, *shared, effects);
             },
             std::move(done)},
         /*may_block=*/false);
}

Status SqliteStore::RecordRemoteOutcomesIn(Database& db, const std::vector<RemoteOutcome>& outcomes,
                                           WriteEffects& effects) {
  PT_ASSIGN_OR_RETURN(auto upd,
                      db.Prepare("UPDATE queue_recipients SET state = ?1, attempts = "
                                 "attempts + 1, next_attempt = CASE WHEN ?1 = 0 THEN ?2 ELSE "
                                 "next_attempt END, last_error = CASE WHEN ?1 = 1 THEN "
                                 "last_error ELSE ?3 END WHERE id = ?4 AND state = 0 "
                                 "RETURNING queue_id"));
  std::set<std::string> touched;
  for (const RemoteOutcome& o : outcomes) {
    const RecipientState state = o.kind == RemoteOutcome::kDelivered ? RecipientState::kDelivered
                                 : o.kind == RemoteOutcome::kFailed  ? RecipientState::kFailed
                                                                     : RecipientState::kPending;
    upd.Reset();
    upd.BindAll(static_cast<int>(state), o.next_attempt, o.error, o.recipient_id);
    while (upd.Step()) touched.insert(upd.Text(0));
    PT_RETURN_IF_ERROR(upd.status());
  }
  for (const auto& id : touched) PT_RETURN_IF_ERROR(RemoveIfFinished(db, id, effects));
  return Status::Ok();
}

Result<std::vector<QueueEntry>> SqliteStore::LoadDelayed(int64_t created_before, int limit) {
  return LoadMatching(
      "SELECT DISTINCT q.id FROM queue q JOIN queue_recipients r ON r.queue_id = q.id "
      "WHERE q.created <= ? AND q.held = 0 AND r.state = 0 AND r.warned = 0 LIMIT ?",
      [&](Statement& q) { q.BindAll(created_before, limit); }, kUnwarnedRecipients);
}

Status SqliteStore::QueueDelayNotice(const std::optional<QueueEntry>& notice,
                                     const std::vector<int64_t>& warned) {
  return QueueNotice(notice, [&](Database& db, WriteEffects&) -> Status {
    PT_ASSIGN_OR_RETURN(auto q, db.Prepare("UPDATE queue_recipients SET warned = 1 WHERE id = ?"));
    for (int64_t id : warned) {
      q.Reset();
      PT_RETURN_IF_ERROR(q.BindAll(id).Run());
    }
    return Status::Ok();
  });
}

Result<int64_t> SqliteStore::UpdateQueueEntry(const std::string& id, const char* sql,
                                              const std::function<void(Statement&)>& bind) {
  int64_t n = 0;
  PT_RETURN_IF_ERROR(Write([&](Database& db, WriteEffects&) -> Status {
    PT_ASSIGN_OR_RETURN(auto known, db.Prepare("SELECT 1 FROM queue WHERE id = ?"));
    known.BindAll(id);
    if (!known.Step()) {
      PT_RETURN_IF_ERROR(known.status());
      return NotFound(NoSuchEntry(id));
    }
    known.Reset();
    PT_ASSIGN_OR_RETURN(auto q, db.Prepare(sql));
    bind(q);
    PT_RETURN_IF_ERROR(q.Run());
    n = db.Changes();
    return Status::Ok();
  }));
  return n;
}

Status SqliteStore::HoldQueueEntry(const std::string& id, bool held) {
  return UpdateQueueEntry(id, "UPDATE queue SET held = ? WHERE id = ?",
                          [&](Statement& q) { q.BindAll(held, id); })
      .status();
}

Result<int64_t> SqliteStore::RetryQueueEntry(const std::string& id) {
  const int64_t now = Now();
  return UpdateQueueEntry(
      id, "UPDATE queue_recipients SET next_attempt = ? WHERE queue_id = ? AND state = 0",
      [&](Statement& q) { q.BindAll(now, id); });
}

Result<int64_t> SqliteStore::BounceQueueEntry(const std::string& id, const std::string& error) {
  return UpdateQueueEntry(
      id, "UPDATE queue_recipients SET state = 2, last_error = ? WHERE queue_id = ? AND state = 0",
      [&](Statement& q) { q.BindAll(error, id); });
}

}  // namespace postern::store
