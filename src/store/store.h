// The store: every piece of durable state behind one interface (directory,
// mail model, message queue). SqliteStore is the embedded backend; a
// PostgreSQL backend implements the same interface later.
//
// Writes are transactions applied by one writer thread in batches (group
// commit): a write method returns only after its transaction is durable.
// Reads run on the calling thread with a pooled read connection. Every method
// is thread-safe and blocking; never call them on an I/O thread (use
// base/async.h Offload()).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "directory/directory.h"
#include "store/blob_store.h"

namespace postern::store {

// ---- directory ----

using directory::AccountInfo;
using directory::AliasInfo;
using directory::DomainInfo;
using directory::StoredPassword;

// ---- mail model ----

// Special-use roles (RFC 6154) of the mailboxes every new account gets.
// An app password as listed (the password itself is never stored).
struct AppPasswordInfo {
  std::string name;
  int64_t created = 0;
};

struct DefaultMailbox {
  const char* name;
  const char* role;
};
inline constexpr DefaultMailbox kDefaultMailboxes[] = {
    {"INBOX", "inbox"}, {"Sent", "sent"}, {"Drafts", "drafts"},
    {"Trash", "trash"}, {"Junk", "junk"}, {"Archive", "archive"},
};

enum MessageFlag : uint32_t {
  kFlagSeen = 1,
  kFlagAnswered = 2,
  kFlagFlagged = 4,
  kFlagDeleted = 8,
  kFlagDraft = 16,
};

struct MailboxInfo {
  int64_t id = 0;
  int64_t account_id = 0;
  std::string name;
  std::string role;
  uint32_t uidvalidity = 0;
  uint32_t uidnext = 1;
  uint64_t highestmodseq = 1;
  uint32_t messages = 0;
  uint32_t unseen = 0;
  uint64_t size = 0;
  bool subscribed = true;
  // RFC 8474 MAILBOXID: "F" and 24 lowercase hex digits, random, kept by a
  // rename (a renamed INBOX's messages go to a new mailbox with a new id).
  std::string object_id;
};

// The RFC 8474 EMAILID of a message as IMAP shows it: "M" and the 16
// lowercase hex digits of MessageInfo::email_id.
std::string FormatEmailId(uint64_t email_id);

struct MessageInfo {
  int64_t id = 0;
  int64_t mailbox_id = 0;
  uint32_t uid = 0;
  uint64_t modseq = 0;
  uint32_t flags = 0;
  std::string keywords;
  int64_t internal_date = 0;
  uint64_t size = 0;
  std::string blob;
  std::string header_prefix;
  int64_t saved = 0;  // when it entered its mailbox (RFC 8514 SAVEDATE), Unix seconds
  // 64 random bits naming the message's content (RFC 8474 EMAILID): new for
  // each delivery and APPEND, kept by COPY and MOVE.
  uint64_t email_id = 0;
};

// ---- message bodies ----

// A body hashed and compressed, ready for a transaction to reference. Small
// bodies are stored inline, in the same transaction (one fsync covers body
// and metadata); larger ones go to a blob file first (WriteBodyFile).
struct Body {
  BlobRef ref;
  std::string compressed;  // zstd frame
  bool in_file = false;    // too large to keep inline: needs WriteBodyFile()
};

// The searchable text of a body (message/search_text.h: decoded, case-folded,
// capped), kept in the full-text index. The store matches needles against it
// byte for byte, as substrings; callers fold needles the same way.
struct MessageText {
  std::string header;
  std::string body;
};

// What is computed once about a body when the message arrives and kept with
// it: the IMAP forms of its MIME structure (message/imap_structure.h) and
// its searchable text.
struct MessageParse {
  std::string envelope;
  std::string body;            // BODY
  std::string body_structure;  // BODYSTRUCTURE
  // For the full-text index: written with the body, never read back by
  // ReadParse. Left empty, the body is indexed when a search first needs it.
  std::optional<MessageText> text;
  // The RFC 8970 preview (message/preview.h); nullopt when not computed yet
  // (bodies parsed before previews were kept).
  std::optional<std::string> preview;
  // The body's top-level header, byte for byte (message::Message::HeaderBytes
  // of the root: the blank line that ends it included), so header FETCH
  // items, header SEARCH keys and THREAD read no body. nullopt when not kept:
  // parsed before schema 8, or longer than kMaxCachedHeader. Written with the
  // parse; read back only by ReadHeaders, never by ReadParse(s).
  std::optional<std::string> header;
};

// Headers longer than this are not cached (MessageParse::header): such a
// message's header is read from its body, as before the cache.
inline constexpr size_t kMaxCachedHeader = 256 * 1024;

// What ReadHeaders returns for one message: its header as IMAP serves it is
// `prefix` followed by `header` (when cached).
struct StoredHeader {
  std::string blob;
  std::string prefix;                 // MessageInfo::header_prefix
  std::optional<std::string> header;  // MessageParse::header; nullopt: not cached
};

// Where a full-text search looks (IMAP SEARCH BODY and TEXT).
enum class TextField {
  kBody,    // the body's text
  kText,    // the header's text or the body's
  kHeader,  // the header's text only
};

struct TextSearchResult {
  std::vector<int64_t> matching;  // message ids, ascending
  // Messages whose body is not indexed yet (stored before the index existed,
  // or its indexing failed): message id and blob hash. The caller decides
  // for these (and may index them with SaveTexts).
  std::vector<std::pair<int64_t, std::string>> unindexed;
};

// ---- mail access (IMAP, POP3, JMAP) ----

// A flag change (IMAP STORE, JMAP Email/set keywords).
struct FlagChange {
  enum Mode { kReplace, kAdd, kRemove } mode = kReplace;
  uint32_t flags = 0;                 // MessageFlag bits
  std::vector<std::string> keywords;  // as given; compared case-insensitively
  // RFC 7162 §3.1.3 UNCHANGEDSINCE: messages with a greater MODSEQ are left
  // alone and reported as modified.
  std::optional<uint64_t> unchanged_since;
};

struct FlagChangeResult {
  std::vector<MessageInfo> changed;  // uid, flags, keywords, modseq after the change
  std::vector<uint32_t> modified;    // UIDs refused by UNCHANGEDSINCE
  std::vector<uint32_t> missing;     // UIDs no longer in the mailbox
  uint64_t highestmodseq = 0;
};

struct ExpungeResult {
  std::vector<uint32_t> uids;  // ascending
  uint64_t highestmodseq = 0;
};

struct CopyResult {
  uint32_t uidvalidity = 0;           // of the destination
  std::vector<uint32_t> source_uids;  // ascending; pairs with dest_uids
  std::vector<uint32_t> dest_uids;
  uint64_t highestmodseq = 0;  // of the destination
};

struct AppendOptions {
  uint32_t flags = 0;
  std::vector<std::string> keywords;
  int64_t internal_date = 0;
  std::optional<MessageParse> parse;
};

struct AppendResult {
  uint32_t uidvalidity = 0;
  uint32_t uid = 0;
  uint64_t modseq = 0;
};

// ---- queue ----

enum class RecipientState : int {
  kPending = 0,  // to be delivered (now or at next_attempt)
  kDelivered = 1,
  kFailed = 2,          // permanently failed; the bounce is not queued yet
  kFailedNotified = 3,  // failed and the sender was told (or needs no DSN)
};

struct QueueRecipient {
  int64_t id = 0;
  std::string address;   // the final recipient after alias expansion
  std::string original;  // the RCPT TO address this came from
  std::string orcpt;     // DSN ORCPT (RFC 3461 §4.2), decoded, "type;addr"
  unsigned notify = 0;   // DSN NOTIFY bits (smtp::DsnNotify)
  bool local = true;     // delivered into a mailbox here, or relayed
  RecipientState state = RecipientState::kPending;
  int attempts = 0;
  int64_t next_attempt = 0;
  std::string last_error;
  bool warned = false;  // a delay warning (RFC 3464 Action: delayed) was sent
};

struct QueueEntry {
  std::string id;
  int64_t created = 0;
  std::string mail_from;  // "" for the null reverse-path
  std::string blob;
  uint64_t size = 0;         // content bytes of the blob
  uint64_t stored_size = 0;  // bytes on disk (compressed)
  // For a new entry whose body is stored inline: the compressed body, written
  // with the entry. Empty when the body is (already) in a blob file.
  std::string inline_body;
  // For a new entry: the body's structure, stored with the body if known.
  std::optional<MessageParse> parse;
  std::string body_type = "7BIT";
  bool smtputf8 = false;
  std::string dsn_ret;  // "", "FULL", "HDRS"
  std::string dsn_envid;
  std::string client;  // "helo [ip]"
  std::string kind = "inbound";
  // Held by the administrator (`postern queue hold`): no delivery, local or
  // remote, and no delay warning until released.
  bool held = false;
  // RFC 8689 REQUIRETLS was given on MAIL FROM: relay only over verified TLS.
  bool requiretls = false;
  std::vector<QueueRecipient> recipients;
};

// One local delivery attempt, as prepared by the delivery service.
struct LocalDelivery {
  std::string queue_id;
  int64_t recipient_id = 0;
  int recipient_index = -1;  // AcceptAsync: which recipient of the entry (ids come later)
  std::string address;       // the account's address
  std::string blob;
  uint64_t blob_size = 0;
  std::string header_prefix;  // Return-Path, Delivered-To
  int64_t internal_date = 0;
  int64_t retry_at = 0;      // next attempt if this one fails temporarily
  bool last_chance = false;  // a temporary failure now becomes permanent
  // Set when the sender asked to be told of the delivery (NOTIFY=SUCCESS):
  // what the report needs.
  struct Notice {
    std::string sender;
    std::string envid;
    std::string orcpt;
    int64_t arrival = 0;
    // RFC 3464 Action: "delivered", or "expanded" for an alias of several
    // addresses (RFC 3461 §5.2.7.3 (c); `address` is then the alias).
    std::string action = "delivered";
  };
  std::optional<Notice> success_notice;
};

struct DeliveryOutcome {
  enum Kind { kDelivered, kDeferred, kFailed, kSkipped } kind = kSkipped;
  std::string error;  // "452 4.2.2 ..." style text for kDeferred/kFailed
  int64_t account_id = 0;
  int64_t mailbox_id = 0;
  uint32_t uid = 0;
  uint64_t modseq = 0;
};

// One outbound (remote) delivery attempt's result, as recorded by
// Store::RecordRemoteOutcomes.
struct RemoteOutcome {
  int64_t recipient_id = 0;
  enum Kind { kDelivered, kDeferred, kFailed } kind = kDeferred;
  std::string error;         // the reply text ("550 5.1.1 ..."), kDeferred/kFailed
  int64_t next_attempt = 0;  // kDeferred: when to try again
};

// A cached MTA-STS policy (RFC 8461 §5): the policy text as fetched, its id
// from the _mta-sts TXT record, when it was fetched and when it expires
// (fetched + max_age), Unix seconds.
struct MtaStsRecord {
  std::string domain;  // the policy domain, lowercase A-labels
  std::string policy_id;
  std::string policy;
  int64_t fetched = 0;
  int64_t expires = 0;
};

struct StoreStats {
  int64_t domains = 0;
  int64_t accounts = 0;
  int64_t aliases = 0;
  int64_t messages = 0;       // in all mailboxes
  int64_t message_bytes = 0;  // their sizes
  int64_t blobs = 0;          // distinct stored bodies
  int64_t blob_bytes = 0;     // on disk, compressed
  int64_t queued = 0;         // queue entries
  int64_t pending_recipients = 0;
};

// The use of the store's memory of parses (store/parse_cache.h), for the
// server's status.
struct ParseCacheStats {
  uint64_t bytes = 0;
  uint64_t limit = 0;
  uint64_t entries = 0;
  uint64_t hits = 0;    // reads answered from memory
  uint64_t misses = 0;  // reads that went to the database
};

class Store : public directory::DirectoryLookup {
 public:
  ~Store() override = default;

  virtual BlobStore& blobs() = 0;

  // Message bodies. EncodeBody is CPU work only (any thread, I/O threads
  // included); WriteBodyFile blocks (file and directory fsync) and pins the
  // blob until the transaction that references it ends.
  virtual Result<Body> EncodeBody(std::string_view content) = 0;
  virtual Status WriteBodyFile(const Body& body) = 0;
  // The content of a stored body, inline or in a file.
  virtual Result<std::string> ReadBody(const std::string& hash) = 0;

  // Directory administration.
  virtual Result<DomainInfo> AddDomain(const std::string& name) = 0;
  // Refuses while accounts or aliases remain unless `force`, which removes them too.
  virtual Status RemoveDomain(const std::string& name, bool force) = 0;
  virtual Result<std::vector<DomainInfo>> ListDomains() = 0;
  // Creates the account and its default mailboxes in one transaction.
  virtual Result<AccountInfo> AddAccount(const std::string& address, const StoredPassword& password,
                                         uint64_t quota_bytes, uint64_t quota_messages) = 0;
  // Removes the account, its mailboxes and messages.
  virtual Status RemoveAccount(const std::string& address) = 0;
  virtual Result<std::vector<AccountInfo>> ListAccounts(const std::string& domain) = 0;
  // Replaces the hash and the SCRAM secrets together.
  virtual Status SetPassword(const std::string& address, const StoredPassword& password) = 0;
  // Stores SCRAM secrets for an account that has none yet, derived from a
  // password that just matched `password_hash` (the upgrade at login).
  // FailedPrecondition if the account is gone or its hash has changed since,
  // so secrets of an old password never overwrite a new one.
  virtual Status SetScramSecrets(const std::string& address, const std::string& password_hash,
                                 const std::string& scram_sha256) = 0;
  virtual Status SetQuota(const std::string& address, uint64_t quota_bytes,
                          uint64_t quota_messages) = 0;
  // App passwords of an account (directory/password.h), by name; `hash` is
  // AppPasswordHash of the password. AlreadyExists if the name is taken.
  virtual Status AddAppPassword(const std::string& address, const std::string& name,
                                const std::string& hash) = 0;
  virtual Result<std::vector<AppPasswordInfo>> ListAppPasswords(const std::string& address) = 0;
  virtual Status RemoveAppPassword(const std::string& address, const std::string& name) = 0;
  // Whether `hash` is an app password of the account; the name if it is.
  virtual Result<std::optional<std::string>> FindAppPassword(int64_t account_id,
                                                             const std::string& hash) = 0;
  virtual Status AddAlias(const std::string& source, const std::vector<std::string>& targets) = 0;
  // Many aliases in one transaction (an import): all or nothing.
  virtual Status AddAliases(const std::vector<AliasInfo>& aliases) = 0;
  // Removes one target, or every target of `source` when `target` is empty.
  virtual Status RemoveAlias(const std::string& source, const std::string& target) = 0;
  virtual Result<std::vector<AliasInfo>> ListAliases(const std::string& domain) = 0;

  // Directory lookups (DirectoryLookup) take normalized addresses and domains.
  // A view answers several lookups in a row (one alias expansion) from one
  // consistent snapshot, in one read transaction instead of one per lookup.
  // It must not outlive the store.
  virtual Result<std::unique_ptr<directory::DirectoryLookup>> DirectoryView() = 0;

  // Mail model reads.
  virtual Result<std::vector<MailboxInfo>> ListMailboxes(int64_t account_id) = 0;
  virtual Result<std::optional<MessageInfo>> FindMessage(int64_t account_id,
                                                         const std::string& mailbox,
                                                         uint32_t uid) = 0;
  // The full message: header prefix followed by the blob content.
  virtual Result<std::string> ReadMessage(const MessageInfo& message) = 0;
  // Mail access. Names are UTF-8 with "/" as the hierarchy separator;
  // "INBOX" is the inbox in any case. Mailbox ids come from these calls.
  virtual Result<std::optional<MailboxInfo>> GetMailbox(int64_t account_id,
                                                        const std::string& name) = 0;
  // kNotFound once the mailbox is gone.
  virtual Result<MailboxInfo> GetMailboxById(int64_t mailbox_id) = 0;
  // Messages of a mailbox in UID order, without their header prefix; with
  // changed_since, only those whose MODSEQ is greater (RFC 7162).
  virtual Result<std::vector<MessageInfo>> ListMessages(int64_t mailbox_id,
                                                        uint64_t changed_since = 0) = 0;
  // UIDs expunged from the mailbox after MODSEQ `since` (QRESYNC VANISHED).
  virtual Result<std::vector<uint32_t>> ExpungedSince(int64_t mailbox_id, uint64_t since) = 0;
  // Header prefix and body of one message (by MessageInfo::id).
  virtual Result<std::string> ReadMessageById(int64_t message_id) = 0;
  virtual Result<FlagChangeResult> ChangeFlags(int64_t mailbox_id,
                                               const std::vector<uint32_t>& uids,
                                               const FlagChange& change) = 0;
  // Removes the messages flagged \Deleted (all, or only those in `uids`).
  virtual Result<ExpungeResult> Expunge(int64_t mailbox_id,
                                        const std::optional<std::vector<uint32_t>>& uids) = 0;
  // Copies (or moves) messages, keeping flags and internal dates; quota is
  // checked for a copy (kResourceExhausted when it would be exceeded).
  virtual Result<CopyResult> CopyMessages(int64_t from_mailbox, const std::vector<uint32_t>& uids,
                                          int64_t to_mailbox, bool move) = 0;
  // Stores a new message (encoded with EncodeBody; a large body's file is
  // written first) into a mailbox. kResourceExhausted: over quota.
  virtual Result<AppendResult> Append(int64_t mailbox_id, const Body& body,
                                      const AppendOptions& options) = 0;
  // Stores several new messages into one mailbox in one transaction, in
  // order, with consecutive UIDs and one MODSEQ: all or none (IMAP
  // MULTIAPPEND, RFC 3502 §6.3.11). Quota is checked for the batch as a
  // whole (kResourceExhausted). Every in-file body is unpinned afterwards,
  // whatever the outcome.
  struct NewMessage {
    Body body;
    AppendOptions options;
  };
  virtual Result<std::vector<AppendResult>> AppendMessages(
      int64_t mailbox_id, const std::vector<NewMessage>& messages) = 0;
  // kAlreadyExists if the name is taken. `role` as in DefaultMailbox.
  virtual Result<MailboxInfo> CreateMailbox(int64_t account_id, const std::string& name,
                                            const std::string& role) = 0;
  // Deletes the mailbox and its messages (not its children); INBOX cannot go.
  virtual Status DeleteMailbox(int64_t account_id, const std::string& name) = 0;
  // Renames the mailbox and its children. Renaming INBOX moves its messages
  // into a new mailbox of that name and leaves INBOX empty (RFC 3501 §6.3.5).
  virtual Status RenameMailbox(int64_t account_id, const std::string& from,
                               const std::string& to) = 0;
  virtual Status SetSubscribed(int64_t account_id, const std::string& name, bool subscribed) = 0;

  // The cached structure of a body; nullopt if it was never parsed.
  virtual Result<std::optional<MessageParse>> ReadParse(const std::string& hash) = 0;
  // Caches the structure of a body that has none yet (no-op otherwise), its
  // text (parse.text) if that is not indexed yet, and its preview
  // (parse.preview) if the cached structure has none.
  virtual Status SaveParse(const std::string& hash, const MessageParse& parse) = 0;
  // ReadParse of many bodies with one statement in one read transaction; the
  // result is parallel to `hashes`.
  virtual Result<std::vector<std::optional<MessageParse>>> ReadParses(
      const std::vector<std::string>& hashes) = 0;
  // SaveParse of many bodies in one write transaction; also fills in the
  // header (parse.header) of a cached structure without one.
  virtual Status SaveParses(const std::vector<std::pair<std::string, MessageParse>>& parses) = 0;
  // The cached headers of messages (by message id), in one read transaction;
  // parallel to `message_ids`, nullopt for a message that no longer exists.
  virtual Result<std::vector<std::optional<StoredHeader>>> ReadHeaders(
      const std::vector<int64_t>& message_ids) = 0;

  // Full-text search: the messages of a mailbox whose indexed text holds
  // `folded_needle` (message::FoldCase'd by the caller) as a substring, in the
  // header or the body (kText) or the body only (kBody). The empty needle
  // matches every message. Needles of 3 characters or more are looked up in
  // the index (SQLite FTS5, trigram tokenizer); shorter ones are searched for
  // in the indexed texts one by one. kHeader looks in the header's text only
  // ("name: value" lines, message/search_text.h).
  virtual Result<TextSearchResult> SearchText(int64_t mailbox_id, TextField field,
                                              std::string_view folded_needle) = 0;
  // Indexes the texts of bodies (blob hash, text) in one transaction; bodies
  // already indexed or gone are skipped.
  virtual Status SaveTexts(const std::vector<std::pair<std::string, MessageText>>& texts) = 0;

  // Queue. Enqueue() takes over the caller's pin on the blob (it is released
  // when the transaction ends, committed or not).
  virtual Status Enqueue(const QueueEntry& entry) = 0;
  // Accepts a message in one transaction, without blocking: the entry is
  // stored, then every delivery in `deliver_now` is applied as DeliverLocal
  // would (its recipient_index names the entry's recipient), and the entry is
  // removed again if nothing is left to do. `done` runs on the writer thread
  // once the transaction is durable (or failed), with the entry as stored
  // (recipient ids filled in) and one outcome per delivery; it must be quick.
  // With `may_block`, the caller lets the store run the transaction on the
  // caller's thread when the writer is idle (no hand-off to the writer and
  // back: the latency of a lone message); `done` then runs before
  // AcceptAsync returns. Callers that serve others meanwhile pass false.
  using AcceptDone = std::function<void(Status, QueueEntry, std::vector<DeliveryOutcome>)>;
  virtual void AcceptAsync(QueueEntry entry, std::vector<LocalDelivery> deliver_now,
                           AcceptDone done, bool may_block = false) = 0;
  virtual Result<std::vector<QueueEntry>> ListQueue() = 0;
  virtual Result<std::optional<QueueEntry>> GetQueueEntry(const std::string& id) = 0;
  virtual Status RemoveQueueEntry(const std::string& id) = 0;
  // Makes every pending recipient (local or remote) due now, held entries
  // included (they stay held). Returns how many.
  virtual Result<int64_t> FlushQueue() = 0;
  // Entries not held with pending local recipients due at `now` (and, with
  // `include_untried`, those never attempted: acknowledged before a crash or
  // restart), at most `limit` entries; each lists only those recipients.
  virtual Result<std::vector<QueueEntry>> LoadDueLocal(int64_t now, bool include_untried,
                                                       int limit) = 0;
  // Entries with recipients in state kFailed (bounce not yet queued).
  virtual Result<std::vector<QueueEntry>> LoadFailed(int limit) = 0;
  // The earliest next_attempt of any pending local recipient, if any.
  virtual Result<std::optional<int64_t>> NextLocalAttempt() = 0;

  // Delivers a batch in one transaction. Each item is applied only if its
  // recipient is still pending; quota is checked inside the transaction.
  // Queue entries left with no pending or failed recipients are removed.
  virtual Result<std::vector<DeliveryOutcome>> DeliverLocal(
      const std::vector<LocalDelivery>& batch) = 0;

  // Queues `bounce` (may have no recipients when none is needed) and marks
  // the given failed recipients as notified, in one transaction.
  virtual Status QueueBounce(const std::optional<QueueEntry>& bounce,
                             const std::vector<int64_t>& notified_recipient_ids) = 0;

  // Outbound delivery (remote recipients, local = 0).
  // Entries not held with pending remote recipients due at `now`, at most
  // `limit`; each lists only those recipients (like LoadDueLocal).
  virtual Result<std::vector<QueueEntry>> LoadDueRemote(int64_t now, int limit) = 0;
  // The earliest next_attempt of any pending remote recipient of an entry
  // not held, if any.
  virtual Result<std::optional<int64_t>> NextRemoteAttempt() = 0;
  // Applies the outcomes in one transaction, each only to a recipient still
  // pending (others, and unknown ids, are left alone), each counting as an
  // attempt: delivered -> kDelivered; failed -> kFailed with `error` as
  // last_error (ReturnFailures of the local queue runner then bounces it);
  // deferred -> next_attempt and last_error set. Entries left with nothing
  // pending or failed are removed.
  virtual Status RecordRemoteOutcomes(const std::vector<RemoteOutcome>& outcomes) = 0;
  // The same without blocking the caller: `done` runs once the transaction
  // has committed or failed, on whichever thread did the writing.
  virtual void RecordRemoteOutcomesAsync(std::vector<RemoteOutcome> outcomes,
                                         std::function<void(Status)> done) = 0;

  // Delay warnings (RFC 3464 Action: delayed). Entries not held, created at
  // or before `created_before`, with pending recipients (local or remote)
  // not warned yet, at most `limit`; each lists only those recipients.
  virtual Result<std::vector<QueueEntry>> LoadDelayed(int64_t created_before, int limit) = 0;
  // Queues `notice` (if any, as QueueBounce does) and marks the recipients
  // warned, in one transaction.
  virtual Status QueueDelayNotice(const std::optional<QueueEntry>& notice,
                                  const std::vector<int64_t>& warned_recipient_ids) = 0;

  // Queue administration (`postern queue`). Each is NotFound for an unknown id.
  // Holds (no delivery attempts, no delay warnings) or releases an entry.
  virtual Status HoldQueueEntry(const std::string& id, bool held) = 0;
  // Makes the entry's pending recipients due now. Returns how many.
  virtual Result<int64_t> RetryQueueEntry(const std::string& id) = 0;
  // Fails every pending recipient of the entry with `error` as last_error
  // (the queue runner then sends the bounce). Returns how many.
  virtual Result<int64_t> BounceQueueEntry(const std::string& id, const std::string& error) = 0;

  // The MTA-STS policy cache (RFC 8461 §5), by policy domain. Put replaces
  // the domain's record.
  virtual Result<std::optional<MtaStsRecord>> GetMtaStsPolicy(const std::string& domain) = 0;
  virtual Status PutMtaStsPolicy(const MtaStsRecord& record) = 0;

  // Totals for `postern stats`.
  virtual Result<StoreStats> Stats() = 0;
  // This process's memory of parses; zeros for a store without one.
  virtual ParseCacheStats CacheStats() const { return {}; }

  // Removes blob files no row refers to (older than `min_age_seconds`).
  // Returns how many were removed.
  virtual Result<int64_t> CollectGarbage(int64_t min_age_seconds) = 0;
};

// While one exists on a thread, store reads on that thread never wait: a read
// that would have to (a lock held elsewhere) fails at once with Unavailable
// instead. Lets an I/O thread try a quick lookup and fall back to the
// blocking pool only when needed.
class ScopedNoWait {
 public:
  ScopedNoWait();
  ~ScopedNoWait();
  ScopedNoWait(const ScopedNoWait&) = delete;
  ScopedNoWait& operator=(const ScopedNoWait&) = delete;
  static bool active();

 private:
  bool previous_;
};

struct SqliteStoreOptions {
  std::string data_dir;  // holds postern.db and blobs/
  int compression_level = 3;
  bool create = true;  // create a missing database
  // Remove blob files whose last reference went away, and stale temporary
  // files at open. Only the server does this (it knows its own in-flight
  // blobs); the CLI leaves them to the server's garbage collection.
  bool unlink_blobs = true;
  // Bodies up to this many compressed bytes are stored inside the database.
  size_t inline_max = 64 * 1024;
  // Memory for parses read back (store/parse_cache.h); 0: none.
  size_t parse_cache_bytes = 32 * 1024 * 1024;
  const Clock* clock = nullptr;  // default: the real clock
};

// Opens the store, running schema migrations (with a snapshot in
// DATA_DIR/snapshots) as needed.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteStoreOptions& options);

}  // namespace postern::store
