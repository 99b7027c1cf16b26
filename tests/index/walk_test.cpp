// The workspace walk: what it reports and what it leaves out (ignore files,
// .git, large files, special files, symlink loops, unreadable directories),
// and telling binary files from text (reading them: tests/support/files_test.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../engine/temp_dir.h"
#include "index/files.h"
#include "index/walk.h"
#include "toy_project.h"

using namespace astfill::index;
using astfill::testing::TempDir;
using astfill::testing::write_file;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> paths_of(const WalkResult& r) {
  std::vector<std::string> out;
  for (const auto& f : r.files) out.push_back(f.path);
  return out;
}

using Paths = std::vector<std::string>;

}  // namespace

TEST_CASE("the walk honours nested .gitignore and .astfillignore files and skips .git", "[walk]") {
  TempDir dir;
  auto root = dir.path();
  write_file(root, ".gitignore", "build/\n*.gen.py\n");
  write_file(root, "main.py", "def main()\n");
  write_file(root, "build/out.py", "x\n");
  write_file(root, "a.gen.py", "x\n");
  write_file(root, "src/.gitignore", "!keep.gen.py\n/local.py\n");
  write_file(root, "src/keep.gen.py", "x\n");
  write_file(root, "src/other.gen.py", "x\n");
  write_file(root, "src/local.py", "x\n");
  write_file(root, "src/deep/local.py", "x\n");
  write_file(root, ".astfillignore", "vendor/\n");
  write_file(root, "vendor/lib.py", "x\n");
  write_file(root, ".git/config.py", "x\n");
  write_file(root, "sub/.git", "gitdir: elsewhere\n");  // a worktree's .git file
  write_file(root, "sub/mod.py", "x\n");
  write_file(root, "build/negated/inside.py", "x\n");
  write_file(root, ".gitignore", "build/\n*.gen.py\n!build/negated/\n");  // cannot re-include inside build/

  WalkResult r = walk_workspace(root, {});
  CHECK(paths_of(r) == Paths{".astfillignore", ".gitignore", "main.py", "src/.gitignore", "src/deep/local.py",
                             "src/keep.gen.py", "sub/mod.py"});
  CHECK(r.ignored >= 4);
}

TEST_CASE("the walk reports sizes and mtimes, filters by `wanted`, and skips large files", "[walk]") {
  TempDir dir;
  auto root = dir.path();
  write_file(root, "small.py", "0123456789");
  write_file(root, "big.py", std::string(2000, 'x'));
  write_file(root, "notes.txt", "hello");
  WalkOptions options;
  options.max_file_bytes = 1000;
  options.wanted = [](std::string_view p) { return p.ends_with(".py"); };
  WalkResult r = walk_workspace(root, options);
  REQUIRE(paths_of(r) == Paths{"small.py"});
  CHECK(r.files[0].size == 10);
  struct stat st {};
  REQUIRE(::stat((root / "small.py").c_str(), &st) == 0);
  CHECK(r.files[0].mtime_ns == int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
  CHECK(r.too_large == 1);
}

TEST_CASE("the walk follows symlinks but enters each directory once (loops end)", "[walk]") {
  TempDir dir;
  auto root = dir.path();
  write_file(root, "a/x.py", "x\n");
  fs::create_directory_symlink("..", root / "a" / "loop");        // a/loop -> root
  fs::create_directory_symlink(root / "a", root / "alias");      // alias -> a
  fs::create_symlink(root / "a" / "x.py", root / "linked.py");    // a file symlink
  fs::create_symlink(root / "missing.py", root / "dangling.py");  // dangling
  WalkResult r = walk_workspace(root, {});
  CHECK(paths_of(r) == Paths{"a/x.py", "linked.py"});
  CHECK(r.repeated_directories == 2);

  WalkOptions no_links;
  no_links.follow_symlinks = false;
  CHECK(paths_of(walk_workspace(root, no_links)) == Paths{"a/x.py"});
}

TEST_CASE("the walk skips FIFOs and carries on past directories it cannot read", "[walk]") {
  TempDir dir;
  auto root = dir.path();
  write_file(root, "ok.py", "x\n");
  REQUIRE(::mkfifo((root / "pipe.py").c_str(), 0600) == 0);
  write_file(root, "locked/secret.py", "x\n");
  write_file(root, "unreadable.py", "x\n");
  fs::permissions(root / "locked", fs::perms::none);
  fs::permissions(root / "unreadable.py", fs::perms::none);
  bool permissions_bite = ::access((root / "unreadable.py").c_str(), R_OK) != 0;  // not so for root
  WalkResult r = walk_workspace(root, {});
  fs::permissions(root / "locked", fs::perms::owner_all);
  auto found = paths_of(r);
  if (permissions_bite) {
    CHECK(found == Paths{"ok.py"});
    CHECK(r.unreadable == 2);
  } else {
    WARN("running with privileges that read anything: only checking that the walk completes");
    CHECK(std::count(found.begin(), found.end(), "ok.py") == 1);
  }
  CHECK(std::count(found.begin(), found.end(), "pipe.py") == 0);
}

TEST_CASE("a walk stops when cancelled, a missing root is reported, not fatal", "[walk]") {
  TempDir dir;
  for (int i = 0; i < 20; ++i) write_file(dir.path(), "d" + std::to_string(i) + "/f.py", "x\n");
  WalkOptions options;
  int polls = 0;
  options.cancelled = [&] { return ++polls > 5; };
  WalkResult r = walk_workspace(dir.path(), options);
  CHECK(r.cancelled);
  CHECK(r.files.size() < 20);

  WalkResult missing = walk_workspace(dir.path() / "nope", {});
  CHECK(missing.files.empty());
  CHECK(missing.unreadable == 1);
}

TEST_CASE("binary detection", "[walk]") {
  CHECK(looks_binary(std::string("ab\0cd", 5)));
  CHECK_FALSE(looks_binary("plain text"));
  CHECK_FALSE(looks_binary(std::string(9000, 'x') + std::string(1, '\0')));  // past the first 8 KiB
}

TEST_CASE("workspace paths", "[walk]") {
  fs::path root = "/work/ws";
  CHECK(workspace_relative(root, "/work/ws/a/b.py") == "a/b.py");
  CHECK(workspace_relative(root, "/work/ws/./a/../c.py") == "c.py");
  CHECK(workspace_relative(root, "a//b.py") == "a/b.py");
  CHECK_FALSE(workspace_relative(root, "/work/wsx/a.py"));
  CHECK_FALSE(workspace_relative(root, "/work/ws"));
  CHECK_FALSE(workspace_relative(root, "../x.py"));
  CHECK_FALSE(workspace_relative(root, "/work/ws/../x.py"));
  CHECK(parent_dir("a/b/c.py") == "a/b");
  CHECK(parent_dir("c.py") == "");
  CHECK(base_name("a/b/c.py") == "c.py");
  CHECK(join_path("", "x") == "x");
  CHECK(join_path("a", "x") == "a/x");
}

TEST_CASE("the database lives under the cache directory, named by the root's hash", "[walk]") {
  const char* old = std::getenv("XDG_CACHE_HOME");
  std::string saved = old ? old : "";
  ::setenv("XDG_CACHE_HOME", "/tmp/astfill-cache-test", 1);
  auto a = default_database_path("/work/a");
  auto b = default_database_path("/work/b");
  CHECK(a.parent_path() == fs::path("/tmp/astfill-cache-test/astfill/index"));
  CHECK(a.extension() == ".db");
  CHECK(a.stem().string().size() == 16);
  CHECK(a != b);
  CHECK(a == default_database_path("/work/a"));
  ::setenv("XDG_CACHE_HOME", "relative/ignored", 1);  // the spec wants an absolute path
  CHECK(default_database_path("/work/a").string().find("relative") == std::string::npos);
  if (old) ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  else ::unsetenv("XDG_CACHE_HOME");
}
