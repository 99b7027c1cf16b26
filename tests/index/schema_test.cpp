// The database layer and the schema: migrations from an older version, and
// every kind of file at the index's path that is not a usable index (garbage,
// another application's database, damaged pages, a newer schema, another
// workspace's index), each moved aside and rebuilt.
#include <catch2/catch.hpp>

#include <fstream>
#include <sqlite3.h>

#include "../engine/temp_dir.h"
#include "index/database.h"
#include "index/index.h"
#include "index/schema.h"
#include "toy_project.h"

using namespace astfill::index;
using astfill::testing::TempDir;
namespace fs = std::filesystem;

namespace {

int64_t count(Database& db, const std::string& table) { return db.integer_of("SELECT count(*) FROM " + table); }

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Opens the index at `path` and checks it is a fresh, healthy one.
void check_fresh_index(const fs::path& path, const std::string& root) {
  auto db = open_index_database(path, root);
  CHECK(db->integer_of("PRAGMA application_id") == kApplicationId);
  CHECK(db->integer_of("PRAGMA user_version") == latest_schema_version());
  CHECK(db->text_of("PRAGMA journal_mode") == "wal");
  CHECK(db->text_of("SELECT value FROM meta WHERE key = 'root'") == root);
  CHECK(count(*db, "files") == 0);
}

}  // namespace

TEST_CASE("a new index gets the latest schema, our application id and WAL", "[schema]") {
  TempDir dir;
  auto path = dir.path() / "deep" / "er" / "index.db";  // directories are created
  check_fresh_index(path, "/ws");
  check_fresh_index(path, "/ws");  // and opens again as is
  CHECK_FALSE(fs::exists(path.string() + ".broken"));
}

TEST_CASE("an empty file at the path becomes a new index", "[schema]") {
  TempDir dir;
  auto path = dir.path() / "index.db";
  write_bytes(path, "");
  check_fresh_index(path, "/ws");
  CHECK_FALSE(fs::exists(path.string() + ".broken"));
}

TEST_CASE("a file that is not SQLite is moved aside and the index rebuilt", "[schema]") {
  TempDir dir;
  auto path = dir.path() / "index.db";
  write_bytes(path, std::string(10000, 'z'));
  write_bytes(path.string() + "-wal", "stale log of another database");
  check_fresh_index(path, "/ws");
  CHECK(fs::file_size(path.string() + ".broken") == 10000);
}

TEST_CASE("another application's database is moved aside, not touched", "[schema]") {
  TempDir dir;
  auto path = dir.path() / "index.db";
  {
    Database other(path.string(), Database::Mode::ReadWrite);
    other.exec("CREATE TABLE theirs(x); INSERT INTO theirs VALUES (42);");
  }
  check_fresh_index(path, "/ws");
  Database moved((path.string() + ".broken"), Database::Mode::ReadOnly);
  CHECK(moved.integer_of("SELECT x FROM theirs") == 42);
}

TEST_CASE("a database with damaged pages fails its check and is rebuilt", "[schema]") {
  TempDir dir;
  auto path = dir.path() / "index.db";
  {
    auto db = open_index_database(path, "/ws");
    Transaction tx(*db);
    for (int i = 0; i < 300; ++i) {
      db->query("INSERT INTO files(path, dir, content_hash, mtime_ns, size, language, state) "
                "VALUES (?, '', 1, 1, 1, 'toy', 1)")
          .bind(1, "file" + std::to_string(i) + ".toy")
          .run();
    }
    tx.commit();
  }
  // Scribble over the header of every page after the first two.
  auto size = fs::file_size(path);
  REQUIRE(size > 4 * 4096);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    for (std::streamoff page = 2; page * 4096 < static_cast<std::streamoff>(size); ++page) {
      f.seekp(page * 4096);
      f.write("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 12);
    }
  }
  check_fresh_index(path, "/ws");
  CHECK(fs::exists(path.string() + ".broken"));
}

TEST_CASE("an index from a newer astfill, or of another workspace, is rebuilt", "[schema]") {
  TempDir dir;
  auto path = dir.path() / "index.db";
  {
    auto db = open_index_database(path, "/ws");
    db->exec("PRAGMA user_version = 999");
  }
  check_fresh_index(path, "/ws");
  fs::remove(path.string() + ".broken");
  check_fresh_index(path, "/elsewhere");
  CHECK(fs::exists(path.string() + ".broken"));
}

TEST_CASE("an index at schema 1 is migrated, keeping its files, and reparsed to fill chunks", "[schema]") {
  TempDir dir;
  auto options = astfill::testing::toy_options(dir.path());
  astfill::testing::write_file(options.root, "a.toy", "def alpha_function()\n    call beta\n");
  {
    Database old(options.database.string(), Database::Mode::ReadWrite);
    create_index_schema(old, fs::canonical(options.root).string(), 1);
    CHECK(old.integer_of("PRAGMA user_version") == 1);
    CHECK(old.integer_of("SELECT count(*) FROM sqlite_schema WHERE name = 'chunks'") == 0);
    // As a version-1 indexer left it: the file indexed, mtime and size current.
    struct stat st {};
    REQUIRE(::stat((options.root / "a.toy").c_str(), &st) == 0);
    old.query("INSERT INTO files(path, dir, content_hash, mtime_ns, size, language, state) "
              "VALUES ('a.toy', '', 7, ?, ?, 'toy', 1)")
        .bind(1, int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec)
        .bind(2, int64_t(st.st_size))
        .run();
  }
  {
    auto db = open_index_database(options.database, fs::canonical(options.root).string());
    CHECK(db->integer_of("PRAGMA user_version") == latest_schema_version());
    CHECK(db->integer_of("SELECT state FROM files WHERE path = 'a.toy'") == int64_t(FileState::Stale));
    CHECK_FALSE(fs::exists(options.database.string() + ".broken"));
  }
  auto log = std::make_shared<astfill::testing::ExtractorLog>();
  Index index(options, astfill::testing::toy_extractor(log), astfill::testing::toy_language);
  index.sync_with_disk();
  index.wait_until_idle();
  CHECK(log->calls == 1);  // same mtime and size, but stale: parsed again
  auto chunks = index.similar_chunks("alpha_function", 5);
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].path == "a.toy");
}

TEST_CASE("database errors name the file, transactions roll back unless committed", "[database]") {
  TempDir dir;
  auto path = dir.path() / "t.db";
  Database db(path.string(), Database::Mode::ReadWrite);
  db.exec("CREATE TABLE t(x INTEGER NOT NULL)");
  try {
    db.query("SELECT nope FROM t");
    FAIL("expected an error");
  } catch (const IndexError& e) {
    CHECK(std::string(e.what()).find(path.string()) != std::string::npos);
    CHECK(std::string(e.what()).find("nope") != std::string::npos);
  }
  {
    Transaction tx(db);
    db.query("INSERT INTO t VALUES (1)").run();
  }
  CHECK(count(db, "t") == 0);
  {
    Transaction tx(db);
    db.query("INSERT INTO t VALUES (1)").run();
    tx.commit();
  }
  CHECK(count(db, "t") == 1);
  CHECK_THROWS_AS(db.query("INSERT INTO t VALUES (NULL)").run(), IndexError);
  CHECK_THROWS_AS(Database((dir.path() / "no" / "such" / "dir.db").string(), Database::Mode::ReadOnly), IndexError);
}

TEST_CASE("cached statements are reused, and a busy one is not shared", "[database]") {
  TempDir dir;
  Database db((dir.path() / "t.db").string(), Database::Mode::ReadWrite);
  db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);");
  const char* sql = "SELECT x FROM t ORDER BY x";
  int64_t outer_sum = 0, inner_rows = 0;
  {
    Query outer = db.query(sql);
    while (outer.step()) {
      outer_sum += outer.integer(0);
      Query inner = db.query(sql);  // same SQL while the cached one is mid-iteration
      while (inner.step()) ++inner_rows;
    }
  }
  CHECK(outer_sum == 6);
  CHECK(inner_rows == 9);
  Query again = db.query(sql);  // the cached statement was reset
  REQUIRE(again.step());
  CHECK(again.integer(0) == 1);
}

TEST_CASE("read connections are pooled and see committed writes", "[database]") {
  TempDir dir;
  auto path = (dir.path() / "t.db").string();
  auto writer = open_index_database(path, "/ws");
  ReadConnections readers(path);
  {
    auto a = readers.acquire();
    auto b = readers.acquire();  // a second concurrent reader gets its own
    CHECK(&*a != &*b);
    CHECK(a->integer_of("SELECT count(*) FROM files") == 0);
  }
  Transaction tx(*writer);
  writer->exec("INSERT INTO files(path, dir, content_hash, mtime_ns, size, language, state) "
               "VALUES ('x', '', 1, 1, 1, 'toy', 1)");
  auto r = readers.acquire();
  CHECK(r->integer_of("SELECT count(*) FROM files") == 0);  // uncommitted: not seen, and not blocked
  tx.commit();
  CHECK(r->integer_of("SELECT count(*) FROM files") == 1);
}
