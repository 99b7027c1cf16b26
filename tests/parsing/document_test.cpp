// Documents: edits keep text and tree in sync, the position helpers the
// completion engine uses, errors_introduced, cancellation and deadlines.
#include <catch2/catch.hpp>

#include <string>
#include <thread>

#include "annotations.h"
#include "parsing/document.h"
#include "parsing/nodes.h"

using namespace astfill::parsing;
using astfill::parsing::testing::Annotated;

namespace {

std::string sexp(const Document& doc) {
  char* s = ts_node_string(doc.root());
  std::string out(s);
  free(s);
  return out;
}

std::string text_of(const Document& doc, TSNode node) { return std::string(node_text(doc.text(), node)); }

}  // namespace

TEST_CASE("a document parses its text and reports syntax errors", "[document]") {
  Document ok("python", "def f(a):\n    return a\n");
  CHECK(ok.status() == ParseStatus::Parsed);
  CHECK_FALSE(ok.has_syntax_errors());
  CHECK(std::string(ts_node_type(ok.root())) == "module");

  Document broken("python", "def f(a:\n    return a\n");
  CHECK(broken.status() == ParseStatus::Parsed);
  CHECK(broken.has_syntax_errors());
}

TEST_CASE("an unsupported language keeps text without a tree", "[document]") {
  Document doc("cobol", "IDENTIFICATION DIVISION.");
  CHECK(doc.status() == ParseStatus::Unsupported);
  CHECK(doc.tree() == nullptr);
  CHECK(ts_node_is_null(doc.root()));
  doc.edit(0, 0, "* ");
  CHECK(doc.text() == "* IDENTIFICATION DIVISION.");
  CHECK_FALSE(doc.node_at(0));
  CHECK(doc.scope_at(3).kind == Scope::Kind::File);
  CHECK(doc.statement_end(3) == doc.text().size());
  CHECK_FALSE(doc.errors_introduced(0, 2).introduced);
}

TEST_CASE("edits reparse incrementally to the same tree as a fresh parse", "[document]") {
  Document doc("python", "x = 1\n\ndef f(a):\n    return a\n");
  // Insert a line (row and column points move), replace a name, delete a line.
  doc.edit(6, 6, "y = [\n  2,\n]\n");
  CHECK(doc.text() == "x = 1\ny = [\n  2,\n]\n\ndef f(a):\n    return a\n");
  CHECK(sexp(doc) == sexp(Document("python", doc.text())));
  uint32_t at = static_cast<uint32_t>(doc.text().find("f(a)"));
  doc.edit(at, at + 1, "function_name");
  CHECK(sexp(doc) == sexp(Document("python", doc.text())));
  doc.edit(0, 6, "");
  CHECK(doc.text().starts_with("y = ["));
  CHECK(sexp(doc) == sexp(Document("python", doc.text())));
  // The tree's points follow the edits: `def` is now on line 4.
  TSNode def = ts_node_named_child(doc.root(), 1);
  CHECK(std::string(ts_node_type(def)) == "function_definition");
  CHECK(ts_node_start_point(def).row == 4);
  CHECK(ts_node_start_point(def).column == 0);
}

TEST_CASE("edit offsets outside the text are clamped", "[document]") {
  Document doc("javascript", "let a = 1;");
  doc.edit(100, 200, "\nlet b = 2;");
  CHECK(doc.text() == "let a = 1;\nlet b = 2;");
  doc.edit(4, 2, "z");  // an end before the start is an insertion
  CHECK(doc.text() == "let za = 1;\nlet b = 2;");
  CHECK(sexp(doc) == sexp(Document("javascript", doc.text())));
}

TEST_CASE("a copied document is independent", "[document]") {
  Document original("rust", "fn main() {}\n");
  Document copy = original;
  copy.edit(0, 0, "struct S;\n");
  CHECK(original.text() == "fn main() {}\n");
  CHECK(sexp(original) == sexp(Document("rust", original.text())));
  CHECK(sexp(copy) == sexp(Document("rust", copy.text())));
  Document moved = std::move(copy);
  CHECK(moved.text() == "struct S;\nfn main() {}\n");
  CHECK(moved.status() == ParseStatus::Parsed);
}

TEST_CASE("node_at finds the smallest named node at a byte", "[document][helpers]") {
  Annotated src("def add(a, b):\n    return $a^alpha + $b^b\n");
  Document doc("python", src.text());
  auto node = doc.node_at(src.point("a"));
  REQUIRE(node);
  CHECK(std::string(ts_node_type(*node)) == "identifier");
  CHECK(text_of(doc, *node) == "alpha");
  node = doc.node_at(src.point("b") + 1);  // just after the last identifier
  REQUIRE(node);
  CHECK(text_of(doc, *node) == "b");
  node = doc.node_at(src.point("a") + 5);  // after `alpha`, before ` + `
  REQUIRE(node);
  CHECK(text_of(doc, *node) == "alpha");
  node = doc.node_at(src.point("a") + 6);  // on the space before `+`
  REQUIRE(node);
  CHECK(std::string(ts_node_type(*node)) == "binary_operator");
  node = doc.node_at(static_cast<uint32_t>(src.text().find("(a")) + 1);  // after `(`: not a named leaf
  REQUIRE(node);
  CHECK(std::string(ts_node_type(*node)) == "identifier");
  CHECK(text_of(doc, *node) == "a");
}

TEST_CASE("scope_at finds the enclosing function, class, namespace or block", "[document][helpers]") {
  SECTION("python") {
    Annotated src(
        "import os\n$top^\n"
        "class Stack:\n"
        "    limit = 1\n$class^"
        "    def push(self, item):\n"
        "        self.items.append(item)$end^\n");
    Document doc("python", src.text());
    CHECK(doc.scope_at(src.point("top")).kind == Scope::Kind::File);
    Scope in_class = doc.scope_at(src.point("class"));
    CHECK(in_class.kind == Scope::Kind::Class);
    CHECK(in_class.name == "Stack");
    CHECK(in_class.range.start_byte == doc.text().find("class Stack"));
    // At the end of an indented block the cursor is still inside it.
    Scope at_end = doc.scope_at(src.point("end"));
    CHECK(at_end.kind == Scope::Kind::Function);
    CHECK(at_end.name == "push");
  }
  SECTION("javascript") {
    Annotated src("function run(x) {\n  $fn^if (x) {\n    go($blk^);\n  }\n}\n$after^");
    Document doc("javascript", src.text());
    Scope s = doc.scope_at(src.point("blk"));
    CHECK(s.kind == Scope::Kind::Block);
    CHECK(doc.text().substr(s.range.start_byte, 1) == "{");
    CHECK(s.range.start_byte == doc.text().find("{\n    go"));
    Scope fn = doc.scope_at(src.point("fn"));  // in the function's body
    CHECK(fn.kind == Scope::Kind::Function);
    CHECK(fn.name == "run");
    CHECK(fn.range.start_byte == 0);
    CHECK(doc.scope_at(src.point("after")).kind == Scope::Kind::File);
  }
  SECTION("cpp namespace and class") {
    Annotated src("namespace geo {\n$ns^int x;\nstruct P {\n  int $field^y;\n};\n}\n");
    Document doc("cpp", src.text());
    Scope ns = doc.scope_at(src.point("ns"));
    CHECK(ns.kind == Scope::Kind::Namespace);
    CHECK(ns.name == "geo");
    Scope field_scope = doc.scope_at(src.point("field"));
    CHECK(field_scope.kind == Scope::Kind::Class);
    CHECK(field_scope.name == "P");
  }
  SECTION("function name and header") {
    Annotated src("fn area(r: f64$params^) -> f64 {\n    r * r\n}\n");
    Document doc("rust", src.text());
    Scope s = doc.scope_at(src.point("params"));
    CHECK(s.kind == Scope::Kind::Function);
    CHECK(s.name == "area");
  }
}

TEST_CASE("statement_end and block_end", "[document][helpers]") {
  SECTION("python") {
    Annotated src(
        "def f(a):\n"
        "    x = foo($call^1,\n"
        "            2)$stmt_end^\n"
        "    return x$block_end^\n"
        "y = 3\n");
    Document doc("python", src.text());
    CHECK(doc.statement_end(src.point("call")) == src.point("stmt_end"));
    CHECK(doc.block_end(src.point("call")) == src.point("block_end"));
    CHECK(doc.block_end(static_cast<uint32_t>(doc.text().size()) - 2) == doc.text().size());  // top level
  }
  SECTION("c") {
    Annotated src("int main(void) {\n  int a = $init^1 + 2;$decl_end^\n  if (a) {\n    a++;$inner^\n  }$if_end^\n}$body_end^\n");
    Document doc("c", src.text());
    CHECK(doc.statement_end(src.point("init")) == src.point("decl_end"));
    CHECK(doc.block_end(src.point("init")) == src.point("body_end"));
    // After `;` the cursor has left `a++;`: the statement around it is the if.
    CHECK(doc.statement_end(src.point("inner")) == src.point("if_end"));
    CHECK(doc.statement_end(src.point("inner") - 1) == src.point("inner"));
    CHECK(doc.block_end(src.point("inner") - 1) == src.point("if_end"));
  }
}

TEST_CASE("errors_introduced: a candidate's own errors, not the prefix's", "[document][errors]") {
  // (prefix, candidate, suffix, introduced)
  struct Case {
    const char* language;
    std::string prefix, candidate, suffix;
    bool introduced;
  };
  const Case cases[] = {
      // Correct, finished candidates.
      {"python", "x = 1\n", "def f(a, b):\n    return a\n", "", false},
      {"c", "int main() {\n", "  return 1;", "\n}\n", false},
      {"python", "x = [1,\n", "2, 3]", "\n", false},
      // Correct but unfinished: what a model produces token by token.
      {"python", "x = 1\n", "def f(a, b", "", false},
      {"python", "x = 1\n", "y = foo(1, 2", "", false},
      {"python", "x = 1\n", "y = foo(1, ", "\nz = 3\n", false},
      {"javascript", "const x = 1;\n", "function f(a, b) {", "", false},
      {"javascript", "const x = 1;\n", "if (a) { foo(", "", false},
      {"c", "int main() {\n", "  return foo(1,", "\n}\n", false},
      // The prefix is broken already (the cursor sits in a parameter list).
      {"python", "def f(", "a, b", "", false},
      {"python", "x = 1\n", "y = 2\n", "def g(:\n  pass\n", false},
      // Wrong tokens the parser has moved past before the frontier.
      {"python", "x = 1\n", "y = = 2", "", true},
      {"javascript", "const x = 1;\n", "foo(a));", "", true},
      {"python", "x = 1\n", "y = foo(1, 2))\n", "", true},
      {"go", "package p\n\nfunc f() {\n", "\tx := := 1\n", "}\n", true},
  };
  for (const Case& c : cases) {
    INFO(c.language << ": [" << c.prefix << "|" << c.candidate << "|" << c.suffix << "]");
    Document doc(c.language, c.prefix + c.candidate + c.suffix);
    auto start = static_cast<uint32_t>(c.prefix.size());
    SyntaxCheck check = doc.errors_introduced(start, start + static_cast<uint32_t>(c.candidate.size()));
    CHECK(check.introduced == c.introduced);
    if (check.introduced) {
      CHECK(check.new_errors >= 1);
      CHECK(check.first_error >= start);
      CHECK(check.first_error < start + c.candidate.size());
    }
  }
}

TEST_CASE("errors_introduced on a candidate tried in a copy", "[document][errors]") {
  Document file("python", "def f(a):\n    \n\nprint(f(1))\n");
  const uint32_t cursor = static_cast<uint32_t>(file.text().find("\n\n")) ;
  for (auto [candidate, bad] : {std::pair<std::string, bool>{"return a + 1", false}, {"return a +* 1\n    x", true}}) {
    INFO(candidate);
    Document trial = file;
    trial.edit(cursor, cursor, candidate);
    auto end = cursor + static_cast<uint32_t>(candidate.size());
    CHECK(trial.errors_introduced(cursor, end).introduced == bad);
  }
  CHECK(file.text() == "def f(a):\n    \n\nprint(f(1))\n");  // untouched
}

TEST_CASE("a cancelled parse leaves the text updated and can be resumed", "[document][cancel]") {
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "def f" + std::to_string(i) + "(a, b):\n    return a + b\n";
  SECTION("token") {
    astfill::CancellationSource source;
    source.cancel(astfill::CancelReason::ContentModified);
    ParseLimits limits;
    limits.cancel = source.token();
    Document doc("python", big, limits);
    CHECK(doc.status() == ParseStatus::Cancelled);
    CHECK(doc.tree() == nullptr);
    CHECK(doc.reparse() == ParseStatus::Parsed);
    CHECK(ts_node_named_child_count(doc.root()) == 20000);
  }
  SECTION("cancelled while editing") {
    Document doc("python", big);
    astfill::CancellationSource source;
    ParseLimits limits;
    limits.cancel = source.token();
    source.cancel(astfill::CancelReason::Shutdown);
    CHECK(doc.edit(0, 0, "x = 1\n", limits) == ParseStatus::Cancelled);
    CHECK(doc.text().starts_with("x = 1\ndef f0"));
    // The old tree was edited, so its positions still match the new text.
    TSNode first = ts_node_named_child(doc.root(), 0);
    CHECK(ts_node_start_byte(first) == 6);
    CHECK(ts_node_start_point(first).row == 1);
    CHECK(doc.reparse() == ParseStatus::Parsed);
    CHECK(ts_node_named_child_count(doc.root()) == 20001);
  }
  SECTION("edits stopped by a deadline, then a full reparse") {
    // A stopped parse is never resumed (tree-sitter 0.20.7 crashes resuming
    // an incremental parse): each new parse starts from the edited old tree.
    Document doc("rust", "fn main() {}\n" + std::string(200000, ' ') + "fn g() {}\n");
    ParseLimits limits;
    limits.timeout = std::chrono::milliseconds(1);
    std::string rust_big;
    for (int i = 0; i < 20000; ++i) rust_big += "fn f" + std::to_string(i) + "(a: i32) -> i32 { a + 1 }\n";
    doc.edit(0, static_cast<uint32_t>(doc.text().size()), rust_big, limits);
    for (int i = 0; i < 5; ++i) {
      auto at = static_cast<uint32_t>(doc.text().size() / 2 + i * 7);
      doc.edit(at, at, "return ", limits);
    }
    CHECK(doc.reparse() == ParseStatus::Parsed);
    Document fresh("rust", doc.text());
    char* a = ts_node_string(doc.root());
    char* b = ts_node_string(fresh.root());
    CHECK(std::string(a) == std::string(b));
    free(a);
    free(b);
  }
  SECTION("deadline") {
    ParseLimits limits;
    limits.timeout = std::chrono::milliseconds(1);
    Document doc("python", big + big + big, limits);
    CHECK(doc.status() == ParseStatus::TimedOut);
    CHECK(doc.reparse() == ParseStatus::Parsed);
  }
}

TEST_CASE("parses are counted per thread: full parses apart from incremental reparses", "[document][count]") {
  const uint64_t all0 = parses_on_this_thread(), full0 = full_parses_on_this_thread();
  Document doc("python", "def f(a):\n    return a\n");
  CHECK(parses_on_this_thread() - all0 == 1);
  CHECK(full_parses_on_this_thread() - full0 == 1);
  doc.edit(22, 22, "y = = 1\n");
  Document copy = doc;  // ts_tree_copy: no parse
  copy.edit(0, 0, "# c\n");
  CHECK(parses_on_this_thread() - all0 == 3);
  CHECK(full_parses_on_this_thread() - full0 == 1);
  // The text without the span, reparsed incrementally from a copy of the tree.
  CHECK(doc.errors_introduced(22, 30).introduced);
  CHECK(parses_on_this_thread() - all0 == 4);
  CHECK(full_parses_on_this_thread() - full0 == 1);
  Document unsupported("cobol", "DISPLAY 'X'.");  // no grammar: nothing parsed
  CHECK(parses_on_this_thread() - all0 == 4);
  // Another thread's parses are its own.
  uint64_t other = 0;
  std::thread([&] {
    Document there("c", "int x;");
    other = full_parses_on_this_thread();
  }).join();
  CHECK(other == 1);
  CHECK(full_parses_on_this_thread() - full0 == 1);
}

TEST_CASE("for_each_preorder visits in document order, skips subtrees, stops, and knows depths", "[helpers]") {
  Document doc("javascript", "f(a, [b, c]);\ng(d);\n");
  std::string all, skipped;
  uint32_t deepest = 0;
  CHECK_FALSE(for_each_preorder(doc.root(), [&](TSNode node, uint32_t depth) {
    deepest = std::max(deepest, depth);
    if (ts_node_child_count(node) == 0) all += text_of(doc, node);
    return Walk::Enter;
  }));
  CHECK(all == "f(a,[b,c]);g(d);");
  CHECK(deepest >= 4);
  for_each_preorder(doc.root(), [&](TSNode node) {
    if (std::string_view(ts_node_type(node)) == "array") return Walk::Skip;
    if (ts_node_child_count(node) == 0) skipped += text_of(doc, node);
    return Walk::Enter;
  });
  CHECK(skipped == "f(a,);g(d);");
  std::string until;
  CHECK(for_each_preorder(doc.root(), [&](TSNode node) {
    if (text_of(doc, node) == "c") return Walk::Stop;
    if (ts_node_child_count(node) == 0) until += text_of(doc, node);
    return Walk::Enter;
  }));
  CHECK(until == "f(a,[b,");
  size_t visits = 0;
  CHECK_FALSE(for_each_preorder(TSNode{}, [&](TSNode) {
    ++visits;
    return Walk::Enter;
  }));
  CHECK(visits == 0);
  // A subtree's walk stays inside it.
  TSNode call = ts_node_child(ts_node_child(doc.root(), 0), 0);
  std::string inside;
  for_each_preorder(call, [&](TSNode node) {
    if (ts_node_child_count(node) == 0) inside += text_of(doc, node);
    return Walk::Enter;
  });
  CHECK(inside == "f(a,[b,c])");
}
