// The syntax guard applies Python's layout rules as CPython does
// (parsing/python_layout.h): over-indented statements, dedents to no
// enclosing column, blocks of only comments and mixed tabs are refused at the
// token that makes them, and the right layout is accepted; every full text
// is judged by CPython too.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
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

namespace {

std::string python_stdlib() {
  FILE* p = popen("/usr/bin/python3 -c \"import sysconfig; print(sysconfig.get_paths()['stdlib'])\"", "r");
  if (!p) return "";
  char buf[512] = {};
  std::string out = fgets(buf, sizeof buf, p) ? buf : "";
  pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

// Real files, replayed through the guard: from the start of lines inside
// blocks, the next three lines in 3-byte pieces are all viable and the text is
// whole; the same lines with the first one over-indented by 3 spaces (which
// CPython rejects) are refused at some piece.
TEST_CASE("real Python files replay through the guard, and their over-indented lines do not", "[guard][layout][replay]") {
  const std::string stdlib = python_stdlib();
  REQUIRE(!stdlib.empty());
  size_t replays = 0, refusals = 0;
  for (const char* name : {"bisect.py", "colorsys.py", "heapq.py"}) {
    const std::string text = read_all(stdlib + "/" + name);
    REQUIRE(!text.empty());
    REQUIRE(cpython_parses(text));
    std::vector<size_t> starts;  // starts of indented code lines
    for (size_t at = 0; at < text.size();) {
      size_t end = text.find('\n', at);
      if (end == std::string::npos) break;
      std::string_view line(text.data() + at, end - at);
      if (line.starts_with("    ") && line.find_first_not_of(' ') != std::string_view::npos &&
          line[line.find_first_not_of(' ')] != '#')
        starts.push_back(at);
      at = end + 1;
    }
    for (size_t k = 0; k < starts.size(); k += 9) {
      const size_t cursor = starts[k];
      size_t stop = cursor;
      for (int lines = 0; lines < 3 && stop != std::string::npos; ++lines) stop = text.find('\n', stop + 1);
      if (stop == std::string::npos) continue;
      ++stop;
      const std::string middle = text.substr(cursor, stop - cursor);
      INFO(name << " at byte " << cursor << ": " << middle);
      SyntaxGuard guard("python", text.substr(0, cursor), text.substr(stop));
      bool all = true;
      size_t refused_at = 0;
      for (size_t i = 0; i < middle.size() && all; i += 3) {
        std::string piece = middle.substr(i, 3);
        all = guard.viable(piece);
        refused_at = i;
        guard.accept(piece);
      }
      INFO("refused at " << refused_at << " (" << middle.substr(0, refused_at + 3) << "), layout refusals "
                         << guard.stats().layout_rejections);
      CHECK(all);
      CHECK(guard.whole_with(middle));
      ++replays;

      const std::string over = "   " + middle;
      // Over-indenting the first line of a block's first statement is not an error of this kind.
      const std::string mutated = text.substr(0, cursor) + over + text.substr(stop);
      if (cpython_parses(mutated)) continue;
      SyntaxGuard bad("python", text.substr(0, cursor), text.substr(stop));
      bool refused = false;
      for (size_t i = 0; i < over.size() && !refused; i += 3) {
        std::string piece = over.substr(i, 3);
        refused = !bad.viable(piece);
        bad.accept(piece);
      }
      // Refused while decoding when CPython's layout error is in the
      // replayed lines; otherwise (a dedent in the suffix that no longer
      // matches) only the whole file shows it.
      std::vector<astfill::parsing::LayoutIssue> issues = astfill::parsing::python_layout_errors(mutated);
      bool inside = !issues.empty() && issues[0].byte >= cursor && issues[0].byte < cursor + over.size();
      if (inside) CHECK(refused);
      CHECK_FALSE(bad.whole_with(over));
      ++refusals;
    }
  }
  CHECK(replays > 10);
  CHECK(refusals > 5);
}

TEST_CASE("the body of a try whose handlers are still to come is viable", "[guard][replay]") {
  // heapq.py's merge(), replayed in 3-byte pieces: refused right after
  // `try:` before the guard's closing tail gave open trys `finally: pass`.
  SyntaxGuard guard("python", "def f(h):\n    while h:\n", "\n            except StopIteration:\n                pass\n");
  const std::string middle = "        try:\n            while True:\n                h.pop()\n";
  for (size_t i = 0; i < middle.size(); i += 3) {
    INFO(middle.substr(0, i + 3));
    CHECK(guard.viable(middle.substr(i, 3)));
    guard.accept(middle.substr(i, 3));
  }
  // The handler itself, written word by word, and what follows it.
  for (std::string piece : {"        exc", "ept", " StopIteration", ":\n", "            return", "\n"}) {
    INFO(guard.completion() + piece);
    CHECK(guard.viable(piece));
    guard.accept(piece);
  }
  // A try in the prefix, its handler in the suffix.
  SyntaxGuard body("python", "def f(x):\n    try:\n", "    except ValueError:\n        return 0\n");
  CHECK(body.viable("        y = int(x)\n"));
  body.accept("        y = int(x)\n");
  CHECK(body.viable("        return y\n"));
  body.accept("        return y\n");
  CHECK(body.whole_with(body.completion()));
  CHECK(cpython_parses(body.prefix() + body.completion() + body.suffix()));
  // Still wrong code inside it is refused.
  CHECK_FALSE(body.viable("        y = = 2"));
}

TEST_CASE("a last backslash is judged with what follows it", "[guard]") {
  // Found replaying the standard library: `'\` was refused, its closer
  // escaped by the backslash.
  SyntaxGuard guard("python", "def f(c):\n    if c == ", "\n        return 1\n");
  for (std::string piece : {"'", "\\", "n':"}) {
    INFO(guard.completion() + piece);
    CHECK(guard.viable(piece));
    guard.accept(piece);
  }
  SyntaxGuard js("javascript", "function f() {\n  const s = \"a", "\n}\n");
  CHECK(js.viable("\\"));
  js.accept("\\");
  CHECK(js.viable("\";"));
  // Still refused once what follows is wrong.
  SyntaxGuard bad("python", "x = 1 + ", "\n");
  bad.accept("\\");
  CHECK_FALSE(bad.viable(")"));
}
