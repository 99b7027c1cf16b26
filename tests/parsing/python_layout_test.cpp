// Python's layout rules (parsing/python_layout.h), each case judged by
// CPython too: the scanner must say "issue" exactly where ast.parse fails on
// layout, and nothing on valid files.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cpython.h"
#include "fixtures.h"
#include "parsing/python_layout.h"

using namespace astfill::parsing;
using astfill::testing::cpython_parses;

namespace {

struct Case {
  const char* name;
  const char* text;
  std::vector<LayoutIssueKind> issues;
};

std::vector<LayoutIssueKind> kinds(std::string_view text) {
  std::vector<LayoutIssueKind> out;
  for (const LayoutIssue& issue : python_layout_errors(text)) out.push_back(issue.kind);
  return out;
}

}  // namespace

TEST_CASE("python layout: the cases tree-sitter accepts and CPython rejects", "[python_layout]") {
  using K = LayoutIssueKind;
  const Case cases[] = {
      {"over-indent after a non-block line", "def f(x):\n    y = x\n       return y\n", {K::UnexpectedIndent}},
      {"over-indented return", "def f(x):\n    if x:\n        y = 1\n           return x\n", {K::UnexpectedIndent}},
      {"wrong dedent", "def f(x):\n    if x:\n        y = 1\n      return x\n", {K::UnmatchedDedent}},
      {"comment-only body", "if x:\n        # c\nelse:\n    pass\n", {K::ExpectedBlock}},
      {"empty body at the end", "def f():\n", {K::ExpectedBlock}},
      {"header without newline at the end", "def f():", {K::ExpectedBlock}},
      {"comment-only body at the end", "def f():\n    # todo\n", {K::ExpectedBlock}},
      {"body not indented", "for i in x:\nprint(i)\n", {K::ExpectedBlock}},
      {"mixed tabs", "if x:\n        a = 1\n\tb = 2\n", {K::InconsistentTabs}},
      {"mixed tabs in a deeper block", "def f():\n\tif x:\n\t        a = 1\n\t\tb = 2\n", {K::InconsistentTabs}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK(kinds(c.text) == c.issues);
    CHECK_FALSE(cpython_parses(c.text));
  }
}

TEST_CASE("python layout: valid layouts have no issue, as CPython agrees", "[python_layout]") {
  const char* texts[] = {
      "def f(x):\n    y = x\n    return y\n",
      "def f(x):\n    if x:\n        return 1\n    return 2\n",
      "if x: pass\ny = 1\n",
      "x = [1,\n         2,\n  3]\n",
      "x = 1 + \\\n        2\ny = 3\n",
      "s = '''\n      text\n  more'''\nt = 1\n",
      "def f():\n    \"\"\"Doc.\n\n        indented inside\n    \"\"\"\n    return 1\n",
      "def f():\n    # a comment\n    return 1\n",
      "def f():\n    x = 1\n# a comment at column 0\n    return x\n",
      "class A:\n    x: int = 1\n    d = {'a': 1}\n",
      "if a:\n\tb = 1\nelse:\n\tb = 2\n",
      "def f():\n\tif x:\n\t\treturn 1\n\treturn 2\n",
      "e = ''\nif e:\n    pass\n",
      "if x:  # why\n    pass\n",
      "d = lambda: 1\ny = d()\n",
      "x = 1\n\n\n   \ny = 2\n",
      "if (a and\n  b):\n    pass\n",
      "s = \"a\\\"b\"\nt = 'c\\\\'\nu = 1\n",
  };
  for (const char* text : texts) {
    INFO(text);
    CHECK(kinds(text).empty());
    CHECK(cpython_parses(text));
  }
  CHECK(kinds(fixtures::python).empty());
  CHECK(cpython_parses(fixtures::python));
}

TEST_CASE("python layout: issues are at the judged line, and fed pieces give the same as the whole", "[python_layout]") {
  std::string text = "def f(x):\n    y = x\n       return y\nz = 1\n";
  std::vector<LayoutIssue> issues = python_layout_errors(text);
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].byte == text.find("return"));
  CHECK(python_layout_errors(text, 0, static_cast<uint32_t>(text.find("return"))).empty());
  // One issue reported once: the lines after the over-indented one are fine.
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    PythonLayout layout;
    layout.feed(std::string_view(text).substr(0, cut));
    PythonLayout copy = layout;
    copy.feed(std::string_view(text).substr(cut));
    copy.finish();
    CHECK(copy.issues() == issues);
  }
}
