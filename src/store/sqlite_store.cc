// SqliteStore core: opening, the read pool and the group-commit writer.
#include "store/sqlite_store.h"

#include <pthread.h>

#include <filesystem>
#include <future>

#include "base/log.h"
#include "store/schema.h"

namespace postern::store {

namespace {
constexpr size_t kMaxJobsPerBatch = 512;
constexpr int kCheckpointFrames = 4000;  // about 16 MB of WAL
}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteStoreOptions& options) {
  PT_ASSIGN_OR_RETURN(auto store, SqliteStore::Open(options));
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteStoreOptions& options) {
  namespace fs = std::filesystem;
  std::string db_path = options.data_dir + "/postern.db";
  std::error_code ec;
  if (!fs::exists(db_path, ec)) {
    if (!options.create) {
      return NotFound("no store at " + options.data_dir +
                      ": check server.data_dir, or create one with `postern init`");
    }
    fs::create_directories(options.data_dir, ec);
    if (ec) return Unavailable("cannot create " + options.data_dir + ": " + ec.message());
  }
  PT_ASSIGN_OR_RETURN(auto writer_db, Database::Open(db_path, options.create));
  PT_RETURN_IF_ERROR(Migrate(*writer_db, options.data_dir + "/snapshots"));
  PT_ASSIGN_OR_RETURN(auto blobs,
                      FileBlobStore::Open(options.data_dir + "/blobs", options.compression_level,
                                          /*clear_tmp=*/options.unlink_blobs));
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(options, std::move(blobs), std::move(writer_db)));
}

SqliteStore::SqliteStore(const SqliteStoreOptions& options, std::unique_ptr<FileBlobStore> blobs,
                         std::unique_ptr<Database> writer_db)
    : options_(options),
      clock_(options.clock ? options.clock : &Clock::Real()),
      db_path_(options.data_dir + "/postern.db"),
      blobs_(std::move(blobs)),
      parse_cache_(options.parse_cache_bytes),
      writer_db_(std::move(writer_db)) {
  // The hook replaces SQLite's automatic checkpoint on the committing thread.
  sqlite3_wal_hook(writer_db_->raw(), &SqliteStore::OnWalCommit, this);
  (void)writer_db_->Exec("PRAGMA journal_size_limit = 67108864");
  writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "store-writer");
    WriterLoop();
  });
  checkpointer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "store-checkpt");
    CheckpointLoop();
  });
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(write_mu_);
    stopping_ = true;
  }
  write_cv_.notify_all();
  writer_.join();
  {
    std::lock_guard lock(checkpoint_mu_);
    checkpoint_stop_ = true;
  }
  checkpoint_cv_.notify_all();
  checkpointer_.join();
}

int SqliteStore::OnWalCommit(void* self, sqlite3*, const char*, int frames) {
  if (frames >= kCheckpointFrames) {
    auto* store = static_cast<SqliteStore*>(self);
    std::lock_guard lock(store->checkpoint_mu_);
    store->checkpoint_wanted_ = true;
    store->checkpoint_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteStore::CheckpointLoop() {
  std::unique_ptr<Database> db;
  while (true) {
    {
      std::unique_lock lock(checkpoint_mu_);
      checkpoint_cv_.wait(lock, [this] { return checkpoint_wanted_ || checkpoint_stop_; });
      if (checkpoint_stop_) return;
      checkpoint_wanted_ = false;
    }
    if (!db) {
      auto opened = Database::Open(db_path_, false);
      if (!opened.ok()) {
        LOG_WARN("store: no checkpoint connection: {}", opened.status().ToString());
        continue;
      }
      db = std::move(*opened);
    }
    int rc =
        sqlite3_wal_checkpoint_v2(db->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      LOG_WARN("store: checkpoint failed: {}", SqliteError(db->raw(), rc, "checkpoint").ToString());
    }
  }
}

SqliteStore::ReadLease::~ReadLease() {
  if (!db_) return;
  std::lock_guard lock(store_->read_mu_);
  store_->read_pool_.push_back(std::move(db_));
}

namespace {
thread_local bool no_wait = false;
}  // namespace

ScopedNoWait::ScopedNoWait() : previous_(no_wait) { no_wait = true; }
ScopedNoWait::~ScopedNoWait() { no_wait = previous_; }
bool ScopedNoWait::active() { return no_wait; }

Result<SqliteStore::ReadLease> SqliteStore::Read() {
  std::unique_ptr<Database> db;
  {
    std::lock_guard lock(read_mu_);
    if (!read_pool_.empty()) {
      db = std::move(read_pool_.back());
      read_pool_.pop_back();
    }
  }
  if (!db) {
    if (no_wait) return Unavailable("no idle read connection");  // opening one may wait
    PT_ASSIGN_OR_RETURN(db, Database::Open(db_path_, false));
  }
  sqlite3_busy_timeout(db->raw(), no_wait ? 0 : 10000);
  return ReadLease(this, std::move(db));
}

void SqliteStore::Submit(Job job, bool may_block) {
  std::unique_lock lock(write_mu_);
  if (stopping_) {
    lock.unlock();
    job.done(Unavailable("the store is shutting down"));
    return;
  }
  if (!may_block || writer_busy_ || !jobs_.empty()) {
    jobs_.push_back(std::move(job));
    write_cv_.notify_one();
    return;
  }
  // The writer is idle: commit here rather than wake it and wait to be woken.
  writer_busy_ = true;
  lock.unlock();
  std::vector<Job> batch;
  batch.push_back(std::move(job));
  Outcomes outcomes = RunJobs(batch);
  lock.lock();
  writer_busy_ = false;
  write_cv_.notify_one();  // jobs queued meanwhile, or a stop waiting for us
  lock.unlock();
  Complete(batch, outcomes);
}

Status SqliteStore::Write(WriteFn fn) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  Submit(Job{std::move(fn), [&promise](Status s) { promise.set_value(std::move(s)); }});
  return future.get();
}

void SqliteStore::WriterLoop() {
  while (true) {
    std::vector<Job> batch;
    {
      std::unique_lock lock(write_mu_);
      write_cv_.wait(lock, [this] { return !writer_busy_ && (stopping_ || !jobs_.empty()); });
      if (jobs_.empty()) return;  // stopping and drained
      while (!jobs_.empty() && batch.size() < kMaxJobsPerBatch) {
        batch.push_back(std::move(jobs_.front()));
        jobs_.pop_front();
      }
      writer_busy_ = true;
    }
    Outcomes outcomes = RunJobs(batch);
    {
      // Free before the jobs hear of it: whoever a job's completion wakes
      // finds the writer idle.
      std::lock_guard lock(write_mu_);
      writer_busy_ = false;
    }
    Complete(batch, outcomes);
  }
}

SqliteStore::Outcomes SqliteStore::RunJobs(std::vector<Job>& batch) {
  Outcomes out;
  out.results.resize(batch.size());
  out.effects.resize(batch.size());
  RunBatch(*writer_db_, batch, out.results, out.effects);
  return out;
}

void SqliteStore::Complete(std::vector<Job>& batch, Outcomes& outcomes) {
  for (size_t i = 0; i < batch.size(); ++i) {
    // Committed or not, forgetting a cached parse is always safe.
    for (const auto& hash : outcomes.effects[i].stale_parses) parse_cache_.Erase(hash);
    if (outcomes.results[i].ok() && options_.unlink_blobs) {
      for (const auto& hash : outcomes.effects[i].unreferenced_blobs) {
        if (Status s = blobs_->Remove(hash); !s.ok()) {
          LOG_WARN("store: {}", s.ToString());
        }
      }
    }
    batch[i].done(std::move(outcomes.results[i]));
  }
}

// Runs the jobs of a batch in as few transactions as possible, one SAVEPOINT
// per job (none for a job alone in its transaction). SQLite may roll a whole transaction back on
// its own (disk full, an I/O error): then no job of that transaction happened, whatever it
// returned, and the remaining jobs get a new transaction. A job is reported OK only if the COMMIT
// that made it durable succeeded.
void SqliteStore::RunBatch(Database& db, std::vector<Job>& batch, std::vector<Status>& results,
                           std::vector<WriteEffects>& effects) {
  size_t next = 0;
  while (next < batch.size()) {
    const size_t first = next;
    Status txn = db.Run("BEGIN IMMEDIATE");
    if (!txn.ok()) {
      LOG_ERROR("store: cannot start a transaction: {}", txn.ToString());
      for (size_t i = first; i < batch.size(); ++i) results[i] = txn;
      return;
    }
    bool aborted = false;
    if (batch.size() - first == 1) {
      // A job alone needs no savepoint: if it fails, so does the transaction.
      Status s = batch[next].run(db, effects[next]);
      if (!s.ok()) {
        if (db.InTransaction()) (void)db.Run("ROLLBACK");
        effects[next] = WriteEffects{};
        results[next++] = std::move(s);
        continue;
      }
      results[next++] = std::move(s);
    }
    for (; next < batch.size(); ++next) {
      // Never let a SAVEPOINT start a transaction of its own.
      if (!db.InTransaction()) {
        aborted = true;
        break;
      }
      Status s = db.Run("SAVEPOINT job");
      if (s.ok()) {
        s = batch[next].run(db, effects[next]);
        if (!s.ok() && db.InTransaction()) (void)db.Run("ROLLBACK TO job");
        if (!s.ok()) effects[next] = WriteEffects{};
        if (db.InTransaction()) {
          Status r = db.Run("RELEASE job");
          if (s.ok() && !r.ok()) s = r;
        }
      }
      results[next] = std::move(s);
    }
    if (!aborted && !db.InTransaction()) aborted = true;
    if (aborted) {
      Status lost = Unavailable("the store rolled the transaction back (disk full or I/O error?)");
      LOG_ERROR("store: {} jobs lost to a rolled-back transaction", next - first);
      for (size_t i = first; i < next; ++i) {
        if (results[i].ok()) results[i] = lost;
        effects[i] = WriteEffects{};
      }
      continue;
    }
    txn = db.Run("COMMIT");
    if (!txn.ok()) {
      if (db.InTransaction()) (void)db.Run("ROLLBACK");
      LOG_ERROR("store: commit of {} jobs failed: {}", next - first, txn.ToString());
      for (size_t i = first; i < next; ++i) {
        results[i] = txn;
        effects[i] = WriteEffects{};
      }
    }
  }
}

Status SqliteStore::ReleaseBlob(Database& db, const std::string& hash, WriteEffects& effects) {
  PT_ASSIGN_OR_RETURN(auto dec, db.Prepare("UPDATE blobs SET refs = refs - 1 WHERE hash = ?"));
  PT_RETURN_IF_ERROR(dec.BindAll(hash).Run());
  PT_ASSIGN_OR_RETURN(auto refs, db.Prepare("SELECT refs FROM blobs WHERE hash = ?"));
  refs.BindAll(hash);
  if (!refs.Step()) return refs.status();
  const bool unreferenced = refs.Int(0) <= 0;
  refs.Reset();
  if (!unreferenced) return Status::Ok();
  effects.stale_parses.push_back(hash);
  PT_ASSIGN_OR_RETURN(auto parse, db.Prepare("DELETE FROM parses WHERE id = (SELECT parse_id "
                                             "FROM blobs WHERE hash = ?)"));
  PT_RETURN_IF_ERROR(parse.BindAll(hash).Run());
  PT_ASSIGN_OR_RETURN(auto text, db.Prepare("DELETE FROM message_texts WHERE rowid = (SELECT "
                                            "text_id FROM blobs WHERE hash = ?)"));
  PT_RETURN_IF_ERROR(text.BindAll(hash).Run());
  PT_ASSIGN_OR_RETURN(auto data, db.Prepare("DELETE FROM bodies WHERE id = (SELECT data_id "
                                            "FROM blobs WHERE hash = ?)"));
  PT_RETURN_IF_ERROR(data.BindAll(hash).Run());
  const bool was_inline = db.Changes() > 0;
  PT_ASSIGN_OR_RETURN(auto del, db.Prepare("DELETE FROM blobs WHERE hash = ?"));
  PT_RETURN_IF_ERROR(del.BindAll(hash).Run());
  if (!was_inline) effects.unreferenced_blobs.push_back(hash);  // a file to unlink
  return Status::Ok();
}

Result<int64_t> SqliteStore::CollectGarbage(int64_t min_age_seconds) {
  std::vector<std::string> candidates;
  PT_RETURN_IF_ERROR(blobs_->ForEach([&](const std::string& hash, int64_t age) {
    if (age >= min_age_seconds) candidates.push_back(hash);
  }));
  int64_t removed = 0;
  // Check and remove inside a write job: serialized with every commit, so a
  // blob cannot gain its first reference between the check and the unlink
  // (new blobs are pinned until their transaction has committed).
  for (size_t start = 0; start < candidates.size(); start += 1000) {
    size_t end = std::min(candidates.size(), start + 1000);
    PT_RETURN_IF_ERROR(Write([&, start, end](Database& db, WriteEffects& effects) -> Status {
      for (size_t i = start; i < end; ++i) {
        PT_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT 1 FROM blobs WHERE hash = ?"));
        q.BindAll(candidates[i]);
        bool referenced = q.Step();
        PT_RETURN_IF_ERROR(q.status());
        if (!referenced) effects.unreferenced_blobs.push_back(candidates[i]);
      }
      removed += static_cast<int64_t>(effects.unreferenced_blobs.size());
      return Status::Ok();
    }));
  }
  return removed;
}

Result<Body> SqliteStore::EncodeBody(std::string_view content) {
  PT_ASSIGN_OR_RETURN(EncodedBlob blob, EncodeBlob(content, options_.compression_level));
  Body body;
  body.ref = blob.ref;
  body.compressed = std::move(blob.compressed);
  body.in_file = body.compressed.size() > options_.inline_max;
  return body;
}

Status SqliteStore::WriteBodyFile(const Body& body) {
  return blobs_->PutEncoded(body.ref, body.compressed);
}

Result<std::string> SqliteStore::ReadBodyWith(Database& db, const std::string& hash) {
  PT_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT d.data FROM blobs b JOIN bodies d ON d.id = "
                                         "b.data_id WHERE b.hash = ?"));
  q.BindAll(hash);
  if (q.Step()) {
    std::string_view data(static_cast<const char*>(sqlite3_column_blob(q.raw(), 0)),
                          static_cast<size_t>(sqlite3_column_bytes(q.raw(), 0)));
    return DecodeBlob(data, hash);
  }
  PT_RETURN_IF_ERROR(q.status());
  return blobs_->Get(hash);
}

Result<std::string> SqliteStore::ReadBody(const std::string& hash) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  return ReadBodyWith(*db, hash);
}

Result<std::string> SqliteStore::ReadMessage(const MessageInfo& message) {
  PT_ASSIGN_OR_RETURN(std::string body, ReadBody(message.blob));
  if (message.header_prefix.empty()) return body;
  std::string out;
  out.reserve(message.header_prefix.size() + body.size());
  out += message.header_prefix;
  out += body;
  return out;
}

namespace {

constexpr const char* kReadParseSql =
    "SELECT p.envelope, p.body, p.bodystructure, p.preview FROM blobs b JOIN parses p ON p.id = "
    "b.parse_id WHERE b.hash = ?";

// One read transaction around several statements: one snapshot, and the
// WAL read lock taken once rather than once per statement.
class ReadTransaction {
 public:
  explicit ReadTransaction(Database& db) : db_(db) { open_ = db_.Run("BEGIN").ok(); }
  ~ReadTransaction() {
    if (open_) (void)db_.Run("COMMIT");
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Database& db_;
  bool open_ = false;
};

Result<std::optional<MessageParse>> StepParse(Statement& q) {
  if (!q.Step()) {
    PT_RETURN_IF_ERROR(q.status());
    return std::optional<MessageParse>();
  }
  MessageParse parse{q.Text(0), q.Text(1), q.Text(2)};
  if (!q.IsNull(3)) parse.preview = q.Text(3);
  return std::optional<MessageParse>(std::move(parse));
}

}  // namespace

Result<std::optional<MessageParse>> SqliteStore::ReadParse(const std::string& hash) {
  PT_ASSIGN_OR_RETURN(std::vector<std::optional<MessageParse>> parses, ReadParses({hash}));
  return std::move(parses[0]);
}

Result<std::vector<std::optional<MessageParse>>> SqliteStore::ReadParses(
    const std::vector<std::string>& hashes) {
  std::vector<std::optional<MessageParse>> out(hashes.size());
  std::vector<size_t> missed;
  for (size_t i = 0; i < hashes.size(); ++i) {
    out[i] = parse_cache_.Structure(hashes[i]);
    if (!out[i]) missed.push_back(i);
  }
  if (missed.empty()) return out;
  const uint64_t generation = parse_cache_.Generation();  // before the read: ParseCache
  PT_ASSIGN_OR_RETURN(auto db, Read());
  ReadTransaction transaction(*db);
  PT_ASSIGN_OR_RETURN(auto q, db->Prepare(kReadParseSql));
  for (size_t i : missed) {
    q.Reset();
    q.BindAll(hashes[i]);
    PT_ASSIGN_OR_RETURN(out[i], StepParse(q));
    if (out[i]) parse_cache_.PutStructure(hashes[i], *out[i], generation);
  }
  return out;
}

Result<std::vector<std::optional<StoredHeader>>> SqliteStore::ReadHeaders(
    const std::vector<int64_t>& message_ids) {
  std::vector<std::optional<StoredHeader>> out;
  out.reserve(message_ids.size());
  if (message_ids.empty()) return out;
  const uint64_t generation = parse_cache_.Generation();  // before the read: ParseCache
  PT_ASSIGN_OR_RETURN(auto db, Read());
  ReadTransaction transaction(*db);
  // The message row (its body and per-recipient prefix) always; the body's
  // header only when memory does not have it.
  PT_ASSIGN_OR_RETURN(auto message,
                      db->Prepare("SELECT blob, header_prefix FROM messages WHERE id = ?"));
  PT_ASSIGN_OR_RETURN(auto stored, db->Prepare("SELECT p.header FROM blobs b JOIN parses p ON "
                                               "p.id = b.parse_id WHERE b.hash = ?"));
  for (int64_t id : message_ids) {
    message.Reset();
    message.BindAll(id);
    if (!message.Step()) {
      PT_RETURN_IF_ERROR(message.status());
      out.emplace_back();
      continue;
    }
    StoredHeader header{message.Text(0), message.Text(1), std::nullopt};
    header.header = parse_cache_.Header(header.blob);
    if (!header.header) {
      stored.Reset();
      stored.BindAll(header.blob);
      if (stored.Step() && !stored.IsNull(0)) {
        header.header = stored.Text(0);
        parse_cache_.PutHeader(header.blob, *header.header, generation);
      }
      PT_RETURN_IF_ERROR(stored.status());
    }
    out.push_back(std::move(header));
  }
  return out;
}

Status SqliteStore::SaveParse(const std::string& hash, const MessageParse& parse) {
  return Write([&](Database& db, WriteEffects& effects) -> Status {
    return SaveParseIn(db, hash, parse, effects);
  });
}

Status SqliteStore::SaveParses(const std::vector<std::pair<std::string, MessageParse>>& parses) {
  if (parses.empty()) return Status::Ok();
  return Write([&](Database& db, WriteEffects& effects) -> Status {
    for (const auto& [hash, parse] : parses) {
      Status s = SaveParseIn(db, hash, parse, effects);
      // A body collected meanwhile: nothing to cache for it.
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    }
    return Status::Ok();
  });
}

Status SqliteStore::SaveParseIn(Database& db, const std::string& hash, const MessageParse& parse,
                                WriteEffects& effects) {
  PT_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT parse_id IS NULL FROM blobs WHERE hash = ?"));
  q.BindAll(hash);
  if (!q.Step()) {
    PT_RETURN_IF_ERROR(q.status());
    return NotFound("no body " + hash);
  }
  effects.stale_parses.push_back(hash);
  const bool missing = q.Int(0) != 0;
  q.Reset();
  if (parse.text) PT_RETURN_IF_ERROR(IndexIfMissing(db, hash, *parse.text));
  if (!missing) {
    if (parse.preview) {
      PT_ASSIGN_OR_RETURN(auto set, db.Prepare("UPDATE parses SET preview = ? WHERE preview IS "
                                               "NULL AND id = (SELECT parse_id FROM blobs WHERE "
                                               "hash = ?)"));
      PT_RETURN_IF_ERROR(set.BindAll(*parse.preview, hash).Run());
    }
    if (parse.header && parse.header->size() <= kMaxCachedHeader) {
      PT_ASSIGN_OR_RETURN(auto set, db.Prepare("UPDATE parses SET header = ? WHERE header IS "
                                               "NULL AND id = (SELECT parse_id FROM blobs WHERE "
                                               "hash = ?)"));
      set.BindBlob(1, *parse.header);
      set.Bind(2, hash);
      PT_RETURN_IF_ERROR(set.Run());
    }
    return Status::Ok();
  }
  PT_ASSIGN_OR_RETURN(int64_t id, InsertParse(db, parse));
  PT_ASSIGN_OR_RETURN(auto set, db.Prepare("UPDATE blobs SET parse_id = ? WHERE hash = ?"));
  return set.BindAll(id, hash).Run();
}

}  // namespace postern::store
