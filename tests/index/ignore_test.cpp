// The gitignore matcher against gitignore(5): one case per documented rule
// (and the corners we chose), then the same rules checked against git itself
// (`git check-ignore`) on a generated repository when git is installed.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>

#include "../engine/temp_dir.h"
#include "index/ignore.h"
#include "index/walk.h"
#include "toy_project.h"

using namespace astfill::index;
using astfill::testing::TempDir;

namespace {

// Whether `path` is ignored by a root .gitignore holding `rules`.
bool ignored(const std::string& rules, const std::string& path, bool is_dir = false) {
  IgnoreStack stack;
  stack.push(IgnoreFile(rules, ""));
  return stack.ignored(path, is_dir);
}

}  // namespace

TEST_CASE("a pattern without a slash matches the last component at any depth", "[ignore]") {
  CHECK(ignored("*.log", "a.log"));
  CHECK(ignored("*.log", "dir/deep/b.log"));
  CHECK_FALSE(ignored("*.log", "a.logx"));
  CHECK(ignored("build", "build", true));
  CHECK(ignored("build", "src/build"));
  CHECK_FALSE(ignored("build", "builds"));
}

TEST_CASE("a leading or middle slash anchors the pattern to the ignore file's directory", "[ignore]") {
  CHECK(ignored("/todo.txt", "todo.txt"));
  CHECK_FALSE(ignored("/todo.txt", "sub/todo.txt"));
  CHECK(ignored("doc/frotz", "doc/frotz"));
  CHECK_FALSE(ignored("doc/frotz", "a/doc/frotz"));
  CHECK(ignored("/*.c", "cat-file.c"));
  CHECK_FALSE(ignored("/*.c", "mozilla-sha1/sha1.c"));
}

TEST_CASE("a trailing slash matches directories only", "[ignore]") {
  CHECK(ignored("frotz/", "frotz", true));
  CHECK(ignored("frotz/", "a/frotz", true));
  CHECK_FALSE(ignored("frotz/", "frotz", false));
  CHECK(ignored("doc/frotz/", "doc/frotz", true));
  CHECK_FALSE(ignored("doc/frotz/", "a/doc/frotz", true));
}

TEST_CASE("'*' and '?' stay within one component", "[ignore]") {
  CHECK(ignored("foo/*", "foo/test.json"));
  CHECK(ignored("foo/*", "foo/bar", true));
  CHECK_FALSE(ignored("foo/*", "foo/bar/hello.c"));
  CHECK_FALSE(ignored("foo/*.c", "foo/bar/x.c"));
  CHECK(ignored("a?c", "abc"));
  CHECK_FALSE(ignored("x/a?c", "x/a/c"));
  CHECK(ignored("*", "anything/at/all"));
  CHECK(ignored("*", ".hidden"));
}

TEST_CASE("'**' matches any number of directories", "[ignore]") {
  CHECK(ignored("**/foo", "foo"));
  CHECK(ignored("**/foo", "a/b/foo"));
  CHECK(ignored("**/foo/bar", "foo/bar"));
  CHECK(ignored("**/foo/bar", "x/y/foo/bar"));
  CHECK_FALSE(ignored("**/foo/bar", "foo/x/bar"));
  CHECK(ignored("abc/**", "abc/x"));
  CHECK(ignored("abc/**", "abc/x/y"));
  CHECK_FALSE(ignored("abc/**", "abc", true));
  CHECK(ignored("a/**/b", "a/b"));
  CHECK(ignored("a/**/b", "a/x/b"));
  CHECK(ignored("a/**/b", "a/x/y/b"));
  CHECK_FALSE(ignored("a/**/b", "a/xb"));
  CHECK_FALSE(ignored("a/**/b", "b"));
  CHECK(ignored("**", "x/y"));
  // Elsewhere "**" is an ordinary star: it does not cross '/'.
  CHECK(ignored("a**z", "abcz"));
  CHECK_FALSE(ignored("x/a**z", "x/a/z"));
  CHECK(ignored("foo/**/", "foo/a/b", true));
  CHECK_FALSE(ignored("foo/**/", "foo/a/b", false));
}

TEST_CASE("bracket expressions", "[ignore]") {
  CHECK(ignored("file[0-9].txt", "file7.txt"));
  CHECK_FALSE(ignored("file[0-9].txt", "filea.txt"));
  CHECK(ignored("[!a]*", "bcd"));
  CHECK_FALSE(ignored("[!a]*", "abc"));
  CHECK_FALSE(ignored("[^a]*", "abc"));
  CHECK(ignored("[[:digit:]]x", "5x"));
  CHECK_FALSE(ignored("[[:digit:]]x", "ax"));
  CHECK(ignored("[[:upper:][:digit:]]", "Q"));
  CHECK(ignored("[]]", "]"));
  CHECK(ignored("[!]]", "a"));
  CHECK(ignored("[a-cx]", "x"));
  CHECK(ignored("[\\]]", "]"));
  CHECK(ignored("a[-]b", "a-b"));
  // Unterminated or unknown classes match nothing (git's wildmatch).
  CHECK_FALSE(ignored("[abc", "[abc"));
  CHECK_FALSE(ignored("[abc", "a"));
  CHECK_FALSE(ignored("[[:nope:]]", "a"));
}

TEST_CASE("negation re-includes, the last matching pattern wins", "[ignore]") {
  CHECK_FALSE(ignored("*.log\n!keep.log\n", "keep.log"));
  CHECK(ignored("*.log\n!keep.log\n", "x.log"));
  CHECK(ignored("!keep.log\n*.log\n", "keep.log"));
  CHECK(ignored("\\!important", "!important"));
  CHECK_FALSE(ignored("\\!important", "important"));
}

TEST_CASE("comments, blank lines, escapes and trailing spaces", "[ignore]") {
  CHECK_FALSE(ignored("# comment\n\n   \n", "# comment"));
  CHECK(ignored("\\#hash", "#hash"));
  CHECK(ignored("foo   ", "foo"));
  CHECK_FALSE(ignored("foo   ", "foo "));
  CHECK(ignored("foo\\ ", "foo "));
  CHECK_FALSE(ignored("foo\\ ", "foo"));
  CHECK(ignored("\\*.txt", "*.txt"));
  CHECK_FALSE(ignored("\\*.txt", "a.txt"));
  CHECK_FALSE(ignored("trailing\\", "trailing"));
  CHECK(ignored("*.tmp\r\n", "x.tmp"));  // CRLF files
  CHECK_FALSE(ignored("*.LOG", "a.log"));  // case-sensitive
  CHECK_FALSE(ignored("/\n!\n", "x"));     // patterns with nothing left
}

TEST_CASE("deeper ignore files win, and apply only below their directory", "[ignore]") {
  IgnoreStack stack;
  stack.push(IgnoreFile("*.gen\n", ""));
  stack.push(IgnoreFile("!keep.gen\n/build\na/b\n", "sub"));
  CHECK(stack.ignored("x.gen", false));
  CHECK(stack.ignored("sub/other.gen", false));
  CHECK_FALSE(stack.ignored("sub/keep.gen", false));
  CHECK(stack.ignored("keep.gen", false));  // the negation is sub's
  CHECK(stack.ignored("sub/build", true));
  CHECK_FALSE(stack.ignored("sub/x/build", true));
  CHECK_FALSE(stack.ignored("build", true));
  CHECK(stack.ignored("sub/a/b", false));
  CHECK_FALSE(stack.ignored("sub/x/a/b", false));
  CHECK_FALSE(stack.ignored("subway/a/b", false));
}

TEST_CASE("IgnoreCache answers for single paths: ancestors, nested files, .git", "[ignore]") {
  TempDir dir;
  auto root = dir.path();
  astfill::testing::write_file(root, ".gitignore", "build/\n*.gen\n");
  astfill::testing::write_file(root, "src/.gitignore", "!keep.gen\n");
  astfill::testing::write_file(root, "src/.astfillignore", "secret.py\n");
  std::filesystem::create_directories(root / ".git" / "info");
  astfill::testing::write_file(root, ".git/info/exclude", "local.py\n");
  IgnoreCache cache(root);
  CHECK(cache.ignored("build/x.py"));
  CHECK(cache.ignored("src/build/deep/x.py"));
  CHECK(cache.ignored("a.gen"));
  CHECK_FALSE(cache.ignored("src/keep.gen"));
  CHECK(cache.ignored("src/other.gen"));
  CHECK(cache.ignored("src/secret.py"));
  CHECK_FALSE(cache.ignored("secret.py"));
  CHECK(cache.ignored("local.py"));
  CHECK(cache.ignored(".git/config"));
  CHECK_FALSE(cache.ignored("src/main.py"));

  astfill::testing::write_file(root, ".gitignore", "");
  CHECK(cache.ignored("a.gen"));  // cached until cleared
  cache.clear();
  CHECK_FALSE(cache.ignored("a.gen"));
}

// ---- against git ------------------------------------------------------------------

namespace {

bool have_git() { return std::system("git --version >/dev/null 2>&1") == 0; }

std::set<std::string> git_ignored(const std::filesystem::path& repo, const std::vector<std::string>& paths) {
  auto list = repo / ".." / "paths.txt";
  {
    std::ofstream out(list);
    for (const auto& p : paths) out << p << "\n";
  }
  std::string cmd = "git -C '" + repo.string() + "' check-ignore --no-index --stdin < '" + list.string() + "'";
  std::set<std::string> out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe);
  char line[4096];
  while (std::fgets(line, sizeof line, pipe)) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    out.insert(s);
  }
  ::pclose(pipe);
  return out;
}

}  // namespace

TEST_CASE("the matcher agrees with git check-ignore", "[ignore][git]") {
  if (!have_git()) {
    WARN("git is not installed; skipping the comparison with git");
    return;
  }
  TempDir dir;
  auto repo = dir.path() / "repo";
  std::filesystem::create_directories(repo);
  REQUIRE(std::system(("git init -q '" + repo.string() + "'").c_str()) == 0);
  using astfill::testing::write_file;
  write_file(repo, ".gitignore",
             "*.log\n!keep.log\n/root_only.txt\ndoc/frotz/\nfrotz/\nfoo/*\n**/deep/target\nabc/**\n"
             "a/**/b\nfile[0-9].txt\n[!x]y.dat\n\\#hash\n\\!bang\nspace\\ \ntrail   \n*.tmp\r\n"
             "[[:digit:]]z.md\nq?q\n");
  write_file(repo, "sub/.gitignore", "!important.log\n/anchored\nmid/dle\n*.gen\n");
  write_file(repo, "sub/inner/.gitignore", "!*.gen\n");
  std::vector<std::string> files = {
      "a.log", "keep.log", "sub/x.log", "sub/important.log", "root_only.txt", "sub/root_only.txt",
      "doc/frotz/x.c", "frotz", "z/frotz/y.c", "foo/test.json", "foo/bar/hello.c", "x/deep/target",
      "deep/target", "abc/x/y", "abc.txt", "a/b", "a/x/y/b", "a/xb", "file5.txt", "filex.txt", "ay.dat",
      "xy.dat", "#hash", "!bang", "space ", "space", "trail", "x.tmp", "7z.md", "az.md", "qaq", "sub/anchored",
      "sub/z/anchored", "sub/mid/dle", "sub/z/mid/dle", "sub/a.gen", "sub/inner/b.gen", "top.gen", "plain.c"};
  for (const auto& f : files) write_file(repo, f, "x\n");
  auto expected = git_ignored(repo, files);
  REQUIRE(expected.count("a.log"));  // the comparison ran

  IgnoreCache cache(repo);
  for (const auto& f : files) {
    INFO(f);
    CHECK(cache.ignored(f) == (expected.count(f) == 1));
  }
}
