// A thin layer over SQLite: a connection that caches its prepared statements,
// a statement in use that resets itself, a transaction that rolls back unless
// committed, and a pool of read-only connections so that every thread that
// queries has its own (in WAL mode, readers never wait for the writer).
//
// Errors become IndexError exceptions whose message names the database file;
// the index catches them at its boundary (a query answers nothing, a write is
// retried or reported), so a damaged database never takes the daemon down.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace astfill::index {

class IndexError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Database;

// A prepared statement in use. Bind parameters (1-based), step through rows,
// read columns (0-based). Resets and clears its bindings on destruction, so
// the cached statement is ready for the next user.
class Query {
 public:
  Query(Query&& other) noexcept;
  Query& operator=(Query&&) = delete;
  ~Query();

  Query& bind(int index, int64_t value);
  Query& bind(int index, std::string_view value);
  Query& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Query& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Query& bind_null(int index);

  // True when a row is ready; false when done. Throws IndexError.
  bool step();
  // Steps to the end (for statements that return no rows).
  void run();

  int64_t integer(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  bool is_null(int column) const;

 private:
  friend class Database;
  // `in_use`: the cache's flag for this statement; null for a statement made
  // outside the cache (the cached one was busy), which is finalized instead.
  Query(Database& db, sqlite3_stmt* stmt, bool* in_use) : db_(&db), stmt_(stmt), in_use_(in_use) {}

  Database* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;
};

class Database {
 public:
  enum class Mode { ReadWrite, ReadOnly };

  // Opens (creating when ReadWrite) the database at `path`. Throws IndexError.
  Database(const std::string& path, Mode mode);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements that return no rows.
  void exec(std::string_view sql);
  // A cached prepared statement for `sql`.
  Query query(std::string_view sql);
  // The single value of a one-row, one-column query (for PRAGMAs).
  int64_t integer_of(std::string_view sql);
  std::string text_of(std::string_view sql);

  int64_t last_insert_id() const;
  int changes() const;
  const std::string& path() const { return path_; }

  // An IndexError naming this database, with SQLite's message for `code`.
  [[noreturn]] void fail(int code, std::string_view doing) const;

 private:
  friend class Query;
  sqlite3* db_ = nullptr;
  std::string path_;
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  std::unordered_map<std::string, Cached> statements_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit()ed.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool open_ = true;
};

// Read-only connections for queries, one per concurrent reader: a reader takes
// an idle connection (or opens one) and gives it back when done. Each keeps
// its statement cache between uses.
class ReadConnections {
 public:
  explicit ReadConnections(std::string path) : path_(std::move(path)) {}

  class Lease {
   public:
    Lease(ReadConnections& pool, std::unique_ptr<Database> db) : pool_(&pool), db_(std::move(db)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Database& operator*() { return *db_; }
    Database* operator->() { return db_.get(); }

   private:
    ReadConnections* pool_;
    std::unique_ptr<Database> db_;
  };

  Lease acquire();  // throws IndexError when a connection cannot be opened
  // Closes idle connections (before the database file is replaced).
  void close_idle();

 private:
  std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Database>> idle_;
};

}  // namespace astfill::index
