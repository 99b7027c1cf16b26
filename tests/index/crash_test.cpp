// Crash safety: a child process indexing a workspace is killed with SIGKILL
// mid-index (synchronised on its "committed N" reports, never on sleeps). The
// database must then be consistent, and indexing must resume where it
// stopped: no file committed before the kill is parsed again.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <set>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "../engine/temp_dir.h"
#include "index/database.h"
#include "index/index.h"
#include "toy_project.h"

extern char** environ;

using namespace astfill::index;
using astfill::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr int kFiles = 150;

// The helper binary, running, with its stdout readable line by line.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    REQUIRE(rc == 0);
    out_ = ::fdopen(fds[0], "r");
  }
  ~Child() {
    if (pid_ > 0) kill();
    if (out_) std::fclose(out_);
  }

  // The next line of output, or "" at the end.
  std::string line() {
    char buf[256];
    if (!std::fgets(buf, sizeof buf, out_)) return "";
    std::string s(buf);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }

  void kill() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

std::set<std::string> committed_definitions(Database& db) {
  std::set<std::string> names;
  Query q = db.query("SELECT s.name FROM symbols s JOIN files f ON f.id = s.file_id WHERE f.state = 1");
  while (q.step()) names.insert(q.text(0));
  return names;
}

// Checks the database a killed indexer left, and returns the definitions it
// had committed.
std::set<std::string> check_consistent(const fs::path& path) {
  Database db(path.string(), Database::Mode::ReadWrite);  // opening replays the write-ahead log
  CHECK(db.text_of("PRAGMA integrity_check") == "ok");
  CHECK_NOTHROW(db.exec("INSERT INTO chunk_text(chunk_text) VALUES ('integrity-check')"));
  int64_t files = db.integer_of("SELECT count(*) FROM files");
  // Every file is whole: exactly its one definition and its one chunk.
  CHECK(db.integer_of("SELECT count(*) FROM symbols") == files);
  CHECK(db.integer_of("SELECT count(*) FROM chunks") == files);
  CHECK(db.integer_of("SELECT count(*) FROM files f WHERE (SELECT count(*) FROM symbols s WHERE s.file_id = f.id) "
                      "<> 1") == 0);
  auto names = committed_definitions(db);
  CHECK(static_cast<int64_t>(names.size()) == files);
  return names;
}

void write_workspace(const fs::path& root) {
  for (int i = 0; i < kFiles; ++i)
    astfill::testing::write_file(root, "d" + std::to_string(i % 7) + "/f" + std::to_string(i) + ".py",
                                 "def fn_" + std::to_string(i) + "()\n    work_" + std::to_string(i) + "()\n");
}

// Indexes again in this process; checks that nothing committed before is
// parsed again and that the index ends up complete.
void resume_and_check(const astfill::index::IndexOptions& options, const std::set<std::string>& committed) {
  auto log = std::make_shared<astfill::testing::ExtractorLog>();
  Index index(options, astfill::testing::toy_extractor(log), astfill::testing::toy_language);
  index.sync_with_disk();
  index.wait_until_idle();
  auto parsed = log->parsed();
  for (const auto& name : parsed) {
    INFO(name);
    CHECK(committed.count(name) == 0);
  }
  CHECK(parsed.size() + committed.size() == static_cast<size_t>(kFiles));
  CHECK(index.symbols_with_prefix("fn_", 1000).size() == static_cast<size_t>(kFiles));
}

}  // namespace

TEST_CASE("killed between commits, the index is consistent and resumes where it stopped", "[crash]") {
  TempDir dir;
  auto options = astfill::testing::toy_options(dir.path());
  write_workspace(options.root);
  std::set<std::string> committed;
  {
    Child child({ASTFILL_INDEX_HELPER, options.root.string(), options.database.string(), "4", "20"});
    std::string line;
    while ((line = child.line()) != "stopped") REQUIRE(!line.empty());
    child.kill();  // blocked in the commit callback; results parsed since wait in memory
  }
  committed = check_consistent(options.database);
  CHECK(committed.size() >= 20);
  CHECK(committed.size() < static_cast<size_t>(kFiles));
  resume_and_check(options, committed);
}

TEST_CASE("killed at full speed, the index is consistent and resumes where it stopped", "[crash]") {
  TempDir dir;
  auto options = astfill::testing::toy_options(dir.path());
  write_workspace(options.root);
  for (int attempt = 0; attempt < 3; ++attempt) {
    fs::remove(options.database);
    fs::remove(options.database.string() + "-wal");
    fs::remove(options.database.string() + "-shm");
    {
      Child child({ASTFILL_INDEX_HELPER, options.root.string(), options.database.string(), "2", "0"});
      // Kill on the first commit report, wherever the child is by then.
      std::string line = child.line();
      REQUIRE(line.rfind("committed", 0) == 0);
      child.kill();
    }
    auto committed = check_consistent(options.database);
    CHECK(!committed.empty());
    resume_and_check(options, committed);
  }
}
