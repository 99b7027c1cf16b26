// The questions completion asks: definitions (ranked), members, imports and
// where they land (also as files appear and vanish), similar chunks, symbols
// by prefix; and that a reader never waits for a writer.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>

#include "../engine/temp_dir.h"
#include "index/database.h"
#include "index/index.h"
#include "index/store.h"
#include "toy_project.h"

using namespace astfill::index;
using astfill::testing::ExtractorLog;
using astfill::testing::TempDir;
using astfill::testing::toy_extractor;
using astfill::testing::toy_language;
using astfill::testing::toy_options;
using astfill::testing::write_file;
namespace fs = std::filesystem;

namespace {

struct Workspace {
  TempDir dir;
  IndexOptions options = toy_options(dir.path());
  std::unique_ptr<Index> index;

  void write(const std::string& rel, const std::string& text) { write_file(options.root, rel, text); }
  Index& open_and_sync() {
    index.reset();
    index = std::make_unique<Index>(options, toy_extractor(), toy_language);
    index->sync_with_disk();
    index->wait_until_idle();
    return *index;
  }
};

std::vector<std::string> paths(const std::vector<Symbol>& symbols) {
  std::vector<std::string> out;
  for (const auto& s : symbols) out.push_back(s.path);
  return out;
}

std::vector<std::string> names(const std::vector<Symbol>& symbols) {
  std::vector<std::string> out;
  for (const auto& s : symbols) out.push_back(s.name);
  return out;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("definitions rank the current file, then its imports, then its directory, then the rest", "[queries]") {
  Workspace ws;
  ws.write("app/main.py", "import helper\ndef run()\n");
  ws.write("app/helper.py", "def run()\n");
  ws.write("app/sibling.py", "def run()\n");
  ws.write("aaa/far.py", "def run()\n");
  ws.write("zzz/far.py", "def run()\n");
  Index& index = ws.open_and_sync();
  CHECK(paths(index.definitions("run", "app/main.py")) ==
        Strings{"app/main.py", "app/helper.py", "app/sibling.py", "aaa/far.py", "zzz/far.py"});
  CHECK(paths(index.definitions("run", (fs::canonical(ws.options.root) / "app/main.py").string())) ==
        paths(index.definitions("run", "app/main.py")));
  CHECK(paths(index.definitions("run", "")) ==
        Strings{"aaa/far.py", "app/helper.py", "app/main.py", "app/sibling.py", "zzz/far.py"});
  CHECK(index.definitions("run", "app/main.py", 2).size() == 2);
  CHECK(index.definitions("nothing", "app/main.py").empty());

  auto run = index.definitions("run", "app/main.py").front();
  CHECK(run.kind == astfill::parsing::SymbolKind::Function);
  CHECK(run.signature == "def run()");
  CHECK(run.range.start_line == 1);
  CHECK(run.range.start_byte == 14);
}

TEST_CASE("a Go package import ranks every file of the package", "[queries]") {
  Workspace ws;
  ws.write("go.mod", "module example.com/m\n");
  ws.write("cmd/main.go", "import example.com/m/pkg\ndef main()\n");
  ws.write("pkg/a.go", "def Helper()\n");
  ws.write("pkg/b.go", "def Other()\n");
  ws.write("another/c.go", "def Helper()\n");
  ws.write("another/d.go", "def Other()\n");
  Index& index = ws.open_and_sync();
  CHECK(paths(index.definitions("Helper", "cmd/main.go")) == Strings{"pkg/a.go", "another/c.go"});
  CHECK(paths(index.definitions("Other", "cmd/main.go")) == Strings{"pkg/b.go", "another/d.go"});
  auto imports = index.imports_of("cmd/main.go");
  REQUIRE(imports.size() == 1);
  CHECK(imports[0].resolved_path == "pkg");
  CHECK(imports[0].resolved_is_directory);
}

TEST_CASE("members of a class, in order", "[queries]") {
  Workspace ws;
  ws.write("stack.py", "class Stack\n    def push()\n    def pop()\ndef push()\n");
  ws.write("other.py", "class Queue\n    def push()\n");
  Index& index = ws.open_and_sync();
  auto members = index.members("Stack");
  CHECK(names(members) == Strings{"push", "pop"});
  CHECK(members[0].kind == astfill::parsing::SymbolKind::Method);
  CHECK(members[0].container == "Stack");
  CHECK(names(index.members("Queue")) == Strings{"push"});
  CHECK(index.members("Nope").empty());
  CHECK(names(index.members("", 10)) == Strings{"Queue", "Stack", "push"});  // top level, by path
}

TEST_CASE("definitions in a file, or in a package directory", "[queries]") {
  Workspace ws;
  ws.write("stack.py", "class Stack\n    def push()\n    def pop()\ndef make()\n");
  ws.write("other.py", "def other()\n");
  ws.write("pkg/a.go", "def A()\n");
  ws.write("pkg/b.go", "def B()\n");
  ws.write("pkg/sub/c.go", "def C()\n");
  Index& index = ws.open_and_sync();
  auto defs = index.definitions_in("stack.py");
  CHECK(names(defs) == Strings{"Stack", "push", "pop", "make"});
  CHECK(defs[1].container == "Stack");
  CHECK(defs[3].signature == "def make()");
  CHECK(names(index.definitions_in((fs::canonical(ws.options.root) / "stack.py").string())) == names(defs));
  CHECK(names(index.definitions_in("stack.py", 2)) == Strings{"Stack", "push"});
  CHECK(names(index.definitions_in("pkg")) == Strings{"A", "B"});  // the files directly inside, by path
  CHECK(index.definitions_in("").empty());
  CHECK(index.definitions_in("none.py").empty());
  CHECK(index.definitions_in("/outside/x.py").empty());
}

TEST_CASE("what a file imports, and where each lands", "[queries]") {
  Workspace ws;
  ws.write("pkg/__init__.py", "");
  ws.write("pkg/util.py", "def util()\n");
  ws.write("pkg/main.py", "import os.path\nimport .: util\nimport .util: a, b\n");
  Index& index = ws.open_and_sync();
  auto imports = index.imports_of("pkg/main.py");
  REQUIRE(imports.size() == 3);
  CHECK(imports[0].module == "os.path");
  CHECK_FALSE(imports[0].resolved_path);
  CHECK(imports[1].module == ".");
  CHECK(imports[1].names == Strings{"util"});
  CHECK(imports[1].relative);
  CHECK(imports[1].resolved_path == "pkg/util.py");
  CHECK(imports[2].names == Strings{"a", "b"});
  CHECK(imports[2].resolved_path == "pkg/util.py");
  CHECK(imports[2].range.start_line == 2);
  CHECK(index.imports_of("pkg/none.py").empty());
  CHECK(index.imports_of("/outside/x.py").empty());
}

TEST_CASE("imports land on files that appear later, and let go of files that vanish", "[queries]") {
  Workspace ws;
  ws.write("main.py", "import helper\nimport later\n");
  Index& index = ws.open_and_sync();
  CHECK_FALSE(index.imports_of("main.py")[0].resolved_path);

  ws.write("helper.py", "def helper()\n");
  index.file_changed_on_disk("helper.py");
  index.wait_until_idle();
  CHECK(index.imports_of("main.py")[0].resolved_path == "helper.py");

  fs::remove(ws.options.root / "helper.py");
  index.file_changed_on_disk("helper.py");
  index.wait_until_idle();
  CHECK_FALSE(index.imports_of("main.py")[0].resolved_path);

  // While the index is closed: main.py is unchanged, yet its import lands.
  ws.index.reset();
  ws.write("later.py", "def later()\n");
  Index& reopened = ws.open_and_sync();
  CHECK(reopened.imports_of("main.py")[1].resolved_path == "later.py");

  // Editor buffers count as files too.
  reopened.update_file("helper.py", "def helper()\n");
  reopened.wait_until_idle();
  CHECK(reopened.imports_of("main.py")[0].resolved_path == "helper.py");

  // The resolved file id is kept in step with the files table.
  Database db(ws.options.database.string(), Database::Mode::ReadOnly);
  CHECK(db.integer_of("SELECT count(*) FROM imports i JOIN files f ON f.id = i.resolved_file_id "
                      "WHERE f.path = i.resolved_path") == 2);
}

TEST_CASE("a go.mod change resolves every import again", "[queries]") {
  Workspace ws;
  ws.write("go.mod", "module example.com/old\n");
  ws.write("main.go", "import example.com/new/lib\n");
  ws.write("lib/lib.go", "def Lib()\n");
  Index& index = ws.open_and_sync();
  CHECK_FALSE(index.imports_of("main.go")[0].resolved_path);
  ws.write("go.mod", "module example.com/new\n");
  index.file_changed_on_disk("go.mod");
  index.wait_until_idle();
  CHECK(index.imports_of("main.go")[0].resolved_path == "lib");
}

TEST_CASE("similar chunks by BM25 over the window's identifiers", "[queries]") {
  Workspace ws;
  ws.write("net/socket.py", "def open_socket(host, port)\n    connect_tcp(host, port)\n    set_timeout(seconds)\n");
  ws.write("db/query.py", "def run_query(sql)\n    cursor_execute(sql)\n    fetch_rows(cursor)\n");
  ws.write("db/pool.py", "def pool_query(sql)\n    borrow_connection(pool)\n    cursor_execute(sql)\n");
  Index& index = ws.open_and_sync();

  auto hits = index.similar_chunks("result = cursor_execute(sql)\nrows = fetch_rows(cursor)", 5);
  REQUIRE(hits.size() == 2);
  CHECK(hits[0].path == "db/query.py");
  CHECK(hits[1].path == "db/pool.py");
  CHECK(hits[0].score > hits[1].score);
  CHECK(hits[0].start_line == 0);
  CHECK(hits[0].end_line == 3);
  CHECK(hits[0].text.find("fetch_rows") != std::string::npos);

  auto excluded = index.similar_chunks("cursor_execute(sql); fetch_rows(cursor)", 5, "db/query.py");
  REQUIRE(excluded.size() == 1);
  CHECK(excluded[0].path == "db/pool.py");
  CHECK(index.similar_chunks("cursor_execute sql", 1).size() == 1);
  CHECK(index.similar_chunks("if else return", 5).empty());
  // FTS5 syntax in the window is just text.
  CHECK(index.similar_chunks("\"AND\" OR NEAR(x y) * ^ : connect_tcp -port", 5).size() == 1);
  CHECK(index.similar_chunks("\"unterminated", 5).empty());
}

TEST_CASE("words found in most chunks do not drown the rare ones", "[queries]") {
  Workspace ws;
  ws.options.chunks.min_lines = ws.options.chunks.max_lines = 1;  // a chunk per line: many chunks, small files
  std::string common;
  for (int i = 0; i < 600; ++i) common += "call everywhere_" + std::to_string(i % 3) + " everywhere\n";
  ws.write("common.py", common);
  ws.write("rare.py", "call everywhere needle\n");
  Index& index = ws.open_and_sync();
  auto hits = index.similar_chunks("everywhere(needle)", 3);
  REQUIRE(hits.size() == 1);  // "everywhere" was left out of the query
  CHECK(hits[0].path == "rare.py");
  // A window of nothing but words found in (nearly) every chunk finds nothing.
  CHECK(index.similar_chunks("everywhere", 3).empty());
  // A small share of many chunks is still searched for.
  CHECK(index.similar_chunks("everywhere_1", 3).size() == 3);

  // When the commonest word is in at most half the chunks, it is still searched for.
  std::string other;
  for (int i = 0; i < 700; ++i) other += "call other_" + std::to_string(i) + "\n";
  ws.write("other.py", other);
  Index& more = ws.open_and_sync();
  CHECK(more.similar_chunks("everywhere", 3).size() == 3);
  CHECK(more.similar_chunks("everywhere", 700, "common.py").size() == 1);
}

TEST_CASE("symbols by prefix: case-sensitive, by name, through the name index", "[queries]") {
  Workspace ws;
  ws.write("a.py", "def parse_args()\ndef Parse()\ndef apar()\ndef parser_state()\ndef pa()\n");
  ws.write("b.py", "def parse_args()\ndef \xc3\xa9t\xc3\xa9()\ndef \xc3\xa9" "cole()\n");
  Index& index = ws.open_and_sync();
  CHECK(names(index.symbols_with_prefix("par")) == Strings{"parse_args", "parse_args", "parser_state"});
  auto parse_paths = paths(index.symbols_with_prefix("parse_"));
  std::sort(parse_paths.begin(), parse_paths.end());
  CHECK(parse_paths == Strings{"a.py", "b.py"});
  CHECK(names(index.symbols_with_prefix("P")) == Strings{"Parse"});
  CHECK(names(index.symbols_with_prefix("\xc3\xa9")) == Strings{"\xc3\xa9" "cole", "\xc3\xa9t\xc3\xa9"});
  CHECK(index.symbols_with_prefix("", 3).size() == 3);
  CHECK(index.symbols_with_prefix("zzz").empty());
  CHECK(index.symbols_with_prefix("pa", 1).size() == 1);

  CHECK(queries::prefix_upper_bound("ab") == "ac");
  CHECK(queries::prefix_upper_bound("a\xff") == "b");
  CHECK_FALSE(queries::prefix_upper_bound("\xff\xff"));
  CHECK_FALSE(queries::prefix_upper_bound(""));

  Database db(ws.options.database.string(), Database::Mode::ReadOnly);
  std::string all_plan;
  {
    auto q = db.query("EXPLAIN QUERY PLAN SELECT s.name FROM symbols s JOIN files f ON f.id = s.file_id"
                      " WHERE s.name >= 'a' AND s.name < 'b' ORDER BY s.name, s.file_id, s.rowid LIMIT 5");
    while (q.step()) all_plan += q.text(3) + "\n";
  }
  CHECK(all_plan.find("symbols_by_name") != std::string::npos);
  CHECK(all_plan.find("TEMP B-TREE") == std::string::npos);
}

TEST_CASE("symbol search: exact, prefix, substring, word starts, subsequence", "[queries]") {
  Workspace ws;
  ws.write("a.py", "def getFileName()\ndef get_file()\ndef file()\ndef File()\ndef profile_x()\n"
                   "def fly()\ndef unrelated()\ndef f_i_l_e_s()\n");
  Index& index = ws.open_and_sync();
  CHECK(names(index.search_symbols("file")) ==
        Strings{"file", "File", "get_file", "profile_x", "getFileName", "f_i_l_e_s"});
  CHECK(names(index.search_symbols("gfn")) == Strings{"getFileName"});
  CHECK(names(index.search_symbols("File")) ==
        Strings{"File", "file", "getFileName", "get_file", "profile_x", "f_i_l_e_s"});
  CHECK(names(index.search_symbols("file", 2)) == Strings{"file", "File"});
  CHECK(index.search_symbols("zzz").empty());
  CHECK(index.search_symbols("%").empty());  // LIKE's wildcards are escaped
  CHECK(index.search_symbols("_").size() == 3);
  CHECK(index.search_symbols("", 4).size() == 4);

  CHECK(queries::match_rank("abc", "abc") == 0);
  CHECK(queries::match_rank("ABC", "abc") == 1);
  CHECK(queries::match_rank("abcd", "abc") == 2);
  CHECK(queries::match_rank("Abcd", "abc") == 3);
  CHECK(queries::match_rank("xabc", "abc") == 4);
  CHECK(queries::match_rank("xAbc", "abc") == 5);
  CHECK(queries::match_rank("aBigCat", "abc") == 6);
  CHECK(queries::match_rank("xaxbxc", "abc") == 7);
  CHECK_FALSE(queries::match_rank("acb", "abc"));
}

TEST_CASE("a question does not wait for a writer holding a transaction", "[queries]") {
  Workspace ws;
  ws.write("a.py", "def alpha()\n");
  Index& index = ws.open_and_sync();
  Database other(ws.options.database.string(), Database::Mode::ReadWrite);
  Transaction tx(other);
  other.exec("DELETE FROM symbols");
  auto start = std::chrono::steady_clock::now();
  auto found = index.definitions("alpha", "");
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(found.size() == 1);  // the last commit, not the open transaction
  CHECK(elapsed < std::chrono::seconds(1));
}

TEST_CASE("totals: files, symbols, bytes and lines over the whole database", "[queries]") {
  Workspace ws;
  CHECK(ws.open_and_sync().totals().files == 0);
  ws.write("a.py", "class A\n    def f()\n\ndef g()\n");      // 4 lines, 3 definitions
  ws.write("b.py", "def h()\nx = 1\ny = 2\n\n\n");             // 5 lines, the last 2 blank (still in its chunk)
  ws.write("c.py", std::string("bin\0ary\n", 8));              // binary: stored, nothing else
  Index& index = ws.open_and_sync();
  IndexTotals t = index.totals();
  CHECK(t.files == 3);
  CHECK(t.symbols == 4);
  CHECK(t.bytes == 29 + 22 + 8);
  CHECK(t.lines == 4 + 5);  // one chunk per file, ending at its last line

  fs::remove(ws.options.root / "a.py");
  index.sync_with_disk();
  index.wait_until_idle();
  t = index.totals();
  CHECK(t.files == 2);
  CHECK(t.symbols == 1);
  CHECK(t.lines == 5);
}
