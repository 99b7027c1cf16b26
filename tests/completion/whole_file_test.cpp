// The finished completion leaves the file whole (SyntaxGuard::whole_with,
// longest_whole_prefix): a completion cut by a cap inside an open bracket or
// a half-written statement is trimmed back to the longest whole part or
// emptied, a hole that made the file invalid (an empty body) must be
// repaired, and errors the file had elsewhere are not blamed on it. Python
// cases are judged by CPython too.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "../parsing/cpython.h"
#include "completion/syntax_guard.h"

using namespace astfill::completion;
using astfill::testing::cpython_parses;

namespace {

struct CapCase {
  const char* name;
  const char* language;
  const char* prefix;
  std::vector<const char*> pieces;  // accepted, then the cap
  const char* suffix;
  const char* kept;  // what longest_whole_prefix keeps
};

}  // namespace

TEST_CASE("a completion cut at a cap is trimmed to the longest whole part, or emptied", "[guard][whole]") {
  const CapCase cases[] = {
      {"python: open bracket after a whole line", "python", "def f(x):\n",
       {"    y = x + 1\n", "    return g(y,", " [1"}, "\n\ndef h():\n    pass\n", "    y = x + 1\n"},
      {"python: half statement after a whole line", "python", "def f(x):\n",
       {"    y = x\n", "    z = y", " +"}, "\n\nz = 2\n", "    y = x\n    z = y"},
      {"python: open bracket only", "python", "def f(x):\n    y = x\n", {"    return g(y", ", 1"}, "\n", ""},
      {"python: a comment-only body does not repair the hole", "python", "def f(x):\n", {"    # todo:", " later\n"},
       "\n\ndef h():\n    pass\n", ""},
      {"python: a header whose body never came", "python", "def f(x):\n    y = x\n",
       {"    if y:\n", "        "}, "\n", ""},
      {"javascript: open call", "javascript", "function f(x) {\n  const y = x;\n", {"  const z = y;\n", "  return g(y,", " [1"},
       "\n}\n", "  const z = y;\n"},
      {"c: half declaration", "c", "int f(int x) {\n  int y = x;\n", {"  int z = y;\n", "  int w = ", "y *"},
       "\n  return y;\n}\n", "  int z = y;\n"},
  };
  for (const CapCase& c : cases) {
    INFO(c.name);
    SyntaxGuard guard(c.language, c.prefix, c.suffix);
    for (const char* piece : c.pieces) guard.accept(piece);
    std::string kept = guard.completion().substr(0, guard.longest_whole_prefix(guard.completion()));
    CHECK(kept == c.kept);
    if (std::string_view(c.language) == "python") {
      CHECK_FALSE(cpython_parses(std::string(c.prefix) + guard.completion() + c.suffix));
      if (!kept.empty()) CHECK(cpython_parses(std::string(c.prefix) + kept + c.suffix));
    }
  }
}

TEST_CASE("a hole that made the file invalid must be repaired, other errors are not the completion's", "[guard][whole]") {
  // The empty body is an error at the hole: only a statement repairs it.
  SyntaxGuard body("python", "def f(x):\n", "\n\ndef g():\n    pass\n");
  CHECK_FALSE(cpython_parses(body.prefix() + body.suffix()));
  CHECK_FALSE(body.whole_with(""));
  CHECK_FALSE(body.whole_with("    # todo\n"));
  CHECK_FALSE(body.whole_with("    return g("));
  CHECK(body.whole_with("    return x\n"));
  CHECK(cpython_parses(body.prefix() + "    return x\n" + body.suffix()));
  // A missing expression at the hole.
  SyntaxGuard expression("python", "y = ", "\n");
  CHECK_FALSE(expression.whole_with(""));
  CHECK_FALSE(expression.whole_with("foo("));
  CHECK(expression.whole_with("foo(1)"));
  // A file broken far from the cursor: correct code there is whole.
  SyntaxGuard broken("python", "def f(x):\n    return x = = 1\n\n\ndef g(a):\n", "\n\nz = 1\n");
  CHECK(broken.whole_with("    return a\n"));
  CHECK_FALSE(broken.whole_with("    return a +\n"));
  // Over-indentation is not whole either, though tree-sitter takes it.
  SyntaxGuard layout("python", "def f(x):\n    y = x\n", "\nz = 1\n");
  CHECK(layout.whole_with("    return y\n"));
  CHECK_FALSE(layout.whole_with("       return y\n"));
  CHECK_FALSE(cpython_parses(layout.prefix() + "       return y\n" + layout.suffix()));
}

TEST_CASE("an empty completion is never whole where the hole needs one, and whole where it does not", "[guard][whole]") {
  SyntaxGuard fine("python", "x = 1\n", "y = 2\n");
  CHECK(fine.whole_with(""));
  CHECK(fine.longest_whole_prefix("") == 0);
  SyntaxGuard js("javascript", "function f(x) {\n", "\n}\n");
  CHECK(js.whole_with("  return x;"));
  CHECK_FALSE(js.whole_with("  return [x"));
}

TEST_CASE("a keyword in a name's place is not whole in any language, and an unclosed call is not finished",
          "[guard][whole]") {
  struct Case {
    const char* language;
    const char* prefix;
    const char* suffix;
    const char* keyword;  // not whole
    const char* name;     // whole
  };
  const Case cases[] = {
      {"java", "class A { void f() { foo(", "); } }\n", "if", "x"},
      {"javascript", "const v = seen.get(", ".guard_hidden);\n", "switch", "cache"},
      {"typescript", "const x = f(", ");\n", "class", "y"},
      {"go", "package p\n\nfunc f() { g(", ") }\n", "func", "x"},
      {"c", "int f(void) { return g(", "); }\n", "while", "x"},
      {"cpp", "int f() { return g(e, ", "); }\n", "and", "x"},
      {"rust", "fn f() { g(", "); }\n", "fn", "x"},
  };
  for (const auto& c : cases) {
    INFO(c.language);
    SyntaxGuard guard(c.language, c.prefix, c.suffix);
    CHECK_FALSE(guard.whole_with(c.keyword));
    CHECK(guard.whole_with(c.name));
  }
  // `print(` with nothing to close it: the call must be finished by the answer.
  SyntaxGuard call("python", "def greet(name):\n    print(", "\n");
  CHECK_FALSE(call.whole_with("e, valu"));
  CHECK_FALSE(call.whole_with(""));
  CHECK(call.whole_with("name)"));
  CHECK(cpython_parses("def greet(name):\n    print(name)\n"));
  CHECK_FALSE(cpython_parses("def greet(name):\n    print(e, valu\n"));
}

TEST_CASE("a line that ends in a binary operator is not whole", "[guard][whole]") {
  // bench_completion's one non-empty answer CPython refused: `p` + `們+` before the next line.
  const char* prefix = "def main():\n    print(\"array + neg scalar\")\n    p";
  const char* suffix = "\n    print()\n";
  SyntaxGuard guard("python", prefix, suffix);
  CHECK_FALSE(guard.whole_with("\xe5\x80\x91+"));
  CHECK_FALSE(cpython_parses(std::string(prefix) + "\xe5\x80\x91+" + suffix));
  CHECK(guard.whole_with("\xe5\x80\x91"));
  CHECK(cpython_parses(std::string(prefix) + "\xe5\x80\x91" + suffix));
}
