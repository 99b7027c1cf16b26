// Extraction on a small realistic file per language: every definition with
// its kind, container, signature and doc; every import as written; some
// references. The fixtures are in fixtures.h.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "fixtures.h"
#include "parsing/document.h"
#include "parsing/extract.h"

using namespace astfill::parsing;
using K = SymbolKind;

namespace {

struct ExpectedDefinition {
  SymbolKind kind;
  std::string name, container, signature, doc;
};

struct ExpectedImport {
  std::string module;
  std::vector<std::string> names;
  bool relative;
};

std::string describe(const FileSymbols& symbols) {
  std::string s;
  for (const Definition& d : symbols.definitions)
    s += std::string(to_string(d.kind)) + " " + d.container + (d.container.empty() ? "" : "/") + d.name + " [" +
         d.signature + "]\n";
  for (const Import& i : symbols.imports) s += "import " + i.module + "\n";
  return s;
}

// Names and ranges agree with the text: the name range covers the name, the
// definition's range covers the name range, lines and columns match bytes.
void check_ranges(std::string_view text, const Span& span) {
  REQUIRE(span.start_byte <= span.end_byte);
  REQUIRE(span.end_byte <= text.size());
  auto line_col = [&](uint32_t byte) {
    std::string_view before = text.substr(0, byte);
    uint32_t line = static_cast<uint32_t>(std::count(before.begin(), before.end(), '\n'));
    size_t nl = before.rfind('\n');
    uint32_t col = static_cast<uint32_t>(nl == std::string_view::npos ? byte : byte - nl - 1);
    return std::pair(line, col);
  };
  CHECK(line_col(span.start_byte) == std::pair(span.start_line, span.start_column));
  CHECK(line_col(span.end_byte) == std::pair(span.end_line, span.end_column));
}

void check_definitions(std::string_view text, const FileSymbols& symbols,
                       const std::vector<ExpectedDefinition>& expected) {
  INFO(describe(symbols));
  REQUIRE(symbols.definitions.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const Definition& d = symbols.definitions[i];
    const ExpectedDefinition& e = expected[i];
    INFO("definition " << i << ": " << e.name);
    CHECK(d.name == e.name);
    CHECK(to_string(d.kind) == std::string(to_string(e.kind)));
    CHECK(d.container == e.container);
    CHECK(d.signature == e.signature);
    CHECK(d.doc == e.doc);
    check_ranges(text, d.range);
    check_ranges(text, d.name_range);
    CHECK(text.substr(d.name_range.start_byte, d.name_range.end_byte - d.name_range.start_byte) == d.name);
    CHECK(d.range.start_byte <= d.name_range.start_byte);
    CHECK(d.name_range.end_byte <= d.range.end_byte);
  }
}

void check_imports(std::string_view text, const FileSymbols& symbols, const std::vector<ExpectedImport>& expected) {
  INFO(describe(symbols));
  REQUIRE(symbols.imports.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("import " << i << ": " << expected[i].module);
    CHECK(symbols.imports[i].module == expected[i].module);
    CHECK(symbols.imports[i].names == expected[i].names);
    CHECK(symbols.imports[i].relative == expected[i].relative);
    check_ranges(text, symbols.imports[i].range);
  }
}

// A reference named `name` whose range starts where `snippet` first occurs.
void check_reference(std::string_view text, const FileSymbols& symbols, const std::string& name,
                     std::string_view snippet) {
  INFO("reference " << name << " at " << snippet);
  size_t at = text.find(snippet);
  REQUIRE(at != std::string_view::npos);
  bool found = false;
  for (const Reference& r : symbols.references) {
    check_ranges(text, r.range);
    found = found || (r.name == name && r.range.start_byte == at && r.range.end_byte == at + name.size());
  }
  CHECK(found);
}

}  // namespace

TEST_CASE("Python: classes, methods, fields, docstrings, relative imports", "[extract]") {
  std::string_view text = fixtures::python;
  FileSymbols symbols = extract_symbols("python", text);
  CHECK_FALSE(symbols.has_syntax_errors);
  check_definitions(text, symbols, {
      {K::Constant, "MAX_DEPTH", "", "MAX_DEPTH = 10", ""},
      {K::Variable, "cache", "", "cache = {}", ""},
      {K::Class, "Stack", "", "class Stack(Base)", "A LIFO stack.\n\nPush and pop."},
      {K::Field, "limit", "Stack", "limit: int = 5", ""},
      {K::Field, "count", "Stack", "count = 0", ""},
      {K::Method, "push", "Stack", "def push(self, item) -> None", ""},
      {K::Method, "top", "Stack", "def top(self)", ""},
      {K::Function, "add", "", "def add(a, b) -> int", "Add two numbers."},
  });
  check_imports(text, symbols, {
      {"os.path", {}, false},
      {"sys", {}, false},
      {".", {"sibling"}, true},
      {"..pkg.mod", {"join", "split"}, true},
      {"typing", {"*"}, false},
  });
  check_reference(text, symbols, "append", "append(item)");
  check_reference(text, symbols, "helper", "helper(a)");
  check_reference(text, symbols, "join", "join(b)");
}

TEST_CASE("JavaScript: functions, classes, fields, JSDoc, ES imports and require", "[extract]") {
  std::string_view text = fixtures::javascript;
  FileSymbols symbols = extract_symbols("javascript", text);
  CHECK_FALSE(symbols.has_syntax_errors);
  check_definitions(text, symbols, {
      {K::Constant, "path", "", "const path = require(\"path\")", ""},
      {K::Function, "count", "", "export function count(n)", "Counts things.\n@param {number} n"},
      {K::Class, "Widget", "", "class Widget extends React.Component", "A widget."},
      {K::Field, "size", "Widget", "size = 3", ""},
      {K::Method, "render", "Widget", "render()", ""},
      {K::Function, "square", "", "const square = (x) => x * x", ""},
      {K::Variable, "mutable", "", "let mutable = 1", ""},
  });
  check_imports(text, symbols, {
      {"react", {"default", "useState"}, false},
      {"./util.js", {"*"}, true},
      {"../helpers", {"helper"}, true},
      {"path", {}, false},
  });
  check_reference(text, symbols, "join", "join(n)");
  check_reference(text, symbols, "Thing", "Thing(this");
  check_reference(text, symbols, "size", "size);");
}

TEST_CASE("TypeScript: interfaces, enums, type aliases, namespaces, re-exports", "[extract]") {
  std::string_view text = fixtures::typescript;
  FileSymbols symbols = extract_symbols("typescript", text);
  CHECK_FALSE(symbols.has_syntax_errors);
  check_definitions(text, symbols, {
      {K::Constant, "MAX_DEPTH", "", "export const MAX_DEPTH = 10", "Maximum depth."},
      {K::Class, "Stack", "", "export class Stack<T> extends Base implements Sized", "A LIFO stack."},
      {K::Field, "items", "Stack", "private items: T[] = []", ""},
      {K::Method, "push", "Stack", "push(item: T): void", "Push one item."},
      {K::Interface, "Shape", "", "interface Shape", ""},
      {K::Method, "area", "Shape", "area(): number", ""},
      {K::Field, "name", "Shape", "name: string", ""},
      {K::TypeAlias, "Id", "", "type Id = string | number", ""},
      {K::Enum, "Color", "", "enum Color", ""},
      {K::EnumMember, "Red", "Color", "Red", ""},
      {K::EnumMember, "Green", "Color", "Green = 2", ""},
      {K::Namespace, "Geometry", "", "namespace Geometry", ""},
      {K::Function, "area", "Geometry", "export function area(s: Shape): number", ""},
      {K::Function, "add", "", "export function add(a: number, b: number): number", ""},
  });
  check_imports(text, symbols, {
      {"fs", {"default"}, false},
      {"./util/path", {"join", "dirname"}, true},
      {"./all", {"*"}, true},
  });
  check_reference(text, symbols, "push", "push(item);");
  check_reference(text, symbols, "area", "area(); }");
  check_reference(text, symbols, "Shape", "Shape): number");
}

TEST_CASE("TSX: components and JSX", "[extract]") {
  std::string_view text = fixtures::tsx;
  FileSymbols symbols = extract_symbols("typescriptreact", text);
  CHECK_FALSE(symbols.has_syntax_errors);
  check_definitions(text, symbols, {
      {K::Function, "Hello", "", "export function Hello(props: { name: string })", "A greeting."},
      {K::Function, "Empty", "", "export const Empty = () => <></>", ""},
  });
  check_imports(text, symbols, {
      {"react", {"default"}, false},
  });
  check_reference(text, symbols, "name", "name}!");
}

TEST_CASE("C: structs, typedefs, enums, prototypes, macros, includes", "[extract]") {
  std::string_view text = fixtures::c;
  FileSymbols symbols = extract_symbols("c", text);
  CHECK_FALSE(symbols.has_syntax_errors);
  check_definitions(text, symbols, {
      {K::Constant, "MAX_DEPTH", "", "#define MAX_DEPTH 10", ""},
      {K::Struct, "stack", "", "struct stack", "A fixed-size stack."},
      {K::Field, "items", "stack", "int items[MAX_DEPTH]", ""},
      {K::Field, "count", "stack", "int count", ""},
      {K::TypeAlias, "stack_t", "", "typedef struct stack stack_t", ""},
      {K::Enum, "color", "", "enum color", ""},
      {K::EnumMember, "RED", "color", "RED", ""},
      {K::EnumMember, "GREEN", "color", "GREEN", ""},
      {K::Function, "stack_push", "", "int stack_push(struct stack *s, int item)", "Pushes one item.\nReturns 0 when full."},
      {K::Function, "make", "", "static int *make(void)", ""},
      {K::Constant, "limit", "", "const int limit = 5", ""},
      {K::Function, "stack_push", "", "int stack_push(struct stack *s, int item)", ""},
  });
  check_imports(text, symbols, {
      {"stack.h", {}, true},
      {"stdlib.h", {}, false},
  });
  check_reference(text, symbols, "malloc", "malloc(");
  check_reference(text, symbols, "helper", "helper(item)");
  check_reference(text, symbols, "count", "count == MAX");
}

TEST_CASE("C++: namespaces, templates, out-of-line methods, enums, using", "[extract]") {
  std::string_view text = fixtures::cpp;
  FileSymbols symbols = extract_symbols("cpp", text);
  CHECK_FALSE(symbols.has_syntax_errors);
  check_definitions(text, symbols, {
      {K::Namespace, "geo", "", "namespace geo", ""},
      {K::Class, "Stack", "geo", "template <typename T> class Stack : public Base", "A LIFO stack."},
      {K::Method, "push", "geo::Stack", "void push(const T& item)", "Push one item."},
      {K::Method, "size", "geo::Stack", "int size() const", ""},
      {K::Field, "count_", "geo::Stack", "int count_ = 0", ""},
      {K::Field, "items_", "geo::Stack", "std::vector<T> items_", ""},
      {K::Enum, "Color", "geo", "enum class Color", ""},
      {K::EnumMember, "Red", "geo::Color", "Red", ""},
      {K::EnumMember, "Green", "geo::Color", "Green", ""},
      {K::TypeAlias, "Id", "geo", "using Id = long", ""},
      {K::Struct, "Point", "geo", "struct Point", ""},
      {K::Field, "x", "geo::Point", "int x, y", ""},
      {K::Field, "y", "geo::Point", "int x, y", ""},
      {K::Function, "add", "", "int add(int a, int b)", "Adds two ints."},
      {K::Method, "push", "geo::Stack", "template <typename T> void geo::Stack<T>::push(const T& item)", ""},
  });
  check_imports(text, symbols, {
      {"stack.h", {}, true},
      {"vector", {}, false},
  });
  check_reference(text, symbols, "helper", "helper(a)");
  check_reference(text, symbols, "push_back", "push_back(");
  check_reference(text, symbols, "vector", "vector<T>");
}

TEST_CASE("Go: structs, interfaces, methods with receivers, doc comments, import specs", "[extract]") {
  std::string_view text = fixtures::go;
  FileSymbols symbols = extract_symbols("go", text);
  CHECK_FALSE(symbols.has_syntax_errors);
  check_definitions(text, symbols, {
      {K::Constant, "MaxDepth", "", "const MaxDepth = 10", "MaxDepth bounds recursion."},
      {K::Variable, "cache", "", "var cache = map[string]int{}", ""},
      {K::Struct, "Stack", "", "type Stack struct", "Stack is a LIFO stack.\nIt is not safe for concurrent use."},
      {K::Field, "items", "Stack", "items []int", ""},
      {K::Field, "Count", "Stack", "Count int", ""},
      {K::Interface, "Shape", "", "type Shape interface", ""},
      {K::Method, "Area", "Shape", "Area() float64", ""},
      {K::TypeAlias, "ID", "", "type ID = string", ""},
      {K::Method, "Push", "Stack", "func (s *Stack) Push(v int)", "Push adds v."},
      {K::Function, "Add", "", "func Add(a, b int) int", ""},
  });
  check_imports(text, symbols, {
      {"fmt", {}, false},
      {"strings", {}, false},
  });
  check_reference(text, symbols, "Println", "Println(");
  check_reference(text, symbols, "ToUpper", "ToUpper(");
  check_reference(text, symbols, "append", "append(s.items");
}

TEST_CASE("Rust: structs, traits, impls, enums, modules, use trees", "[extract]") {
  std::string_view text = fixtures::rust;
  FileSymbols symbols = extract_symbols("rust", text);
  CHECK_FALSE(symbols.has_syntax_errors);
  check_definitions(text, symbols, {
      {K::Module, "tests", "", "mod tests", ""},
      {K::Struct, "Stack", "", "pub struct Stack<T>", "A LIFO stack."},
      {K::Field, "items", "Stack", "items: Vec<T>", ""},
      {K::Trait, "Shape", "", "pub trait Shape", ""},
      {K::Method, "area", "Shape", "fn area(&self) -> f64", ""},
      {K::Method, "push", "Stack", "pub fn push(&mut self, item: T)", "Pushes one item."},
      {K::Enum, "Color", "", "pub enum Color", ""},
      {K::EnumMember, "Red", "Color", "Red", ""},
      {K::EnumMember, "Green", "Color", "Green(u8)", ""},
      {K::TypeAlias, "Id", "", "pub type Id = u64", ""},
      {K::Constant, "MAX_DEPTH", "", "const MAX_DEPTH: usize = 10", ""},
      {K::Module, "geo", "", "mod geo", ""},
      {K::Function, "area", "geo", "pub fn area() -> f64", ""},
  });
  check_imports(text, symbols, {
      {"std::collections", {"HashMap", "HashSet"}, false},
      {"crate::util::helper", {}, false},
      {"super", {"*"}, true},
      {"tests", {}, true},
  });
  check_reference(text, symbols, "helper", "helper(1)");
  check_reference(text, symbols, "push", "push(item);");
  check_reference(text, symbols, "Vec", "Vec<T>");
}

TEST_CASE("Java: classes, constants, constructors, nested enums and interfaces, imports", "[extract]") {
  std::string_view text = fixtures::java;
  FileSymbols symbols = extract_symbols("java", text);
  CHECK_FALSE(symbols.has_syntax_errors);
  check_definitions(text, symbols, {
      {K::Class, "Stack", "", "public class Stack<T> extends Base implements Sized", "A LIFO stack."},
      {K::Constant, "LIMIT", "Stack", "public static final int LIMIT = 10", "The limit."},
      {K::Field, "items", "Stack", "private List<T> items", ""},
      {K::Method, "Stack", "Stack", "public Stack()", ""},
      {K::Method, "push", "Stack", "public void push(T item)", "Pushes one item."},
      {K::Enum, "Color", "Stack", "enum Color", ""},
      {K::EnumMember, "RED", "Stack.Color", "RED", ""},
      {K::EnumMember, "GREEN", "Stack.Color", "GREEN", ""},
      {K::Interface, "Visitor", "Stack", "interface Visitor", ""},
      {K::Method, "visit", "Stack.Visitor", "void visit(T item)", ""},
  });
  check_imports(text, symbols, {
      {"java.util.List", {}, false},
      {"java.util", {"*"}, false},
      {"java.lang.Math.max", {}, false},
  });
  check_reference(text, symbols, "add", "add(item)");
  check_reference(text, symbols, "ArrayList", "ArrayList<>");
  check_reference(text, symbols, "helper", "helper(item)");
}

TEST_CASE("a cancelled extraction stops early and keeps what it has", "[extract]") {
  astfill::CancellationSource source;
  source.cancel(astfill::CancelReason::Superseded);
  Document doc("python", std::string(fixtures::python));
  FileSymbols symbols = extract_symbols(doc, source.token());
  CHECK(symbols.definitions.size() <= extract_symbols(doc).definitions.size());
  for (const Definition& d : symbols.definitions) CHECK(d.range.end_byte <= doc.text().size());
}

TEST_CASE("a document whose parse was stopped gives nothing until reparsed", "[extract]") {
  Document doc("python", std::string(fixtures::python));
  astfill::CancellationSource source;
  source.cancel(astfill::CancelReason::ContentModified);
  ParseLimits limits;
  limits.cancel = source.token();
  std::string big;
  for (int i = 0; i < 5000; ++i) big += "def g" + std::to_string(i) + "():\n    pass\n";
  REQUIRE(doc.edit(0, 0, big, limits) == ParseStatus::Cancelled);
  CHECK(extract_symbols(doc).definitions.empty());
  REQUIRE(doc.reparse() == ParseStatus::Parsed);
  CHECK(extract_symbols(doc).definitions.size() == 5000 + 8);
}

TEST_CASE("unsupported languages give empty results", "[extract]") {
  FileSymbols symbols = extract_symbols("cobol", "IDENTIFICATION DIVISION.");
  CHECK(symbols.definitions.empty());
  CHECK(symbols.references.empty());
  CHECK(symbols.imports.empty());
  CHECK_FALSE(symbols.has_syntax_errors);
}
