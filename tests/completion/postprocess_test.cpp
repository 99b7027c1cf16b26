// postprocess: overlap with the suffix, repeats, indentation, trailing
// whitespace and noise, in every language.
#include <catch2/catch.hpp>

#include <string>

#include "completion/postprocess.h"

using namespace astfill::completion;

TEST_CASE("postprocess tidies completions", "[postprocess]") {
  struct Case {
    const char* language;
    const char* prefix;
    const char* suffix;
    const char* completion;
    CompletionMode mode;
    const char* expected;
  };
  const auto single = CompletionMode::SingleLine, multi = CompletionMode::MultiLine;
  const Case cases[] = {
      // Overlap with the rest of the cursor's line.
      {"python", "x = foo(", ")\n", "a, b)", single, "a, b"},
      {"javascript", "foo(", ");\n", "a, b);", single, "a, b"},
      {"java", "class A { void f() { g(", "); } }\n", "1, 2);", single, "1, 2"},
      {"python", "x = ", "bar(y)\n", "1 + bar", single, "1 + bar"},  // a word is overlap only as the whole rest
      {"rust", "let v = vec![", "];\n", "1, 2];", single, "1, 2"},
      // Overlap with the lines after the cursor.
      {"c", "int f() {\n  ", "\n}\n", "return 1;\n}", multi, "return 1;"},
      {"typescriptreact", "function A() {\n  return (\n    ", "\n  );\n}\n", "<div>hi</div>\n  );\n}", multi,
       "<div>hi</div>"},
      {"cpp", "int f() {\n  ", "\n  return x;\n}\n", "int x = 1;\n  return x;\n}", multi, "int x = 1;"},
      // Single line keeps the first line.
      {"cpp", "int x = ", "\n", "1;\nint y = 2;", single, "1;"},
      // Repeats: of the line above the cursor, and consecutive.
      {"java", "class A {\n  void f() {\n    x = 1;\n    ", "\n  }\n}\n", "x = 1;\n    y = 2;\n    y = 2;", multi,
       "y = 2;"},
      {"go", "func f() {\n\t", "\n}\n", "a++\n\ta++\n\ta++", multi, "a++"},
      {"javascript", "function f() {\n  if (a) {\n    if (b) {\n      ", "\n}\n", "g();\n    }\n  }", multi,
       "g();\n    }\n  }"},  // closers may repeat, and these are not the suffix's
      // Lines of names by the language's identifier rule repeat too: non-ASCII letters, JavaScript's `$`.
      {"python", "def f():\n    ", "\n", "变量()\n    变量()", multi, "变量()"},
      {"javascript", "function f() {\n  ", "\n}\n", "$()\n  $()", multi, "$()"},
      // Trailing whitespace and blank lines.
      {"typescript", "", "\n", "const x = 1;   \nconst y = 2;\t\n\n  \n", multi, "const x = 1;\nconst y = 2;"},
      // Indentation: spaces into the file's tabs, tabs into the file's spaces.
      {"go", "package p\n\nfunc f() {\n\t", "\n}\n", "if x {\n        return 1\n    }", multi,
       "if x {\n\t\treturn 1\n\t}"},
      {"rust", "fn f() {\n    ", "\n}\n", "if x {\n\t\treturn 1;\n\t}", multi, "if x {\n        return 1;\n    }"},
      {"python", "class A:\n  def f(self):\n    ", "\n", "if x:\n\t\treturn 1", multi, "if x:\n    return 1"},
      {"go", "package p\n\nfunc f() {\n", "}\n", "    return 1", multi, "\treturn 1"},  // gofmt: tabs
      {"c", "int f() {\n", "}\n", "    return 1;", multi, "    return 1;"},   // nothing to go by
      // Noise.
      {"python", "x = ", "\n", "  \n\t\n", multi, ""},
      {"javascript", "x = ", "foo(1);\n", "foo(1);", single, ""},
      {"c", "int f() {\n  ", "\n  return 0;\n}\n", "return 0;\n}", multi, ""},
  };
  for (const Case& c : cases) {
    INFO(c.language << ": [" << c.prefix << "|" << c.completion << "|" << c.suffix << "]");
    CHECK(postprocess(c.language, c.prefix, c.suffix, c.completion, c.mode) == c.expected);
  }
}
