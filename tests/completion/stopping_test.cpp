// Completion modes at the cursor and the stop rule, in every language.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "code_samples.h"
#include "completion/stopping.h"
#include "stop_harness.h"

using namespace astfill::completion;
using astfill::completion::testing::decode;
using astfill::completion::testing::Outcome;

TEST_CASE("mode_at: one line inside a line, a block after an opener or on an empty body", "[mode]") {
  struct Case {
    const char* language;
    const char* prefix;
    const char* suffix;
    CompletionMode mode;
  };
  const auto single = CompletionMode::SingleLine, multi = CompletionMode::MultiLine;
  const Case cases[] = {
      // Code after the cursor on its line.
      {"python", "x = foo(", ")\n", single},
      {"javascript", "const x = foo(", ");\n", single},
      {"typescript", "const x: number = ", " + 1;\n", single},
      {"typescriptreact", "const el = <div>{", "}</div>;\n", single},  // braces, not a block
      {"c", "int x = ", "; // count\n", single},
      {"cpp", "auto v = std::vector<int>{", "};\n", single},  // braces, not a block
      {"go", "func f() {\n\tx := ", " + 1\n}\n", single},
      {"rust", "fn f() { let x = ", "; }\n", single},
      {"java", "class A { int x = ", "; }\n", single},
      // An empty brace pair: a body to write.
      {"javascript", "function f() {", "}\n", multi},
      {"java", "class A {\n  void f() {", "}\n}\n", multi},
      // The cursor ends a line: after an opener a body follows; else finish the line.
      {"python", "def f(a):", "\n", multi},
      {"c", "int main() {", "\n}\n", multi},
      {"go", "func f() {\n\tx := ", "\n}\n", single},
      {"rust", "fn f() -> i32 {\n    let x = 1 +", "\n}\n", single},
      // A blank line: a definition may start at file, class or namespace level.
      {"python", "import os\n\n", "\n\nprint(1)\n", multi},
      {"java", "class A {\n  ", "\n}\n", multi},
      {"cpp", "namespace geo {\n", "\n}  // namespace geo\n", multi},
      {"typescript", "const a = 1;\n", "\nconst b = 2;\n", multi},
      // A blank line in a block: the block's end or an empty body, or between statements.
      {"python", "def f(a):\n    ", "\n\nprint(1)\n", multi},
      {"python", "def f(a):\n    x = 1\n    ", "\n    return x\n", single},
      {"c", "int main() {\n  int x = 1;\n  ", "\n}\n", multi},
      {"c", "int main() {\n  int x = 1;\n  ", "\n  return x;\n}\n", single},
      {"rust", "fn f() {\n    ", "\n}\n", multi},
      {"go", "func f() {\n\tx := 1\n\t", "\n\treturn x\n}\n", single},
      {"typescriptreact", "function A() {\n  ", "\n}\n", multi},
      {"javascript", "function f() {\n  const x = 1;\n  ", "\n  return x;\n}\n", single},
      // No grammar: the same rules, the scope taken as a block.
      {"cobol", "  ", "\n", multi},
  };
  for (const Case& c : cases) {
    INFO(c.language << ": [" << c.prefix << "|" << c.suffix << "]");
    CHECK(to_string(mode_at(c.language, c.prefix, c.suffix)) == std::string(to_string(c.mode)));
  }
}

TEST_CASE("single line: stop at the line end or where the suffix begins", "[stop]") {
  const auto single = CompletionMode::SingleLine;
  SECTION("the newline ends it, and is not kept") {
    Outcome o = decode("javascript", "const x = ", "\n", single, {"foo(1)", ";", "\n", "let"});
    CHECK(o.stopped_at == 2);
    CHECK(o.kept == "foo(1);");
    CHECK(o.reason == "end of line");
  }
  SECTION("reaching the closer after the cursor, once it closes the enclosing call") {
    Outcome o = decode("python", "x = foo(", ")\n", single, {"bar(", ")", ", 2", ")", " + 1"});
    CHECK(o.stopped_at == 3);
    CHECK(o.kept == "bar(), 2)");
    CHECK(o.reason == "reached the suffix");
  }
  SECTION("reaching code after the cursor") {
    Outcome o = decode("c", "int y = ", " + 1;\n", single, {"x", " * 2", " + 1;"});
    CHECK(o.stopped_at == 2);
  }
}

TEST_CASE("multi-line: stop when the block is complete", "[stop]") {
  const auto multi = CompletionMode::MultiLine;
  SECTION("a body in every language, up to the closer the suffix has") {
    for (const samples::Sample& s : samples::all()) {
      INFO(s.language);
      const bool python = s.language == "python";
      std::vector<std::string> pieces;
      std::string_view body = s.body;
      for (size_t start = 0; start < body.size();) {  // one line per piece
        size_t nl = body.find('\n', start);
        pieces.emplace_back(body.substr(start, nl + 1 - start));
        start = nl + 1;
      }
      pieces.emplace_back(python ? "print" : "}");
      pieces.emplace_back("\n");
      Outcome o = decode(std::string(s.language).c_str(), std::string(s.prefix), std::string(s.suffix), multi, pieces);
      CHECK(o.stopped_at == static_cast<int>(pieces.size()) - 2);
      CHECK(o.reason == (python ? "left the block" : "closed the enclosing block"));
      CHECK(o.kept == body.substr(0, body.size() - 1));  // without the closer's line, or the dedented one
    }
  }
  SECTION("a closer the suffix does not have is kept") {
    Outcome o = decode("go", "func f() {\n\t", "", multi, {"return 1", "\n}", "\n"});
    CHECK(o.stopped_at == 1);
    CHECK(o.kept == "return 1\n}");
  }
  SECTION("python: a dedent ends the body") {
    Outcome o = decode("python", "def f(a):\n    ", "\n\nprint(f(1))\n", multi,
                       {"b = a + 1", "\n    return b", "\n", "\nprint"});
    CHECK(o.stopped_at == 3);
    CHECK(o.kept == "b = a + 1\n    return b\n");
    CHECK(o.reason == "left the block");
  }
  SECTION("python: a body after the header's colon") {
    Outcome o = decode("python", "class A:\n    def f(self):", "\n", multi,
                       {"\n        return 1", "\n", "\n    def"});
    CHECK(o.stopped_at == 2);
    CHECK(o.kept == "\n        return 1\n");
  }
  SECTION("a line repeating the suffix") {
    Outcome o = decode("c", "int f() {\n  int a = 1;\n  ", "\n  return a;\n}\n", multi,
                       {"a += 2;", "\n  return a;", "\n"});
    CHECK(o.stopped_at == 2);
    CHECK(o.kept == "a += 2;");
    CHECK(o.reason == "repeats the suffix");
  }
}

TEST_CASE("multi-line at declaration level: one definition", "[stop]") {
  const auto multi = CompletionMode::MultiLine;
  SECTION("javascript: the line after the closing brace") {
    Outcome o = decode("javascript", "const a = 1;\n\n", "\n\nconsole.log(a);\n", multi,
                       {"function g(x) {", "\n  if (x) {", "\n    return x;", "\n  }", "\n}", "\n", "\nfunction"});
    CHECK(o.stopped_at == 5);
    CHECK(o.kept == "function g(x) {\n  if (x) {\n    return x;\n  }\n}");
    CHECK(o.reason == "statement complete");
  }
  SECTION("c: a struct needs its semicolon") {
    Outcome o = decode("c", "#include <stdio.h>\n\n", "\n", multi, {"struct P {", "\n  int x;", "\n}", ";", "\n"});
    CHECK(o.stopped_at == 4);
    CHECK(o.kept == "struct P {\n  int x;\n};");
  }
  SECTION("python: the next definition's first line") {
    Outcome o = decode("python", "import os\n\n\n", "\n", multi,
                       {"@cache", "\ndef g(x):", "\n    return x", "\n", "\n", "\ndef"});
    CHECK(o.stopped_at == 5);
    CHECK(o.kept == "@cache\ndef g(x):\n    return x\n\n");
  }
  SECTION("java: a method in a class body") {
    Outcome o = decode("java", "class A {\n  ", "\n}\n", multi, {"int f() {", "\n    return 1;", "\n  }", "\n"});
    CHECK(o.stopped_at == 3);
    CHECK(o.kept == "int f() {\n    return 1;\n  }");
  }
  SECTION("python: an else continues the statement") {
    Outcome o = decode("python", "x = 1\n", "\n", multi, {"if x:", "\n    y = 1", "\nelse:", "\n    y = 2", "\n", "\nz"});
    CHECK(o.stopped_at == 5);
    CHECK(o.kept == "if x:\n    y = 1\nelse:\n    y = 2\n");
  }
  SECTION("rust: a function item") {
    Outcome o = decode("rust", "", "\n", multi, {"fn f(x: bool) -> i32 {", "\n    if x { 1 } else { 2 }", "\n}", "\n"});
    CHECK(o.stopped_at == 3);
    CHECK(o.kept == "fn f(x: bool) -> i32 {\n    if x { 1 } else { 2 }\n}");
  }
}
