// SqliteStore: the embedded Store backend. One SQLite database in WAL mode
// plus a FileBlobStore. One writer thread applies write jobs in batches: each
// job runs in its own SAVEPOINT inside one transaction per batch, so many
// sessions share one fsync (group commit) and a failing job does not undo the
// others. Reads use a pool of connections. Private to store/.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "store/parse_cache.h"
#include "store/sqlite.h"
#include "store/store.h"

namespace postern::store {

// The columns MailboxFromRow reads, in order.
#define POSTERN_MAILBOX_COLUMNS                                                               \
  "id, account_id, name, role, uidvalidity, uidnext, highestmodseq, messages, unseen, size, " \
  "subscribed, object_id"

// The columns MessageFromRow reads, in order (prefixed with "m." by callers
// that join).
#define POSTERN_MESSAGE_COLUMNS \
  "id, mailbox_id, uid, modseq, flags, keywords, internal_date, size, blob, saved, email_id"

// What a write job may ask for after its transaction commits.
struct WriteEffects {
  std::vector<std::string> unreferenced_blobs;  // rows removed: unlink the files
  std::vector<std::string> stale_parses;        // parses changed or deleted: ParseCache::Erase
};

using WriteFn = std::function<Status(Database&, WriteEffects&)>;

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteStoreOptions& options);
  ~SqliteStore() override;

  BlobStore& blobs() override { return *blobs_; }
  Result<Body> EncodeBody(std::string_view content) override;
  Status WriteBodyFile(const Body& body) override;
  Result<std::string> ReadBody(const std::string& hash) override;

  Result<DomainInfo> AddDomain(const std::string& name) override;
  Status RemoveDomain(const std::string& name, bool force) override;
  Result<std::vector<DomainInfo>> ListDomains() override;
  Result<AccountInfo> AddAccount(const std::string& address, const StoredPassword& password,
                                 uint64_t quota_bytes, uint64_t quota_messages) override;
  Status RemoveAccount(const std::string& address) override;
  Result<std::vector<AccountInfo>> ListAccounts(const std::string& domain) override;
  Status SetPassword(const std::string& address, const StoredPassword& password) override;
  Status AddAppPassword(const std::string& address, const std::string& name,
                        const std::string& hash) override;
  Result<std::vector<AppPasswordInfo>> ListAppPasswords(const std::string& address) override;
  Status RemoveAppPassword(const std::string& address, const std::string& name) override;
  Result<std::optional<std::string>> FindAppPassword(int64_t account_id,
                                                     const std::string& hash) override;
  Status SetScramSecrets(const std::string& address, const std::string& password_hash,
                         const std::string& scram_sha256) override;
  Status SetQuota(const std::string& address, uint64_t quota_bytes,
                  uint64_t quota_messages) override;
  Status AddAlias(const std::string& source, const std::vector<std::string>& targets) override;
  Status AddAliases(const std::vector<AliasInfo>& aliases) override;
  Status RemoveAlias(const std::string& source, const std::string& target) override;
  Result<std::vector<AliasInfo>> ListAliases(const std::string& domain) override;

  Result<bool> IsLocalDomain(const std::string& domain) override;
  Result<std::optional<AccountInfo>> FindAccount(const std::string& address) override;
  Result<std::vector<std::string>> FindAliasTargets(const std::string& source) override;
  Result<std::unique_ptr<directory::DirectoryLookup>> DirectoryView() override;

  Result<std::vector<MailboxInfo>> ListMailboxes(int64_t account_id) override;
  Result<std::optional<MessageInfo>> FindMessage(int64_t account_id, const std::string& mailbox,
                                                 uint32_t uid) override;
  Result<std::string> ReadMessage(const MessageInfo& message) override;
  Result<std::optional<MailboxInfo>> GetMailbox(int64_t account_id,
                                                const std::string& name) override;
  Result<MailboxInfo> GetMailboxById(int64_t mailbox_id) override;
  Result<std::vector<MessageInfo>> ListMessages(int64_t mailbox_id,
                                                uint64_t changed_since) override;
  Result<std::vector<uint32_t>> ExpungedSince(int64_t mailbox_id, uint64_t since) override;
  Result<std::string> ReadMessageById(int64_t message_id) override;
  Result<FlagChangeResult> ChangeFlags(int64_t mailbox_id, const std::vector<uint32_t>& uids,
                                       const FlagChange& change) override;
  Result<ExpungeResult> Expunge(int64_t mailbox_id,
                                const std::optional<std::vector<uint32_t>>& uids) override;
  Result<CopyResult> CopyMessages(int64_t from_mailbox, const std::vector<uint32_t>& uids,
                                  int64_t to_mailbox, bool move) override;
  Result<AppendResult> Append(int64_t mailbox_id, const Body& body,
                              const AppendOptions& options) override;
  Result<std::vector<AppendResult>> AppendMessages(
      int64_t mailbox_id, const std::vector<NewMessage>& messages) override;
  Result<MailboxInfo> CreateMailbox(int64_t account_id, const std::string& name,
                                    const std::string& role) override;
  Status DeleteMailbox(int64_t account_id, const std::string& name) override;
  Status RenameMailbox(int64_t account_id, const std::string& from, const std::string& to) override;
  Status SetSubscribed(int64_t account_id, const std::string& name, bool subscribed) override;
  Result<std::optional<MessageParse>> ReadParse(const std::string& hash) override;
  Status SaveParse(const std::string& hash, const MessageParse& parse) override;
  Result<std::vector<std::optional<MessageParse>>> ReadParses(
      const std::vector<std::string>& hashes) override;
  Status SaveParses(const std::vector<std::pair<std::string, MessageParse>>& parses) override;
  Result<std::vector<std::optional<StoredHeader>>> ReadHeaders(
      const std::vector<int64_t>& message_ids) override;
  Result<TextSearchResult> SearchText(int64_t mailbox_id, TextField field,
                                      std::string_view folded_needle) override;
  Status SaveTexts(const std::vector<std::pair<std::string, MessageText>>& texts) override;

  Status Enqueue(const QueueEntry& entry) override;
  void AcceptAsync(QueueEntry entry, std::vector<LocalDelivery> deliver_now, AcceptDone done,
                   bool may_block = false) override;
  Result<std::vector<QueueEntry>> ListQueue() override;
  Result<std::optional<QueueEntry>> GetQueueEntry(const std::string& id) override;
  Status RemoveQueueEntry(const std::string& id) override;
  Result<int64_t> FlushQueue() override;
  Result<std::vector<QueueEntry>> LoadDueLocal(int64_t now, bool include_untried,
                                               int limit) override;
  Result<std::vector<QueueEntry>> LoadFailed(int limit) override;
  Result<std::optional<int64_t>> NextLocalAttempt() override;
  Result<std::vector<DeliveryOutcome>> DeliverLocal(
      const std::vector<LocalDelivery>& batch) override;
  Status QueueBounce(const std::optional<QueueEntry>& bounce,
                     const std::vector<int64_t>& notified_recipient_ids) override;
  Result<std::vector<QueueEntry>> LoadDueRemote(int64_t now, int limit) override;
  Result<std::optional<int64_t>> NextRemoteAttempt() override;
  Status RecordRemoteOutcomes(const std::vector<RemoteOutcome>& outcomes) override;
  void RecordRemoteOutcomesAsync(std::vector<RemoteOutcome> outcomes,
                                 std::function<void(Status)> done) override;
  Result<std::vector<QueueEntry>> LoadDelayed(int64_t created_before, int limit) override;
  Status QueueDelayNotice(const std::optional<QueueEntry>& notice,
                          const std::vector<int64_t>& warned_recipient_ids) override;
  Status HoldQueueEntry(const std::string& id, bool held) override;
  Result<int64_t> RetryQueueEntry(const std::string& id) override;
  Result<int64_t> BounceQueueEntry(const std::string& id, const std::string& error) override;
  Result<std::optional<MtaStsRecord>> GetMtaStsPolicy(const std::string& domain) override;
  Status PutMtaStsPolicy(const MtaStsRecord& record) override;
  ParseCacheStats CacheStats() const override { return parse_cache_.stats(); }
  Result<StoreStats> Stats() override;
  Result<int64_t> CollectGarbage(int64_t min_age_seconds) override;

  // Queues a raw write job (store internals and tests). `done` runs on the
  // writer thread once the job's transaction committed or failed.
  void SubmitWrite(WriteFn fn, std::function<void(Status)> done) {
    Submit(Job{std::move(fn), std::move(done)});
  }

 private:
  // A read connection borrowed from the pool; returned on destruction.
  class View;
  // The directory lookups on a given connection.
  static Result<bool> IsLocalDomainIn(Database& db, const std::string& domain);
  static Result<std::optional<AccountInfo>> FindAccountIn(Database& db, const std::string& address);
  static Result<std::vector<std::string>> FindAliasTargetsIn(Database& db,
                                                             const std::string& source);

  class ReadLease {
   public:
    ReadLease(SqliteStore* store, std::unique_ptr<Database> db)
        : store_(store), db_(std::move(db)) {}
    ReadLease(ReadLease&&) = default;
    ~ReadLease();
    Database& operator*() { return *db_; }
    Database* operator->() { return db_.get(); }

   private:
    SqliteStore* store_;
    std::unique_ptr<Database> db_;
  };

  struct Job {
    WriteFn run;
    std::function<void(Status)> done;
  };

  SqliteStore(const SqliteStoreOptions& options, std::unique_ptr<FileBlobStore> blobs,
              std::unique_ptr<Database> writer_db);

  int64_t Now() const { return clock_->NowUnix(); }
  Result<ReadLease> Read();
  // Submits a job and waits for its commit.
  Status Write(WriteFn fn);
  // Queues `job` for the writer thread; with `may_block`, runs it right here
  // instead when the writer is idle and nothing is queued.
  void Submit(Job job, bool may_block = false);
  void WriterLoop();
  struct Outcomes {
    std::vector<Status> results;
    std::vector<WriteEffects> effects;
  };
  // Runs one batch on the writer connection (the caller owns it through
  // writer_busy_); Complete then tells the jobs, once the connection is free.
  Outcomes RunJobs(std::vector<Job>& batch);
  void Complete(std::vector<Job>& batch, Outcomes& outcomes);
  void RunBatch(Database& db, std::vector<Job>& batch, std::vector<Status>& results,
                std::vector<WriteEffects>& effects);
  // WAL checkpoints run on their own thread and connection (PASSIVE: they
  // never block the writer), started when the WAL passes kCheckpointFrames.
  void CheckpointLoop();
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int frames);

  // Helpers used inside write jobs (they run on the writer thread).
  Status CreateMailboxes(Database& db, int64_t account_id);
  Status InsertAlias(Database& db, const std::string& source,
                     const std::vector<std::string>& targets);
  Status DeleteAccountData(Database& db, int64_t account_id, WriteEffects& effects);
  Status ReleaseBlob(Database& db, const std::string& hash, WriteEffects& effects);
  Status RecordRemoteOutcomesIn(Database& db, const std::vector<RemoteOutcome>& outcomes,
                                WriteEffects& effects);
  Status DeleteQueueEntry(Database& db, const std::string& id, WriteEffects& effects);
  Status RemoveIfFinished(Database& db, const std::string& id, WriteEffects& effects);
  // One write transaction: `notice` queued (if any), then `then`; the
  // notice's blob is unpinned afterwards (QueueBounce, QueueDelayNotice).
  Status QueueNotice(const std::optional<QueueEntry>& notice, const WriteFn& then);
  // Runs `sql` (bound by `bind`) if queue entry `id` exists, else NotFound;
  // returns the rows it changed (the queue administration methods).
  Result<int64_t> UpdateQueueEntry(const std::string& id, const char* sql,
                                   const std::function<void(Statement&)>& bind);
  Status InsertQueueEntry(Database& db, QueueEntry& entry);  // fills recipient ids
  // The blob row of a new body (inline data included), or nothing if it exists.
  Status InsertBlob(Database& db, const QueueEntry& entry);
  Status InsertBlob(Database& db, const std::string& hash, uint64_t size, uint64_t stored_size,
                    std::string_view inline_body, const std::optional<MessageParse>& parse);
  Result<int64_t> InsertParse(Database& db, const MessageParse& parse);
  Status SaveParseIn(Database& db, const std::string& hash, const MessageParse& parse,
                     WriteEffects& effects);
  // The full-text index row of a body (sqlite_store_text.cc), in a savepoint
  // of its own: if it fails, that is logged and the body stays unindexed
  // (nullopt) rather than failing the delivery; a search indexes it later.
  // An error only when SQLite has rolled the whole transaction back.
  Result<std::optional<int64_t>> TryInsertText(Database& db, const std::string& hash,
                                               const MessageText& text);
  // Indexes `text` for the body `hash` if it has no index row yet.
  Status IndexIfMissing(Database& db, const std::string& hash, const MessageText& text);
  // Mail access helpers (sqlite_store_access.cc). A row of
  // "SELECT " POSTERN_MAILBOX_COLUMNS " FROM mailboxes".
  static MailboxInfo MailboxFromRow(Statement& q);
  // A row of "SELECT " POSTERN_MESSAGE_COLUMNS " FROM messages" (no header
  // prefix).
  static MessageInfo MessageFromRow(Statement& q);
  static Result<MailboxInfo> MailboxById(Database& db, int64_t mailbox_id);
  static Result<uint64_t> BumpModseq(Database& db, int64_t account_id);
  static Status LogChange(Database& db, int64_t account_id, int64_t mailbox_id, uint64_t modseq,
                          uint32_t uid, int kind);
  Status RemoveMessages(Database& db, const MailboxInfo& mailbox,
                        const std::vector<std::pair<int64_t, uint32_t>>& rows, uint64_t modseq,
                        WriteEffects& effects);
  Result<std::vector<QueueEntry>> LoadEntries(Database& db, const std::vector<std::string>& ids,
                                              const char* recipient_filter_sql);
  // Queue entries whose ids `id_sql` selects, read in one transaction.
  Result<std::vector<QueueEntry>> LoadMatching(const char* id_sql,
                                               const std::function<void(Statement&)>& bind,
                                               const char* recipient_sql);
  // A UIDVALIDITY for a new mailbox: now, and above every one in use.
  Result<int64_t> NextUidValidity(Database& db);
  Result<DeliveryOutcome> DeliverOne(Database& db, const LocalDelivery& item);
  Result<DeliveryOutcome> DeliverToInbox(Database& db, const LocalDelivery& item);
  // `deliver` in its own savepoint: an error skips the item, not the batch.
  Result<DeliveryOutcome> InSavepoint(Database& db,
                                      const std::function<Result<DeliveryOutcome>()>& deliver);
  // Turns an item skipped by an error into a deferral (or, on its last
  // chance, a failure) with a status-coded message. True if it did.
  static bool ErrorToFailure(DeliveryOutcome& outcome, const LocalDelivery& item);
  Result<std::string> ReadBodyWith(Database& db, const std::string& hash);

  SqliteStoreOptions options_;
  const Clock* clock_;
  std::string db_path_;
  std::unique_ptr<FileBlobStore> blobs_;
  ParseCache parse_cache_;

  std::mutex read_mu_;
  std::vector<std::unique_ptr<Database>> read_pool_;

  std::unique_ptr<Database> writer_db_;
  std::mutex write_mu_;
  std::condition_variable write_cv_;
  std::deque<Job> jobs_;
  bool writer_busy_ = false;  // a thread is using writer_db_
  bool stopping_ = false;
  std::thread writer_;

  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool checkpoint_stop_ = false;
  std::thread checkpointer_;
};

}  // namespace postern::store
