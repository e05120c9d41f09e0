#include "store/schema.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

namespace postern::store {
namespace {

std::filesystem::path TempDir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() /
           ("schema-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

std::map<std::string, std::string> SchemaOf(Database& db) {
  std::map<std::string, std::string> out;
  auto q = db.Prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL");
  EXPECT_TRUE(q.ok());
  while (q->Step()) out[q->Text(0)] = q->Text(1);
  return out;
}

int Version(Database& db) {
  auto q = db.Prepare("PRAGMA user_version");
  EXPECT_TRUE(q.ok() && q->Step());
  return static_cast<int>(q->Int(0));
}

TEST(SchemaTest, MigrationsAreOrdered) {
  int last = 0;
  for (const auto& m : Migrations()) {
    EXPECT_EQ(m.version, last + 1) << "migration versions must be consecutive";
    last = m.version;
  }
  EXPECT_EQ(LatestSchemaVersion(), last);
}

// Every historical schema upgrades to exactly the schema a fresh store gets,
// and the data written at the old version survives.
TEST(SchemaTest, UpgradesFromEveryEarlierVersion) {
  auto dir = TempDir("fresh");
  auto fresh = Database::Open((dir / "fresh.db").string(), true);
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(Migrate(**fresh, "").ok());
  auto want = SchemaOf(**fresh);

  for (const auto& start : Migrations()) {
    auto db_path = dir / ("from-v" + std::to_string(start.version) + ".db");
    auto db = Database::Open(db_path.string(), true);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(**db, "", start.version).ok());
    ASSERT_EQ(Version(**db), start.version);
    // Every schema version has the domains table with a name column.
    ASSERT_TRUE((*db)->Exec("INSERT INTO domains(name, created) VALUES('old.test', 1)").ok());

    ASSERT_TRUE(Migrate(**db, (dir / "snapshots").string()).ok());
    EXPECT_EQ(Version(**db), LatestSchemaVersion());
    EXPECT_EQ(SchemaOf(**db), want) << "upgrading from v" << start.version;
    auto q = (*db)->Prepare("SELECT COUNT(*) FROM domains WHERE name = 'old.test'");
    ASSERT_TRUE(q.ok() && q->Step());
    EXPECT_EQ(q->Int(0), 1);
  }
  std::filesystem::remove_all(dir);
}

// Version 3 moves inline bodies from blob_data (keyed by hash) to bodies
// (keyed by rowid, blobs.data_id) and drops "added" rows from the change log.
TEST(SchemaTest, V3KeepsInlineBodiesAndTheLogOfExpunges) {
  auto dir = TempDir("v3");
  auto db = Database::Open((dir / "p.db").string(), true);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Migrate(**db, "", 2).ok());
  ASSERT_TRUE((*db)
                  ->Exec("INSERT INTO blobs(hash, size, stored_size, refs, created) VALUES "
                         "('aa', 10, 5, 1, 1), ('bb', 20, 6, 1, 1), ('cc', 90000, 80000, 1, 1);"
                         "INSERT INTO blob_data(hash, data) VALUES ('bb', x'0102'), "
                         "('aa', x'0304');"
                         "INSERT INTO changes(account_id, mailbox_id, modseq, uid, kind) VALUES "
                         "(1, 1, 2, 1, 1), (1, 1, 3, 1, 3);")
                  .ok());
  ASSERT_TRUE(Migrate(**db, "").ok());
  auto q = (*db)->Prepare(
      "SELECT b.hash, CASE WHEN d.id IS NULL THEN '(file)' ELSE hex(d.data) END FROM blobs b "
      "LEFT JOIN bodies d ON d.id = b.data_id");
  ASSERT_TRUE(q.ok());
  std::map<std::string, std::string> bodies;
  while (q->Step()) bodies[q->Text(0)] = q->Text(1);
  EXPECT_EQ(bodies,
            (std::map<std::string, std::string>{{"aa", "0304"}, {"bb", "0102"}, {"cc", "(file)"}}));
  auto kinds = (*db)->Prepare("SELECT group_concat(kind) FROM changes");
  ASSERT_TRUE(kinds.ok() && kinds->Step());
  EXPECT_EQ(kinds->Text(0), "3");
  std::filesystem::remove_all(dir);
}

TEST(SchemaTest, V4AddsParsesWithoutTouchingBodies) {
  auto dir = TempDir("v4");
  auto db = Database::Open((dir / "p.db").string(), true);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Migrate(**db, "", 3).ok());
  ASSERT_TRUE((*db)
                  ->Exec("INSERT INTO bodies(id, data) VALUES (5, x'01');"
                         "INSERT INTO blobs(hash, size, stored_size, refs, created, data_id) "
                         "VALUES ('aa', 1, 1, 1, 1, 5);")
                  .ok());
  ASSERT_TRUE(Migrate(**db, "").ok());
  auto q = (*db)->Prepare("SELECT data_id, parse_id IS NULL FROM blobs WHERE hash = 'aa'");
  ASSERT_TRUE(q.ok() && q->Step());
  EXPECT_EQ(q->Int(0), 5);
  EXPECT_EQ(q->Int(1), 1) << "old bodies are parsed when first needed";
  EXPECT_TRUE(
      (*db)->Exec("INSERT INTO parses(envelope, body, bodystructure) VALUES('', '', '')").ok());
  std::filesystem::remove_all(dir);
}

// The SCRAM migration keeps existing accounts and their hashes; they have no
// SCRAM secrets until their next plaintext login.
TEST(SchemaTest, ScramMigrationKeepsAccounts) {
  int scram_version = 0;
  for (const Migration& m : Migrations()) {
    if (std::string(m.sql).find("scram_sha256") != std::string::npos) scram_version = m.version;
  }
  ASSERT_GT(scram_version, 1);
  auto dir = TempDir("scram");
  auto db = Database::Open((dir / "p.db").string(), true);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Migrate(**db, "", scram_version - 1).ok());
  ASSERT_TRUE((*db)
                  ->Exec("INSERT INTO domains(id, name, created) VALUES (1, 'example.test', 1);"
                         "INSERT INTO accounts(domain_id, address, password_hash, created) "
                         "VALUES (1, 'old@example.test', '{ARGON2ID}x', 1);")
                  .ok());
  ASSERT_TRUE(Migrate(**db, "").ok());
  auto q = (*db)->Prepare("SELECT password_hash, scram_sha256 FROM accounts");
  ASSERT_TRUE(q.ok() && q->Step());
  EXPECT_EQ(q->Text(0), "{ARGON2ID}x");
  EXPECT_EQ(q->Text(1), "");
  std::filesystem::remove_all(dir);
}

// The full-text index migration leaves bodies stored before it unindexed
// (text_id NULL) until a search indexes them.
TEST(SchemaTest, FullTextMigrationLeavesOldBodiesUnindexed) {
  int fts_version = 0;
  for (const Migration& m : Migrations()) {
    if (std::string(m.sql).find("message_texts") != std::string::npos) fts_version = m.version;
  }
  ASSERT_GT(fts_version, 4) << "after the parse cache";
  auto dir = TempDir("fts");
  auto db = Database::Open((dir / "p.db").string(), true);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Migrate(**db, "", fts_version - 1).ok());
  ASSERT_TRUE((*db)
                  ->Exec("INSERT INTO bodies(id, data) VALUES (5, x'01');"
                         "INSERT INTO parses(id, envelope, body, bodystructure) "
                         "VALUES (7, 'e', 'b', 'bs');"
                         "INSERT INTO blobs(hash, size, stored_size, refs, created, data_id, "
                         "parse_id) VALUES ('aa', 1, 1, 1, 1, 5, 7);")
                  .ok());
  ASSERT_TRUE(Migrate(**db, "").ok());
  auto q = (*db)->Prepare("SELECT data_id, parse_id, text_id IS NULL FROM blobs WHERE hash = 'aa'");
  ASSERT_TRUE(q.ok() && q->Step());
  EXPECT_EQ(q->Int(0), 5);
  EXPECT_EQ(q->Int(1), 7);
  EXPECT_EQ(q->Int(2), 1) << "old bodies are indexed when a search needs them";
  ASSERT_TRUE(
      (*db)
          ->Exec("INSERT INTO message_texts(rowid, header, body) VALUES(3, 'h', 'ÉCOLE école')")
          .ok());
  // The trigram tokenizer is case-sensitive (texts are folded before they
  // are indexed): a quoted MATCH is a substring test.
  auto rows = db->get()->Prepare(
      "SELECT COALESCE(group_concat(rowid), '') FROM message_texts WHERE message_texts MATCH ?");
  ASSERT_TRUE(rows.ok());
  std::map<std::string, std::string> matches;
  for (const char* query :
       {"body : \"cole\"", "header : \"cole\"", "\"éco\"", "\"ÉCO\"", "\"Éco\"", "\"E é\""}) {
    rows->BindAll(query);
    ASSERT_TRUE(rows->Step()) << query;
    matches[query] = rows->Text(0);
    rows->Reset();
  }
  EXPECT_EQ(matches, (std::map<std::string, std::string>{{"body : \"cole\"", "3"},
                                                         {"header : \"cole\"", ""},
                                                         {"\"éco\"", "3"},
                                                         {"\"ÉCO\"", "3"},
                                                         {"\"Éco\"", ""},
                                                         {"\"E é\"", "3"}}));
  std::filesystem::remove_all(dir);
}

// Version 7 gives every existing mailbox a MAILBOXID and every existing
// message an EMAILID (RFC 8474), all different, and leaves old parses
// without a preview (computed on first use); mailboxes created afterwards get
// an id from the trigger.
TEST(SchemaTest, ObjectIdMigrationGivesExistingRowsIds) {
  auto dir = TempDir("objectid");
  auto db = Database::Open((dir / "p.db").string(), true);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Migrate(**db, "", 6).ok());
  ASSERT_TRUE(
      (*db)
          ->Exec("INSERT INTO domains(id, name, created) VALUES (1, 'example.test', 1);"
                 "INSERT INTO accounts(id, domain_id, address, password_hash, created) "
                 "VALUES (1, 1, 'u@example.test', 'x', 1);"
                 "INSERT INTO mailboxes(id, account_id, name, uidvalidity, created) VALUES "
                 "(1, 1, 'INBOX', 1, 1), (2, 1, 'Sent', 2, 1);"
                 "INSERT INTO parses(id, envelope, body, bodystructure) VALUES (7, 'e', 'b', 'bs');"
                 "INSERT INTO blobs(hash, size, stored_size, refs, created, parse_id) "
                 "VALUES ('aa', 1, 1, 3, 1, 7);"
                 "INSERT INTO messages(mailbox_id, uid, modseq, internal_date, saved, size, blob) "
                 "VALUES (1, 1, 1, 1, 1, 1, 'aa'), (1, 2, 1, 1, 1, 1, 'aa'), "
                 "(2, 1, 1, 1, 1, 1, 'aa');")
          .ok());
  ASSERT_TRUE(Migrate(**db, "").ok());
  auto q = (*db)->Prepare(
      "SELECT COUNT(DISTINCT object_id), SUM(length(object_id) = 25 AND object_id GLOB "
      "'F[0-9a-f]*' AND object_id NOT GLOB 'F*[^0-9a-f]*') FROM mailboxes");
  ASSERT_TRUE(q.ok() && q->Step());
  EXPECT_EQ(q->Int(0), 2);
  EXPECT_EQ(q->Int(1), 2);
  auto m = (*db)->Prepare("SELECT COUNT(DISTINCT email_id), SUM(email_id = 0) FROM messages");
  ASSERT_TRUE(m.ok() && m->Step());
  EXPECT_EQ(m->Int(0), 3);
  EXPECT_EQ(m->Int(1), 0);
  auto p = (*db)->Prepare("SELECT preview IS NULL FROM parses WHERE id = 7");
  ASSERT_TRUE(p.ok() && p->Step());
  EXPECT_EQ(p->Int(0), 1);
  ASSERT_TRUE((*db)
                  ->Exec("INSERT INTO mailboxes(id, account_id, name, uidvalidity, created) "
                         "VALUES (3, 1, 'New', 3, 1)")
                  .ok());
  auto n = (*db)->Prepare("SELECT length(object_id) FROM mailboxes WHERE id = 3");
  ASSERT_TRUE(n.ok() && n->Step());
  EXPECT_EQ(n->Int(0), 25);
  std::filesystem::remove_all(dir);
}

// Version 10 keeps queued mail: existing entries are not held and did not
// ask for REQUIRETLS, their recipients were not warned; the outbound agent's
// due recipients are found through their own partial index.
TEST(SchemaTest, OutboundMigrationKeepsTheQueue) {
  auto dir = TempDir("outbound");
  auto db = Database::Open((dir / "p.db").string(), true);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Migrate(**db, "", 9).ok());
  ASSERT_TRUE((*db)
                  ->Exec("INSERT INTO blobs(hash, size, stored_size, refs, created) "
                         "VALUES ('aa', 1, 1, 1, 1);"
                         "INSERT INTO queue(id, created, mail_from, blob, size) "
                         "VALUES ('Q1', 1, 'a@example.test', 'aa', 1);"
                         "INSERT INTO queue_recipients(queue_id, address, local, next_attempt) "
                         "VALUES ('Q1', 'b@remote.test', 0, 5);")
                  .ok());
  ASSERT_TRUE(Migrate(**db, "").ok());
  auto q = (*db)->Prepare(
      "SELECT q.held, q.requiretls, r.warned, r.next_attempt FROM queue q "
      "JOIN queue_recipients r ON r.queue_id = q.id");
  ASSERT_TRUE(q.ok() && q->Step());
  EXPECT_EQ(q->Int(0), 0);
  EXPECT_EQ(q->Int(1), 0);
  EXPECT_EQ(q->Int(2), 0);
  EXPECT_EQ(q->Int(3), 5);
  auto plan = (*db)->Prepare(
      "EXPLAIN QUERY PLAN SELECT queue_id FROM queue_recipients "
      "WHERE state = 0 AND local = 0 AND next_attempt <= 10");
  ASSERT_TRUE(plan.ok());
  std::string details;
  while (plan->Step()) details += plan->Text(3) + "\n";
  EXPECT_NE(details.find("queue_recipients_remote_due"), std::string::npos) << details;
  EXPECT_TRUE((*db)
                  ->Exec("INSERT INTO mta_sts_policies(domain, policy_id, policy, fetched, "
                         "expires) VALUES ('remote.test', 'id1', 'version: STSv1', 1, 2)")
                  .ok());
  std::filesystem::remove_all(dir);
}

TEST(SchemaTest, SnapshotTakenBeforeUpgradeAndFailedMigrationRollsBack) {
  const std::vector<Migration> list = {
      {1, "t", "CREATE TABLE t(a INTEGER); INSERT INTO t VALUES(7);"},
      {2, "u", "ALTER TABLE t ADD COLUMN b TEXT;"},
      {3, "broken", "ALTER TABLE t ADD COLUMN c TEXT; THIS IS NOT SQL;"},
  };
  auto dir = TempDir("snap");
  auto db = Database::Open((dir / "p.db").string(), true);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Migrate(**db, (dir / "snapshots").string(), 1, &list).ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "snapshots")) << "no snapshot of a new database";
  ASSERT_TRUE(Migrate(**db, (dir / "snapshots").string(), 2, &list).ok());
  ASSERT_TRUE(std::filesystem::exists(dir / "snapshots"));
  auto snap = std::filesystem::directory_iterator(dir / "snapshots")->path();
  EXPECT_NE(snap.filename().string().find("postern-v1-"), std::string::npos);
  auto old = Database::Open(snap.string(), false);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(Version(**old), 1);

  Status s = Migrate(**db, "", 3, &list);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(Version(**db), 2) << "a failed migration leaves the previous version";
  EXPECT_FALSE((*db)->Exec("SELECT c FROM t").ok()) << "partial migration was not rolled back";
  std::filesystem::remove_all(dir);
}

TEST(SchemaTest, RefusesNewerSchema) {
  auto dir = TempDir("newer");
  auto db = Database::Open((dir / "p.db").string(), true);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Migrate(**db, "").ok());
  ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 999").ok());
  Status s = Migrate(**db, "");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("999"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace postern::store
