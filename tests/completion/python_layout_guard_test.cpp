// The syntax guard applies Python's layout rules as CPython does
// (parsing/python_layout.h): over-indented statements, dedents to no
// enclosing column, blocks of only comments and mixed tabs are refused at the
// token that makes them, and the right layout is accepted; every full text
// is judged by CPython too.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "../parsing/cpython.h"
#include "completion/syntax_guard.h"

using namespace astfill::completion;
using astfill::testing::cpython_parses;

namespace {

struct LayoutCase {
  const char* name;
  const char* prefix;
  const char* accepted;  // accepted first
  const char* piece;     // then asked about
  const char* rest;      // what completes the candidate's text in CPython's check
  const char* suffix;
  bool viable;
};

}  // namespace

TEST_CASE("the guard refuses Python layout CPython rejects and accepts what it takes", "[guard][layout]") {
  const LayoutCase cases[] = {
      {"over-indent after a non-block line", "def f(x):\n    y = x\n", "", "       return", " y\n", "", false},
      {"over-indent in the cursor's line", "def f(x):\n    y = x\n    ", "", "   return", " y\n", "", false},
      {"right indent", "def f(x):\n    y = x\n", "", "    return", " y\n", "", true},
      {"wrong dedent", "def f(x):\n    if x:\n        y = 1\n", "", "      return", " x\n", "", false},
      {"dedent to the function body", "def f(x):\n    if x:\n        y = 1\n", "", "    return", " x\n", "", true},
      {"comment-only body", "def f(x):\n    if x:\n", "        # nothing yet\n", "    return", " x\n", "", false},
      {"a statement after the comment", "def f(x):\n    if x:\n", "        # nothing yet\n", "        return", " x\n",
       "", true},
      {"body not indented", "for i in range(3):\n", "", "print", "(i)\n", "", false},
      {"mixed tabs", "if x:\n        a = 1\n", "", "\tb", " = 2\n", "", false},
      {"tabs where tabs are used", "if x:\n\ta = 1\n", "", "\tb", " = 2\n", "", true},
      {"a prefix broken already", "def f(x):\n    y = x\n      z = 1\n", "", "      w", " = 2\n", "", true},
  };
  for (const LayoutCase& c : cases) {
    INFO(c.name);
    SyntaxGuard guard("python", c.prefix, c.suffix);
    guard.accept(c.accepted);
    CHECK(guard.viable(c.piece) == c.viable);
    std::string full = std::string(c.prefix) + c.accepted + c.piece + c.rest + c.suffix;
    if (std::string_view(c.name) != "a prefix broken already") CHECK(cpython_parses(full) == c.viable);
  }
}

TEST_CASE("half-written lines are judged once their indentation is final", "[guard][layout]") {
  SyntaxGuard guard("python", "def f(x):\n    y = x\n", "");
  // Spaces alone say nothing yet; a comment line is not judged.
  CHECK(guard.viable("       "));
  guard.accept("       ");
  CHECK(guard.viable("# note\n"));
  CHECK_FALSE(guard.viable("return"));
  CHECK(guard.stats().layout_rejections == 1);
}

TEST_CASE("count_syntax_errors counts Python's layout issues", "[guard][layout]") {
  astfill::parsing::Document over("python", "def f(x):\n    y = x\n       return y\n");
  CHECK(over.has_syntax_errors() == false);  // tree-sitter's leniency
  CHECK(count_syntax_errors(over) == 1);
  astfill::parsing::Document fine("python", "def f(x):\n    y = x\n    return y\n");
  CHECK(count_syntax_errors(fine) == 0);
}
