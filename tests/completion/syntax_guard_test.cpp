// SyntaxGuard: wrong tokens rejected and unfinished correct code accepted in
// every language, correct bodies replayed byte by byte, accept and the
// longest valid prefix, incomplete UTF-8, unsupported languages; whole files
// replayed from several cursors, and files broken above the cursor.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "../parsing/fixtures.h"
#include "code_samples.h"
#include "completion/syntax_guard.h"
#include "parsing/document.h"

using namespace astfill::completion;

namespace {

const samples::Sample& sample(std::string_view language) {
  for (const samples::Sample& s : samples::all())
    if (s.language == language) return s;
  throw std::invalid_argument("no sample");
}

struct Case {
  const char* language;
  const char* accepted;  // accepted first, at the sample's cursor
  const char* piece;     // then asked about
  bool viable;
};

}  // namespace

TEST_CASE("viable rejects wrong tokens and accepts unfinished code", "[guard]") {
  const Case cases[] = {
      // python
      {"python", "y =", " = 2", false},
      {"python", "foo(a)", ")", false},
      {"python", "foo(a", "]", false},
      {"python", "y = 'it'", "s'", false},
      {"python", "y = 1 +", "\n", false},
      {"python", "", "foo(1, 2", true},
      {"python", "", "def f(a,", true},
      {"python", "", "if x:", true},
      {"python", "y = [1,", "\n", true},
      {"python", "s = \"abc", " def", true},
      {"python", "s = \"\"\"doc", "\n\n", true},
      // a keyword is never a name once finished (tree-sitter-python takes it for one)
      {"python", "return return", " 0", false},
      {"python", "y = x and", " ", true},
      {"python", "return", " returned", true},
      {"python", "return", "ed", true},
      // javascript
      {"javascript", "y =", " = 2;", false},
      {"javascript", "foo(a)", ");", false},
      {"javascript", "foo(a", "]", false},
      {"javascript", "const s = 'it'", "s';", false},
      {"javascript", "", "foo(1, 2", true},
      {"javascript", "", "if (x) {", true},
      {"javascript", "const s = `a ${b", "}", true},
      {"javascript", "/* a", " note", true},
      // typescript
      {"typescript", "let y: number =", " = 2;", false},
      {"typescript", "foo(a)", ");", false},
      {"typescript", "", "foo<T>(1, 2", true},
      {"typescript", "", "if (x) {", true},
      // typescriptreact
      {"typescriptreact", "const y =", " = 2;", false},
      {"typescriptreact", "foo(a)", ");", false},
      {"typescriptreact", "", "return <div className=\"a\">{x", true},
      {"typescriptreact", "", "if (x) {", true},
      // c
      {"c", "y =", " = 2;", false},
      {"c", "foo(a)", ");", false},
      {"c", "foo(a", "}", false},
      {"c", "const char *s = \"it", "\ns\";", false},
      {"c", "", "foo(1, 2", true},
      {"c", "", "if (x) {", true},
      {"c", "const char *s = \"abc", " def", true},
      // cpp
      {"cpp", "y =", " = 2;", false},
      {"cpp", "foo(a)", ");", false},
      {"cpp", "", "std::vector<int> v{1, 2", true},
      {"cpp", "", "if (x) {", true},
      // go
      {"go", "y =", " = 2\n", false},
      {"go", "foo(a)", ")\n", false},
      {"go", "", "foo(1, 2", true},
      {"go", "", "if x {", true},
      {"go", "s := `raw", " text", true},
      // rust
      {"rust", "let y =", " = 2;", false},
      {"rust", "foo(a)", ");", false},
      {"rust", "", "foo(1, 2", true},
      {"rust", "", "if x {", true},
      {"rust", "let s = \"abc", " def", true},
      // java
      {"java", "y =", " = 2;", false},
      {"java", "foo(a)", ");", false},
      {"java", "foo(a", "]", false},
      {"java", "", "foo(1, 2", true},
      {"java", "", "if (x) {", true},
  };
  for (const Case& c : cases) {
    const samples::Sample& s = sample(c.language);
    INFO(c.language << ": [" << c.accepted << "|" << c.piece << "]");
    SyntaxGuard guard(c.language, std::string(s.prefix), std::string(s.suffix));
    REQUIRE(guard.supported());
    guard.accept(c.accepted);
    CHECK(guard.viable(c.piece) == c.viable);
    // Asking changes nothing.
    CHECK(guard.completion() == c.accepted);
    CHECK(guard.document().text().substr(0, guard.completion_end()) == std::string(s.prefix) + c.accepted);
  }
}

TEST_CASE("a correct body stays viable byte by byte", "[guard]") {
  for (const samples::Sample& s : samples::all()) {
    INFO(s.language);
    SyntaxGuard guard(s.language, std::string(s.prefix), std::string(s.suffix));
    for (size_t i = 0; i < s.body.size(); ++i) {
      std::string_view piece = s.body.substr(i, 1);
      INFO("after [" << guard.completion() << "] byte " << i);
      CHECK(guard.viable(piece));
      guard.accept(piece);
    }
    CHECK(guard.completion() == s.body);
    CHECK(guard.longest_valid_prefix() == s.body.size());
    CHECK(guard.brackets().open.empty());
    CHECK_FALSE(guard.brackets().unmatched);
  }
}

TEST_CASE("the longest valid prefix ends where the code is whole", "[guard]") {
  SECTION("python: a complete line, not the open call after it") {
    SyntaxGuard guard("python", "def f(a):\n    ", "\n\nprint(f(1))\n");
    for (const char* piece : {"return", " foo(a,", " 2)", "\n", "    x = (", "1 +"}) guard.accept(piece);
    CHECK(guard.completion().substr(0, guard.longest_valid_prefix()) == "return foo(a, 2)\n");
  }
  SECTION("c: a token boundary where the statement ends") {
    SyntaxGuard guard("c", "int f(int a) {\n  ", "\n}\n");
    for (const char* piece : {"int", " b", " =", " a", ";", " return", " b", " *"}) guard.accept(piece);
    CHECK(guard.completion().substr(0, guard.longest_valid_prefix()) == "int b = a;");
  }
  SECTION("the suffix counts: a closer it has already is not missing") {
    SyntaxGuard guard("javascript", "const x = foo(", ");\n");
    for (const char* piece : {"1,", " bar(", "2)"}) guard.accept(piece);
    CHECK(guard.longest_valid_prefix() == guard.completion().size());
  }
  SECTION("nothing valid gives 0") {
    SyntaxGuard guard("rust", "fn f() {\n    ", "\n}\n");
    guard.accept("let = ;");
    CHECK(guard.longest_valid_prefix() == 0);
  }
}

TEST_CASE("an incomplete UTF-8 character is viable without parsing", "[guard]") {
  SyntaxGuard guard("python", "x = 1\n", "");
  guard.accept("s = \"caf");
  const size_t checks = guard.stats().checks;
  CHECK(guard.viable("\xC3"));
  CHECK(guard.stats().checks == checks);
  guard.accept("\xC3");
  // Held back until the character is whole; the string is open (closed in the tail).
  CHECK(guard.document().text().substr(0, guard.completion_end()) == "x = 1\ns = \"caf");
  CHECK(guard.viable("\xA9\""));
  guard.accept("\xA9\"");
  CHECK(guard.document().text().substr(0, guard.completion_end()) == "x = 1\ns = \"caf\xC3\xA9\"");
  CHECK(guard.longest_valid_prefix() == guard.completion().size());
}

TEST_CASE("brackets pair with those open at the cursor", "[guard]") {
  SyntaxGuard guard("javascript", "function f() {\n  if (a) {\n    g(", ");\n  }\n}\n");
  CHECK(guard.brackets().enclosing_open == 3);
  CHECK_FALSE(guard.viable("}"));  // the innermost open bracket is `(`
  CHECK(guard.viable(")"));
  guard.accept("x, [1])");
  CHECK(guard.brackets().closes_enclosing == 6u);
  CHECK(guard.brackets().enclosing_open == 2);
  CHECK(guard.viable(";\n  }"));
  // Brackets inside strings and comments are not brackets.
  CHECK(guard.viable("; // )"));
  CHECK(guard.viable("; s = \"]\""));
}

TEST_CASE("the document closes what is open after the completion", "[guard]") {
  SyntaxGuard guard("javascript", "function f() {\n  g(", "\n}\n");
  CHECK(guard.document().text() == "function f() {\n  g(\n)}");
  CHECK_FALSE(guard.document().has_syntax_errors());
  guard.accept("a, [1");
  CHECK(guard.document().text() == "function f() {\n  g(a, [1\n])}");
  CHECK(guard.completion_end() == guard.document().text().size() - 4);
  guard.accept("]);");
  CHECK(guard.document().text() == "function f() {\n  g(a, [1]);\n}");
  CHECK_FALSE(guard.document().has_syntax_errors());
}

TEST_CASE("unsupported languages accept everything", "[guard]") {
  SyntaxGuard guard("cobol", "DISPLAY ", "");
  CHECK_FALSE(guard.supported());
  CHECK(guard.viable(")))"));
  guard.accept(")))");
  CHECK(guard.completion() == ")))");
  CHECK(guard.longest_valid_prefix() == 3);
}

TEST_CASE("a cancelled guard stops parsing and accepts", "[guard]") {
  astfill::CancellationSource source;
  SyntaxGuard guard("python", "x = 1\n", "", source.token());
  source.cancel(astfill::CancelReason::Superseded);
  CHECK(guard.viable("y = = ="));
  CHECK(guard.stats().checks == 0);
}

TEST_CASE("whole files stay viable byte by byte from any line", "[guard][replay]") {
  for (auto [language, text] : astfill::parsing::fixtures::all) {
    // Cursors at the start of the lines a third and two thirds down.
    std::vector<size_t> starts{0};
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n' && i + 1 < text.size()) starts.push_back(i + 1);
    for (size_t third : {1u, 2u}) {
      const size_t cursor = starts[starts.size() * third / 3];
      const size_t end = third == 1 ? starts[starts.size() * 2 / 3] : text.size();
      INFO(language << " from byte " << cursor);
      SyntaxGuard guard(language, std::string(text.substr(0, cursor)), std::string(text.substr(end)));
      size_t rejected = 0;
      for (size_t i = cursor; i < end; ++i) {
        std::string_view piece = text.substr(i, 1);
        if (!guard.viable(piece)) {
          UNSCOPED_INFO("rejected byte " << i << " after [" << guard.completion() << "]");
          ++rejected;
        }
        guard.accept(piece);
      }
      CHECK(rejected == 0);
      CHECK(guard.longest_valid_prefix() == guard.completion().size());
    }
  }
}

TEST_CASE("a file broken before the cursor does not block correct code", "[guard][replay]") {
  for (const samples::Sample& s : samples::all()) {
    INFO(s.language);
    // A line the parser cannot make sense of, above the cursor.
    std::string prefix(s.prefix);
    const size_t line = prefix.rfind('\n') + 1;
    const std::string indent = prefix.substr(line);
    prefix.insert(line, indent + (s.language == "python" ? "y = = 1\n" : s.language == "go" ? "y := := 1\n" : "y = = 1;\n"));
    SyntaxGuard guard(s.language, prefix, std::string(s.suffix));
    size_t rejected = 0;
    for (size_t i = 0; i < s.body.size(); ++i) {
      std::string_view piece = s.body.substr(i, 1);
      if (!guard.viable(piece)) {
        UNSCOPED_INFO("rejected byte " << i << " after [" << guard.completion() << "]");
        ++rejected;
      }
      guard.accept(piece);
    }
    CHECK(rejected == 0);
    // Wrong code is still caught.
    CHECK_FALSE(guard.viable(s.language == "python" ? " = = 2\n" : "= = 2;\n}"));
  }
}

TEST_CASE("a cursor inside a string or comment", "[guard]") {
  struct Case {
    const char* language;
    const char* prefix;
    const char* suffix;
    const char* good;  // written byte by byte
    const char* bad;   // then closes the string and errs
  };
  const Case cases[] = {
      {"python", "def f():\n    print(\"hel", "\")\n", "lo, world", "\") )"},
      {"python", "def f():\n    \"\"\"Sum", "\"\"\"\n    return 1\n", " of two (or more) values.\n\n    Args:", "\"\"\"\n    x = = 1\n"},
      {"c", "int f(void) {\n  puts(\"hel", "\");\n}\n", "lo (world", "\")) ;"},
      {"java", "class A {\n  /* note", " */\n}\n", ": (see [1]", " */ int = ;"},
      {"rust", "fn f() {\n    let s = \"multi\n", "\";\n}\n", "line } text", "\"; let = ;"},
  };
  for (const Case& c : cases) {
    INFO(c.language << ": [" << c.prefix << "|" << c.good << "]");
    SyntaxGuard guard(c.language, c.prefix, c.suffix);
    std::string_view good = c.good;
    for (size_t i = 0; i < good.size(); ++i) {
      INFO("byte " << i);
      CHECK(guard.viable(good.substr(i, 1)));
      guard.accept(good.substr(i, 1));
    }
    CHECK_FALSE(guard.viable(c.bad));
  }
}

TEST_CASE("an answer cut mid-statement is the longest cut that is whole as it is or once closed", "[guard][whole]") {
  // A string and the brackets the model opened, closed innermost first.
  SyntaxGuard ts("typescript", "const v = f(", ");\n");
  CHECK_FALSE(ts.whole_with("\"Python 1.0.0."));
  CHECK(ts.whole_answer("\"Python 1.0.0.") == "\"Python 1.0.0.\"");
  CHECK(ts.whole_answer("g(1, [2, \"a") == "g(1, [2, \"a\"])");
  // A statement that lacks only its `;`.
  SyntaxGuard cpp("cpp", "int f(int a) {\n", "\n  return 0;\n}\n");
  CHECK(cpp.whole_answer("  g(a, 1") == "  g(a, 1);");
  // A line comment is ended before the closers.
  SyntaxGuard py("python", "x = f(", ")\n");
  CHECK(py.whole_answer("a, [1, 2  # two") == "a, [1, 2  # two\n]");
  // Whole as it is: unchanged. The longest cut wins, whole as it is first at
  // each cut; `c = (` on a line of its own has no closing that keeps the call whole.
  CHECK(py.whole_answer("a, 1") == "a, 1");
  CHECK(py.whole_answer("a, b\nc = (") == "a, b\n");
  // Never a not-whole answer (`  ()` and `  ();` are not whole).
  SyntaxGuard body("cpp", "int f() {\n", "\n  return 0;\n}\n");
  CHECK(body.whole_answer("  (") == "");
  CHECK(body.whole_answer("  # XXX") == "");
  // Brackets that do not nest are not closed.
  CHECK_FALSE(ts.closing_of("g(1]").has_value());
  CHECK(ts.closing_of("g(1, {a: [") == "]})");
  // The cursor inside a string the prefix opened.
  SyntaxGuard in_string("javascript", "const s = \"ab", ";\n");
  CHECK(in_string.closing_of("c(") == "\"");
  CHECK(in_string.closing_of("c\" + g(1") == ")");
}
