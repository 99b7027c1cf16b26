// Context for a prompt: the current file's excerpts fit their budgets, the
// definitions of names used near the cursor come from other files as stubs
// (signature and doc), imported modules' API, similar chunks and recent
// edits each within budget, the current file never twice, a null index, and
// the same context block for nearby cursors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "completion/context.h"
#include "completion/excerpt.h"
#include "completion/identifiers.h"
#include "completion/stubs.h"
#include "engine/tokenizer.h"
#include "tests/fixtures/random_model.h"
#include "fixed_index.h"

using namespace astfill::completion;
using astfill::testing::FixedIndex;

namespace {

const char* geometry_py = R"(import math


def area(radius):
    """Area of a circle.

    Uses math.pi."""
    return math.pi * radius * radius


def perimeter(radius):
    """Perimeter of a circle."""
    return 2 * math.pi * radius


class Circle:
    """A circle."""

    def __init__(self, radius):
        self.radius = radius

    def scale(self, factor):
        """A bigger circle."""
        return Circle(self.radius * factor)
)";

const char* report_py = R"(def format_number(value, digits=2):
    """Format a number for the report."""
    return f"{value:.{digits}f}"


def print_table(rows):
    for row in rows:
        print(" | ".join(format_number(v) for v in row))
)";

const char* main_py = R"(from shapes.geometry import area, Circle
from shapes import report


def summary(radii):
    rows = []
    for r in radii:
        circle = Circle(r)
        rows.append([r, area(r)])
    report.print_table(rows)
    total = 0
    for row in rows:
        total += row[1]
    return total
)";

FixedIndex python_project() {
  FixedIndex index;
  index.add_file("shapes/geometry.py", geometry_py);
  index.add_file("shapes/report.py", report_py);
  index.add_file("main.py", main_py);
  index.resolve("shapes.geometry", "shapes/geometry.py");
  index.resolve("shapes", "shapes/report.py");  // `from shapes import report`: the module report
  return index;
}

size_t whitespace_tokens(std::string_view s) {
  std::istringstream in{std::string(s)};
  size_t n = 0;
  for (std::string word; in >> word;) ++n;
  return n;
}

// The byte offset just after the first occurrence of `marker`.
size_t after(std::string_view text, std::string_view marker) {
  size_t at = text.find(marker);
  REQUIRE(at != std::string_view::npos);
  return at + marker.size();
}

ContextRequest python_request(const FixedIndex& index, std::string_view marker) {
  ContextRequest request;
  request.index = &index;
  request.path = "main.py";
  request.language_id = "python";
  request.text = main_py;
  request.cursor = after(main_py, marker);
  request.repo_name = "shapes-demo";
  return request;
}

std::string context_block(const Context& context) {
  std::string out;
  for (const ContextFile& f : context.parts.context_files) out += "== " + f.path + "\n" + f.text;
  return out;
}

size_t occurrences(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("the definition of a function called near the cursor, from another file, as a stub", "[context]") {
  FixedIndex index = python_project();
  Context context = build_context(python_request(index, "report.print_table(rows)\n"));
  std::string block = context_block(context);
  INFO(block);
  CHECK(block.find("def area(radius):\n"
                   "    \"\"\"Area of a circle.\n"
                   "\n"
                   "    Uses math.pi.\n"
                   "    \"\"\"\n"
                   "    ...\n") != std::string::npos);
  CHECK(block.find("def print_table(rows):\n    ...\n") != std::string::npos);
  // The class named near the cursor, with its members.
  CHECK(block.find("class Circle:\n"
                   "    \"\"\"A circle.\"\"\"\n"
                   "    def __init__(self, radius):\n"
                   "        ...\n"
                   "    def scale(self, factor):\n"
                   "        \"\"\"A bigger circle.\"\"\"\n"
                   "        ...\n") != std::string::npos);
  // Each definition once, though the imported API lists it too.
  CHECK(occurrences(block, "def area(radius)") == 1);
  CHECK(occurrences(block, "def print_table(rows)") == 1);
  // The imported modules' other definitions: the API.
  CHECK(block.find("def perimeter(radius):\n    \"\"\"Perimeter of a circle.\"\"\"\n    ...\n") != std::string::npos);
  CHECK(block.find("def format_number(value, digits=2):") != std::string::npos);
  CHECK(context.report.definitions.items >= 3);
  CHECK(context.report.imports.items >= 2);

  // Imported API first, then definitions; each by path.
  std::vector<std::string> paths;
  for (const auto& f : context.parts.context_files) paths.push_back(f.path);
  CHECK(paths[0] == "shapes/geometry.py");
  CHECK(paths[1] == "shapes/report.py");

  // The current file never appears as context, and its text once in a prompt.
  for (const auto& f : context.parts.context_files) CHECK(f.path != "main.py");
  std::string prompt = render_prompt(*find_fim_template("qwen"), context.parts);
  CHECK(occurrences(prompt, "def summary(radii):") == 1);
  CHECK(occurrences(prompt, "report.print_table(rows)") == 1);
  CHECK(context.parts.prefix + context.parts.suffix == main_py);
  CHECK(prompt.starts_with("<|repo_name|>shapes-demo\n<|file_sep|>shapes/geometry.py\n"));
}

TEST_CASE("names the current file or the window defines are not looked up elsewhere", "[context]") {
  FixedIndex index = python_project();
  // Another file defines `summary` and `rows` too: the current file's own win.
  index.add_file("other.py", "def summary(x):\n    \"\"\"Not this one.\"\"\"\n\nrows = 3\n");
  ContextRequest request = python_request(index, "total = 0\n");
  request.budgets.similar = 0;  // other.py is a similar chunk: that is another source
  Context context = build_context(request);
  std::string block = context_block(context);
  INFO(block);
  CHECK(block.find("Not this one") == std::string::npos);
  CHECK(block.find("rows = 3") == std::string::npos);
}

TEST_CASE("identifiers near the cursor: nearest first, no keywords, no names the window defines", "[context]") {
  std::string_view text = "import helper\n"
                          "def run(config, *args):\n"
                          "    result = helper.load(config)\n"
                          "    for item in result.items:\n"
                          "        process(item, 'quoted_word')  # commented_word\n"
                          "    return finish(result)\n";
  auto names = identifiers_near(text, text.find("process"), "python");
  CHECK(names == std::vector<std::string>{"items", "load", "helper", "process", "finish"});
  std::string_view ts = "const counter = new Counter();\nlet total = add(counter.value, 2);\ncounter.";
  CHECK(identifiers_near(ts, ts.size(), "typescript") == std::vector<std::string>{"value", "add", "Counter"});
  CHECK(is_keyword("python", "lambda"));
  CHECK_FALSE(is_keyword("python", "function"));
  CHECK(is_keyword("something-new", "function"));
}

TEST_CASE("each source within its budget, counted by the request's counter", "[context]") {
  FixedIndex index = python_project();
  astfill::engine::Tokenizer tokenizer(astfill::engine::tiny_tokenizer(600));
  std::vector<std::pair<const char*, TokenCounter>> counters = {
      {"whitespace", whitespace_tokens},
      {"bpe", [&](std::string_view s) { return tokenizer.encode(s, false).size(); }},
  };
  for (auto& [name, count] : counters) {
    for (size_t scale : {1, 2, 4, 8}) {
      INFO(name << " scale " << scale);
      ContextRequest request = python_request(index, "rows.append(");
      request.count_tokens = count;
      request.recent_edits = {{"notes.md", "# Notes\nfirst line\nsecond line\nthird line\n"},
                              {"main.py", "the current file: never context\n"}};
      request.budgets = {.prefix = 6 * scale, .suffix = 4 * scale, .definitions = 12 * scale,
                         .imports = 8 * scale, .similar = 10 * scale, .recent = 5 * scale, .total = 1000};
      Context context = build_context(request);
      const ContextReport& r = context.report;
      CHECK(count(context.parts.prefix) == r.prefix.tokens);
      CHECK(count(context.parts.suffix) == r.suffix.tokens);
      CHECK(r.prefix.tokens <= request.budgets.prefix);
      CHECK(r.suffix.tokens <= request.budgets.suffix);
      CHECK(r.definitions.tokens <= request.budgets.definitions);
      CHECK(r.imports.tokens <= request.budgets.imports);
      CHECK(r.similar.tokens <= request.budgets.similar);
      CHECK(r.recent.tokens <= request.budgets.recent);
      // The report is what the files cost.
      size_t files = 0;
      for (const auto& f : context.parts.context_files) files += count(f.path) + count(f.text);
      CHECK(files == r.definitions.tokens + r.imports.tokens + r.similar.tokens + r.recent.tokens);
      // Whole lines, the cursor's line always (it fits every budget here).
      CHECK(std::string_view(main_py).substr(0, request.cursor).ends_with(context.parts.prefix));
      if (count("        rows.append(") <= request.budgets.prefix)
        CHECK(context.parts.prefix.find("rows.append(") != std::string::npos);
      CHECK((r.prefix_first_line == 0 || context.parts.prefix.size() < request.cursor));
      for (const auto& f : context.parts.context_files) CHECK(f.path != "main.py");
    }
  }
}

TEST_CASE("a total cap: cross-file sources share what prefix and suffix leave, in order", "[context]") {
  FixedIndex index = python_project();
  ContextRequest request = python_request(index, "rows.append(");
  request.count_tokens = whitespace_tokens;
  request.recent_edits = {{"notes.md", "a b c d e f\n"}};
  request.budgets = {.prefix = 30, .suffix = 10, .definitions = 40, .imports = 40, .similar = 40, .recent = 40,
                     .total = 70};
  Context context = build_context(request);
  const ContextReport& r = context.report;
  size_t all = r.prefix.tokens + r.suffix.tokens + r.definitions.tokens + r.imports.tokens + r.similar.tokens +
               r.recent.tokens;
  CHECK(all <= 70);
  CHECK(r.definitions.tokens > 0);  // first in line for what is left
}

TEST_CASE("no index: the current file and recent edits only", "[context]") {
  ContextRequest request;
  request.path = "main.py";
  request.language_id = "python";
  request.text = main_py;
  request.cursor = after(main_py, "total = ");
  request.recent_edits = {{"b.py", "x = 1"}, {"a.py", "y = 2\n"}, {"a.py", "y = 2\n"}};
  Context context = build_context(request);
  CHECK(context.parts.prefix + context.parts.suffix == main_py);
  CHECK(context.parts.context_files == std::vector<ContextFile>{{"a.py", "y = 2\n"}, {"b.py", "x = 1\n"}});
  CHECK(context.report.recent.items == 2);
  CHECK(context.report.definitions == SourceReport{});
}

TEST_CASE("nearby cursors get the same context block", "[context]") {
  FixedIndex index = python_project();
  Context a = build_context(python_request(index, "rows.append([r, area(r)])\n"));
  Context b = build_context(python_request(index, "report.print_table(rows)\n"));
  Context c = build_context(python_request(index, "total = 0\n"));
  CHECK_FALSE(a.parts.context_files.empty());
  CHECK(a.parts.context_files == b.parts.context_files);
  CHECK(b.parts.context_files == c.parts.context_files);
}

TEST_CASE("similar chunks: other files only, not overlapping definitions already shown", "[context]") {
  FixedIndex index;
  std::string util;
  for (int i = 0; i < 20; ++i) util += "value_" + std::to_string(i) + " = compute_total(items, weights)\n";
  index.add_file("lib/util.py", util);
  index.add_file("lib/other.py", "def compute_total(items, weights):\n    return sum(items)\n");
  std::string current = "def main(items, weights):\n    x = compute_total(items, weights)\n    ";
  index.add_file("app.py", current);
  ContextRequest request;
  request.index = &index;
  request.path = "app.py";
  request.language_id = "python";
  request.text = current;
  request.cursor = current.size();
  Context context = build_context(request);
  std::string block = context_block(context);
  INFO(block);
  // compute_total's definition as a stub; its file's chunk is not repeated.
  CHECK(block.find("== lib/other.py\ndef compute_total(items, weights):\n    ...\n") != std::string::npos);
  CHECK(occurrences(block, "== lib/other.py") == 1);
  CHECK(block.find("== lib/util.py\nvalue_0 = compute_total") != std::string::npos);
  CHECK(context.report.similar.items == 1);
}

TEST_CASE("TypeScript: an imported class and function as declarations", "[context]") {
  FixedIndex index;
  index.add_file("src/math.ts",
                 "/** Adds two numbers. */\n"
                 "export function add(a: number, b: number): number {\n  return a + b;\n}\n\n"
                 "export class Counter {\n  private count = 0;\n  /** Counts one more. */\n"
                 "  increment(): number {\n    return ++this.count;\n  }\n}\n");
  std::string app = "import { add, Counter } from \"./math\";\n\nconst counter = new Counter();\n"
                    "const total = add(1, 2);\ncounter.";
  index.add_file("src/app.ts", app);
  index.resolve("./math", "src/math.ts");
  ContextRequest request;
  request.index = &index;
  request.path = "src/app.ts";
  request.language_id = "typescript";
  request.text = app;
  request.cursor = app.size();
  Context context = build_context(request);
  REQUIRE(context.parts.context_files.size() == 1);
  CHECK(context.parts.context_files[0].path == "src/math.ts");
  CHECK(context.parts.context_files[0].text ==
        "/** Adds two numbers. */\n"
        "export function add(a: number, b: number): number;\n"
        "export class Counter {\n"
        "    private count = 0;\n"
        "    /** Counts one more. */\n"
        "    increment(): number;\n"
        "}\n");
}

TEST_CASE("prefix and suffix excerpts: whole lines, nearest the cursor, a stable start", "[context]") {
  // One token per line, a partial line included.
  auto lines = [](std::string_view s) {
    return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')) + (!s.empty() && s.back() != '\n');
  };
  std::string text;
  for (int i = 0; i < 40; ++i) text += "line" + std::to_string(i) + "\n";
  size_t cursor = text.find("line30") + 4;  // inside "line30"
  // One token per line: the cursor's line plus 9 above fit 10, then the start snaps to line 24.
  Excerpt prefix = prefix_excerpt(text, cursor, 10, lines, 8);
  CHECK(prefix.first_line == 24);
  CHECK(text.substr(prefix.begin, prefix.end - prefix.begin).starts_with("line24\n"));
  CHECK(prefix_excerpt(text, cursor, 10, lines, 1).first_line == 21);
  CHECK(prefix_excerpt(text, cursor + 7, 10, lines, 8).first_line == 24);  // next line: same start
  CHECK(prefix_excerpt(text, cursor, 1000, lines, 8).begin == 0);
  Excerpt suffix = suffix_excerpt(text, cursor, 3, lines);
  CHECK(text.substr(suffix.begin, suffix.end - suffix.begin) == "30\nline31\nline32\n");

  // One long line: the part nearest the cursor.
  std::string long_line(4000, 'x');
  auto bytes = [](std::string_view s) { return s.size(); };
  Excerpt tail = prefix_excerpt(long_line, 3000, 100, bytes);
  CHECK(tail.end - tail.begin == 100);
  CHECK(tail.end == 3000);
  Excerpt head = suffix_excerpt(long_line, 3000, 100, bytes);
  CHECK(head.begin == 3000);
  CHECK(head.end == 3100);
  CHECK(prefix_excerpt("", 0, 10, bytes).tokens == 0);
  CHECK(suffix_excerpt("abc", 99, 10, bytes).begin == 3);
}

TEST_CASE("stubs: nesting by container, doc comments per language", "[context]") {
  auto symbol = [](std::string name, astfill::parsing::SymbolKind kind, std::string signature, std::string doc,
                   std::string container, uint32_t at) {
    astfill::index::Symbol s;
    s.name = std::move(name);
    s.kind = kind;
    s.signature = std::move(signature);
    s.doc = std::move(doc);
    s.container = std::move(container);
    s.range.start_byte = at;
    return s;
  };
  using K = astfill::parsing::SymbolKind;
  CHECK(render_stubs("rust", {symbol("push", K::Method, "pub fn push(&mut self, x: i32)", "Pushes.", "Stack", 9),
                              symbol("Stack", K::Struct, "pub struct Stack", "A stack.\nOf ints.", "", 0)}) ==
        "/// A stack.\n/// Of ints.\npub struct Stack { ... }\n/// Pushes.\npub fn push(&mut self, x: i32);\n");
  CHECK(render_stubs("go", {symbol("Max", K::Function, "func Max(a, b int) int", "Max returns the larger.", "", 0)}) ==
        "// Max returns the larger.\nfunc Max(a, b int) int\n");
  CHECK(render_stubs("cpp", {symbol("Point", K::Struct, "struct Point", "", "", 0),
                             symbol("x", K::Field, "int x", "", "Point", 5)}) ==
        "struct Point {\n    int x;\n};\n");
  CHECK(render_stubs("python", {symbol("MAX", K::Constant, "MAX = 10", "", "", 0)}) == "MAX = 10\n");
}
