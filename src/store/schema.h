// Versioned, transactional schema migrations for the SQLite store.
// The schema version lives in PRAGMA user_version. Not thread-safe: run once,
// before other connections are opened.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "store/sqlite.h"

namespace postern::store {

struct Migration {
  int version;              // the schema version after this migration
  const char* description;  // one line, for logs
  const char* sql;
};

// All migrations in order; the last one's version is the current schema.
const std::vector<Migration>& Migrations();
int LatestSchemaVersion();

// Brings `db` to `target` (default: latest) one migration per transaction.
// An existing database at a lower version is first copied to `snapshot_dir`
// (VACUUM INTO) when that is non-empty. Refuses a database newer than this
// program knows.
// `migrations` replaces the built-in list (for tests).
Status Migrate(Database& db, const std::string& snapshot_dir, int target = -1,
               const std::vector<Migration>* migrations = nullptr);

}  // namespace postern::store
