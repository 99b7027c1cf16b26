#include "index/schema.h"

#include <cstdio>
#include <optional>
#include <system_error>
#include <vector>

#include "support/log.h"

namespace astfill::index {
namespace {

// Columns of a parsing::Span, after a prefix ("" or "name_").
#define SPAN_COLUMNS(p)                                                                                   \
  p "start_byte INTEGER NOT NULL, " p "end_byte INTEGER NOT NULL, " p "start_line INTEGER NOT NULL, " p \
    "start_column INTEGER NOT NULL, " p "end_line INTEGER NOT NULL, " p "end_column INTEGER NOT NULL"

struct Migration {
  int version;  // the user_version after this step
  const char* sql;
};

// The schema's history. Append steps; never edit one that has shipped, since
// databases in users' caches were built by it.
const std::vector<Migration>& migrations() {
  static const std::vector<Migration> steps = {
      {1,
       "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
       "CREATE TABLE files("
       "  id INTEGER PRIMARY KEY,"
       "  path TEXT NOT NULL UNIQUE,"
       "  dir TEXT NOT NULL,"
       "  content_hash INTEGER NOT NULL,"
       "  mtime_ns INTEGER NOT NULL,"
       "  size INTEGER NOT NULL,"
       "  language TEXT NOT NULL,"
       "  state INTEGER NOT NULL);"
       "CREATE INDEX files_by_dir ON files(dir);"
       "CREATE TABLE symbols("
       "  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
       "  name TEXT NOT NULL, kind TEXT NOT NULL, signature TEXT NOT NULL, doc TEXT NOT NULL,"
       "  container TEXT NOT NULL, " SPAN_COLUMNS("") ", " SPAN_COLUMNS("name_") ");"
       "CREATE INDEX symbols_by_name ON symbols(name);"
       "CREATE INDEX symbols_by_container ON symbols(container);"
       "CREATE INDEX symbols_by_file ON symbols(file_id);"
       "CREATE TABLE refs("
       "  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
       "  name TEXT NOT NULL, " SPAN_COLUMNS("") ");"
       "CREATE INDEX refs_by_name ON refs(name);"
       "CREATE INDEX refs_by_file ON refs(file_id);"
       "CREATE TABLE imports("
       "  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
       "  module TEXT NOT NULL,"
       "  names TEXT NOT NULL,"  // '\n'-separated
       "  relative INTEGER NOT NULL, " SPAN_COLUMNS("") ","
       "  resolved_path TEXT,"  // a file, or for a package import (Go) a directory
       "  resolved_is_directory INTEGER NOT NULL DEFAULT 0,"
       "  resolved_file_id INTEGER REFERENCES files(id) ON DELETE SET NULL);"
       "CREATE INDEX imports_by_file ON imports(file_id);"
       "CREATE INDEX imports_by_resolved_path ON imports(resolved_path);"
       "CREATE INDEX imports_by_resolved_file ON imports(resolved_file_id);"},
      {2,
       // Similar-code retrieval. The chunk text lives once, in chunks; the
       // FTS5 table indexes it (external content) and triggers keep the two in
       // step. Identifiers are single tokens ('_' is a token character).
       "CREATE TABLE chunks("
       "  id INTEGER PRIMARY KEY,"
       "  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
       "  start_line INTEGER NOT NULL, end_line INTEGER NOT NULL,"  // zero-based, end exclusive
       "  text TEXT NOT NULL);"
       "CREATE INDEX chunks_by_file ON chunks(file_id);"
       "CREATE VIRTUAL TABLE chunk_text USING fts5(text, content='chunks', content_rowid='id',"
       "  tokenize=\"unicode61 tokenchars '_'\");"
       // Per-term document counts, to leave out words found in most chunks.
       "CREATE VIRTUAL TABLE chunk_terms USING fts5vocab(chunk_text, 'row');"
       "CREATE TRIGGER chunks_after_insert AFTER INSERT ON chunks BEGIN"
       "  INSERT INTO chunk_text(rowid, text) VALUES (new.id, new.text); END;"
       "CREATE TRIGGER chunks_after_delete AFTER DELETE ON chunks BEGIN"
       "  INSERT INTO chunk_text(chunk_text, rowid, text) VALUES ('delete', old.id, old.text); END;"
       // Files indexed before chunks existed have none: parse them again.
       "UPDATE files SET state = 0;"},
      {3,
       // Definitions by name within given files (the current file, what it
       // imports, its directory) as point lookups: a name defined 20,000
       // times across /usr/include is not scanned to find the few nearby.
       "CREATE INDEX symbols_by_name_file ON symbols(name, file_id);"
       "DROP INDEX symbols_by_name;"},
      {4,
       // Secrets are redacted before they are stored (trust/secrets.h):
       // parse every file again so that none stays in older rows (the
       // connection's secure_delete zeroes what they held).
       "UPDATE files SET state = 0;"},
  };
  return steps;
}

void configure_connection(Database& db) {
  // WAL: readers see the last commit and never wait for the writer. NORMAL
  // sync is durable across a killed process (only power loss may drop the
  // last commits, which the next sync redoes).
  std::string mode = db.text_of("PRAGMA journal_mode=WAL");
  if (mode != "wal") log::warn("index: database '", db.path(), "' cannot use WAL mode (got '", mode, "')");
  // secure_delete: a deleted row's text is overwritten, not left in free
  // pages (the database must hold no secret, even one it held once).
  db.exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;");
}

constexpr uint64_t kTrustCleanCloseAbove = 64ull << 20;

bool closed_cleanly(Database& db) {
  try {
    return db.text_of("SELECT coalesce((SELECT value FROM meta WHERE key = 'closed_cleanly'), '0')") == "1";
  } catch (const IndexError&) {
    return false;
  }
}

// Why the file at `path` cannot be used as this workspace's index, or nullopt
// when it can (possibly after migration, or because it is empty).
std::optional<std::string> problem_with(const std::filesystem::path& path, const std::string& root) {
  try {
    Database db(path.string(), Database::Mode::ReadWrite);
    int64_t app = db.integer_of("PRAGMA application_id");
    int64_t tables = db.integer_of("SELECT count(*) FROM sqlite_schema");
    if (app == 0 && tables == 0) return std::nullopt;  // empty: becomes a new index
    if (app != kApplicationId) return "is not an astfill index (application_id " + std::to_string(app) + ")";
    int64_t version = db.integer_of("PRAGMA user_version");
    if (version > latest_schema_version())
      return "was written by a newer astfill (schema " + std::to_string(version) + ", this one knows " +
             std::to_string(latest_schema_version()) + ")";
    // quick_check reads the whole file (about 2 ms per MB): always after a
    // crash or for a small database, but a large one that its last user
    // closed cleanly is trusted, so that a restart stays fast.
    std::error_code size_ec;
    auto bytes = std::filesystem::file_size(path, size_ec);
    bool large = !size_ec && bytes > kTrustCleanCloseAbove;
    if (!large || !closed_cleanly(db)) {
      std::string check = db.text_of("PRAGMA quick_check(1)");
      if (check != "ok") return "fails its integrity check (" + check + ")";
    }
    std::string owner = db.text_of("SELECT value FROM meta WHERE key = 'root'");
    if (owner != root) return "belongs to another workspace ('" + owner + "')";
    return std::nullopt;
  } catch (const IndexError& e) {
    return std::string("cannot be read as an index: ") + e.what();
  }
}

void move_aside(const std::filesystem::path& path) {
  std::error_code ec;
  auto broken = std::filesystem::path(path.string() + ".broken");
  std::filesystem::rename(path, broken, ec);
  if (ec) std::filesystem::remove(path, ec);
  // A write-ahead log belongs to the database it was written for: left behind,
  // SQLite would replay it into the new one.
  std::filesystem::remove(path.string() + "-wal", ec);
  std::filesystem::remove(path.string() + "-shm", ec);
}

std::unique_ptr<Database> open_checked(const std::filesystem::path& path, const std::string& root) {
  auto db = std::make_unique<Database>(path.string(), Database::Mode::ReadWrite);
  configure_connection(*db);
  if (db->integer_of("PRAGMA application_id") == 0) create_index_schema(*db, root, latest_schema_version());
  migrate_index_schema(*db, latest_schema_version());
  return db;
}

}  // namespace

int latest_schema_version() { return migrations().back().version; }

void create_index_schema(Database& db, const std::string& root, int version) {
  Transaction tx(db);
  db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
  tx.commit();
  migrate_index_schema(db, version);
  Transaction meta(db);
  db.query("INSERT OR REPLACE INTO meta(key, value) VALUES ('root', ?)").bind(1, root).run();
  meta.commit();
}

void migrate_index_schema(Database& db, int version) {
  int64_t current = db.integer_of("PRAGMA user_version");
  for (const auto& step : migrations()) {
    if (step.version <= current || step.version > version) continue;
    log::info("index: migrating '", db.path(), "' to schema ", step.version);
    Transaction tx(db);
    db.exec(step.sql);
    db.exec("PRAGMA user_version = " + std::to_string(step.version));
    tx.commit();
  }
}

std::unique_ptr<Database> open_index_database(const std::filesystem::path& path, const std::string& root) {
  std::error_code ec;
  if (!path.parent_path().empty()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec)
    throw IndexError("index database '" + path.string() + "': cannot create its directory: " + ec.message());
  if (auto problem = problem_with(path, root)) {
    log::warn("index: database '", path.string(), "' ", *problem, "; moving it aside to '", path.string(),
              ".broken' and building a new index");
    move_aside(path);
  }
  std::unique_ptr<Database> db;
  try {
    db = open_checked(path, root);
  } catch (const IndexError& e) {
    // A failed migration leaves a database we cannot use; start over once.
    log::warn("index: ", e.what(), "; building a new index");
    move_aside(path);
    db = open_checked(path, root);
  }
  mark_closed_cleanly(*db, false);  // until close_index_database says otherwise
  return db;
}

void mark_closed_cleanly(Database& db, bool clean) {
  db.exec(std::string("INSERT INTO meta(key, value) VALUES ('closed_cleanly', '") + (clean ? "1" : "0") +
          "') ON CONFLICT(key) DO UPDATE SET value = excluded.value");
}

}  // namespace astfill::index
