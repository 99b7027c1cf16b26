// Reserved words the grammars accept as names (the issue-14 leniencies): a
// keyword in a name's place is an error the guard must see, in every
// language, and real code (files no one here wrote, installed by
// scripts/setup) never has one.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "parsing/document.h"
#include "support/files.h"

using astfill::parsing::Document;
namespace fs = std::filesystem;

namespace {

// The leniency is closed when the text is a syntax error to the grammar, or
// a reserved word stands where a name should.
bool refused(const std::string& language, const std::string& text) {
  Document doc(language, text);
  return doc.has_syntax_errors() || doc.reserved_words_as_names(0, static_cast<uint32_t>(text.size()) + 1, true) > 0;
}

size_t reserved_in(const std::string& language, const std::string& text) {
  Document doc(language, text);
  return doc.reserved_words_as_names(0, static_cast<uint32_t>(text.size()) + 1, true);
}

// Up to `limit` regular files under `dir` whose name ends with `ext`, in path order.
std::vector<fs::path> files_under(const fs::path& dir, const std::string& ext, size_t limit) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().string().ends_with(ext)) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace

TEST_CASE("keywords in a name's place are refused in every language", "[reserved]") {
  CHECK(refused("python", "def f():\n    return return\n"));
  CHECK(refused("java", "class A { void f() { foo(if); } }\n"));
  CHECK(refused("java", "class A { void f() { foo(    return); } }\n"));
  CHECK(refused("javascript", "seen.get(\tswitch.guard_hidden);\n"));
  CHECK(refused("typescript", "const x = f(class);\n"));
  CHECK(refused("go", "package p\n\nfunc f() { g(func) }\n"));
  CHECK(refused("c", "int f(void) { return g(while); }\n"));
  CHECK(refused("cpp", "int f() { return g(e, and); }\n"));
  CHECK(refused("rust", "fn f() { g(fn); }\n"));
}

TEST_CASE("words reserved only somewhere stay names where the language allows them", "[reserved]") {
  // A property after `.` may be any word; strict-only words are names in a CommonJS file.
  CHECK(reserved_in("javascript", "obj.if = obj.default + x.class;\n") == 0);
  CHECK(reserved_in("javascript", "var let = 1, yield = 2, package = 3;\n") == 0);
  CHECK(reserved_in("java", "class A { void f() { var record = 1; } }\n") == 0);
  CHECK(reserved_in("cpp", "struct S { void override(); int final; };\n") == 0);
  CHECK(reserved_in("go", "package p\n\nvar string, int = 1, 2\n") == 0);
  CHECK(reserved_in("python", "match = 1\ncase = 2\ntype = 3\n") == 0);
  // Rust: `Self` starts a path or a struct expression; a macro's token tree
  // holds tokens (`in` there is lexed as a name), never names.
  CHECK(reserved_in("rust", "impl A {\n    fn f() -> Self {\n        Self::from(Self { x: 1 })\n    }\n}\n") == 0);
  CHECK(reserved_in("rust", "macro_rules! m {\n    ($n:expr) => {\n        for i in 0..$n {}\n    };\n}\n") == 0);
  CHECK(reserved_in("rust", "fn f() { g(in); }\n") == 1);
}

TEST_CASE("mid-completion, only Python's keywords count", "[reserved]") {
  // `export` before its declaration is written reads as a name to tree-sitter-javascript.
  Document js("javascript", "export");
  CHECK(js.reserved_words_as_names(0, 7) == 0);
  CHECK(js.reserved_words_as_names(0, 7, true) > 0);
  Document py("python", "def f():\n    return return\n");
  CHECK(py.reserved_words_as_names(0, 30) == 1);
}

TEST_CASE("real code has no reserved word in a name's place", "[reserved][corpus]") {
  struct Corpus {
    std::string language;
    fs::path dir;
    std::string ext;
  };
  const fs::path source(ASTFILL_SOURCE_DIR);
  const std::vector<Corpus> corpora{
      {"javascript", source / "tests/clients/node_modules", ".js"},
      {"typescript", source / "editors/vscode/node_modules/vscode-languageclient/lib", ".d.ts"},
      {"go", "/usr/lib/go/src/strings", ".go"},
      {"go", "/usr/lib/go/src/net/http", ".go"},
      {"cpp", "/usr/src/googletest/googletest/src", ".cc"},
      {"c", "/usr/share/doc/zlib1g-dev/examples", ".c"},
  };
  for (const auto& corpus : corpora) {
    auto files = files_under(corpus.dir, corpus.ext, 60);
    INFO(corpus.language << " files under " << corpus.dir.string() << " (scripts/setup installs them)");
    REQUIRE(!files.empty());
    for (const auto& file : files) {
      auto content = astfill::support::read_file(file, 1 << 20);
      if (!content.ok()) continue;  // over the size limit
      INFO(file.string());
      CHECK(reserved_in(corpus.language, content.text) == 0);
    }
  }
}
