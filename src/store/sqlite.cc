#include "store/sqlite.h"

namespace postern::store {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_FULL:  // the disk (or a quota) is full
      return ResourceExhausted(std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
    case SQLITE_CANTOPEN:
      return Unavailable(std::move(msg));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLoss(std::move(msg));
    case SQLITE_CONSTRAINT:
      return AlreadyExists(std::move(msg));
    default:
      return Internal(std::move(msg));
  }
}

Statement::~Statement() {
  if (!stmt_) return;
  if (cached_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
}

Statement& Statement::Bind(int index, int64_t v) {
  sqlite3_bind_int64(stmt_, index, v);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view v) {
  sqlite3_bind_text64(stmt_, index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view v) {
  sqlite3_bind_blob64(stmt_, index, v.data(), v.size(), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) {
    status_ = SqliteError(sqlite3_db_handle(stmt_), rc, "query failed");
  }
  return false;
}

Status Statement::Run() {
  while (Step()) {
  }
  return status_;
}

std::string Statement::Text(int col) const { return std::string(TextView(col)); }

std::string_view Statement::TextView(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (!p) return {};
  return std::string_view(p, sqlite3_column_bytes(stmt_, col));
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  status_ = Status::Ok();
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, bool create) {
  // Before SQLite's first use: no global allocation statistics (a mutex on
  // every malloc otherwise). Fails harmlessly if SQLite is already running.
  static const bool configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)configured;
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, rc, "cannot open database " + path);
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<Database> out(new Database(db));
  sqlite3_busy_timeout(db, 10000);
  sqlite3_extended_result_codes(db, 1);
  // WAL: readers never block the writer. synchronous=FULL: every commit is
  // fsynced, so a transaction that returned is durable (our 250 promise).
  PT_RETURN_IF_ERROR(
      out->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                "PRAGMA cache_size=-16000; PRAGMA temp_store=MEMORY;"));
  return out;
}

Database::~Database() {
  for (auto& [_, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status Database::Exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    Status st = SqliteError(db_, rc, "statement failed");
    sqlite3_free(err);
    return st;
  }
  return Status::Ok();
}

Status Database::Run(const char* sql) {
  PT_ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
  return stmt.Run();
}

Result<Statement> Database::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  sqlite3_stmt* stmt;
  if (it != cache_.end()) {
    stmt = it->second;
  } else {
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, std::string("cannot prepare: ") + sql);
    cache_.emplace(sql, stmt);
  }
  Statement s(stmt);
  s.cached_ = true;
  return s;
}

}  // namespace postern::store
