// Python's layout rules (parsing/python_layout.h), each case judged by
// CPython too: the scanner must say "issue" exactly where ast.parse fails on
// layout, and nothing on valid files.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
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

// Real files from the interpreter's standard library, and 600 of them with one
// line's layout changed (indented, dedented, a tab, a comment for a body),
// judged by CPython in one process: the scanner reports an issue exactly
// where CPython raises IndentationError or TabError (a mutation that makes
// another SyntaxError is skipped), and none on the files as they are.
TEST_CASE("python layout agrees with CPython on real files and their mutations", "[python_layout][replay]") {
  char dir[] = "/tmp/astfill-layout-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string root = dir;
  const std::string script = R"py(
import ast, glob, os, random, sys, sysconfig
out = sys.argv[1]
random.seed(7)
files = sorted(glob.glob(os.path.join(sysconfig.get_paths()['stdlib'], '*.py')))
rows = []
def judge(text):
    try:
        ast.parse(text)
        return 'ok'
    except (IndentationError, TabError):
        return 'layout'
    except (SyntaxError, ValueError):
        return 'other'
for k, f in enumerate(files):
    text = open(f, encoding='utf-8', errors='replace').read()
    p = os.path.join(out, 'real%d.py' % k)
    open(p, 'w', encoding='utf-8').write(text)
    rows.append((p, judge(text)))
for k in range(600):
    lines = open(random.choice(files), encoding='utf-8', errors='replace').read().split('\n')
    cand = [i for i, l in enumerate(lines) if l.strip() and not l.strip().startswith('#')]
    i = random.choice(cand)
    l = lines[i]
    indent = len(l) - len(l.lstrip())
    op = random.randrange(4)
    if op == 0: lines[i] = ' ' * random.randint(1, 3) + l
    elif op == 1: lines[i] = l[min(indent, random.randint(1, 3)):]
    elif op == 2: lines[i] = '\t' + (l.lstrip() if indent >= 8 else l)
    elif l.rstrip().endswith(':') and i + 1 < len(lines):
        n = lines[i + 1]
        lines[i + 1] = n[:len(n) - len(n.lstrip())] + '# gone'
    text = '\n'.join(lines)
    p = os.path.join(out, 'mut%d.py' % k)
    open(p, 'w', encoding='utf-8').write(text)
    rows.append((p, judge(text)))
open(os.path.join(out, 'verdicts'), 'w').write(''.join('%s %s\n' % r for r in rows))
)py";
  {
    std::ofstream(root + "/make.py") << script;
  }
  REQUIRE(std::system(("/usr/bin/python3 " + root + "/make.py " + root).c_str()) == 0);
  std::ifstream verdicts(root + "/verdicts");
  std::string path, verdict;
  size_t real = 0, layout = 0, clean = 0;
  while (verdicts >> path >> verdict) {
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::filesystem::remove(path);
    if (verdict == "other") continue;
    INFO(path << ": CPython says " << verdict);
    CHECK(python_layout_errors(text).empty() == (verdict == "ok"));
    if (path.find("/real") != std::string::npos) ++real;
    else if (verdict == "layout") ++layout;
    else ++clean;
  }
  std::filesystem::remove_all(root);
  CHECK(real > 50);
  CHECK(layout > 100);
  CHECK(clean > 100);
}

TEST_CASE("a line that ends in an operator is an issue where CPython says so", "[python_layout]") {
  using astfill::parsing::LayoutIssueKind;
  using astfill::parsing::python_layout_errors;
  using astfill::testing::cpython_parses;
  struct Case {
    const char* text;
    bool dangling;
  };
  const Case cases[] = {
      {"x = a +\nprint()\n", true},
      {"y = \nz = 1\n", true},
      {"if a and\n    b:\n    pass\n", true},
      {"ok = x is\n", true},
      {"v = a ==\n", true},
      {"f = lambda: x\n", false},
      {"x = a + \\\n    b\n", false},        // a backslash continues the line
      {"x = (a +\n     b)\n", false},        // so do brackets
      {"from os import *\n", false},
      {"x = 1.\ny = ...\n", false},
      {"t = 1,\n", false},
      {"s = 'a +'  # c +\n", false},         // in a string, in a comment
      {"x = -1\nd = {'a': b}\n", false},
      {"x = a if b else c\n", false},
      {"import os as o\n", false},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto issues = python_layout_errors(c.text);
    bool dangling = std::any_of(issues.begin(), issues.end(),
                                [](const auto& i) { return i.kind == LayoutIssueKind::DanglingOperator; });
    CHECK(dangling == c.dangling);
    CHECK(cpython_parses(c.text) == !c.dangling);
  }
}
