#include "index/database.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace astfill::index {

// ---- Query ------------------------------------------------------------------

Query::Query(Query&& other) noexcept : db_(other.db_), stmt_(other.stmt_), in_use_(other.in_use_) {
  other.stmt_ = nullptr;
}

Query::~Query() {
  if (!stmt_) return;
  if (!in_use_) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *in_use_ = false;
}

Query& Query::bind(int index, int64_t value) {
  if (int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) db_->fail(rc, "binding a parameter");
  return *this;
}

Query& Query::bind(int index, std::string_view value) {
  // A default string_view has no data pointer, which SQLite would bind as NULL.
  const char* data = value.data() ? value.data() : "";
  int rc = sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_->fail(rc, "binding a parameter");
  return *this;
}

Query& Query::bind_null(int index) {
  if (int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) db_->fail(rc, "binding a parameter");
  return *this;
}

bool Query::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->fail(rc, sqlite3_sql(stmt_));
}

void Query::run() {
  while (step()) {
  }
}

int64_t Query::integer(int column) const { return sqlite3_column_int64(stmt_, column); }
double Query::real(int column) const { return sqlite3_column_double(stmt_, column); }
bool Query::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::string Query::text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

// ---- Database ---------------------------------------------------------------

namespace {

// The index holds the project's code: only its owner may read it. The file is
// created 0600 before SQLite opens it (SQLite would create it 0644 less the
// umask), and an older one is narrowed; SQLite gives its -wal and -shm files
// the database file's mode.
void make_private(const std::string& path) {
  if (path.empty() || path.starts_with(":") || path.starts_with("file:")) return;  // in memory, or a URI
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) {
    ::fchmod(fd, 0600);
    ::close(fd);
  }
  for (const char* suffix : {"-wal", "-shm", "-journal"}) ::chmod((path + suffix).c_str(), 0600);
}

}  // namespace

Database::Database(const std::string& path, Mode mode) : path_(path) {
  if (mode == Mode::ReadWrite) make_private(path);
  int flags = SQLITE_OPEN_NOMUTEX | (mode == Mode::ReadOnly ? SQLITE_OPEN_READONLY
                                                            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw IndexError("index database '" + path + "': cannot open: " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
  // The writer's transactions are short (one batch of files); a reader that
  // meets a checkpoint or recovery waits rather than fails.
  sqlite3_busy_timeout(db_, 5000);
}

Database::~Database() {
  for (auto& [sql, cached] : statements_) sqlite3_finalize(cached.stmt);
  sqlite3_close(db_);
}

void Database::fail(int code, std::string_view doing) const {
  std::string message = db_ && sqlite3_errcode(db_) == code ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
  std::string what(doing.substr(0, 80));
  throw IndexError("index database '" + path_ + "': " + message + " (while " +
                   (what.empty() ? std::string("working") : "running '" + what + "'") + ")");
}

void Database::exec(std::string_view sql) {
  std::string owned(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, owned.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw IndexError("index database '" + path_ + "': " + message + " (while running '" + owned.substr(0, 80) + "')");
  }
}

Query Database::query(std::string_view sql) {
  std::string key(sql);
  auto it = statements_.find(key);
  if (it != statements_.end() && !it->second.in_use) {
    it->second.in_use = true;
    return Query(*this, it->second.stmt, &it->second.in_use);
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                              nullptr);
  if (rc != SQLITE_OK) fail(rc, sql);
  if (it != statements_.end()) return Query(*this, stmt, nullptr);  // the cached one is busy (nested use)
  auto& cached = statements_.emplace(std::move(key), Cached{stmt, true}).first->second;
  return Query(*this, stmt, &cached.in_use);
}

int64_t Database::integer_of(std::string_view sql) {
  Query q = query(sql);
  return q.step() ? q.integer(0) : 0;
}

std::string Database::text_of(std::string_view sql) {
  Query q = query(sql);
  return q.step() ? q.text(0) : std::string();
}

int64_t Database::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

// ---- Transaction ------------------------------------------------------------

Transaction::Transaction(Database& db) : db_(db) { db_.query("BEGIN IMMEDIATE").run(); }

Transaction::~Transaction() {
  if (!open_) return;
  try {
    db_.query("ROLLBACK").run();
  } catch (const IndexError&) {
    // SQLite may have rolled back already (after an IO error); nothing to undo.
  }
}

void Transaction::commit() {
  db_.query("COMMIT").run();
  open_ = false;
}

// ---- ReadConnections ----------------------------------------------------------

ReadConnections::Lease::~Lease() {
  if (!db_) return;
  std::lock_guard lock(pool_->mu_);
  pool_->idle_.push_back(std::move(db_));
}

ReadConnections::Lease ReadConnections::acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto db = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(db));
    }
  }
  return Lease(*this, std::make_unique<Database>(path_, Database::Mode::ReadOnly));
}

void ReadConnections::close_idle() {
  std::lock_guard lock(mu_);
  idle_.clear();
}

}  // namespace astfill::index
