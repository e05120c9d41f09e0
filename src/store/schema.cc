#include "store/schema.h"

#include <ctime>
#include <filesystem>

#include "base/log.h"

namespace postern::store {
namespace {

// Version 1: directory, mail model, blobs, queue, change log.
// Times are Unix seconds. Addresses are stored lowercase with A-label domains.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE domains (
  id      INTEGER PRIMARY KEY,
  name    TEXT NOT NULL UNIQUE,
  created INTEGER NOT NULL
);
CREATE TABLE accounts (
  id             INTEGER PRIMARY KEY,
  domain_id      INTEGER NOT NULL REFERENCES domains(id),
  address        TEXT NOT NULL UNIQUE,
  password_hash  TEXT NOT NULL,
  quota_bytes    INTEGER NOT NULL DEFAULT 0,  -- 0: unlimited
  quota_messages INTEGER NOT NULL DEFAULT 0,  -- 0: unlimited
  used_bytes     INTEGER NOT NULL DEFAULT 0,
  used_messages  INTEGER NOT NULL DEFAULT 0,
  modseq         INTEGER NOT NULL DEFAULT 1,  -- last MODSEQ handed out in this account
  created        INTEGER NOT NULL,
  disabled       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX accounts_by_domain ON accounts(domain_id);
CREATE TABLE aliases (
  id        INTEGER PRIMARY KEY,
  source    TEXT NOT NULL,  -- "local@domain", or "@domain" for a catch-all
  target    TEXT NOT NULL,
  domain_id INTEGER NOT NULL REFERENCES domains(id),
  created   INTEGER NOT NULL,
  UNIQUE (source, target)
);
CREATE INDEX aliases_by_domain ON aliases(domain_id);
CREATE TABLE mailboxes (
  id            INTEGER PRIMARY KEY,
  account_id    INTEGER NOT NULL REFERENCES accounts(id),
  name          TEXT NOT NULL,  -- UTF-8, hierarchy separated by "/"
  role          TEXT NOT NULL DEFAULT '',  -- inbox, sent, drafts, trash, junk, archive
  uidvalidity   INTEGER NOT NULL,
  uidnext       INTEGER NOT NULL DEFAULT 1,
  highestmodseq INTEGER NOT NULL DEFAULT 1,
  messages      INTEGER NOT NULL DEFAULT 0,
  unseen        INTEGER NOT NULL DEFAULT 0,
  size          INTEGER NOT NULL DEFAULT 0,
  subscribed    INTEGER NOT NULL DEFAULT 1,
  created       INTEGER NOT NULL,
  UNIQUE (account_id, name)
);
CREATE TABLE blobs (
  hash        TEXT PRIMARY KEY,
  size        INTEGER NOT NULL,
  stored_size INTEGER NOT NULL,
  refs        INTEGER NOT NULL,
  created     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE messages (
  id            INTEGER PRIMARY KEY,
  mailbox_id    INTEGER NOT NULL REFERENCES mailboxes(id),
  uid           INTEGER NOT NULL,
  modseq        INTEGER NOT NULL,
  flags         INTEGER NOT NULL DEFAULT 0,   -- bits: Seen 1, Answered 2, Flagged 4, Deleted 8, Draft 16
  keywords      TEXT NOT NULL DEFAULT '',     -- space-separated keywords
  internal_date INTEGER NOT NULL,
  saved         INTEGER NOT NULL,             -- when it entered this mailbox
  size          INTEGER NOT NULL,             -- length of header_prefix + blob content
  blob          TEXT NOT NULL REFERENCES blobs(hash),
  header_prefix BLOB NOT NULL DEFAULT '',     -- per-recipient fields before the blob
  UNIQUE (mailbox_id, uid)
);
CREATE INDEX messages_by_blob ON messages(blob);
CREATE TABLE changes (
  id         INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  mailbox_id INTEGER NOT NULL,
  modseq     INTEGER NOT NULL,
  uid        INTEGER NOT NULL,   -- 0 for changes of the mailbox itself
  kind       INTEGER NOT NULL    -- 1 added, 2 flags, 3 expunged, 4 mailbox created, 5 renamed, 6 deleted
);
CREATE INDEX changes_by_mailbox ON changes(mailbox_id, modseq);
CREATE INDEX changes_by_account ON changes(account_id, modseq);
CREATE TABLE queue (
  id           TEXT PRIMARY KEY,
  created      INTEGER NOT NULL,
  mail_from    TEXT NOT NULL,            -- '' is the null reverse-path
  blob         TEXT NOT NULL REFERENCES blobs(hash),
  size         INTEGER NOT NULL,
  body_type    TEXT NOT NULL DEFAULT '7BIT',
  smtputf8     INTEGER NOT NULL DEFAULT 0,
  dsn_ret      TEXT NOT NULL DEFAULT '',
  dsn_envid    TEXT NOT NULL DEFAULT '',
  client       TEXT NOT NULL DEFAULT '', -- who sent it: "helo [ip]"
  kind         TEXT NOT NULL DEFAULT 'inbound'  -- inbound, bounce
);
CREATE TABLE queue_recipients (
  id           INTEGER PRIMARY KEY,
  queue_id     TEXT NOT NULL REFERENCES queue(id),
  address      TEXT NOT NULL,             -- final recipient after alias expansion
  original     TEXT NOT NULL DEFAULT '',  -- the RCPT TO address it came from
  orcpt        TEXT NOT NULL DEFAULT '',
  local        INTEGER NOT NULL DEFAULT 1,
  notify       INTEGER NOT NULL DEFAULT 0,
  state        INTEGER NOT NULL DEFAULT 0,  -- 0 pending, 1 delivered, 2 failed
  attempts     INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL,
  last_error   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX queue_recipients_by_queue ON queue_recipients(queue_id);
CREATE INDEX queue_recipients_ready ON queue_recipients(state, next_attempt);
)sql";

// Version 2:
// - small message bodies stored inline (compressed) in blob_data, a rowid
//   table (big rows would ruin the fan-out of the WITHOUT ROWID blobs table),
//   so one WAL commit makes a message durable;
// - queue.blob indexed: deleting a blob row checks the foreign keys that
//   point at it (messages_by_blob does the same for messages);
// - due and failed queue recipients found through partial indexes.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE blob_data (
  hash TEXT PRIMARY KEY REFERENCES blobs(hash),
  data BLOB NOT NULL
);
CREATE INDEX queue_by_blob ON queue(blob);
DROP INDEX queue_recipients_ready;
CREATE INDEX queue_recipients_due ON queue_recipients(next_attempt)
  WHERE state = 0 AND local = 1;
CREATE INDEX queue_recipients_failed ON queue_recipients(queue_id) WHERE state = 2;
)sql";

// Version 3: inline bodies keyed by rowid. Keyed by hash, every new body
// also wrote a page of the hash index at a random place; now the body row is
// appended and blobs.data_id points at it (NULL: the body is in a file).
// No foreign key: deleting a body would have to search blobs.data_id.
// The change log no longer records added messages (kind 1): a new message is
// its own record (UID above what a client knows, its MODSEQ), and the log
// keeps only what the live rows cannot show (expunges, mailbox events). That
// is three index and table pages fewer per delivery.
constexpr const char* kSchemaV3 = R"sql(
DELETE FROM changes WHERE kind = 1;
ALTER TABLE blobs ADD COLUMN data_id INTEGER;
UPDATE blobs SET data_id = (SELECT rowid FROM blob_data WHERE blob_data.hash = blobs.hash);
CREATE TABLE bodies (
  id   INTEGER PRIMARY KEY,
  data BLOB NOT NULL
);
INSERT INTO bodies(id, data) SELECT rowid, data FROM blob_data;
DROP TABLE blob_data;
)sql";

// Version 4: the IMAP forms of each body's structure (ENVELOPE, BODY,
// BODYSTRUCTURE), computed once at delivery so FETCH never parses for them.
// Kept per body (all copies share one), appended like bodies and found
// through blobs.parse_id (NULL: not parsed yet, e.g. mail stored before v4).
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE parses (
  id            INTEGER PRIMARY KEY,
  envelope      TEXT NOT NULL,
  body          TEXT NOT NULL,
  bodystructure TEXT NOT NULL
);
ALTER TABLE blobs ADD COLUMN parse_id INTEGER;
)sql";

// SCRAM-SHA-256 secrets per account (RFC 5802, RFC 7677) in the RFC 5803
// text form (directory/scram_secrets.h); '' until the password is next set or
// the account next logs in with a plaintext mechanism.
constexpr const char* kSchemaScram = R"sql(
ALTER TABLE accounts ADD COLUMN scram_sha256 TEXT NOT NULL DEFAULT '';
)sql";

// The full-text index for IMAP SEARCH BODY/TEXT. One row per body (all
// copies share it), found through blobs.text_id (NULL: not indexed yet, e.g.
// mail stored before this version, which is indexed when a search first
// needs it).
// The text is already case-folded (message/search_text.h), so the trigram
// tokenizer runs case-sensitive: a MATCH on a quoted string of 3 or more
// characters is then exactly a substring test. The text is kept (not
// contentless) so rows can be deleted with their body and needles shorter
// than a trigram can be searched for in it. No column sizes: nothing ranks.
// blobs_by_text leads from index rows to bodies (ids only grow: a new body
// appends to its last page), and finds the unindexed ones (NULL).
constexpr const char* kSchemaFullText = R"sql(
CREATE VIRTUAL TABLE message_texts USING fts5(
  header, body, tokenize = 'trigram case_sensitive 1', columnsize = 0
);
ALTER TABLE blobs ADD COLUMN text_id INTEGER;
CREATE INDEX blobs_by_text ON blobs(text_id);
)sql";

// Object identifiers (IMAP OBJECTID, RFC 8474; later JMAP ids) and message
// previews (IMAP PREVIEW, RFC 8970).
// - mailboxes.object_id: the MAILBOXID, "F" and 24 hex digits from SQLite's
//   randomblob() (a CSPRNG seeded from the operating system): 96 bits, so ids
//   cannot be guessed and never collide in practice. Kept by RENAME. Every
//   insert gets one from the trigger, whichever code path creates a mailbox.
// - messages.email_id: the EMAILID, 64 random bits (random(), the same
//   generator), written as "M" and 16 hex digits. Set by each insert
//   (delivery, APPEND) and copied by COPY and MOVE (RFC 8474 §5.1). No
//   index: a search for one runs over the selected mailbox's rows.
// - parses.preview: the RFC 8970 preview of the body, computed with the rest
//   of the parse; NULL for bodies parsed before this version, which get it
//   on the first FETCH PREVIEW that needs it.
constexpr const char* kSchemaObjectIds = R"sql(
ALTER TABLE mailboxes ADD COLUMN object_id TEXT NOT NULL DEFAULT '';
UPDATE mailboxes SET object_id = 'F' || lower(hex(randomblob(12)));
CREATE TRIGGER mailboxes_object_id AFTER INSERT ON mailboxes WHEN NEW.object_id = ''
BEGIN
  UPDATE mailboxes SET object_id = 'F' || lower(hex(randomblob(12))) WHERE id = NEW.id;
END;
ALTER TABLE messages ADD COLUMN email_id INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET email_id = random();
ALTER TABLE parses ADD COLUMN preview TEXT;
)sql";

// Version 8: each body's top-level header, byte for byte (at most 256 KiB;
// NULL for longer ones and for bodies parsed before this version, which get
// it when a header FETCH, header SEARCH or THREAD first reads them), so
// those read and decompress no body.
constexpr const char* kSchemaHeaders = R"sql(
ALTER TABLE parses ADD COLUMN header BLOB;
)sql";

// Version 9: app passwords (directory/password.h): per account, by name,
// stored as the hex SHA-256 of a generated 80-bit password; a login looks
// one up by its hash.
constexpr const char* kSchemaAppPasswords = R"sql(
CREATE TABLE app_passwords (
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  name TEXT NOT NULL,
  hash TEXT NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (account_id, name)
);
CREATE INDEX app_passwords_by_hash ON app_passwords(hash);
)sql";

// Version 10: the store side of outbound delivery.
// - queue.held: held by the administrator (`postern queue hold`); neither
//   the local queue runner nor the outbound agent touches the entry.
// - queue.requiretls: RFC 8689 REQUIRETLS was given on MAIL FROM.
// - queue_recipients.warned: a delay warning DSN (RFC 3464 Action: delayed)
//   was sent for the recipient, so only one is.
// - queue_recipients_remote_due: the outbound agent's due recipients, as
//   queue_recipients_due is the local runner's.
// - mta_sts_policies: the MTA-STS policy cache (RFC 8461 §5), one row per
//   policy domain; `policy` is the policy text as fetched, `expires` is
//   fetched + max_age.
constexpr const char* kSchemaOutbound = R"sql(
ALTER TABLE queue ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue ADD COLUMN requiretls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue_recipients ADD COLUMN warned INTEGER NOT NULL DEFAULT 0;
CREATE INDEX queue_recipients_remote_due ON queue_recipients(next_attempt)
  WHERE state = 0 AND local = 0;
CREATE TABLE mta_sts_policies (
  domain    TEXT PRIMARY KEY,
  policy_id TEXT NOT NULL,
  policy    TEXT NOT NULL,
  fetched   INTEGER NOT NULL,
  expires   INTEGER NOT NULL
);
)sql";

// Version 11: the messages of a mailbox by MODSEQ, so that an IMAP session
// catching up with other sessions' changes (SqliteStore::ListMessages with
// changed_since) reads the few changed rows instead of the whole mailbox.
constexpr const char* kSchemaModSeqIndex = R"sql(
CREATE INDEX messages_by_modseq ON messages(mailbox_id, modseq);
)sql";

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> migrations = {
      {1, "initial schema: directory, mailboxes, messages, blobs, queue, change log", kSchemaV1},
      {2, "inline storage of small message bodies", kSchemaV2},
      {3, "inline bodies keyed by rowid", kSchemaV3},
      {4, "cached IMAP structure of each body", kSchemaV4},
      {5, "SCRAM-SHA-256 secrets of accounts", kSchemaScram},
      {6, "full-text index of message text", kSchemaFullText},
      {7, "object ids of mailboxes and messages, message previews", kSchemaObjectIds},
      {8, "cached top-level header of each body", kSchemaHeaders},
      {9, "app passwords", kSchemaAppPasswords},
      {10, "outbound delivery: held entries, REQUIRETLS, delay warnings, MTA-STS policies",
       kSchemaOutbound},
      {11, "messages of a mailbox by modification sequence", kSchemaModSeqIndex},
  };
  return migrations;
}

int LatestSchemaVersion() { return Migrations().back().version; }

Status Migrate(Database& db, const std::string& snapshot_dir, int target,
               const std::vector<Migration>* migrations) {
  const std::vector<Migration>& list = migrations ? *migrations : Migrations();
  const int latest = list.back().version;
  if (target < 0) target = latest;
  PT_ASSIGN_OR_RETURN(Statement get, db.Prepare("PRAGMA user_version"));
  if (!get.Step()) return get.status();
  const int current = static_cast<int>(get.Int(0));
  get.Reset();
  if (current > latest) {
    return FailedPrecondition("the database has schema version " + std::to_string(current) +
                              " but this postern knows only up to " + std::to_string(latest) +
                              ": install the newer postern that wrote it");
  }
  if (current >= target) return Status::Ok();

  if (current > 0 && !snapshot_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(snapshot_dir, ec);
    std::string snap = snapshot_dir + "/postern-v" + std::to_string(current) + "-" +
                       std::to_string(std::time(nullptr)) + ".db";
    LOG_INFO("store: snapshot before migrating from schema {}: {}", current, snap);
    std::string quoted;
    for (char c : snap) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    PT_RETURN_IF_ERROR(db.Exec("VACUUM INTO '" + quoted + "'").WithContext("snapshot"));
  }
  for (const Migration& m : list) {
    if (m.version <= current || m.version > target) continue;
    LOG_INFO("store: migrating to schema {}: {}", m.version, m.description);
    PT_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    Status s = db.Exec(m.sql);
    if (s.ok()) s = db.Exec("PRAGMA user_version = " + std::to_string(m.version));
    if (s.ok()) s = db.Exec("COMMIT");
    if (!s.ok()) {
      (void)db.Exec("ROLLBACK");
      return s.WithContext("migration to schema " + std::to_string(m.version));
    }
  }
  return Status::Ok();
}

}  // namespace postern::store
