// Thin RAII wrappers over the SQLite C API: a connection with a cache of
// prepared statements, and a statement with bind/step/column helpers.
// A Database is used by one thread at a time (SQLite "multi-thread" mode).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"

namespace postern::store {

class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& o) noexcept
      : stmt_(o.stmt_), status_(std::move(o.status_)), cached_(o.cached_) {
    o.stmt_ = nullptr;
  }
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Bind parameters by 1-based index.
  Statement& Bind(int index, int64_t v);
  Statement& Bind(int index, std::string_view v);  // as TEXT
  Statement& BindBlob(int index, std::string_view v);
  Statement& BindNull(int index);

  // Binds all arguments in order, starting at index 1.
  template <typename... Args>
  Statement& BindAll(const Args&... args) {
    int i = 0;
    (BindOne(++i, args), ...);
    return *this;
  }

  // Advances: true when a row is available, false when done. Errors end up
  // in status() and also return false.
  bool Step();
  // Runs to completion (for statements without rows).
  Status Run();
  const Status& status() const { return status_; }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const;
  std::string_view TextView(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

  void Reset();
  sqlite3_stmt* raw() const { return stmt_; }

 private:
  void BindOne(int i, int64_t v) { Bind(i, v); }
  void BindOne(int i, int v) { Bind(i, static_cast<int64_t>(v)); }
  void BindOne(int i, uint32_t v) { Bind(i, static_cast<int64_t>(v)); }
  void BindOne(int i, uint64_t v) { Bind(i, static_cast<int64_t>(v)); }
  void BindOne(int i, bool v) { Bind(i, static_cast<int64_t>(v)); }
  void BindOne(int i, std::string_view v) { Bind(i, v); }
  void BindOne(int i, const std::string& v) { Bind(i, std::string_view(v)); }
  void BindOne(int i, const char* v) { Bind(i, std::string_view(v)); }

  sqlite3_stmt* stmt_ = nullptr;
  Status status_;
  friend class Database;
  bool cached_ = false;
};

class Database {
 public:
  // Opens (creating if asked) the database at `path` in WAL mode with
  // synchronous=FULL: a committed transaction has been fsynced.
  static Result<std::unique_ptr<Database>> Open(const std::string& path, bool create);
  ~Database();

  // Runs one or more statements without results (parsed every time).
  Status Exec(std::string_view sql);
  // Runs one statement without results from the statement cache: for the
  // hot ones (BEGIN, SAVEPOINT, COMMIT). `sql` must be a string literal.
  Status Run(const char* sql);

  // Returns a cached prepared statement, reset and unbound. `sql` must be a
  // string literal (the cache is keyed by its address). The statement stays
  // owned by the cache; the returned handle resets it when it goes away.
  Result<Statement> Prepare(const char* sql);

  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  // False when no transaction is open (autocommit), e.g. after SQLite rolled
  // one back on its own.
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() const { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

// Maps a SQLite error to a Status: a full disk is kResourceExhausted,
// busy/locked/ioerr kUnavailable (temporary trouble), corruption kDataLoss,
// a constraint kAlreadyExists, the rest kInternal.
Status SqliteError(sqlite3* db, int rc, std::string_view what);

}  // namespace postern::store
