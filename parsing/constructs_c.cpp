// C and C++: the constructs its own front end refuses where tree-sitter's
// grammar accepts them (Document::constructs_refused, parsing/constructs.h).
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "parsing/constructs.h"
#include "parsing/nodes.h"

namespace astfill::parsing::constructs {
namespace {

// Whether `name` is all capitals (a macro's, by convention): two letters or
// more, none lowercase.
bool macro_like(std::string_view name) {
  size_t letters = 0;
  for (char ch : name) {
    if (std::islower(static_cast<unsigned char>(ch))) return false;
    letters += std::isupper(static_cast<unsigned char>(ch)) != 0;
  }
  return letters >= 2;
}

// The indentation of the line `byte` is on.
size_t indentation_at(std::string_view text, uint32_t byte) {
  size_t line = byte == 0 ? 0 : text.rfind('\n', byte - 1);
  line = line == std::string_view::npos ? 0 : line + 1;
  size_t first = text.find_first_not_of(" \t", line);
  return (first == std::string_view::npos ? text.size() : first) - line;
}

// Whether `name` could be a macro's by its shape: empty, begins
// with `_`, or has no lowercase letter.
bool could_name_macro(std::string_view name) {
  return name.empty() || name[0] == '_' ||
         std::none_of(name.begin(), name.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// Whether a C or C++ function definition inside a function's body declares
// a function: somewhere down its chain of declarators (through pointers,
// references, parentheses, arrays, attributes) there is a parameter list.
// tree-sitter-c takes `T (x) {` as a function definition too (`i` +
// `tzma_encoder(BOOST_PARAM) {` where `if (ret_xz != LZMA_OK) {` was; gcc:
// "expected ';' before '{'"). A macro's call may be one (`F(f) {` with `#define
// F(x) int x(void)` at the top level, `FOR_EACH(x) {` in a body), so only a
// body's or a class's, and only where the type's name is no macro's: one
// with a lowercase letter that does not begin with `_`.
bool c_declares_function(TSNode definition, std::string_view text) {
  TSNode parent = ts_node_parent(definition);
  // In a body, and among a class's members (`vo` + `id __glibcntlers {`
  // above a method's statements in googletest's gtest_skip_test.cc: g++'s
  // "expected ';' at end of member declaration").
  const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
  if (in != "compound_statement" && in != "field_declaration_list") {
    // Elsewhere only a plain name that is no macro's declares no function
    // (`int xz_d` + `ata_src` above the body of `xz_decompress (FILE *in_file,
    // FILE *out_file)` in xz_pipe_decomp.c: gcc's "expected '=', ',', ';',
    // 'asm' or '__attribute__' before '{'").
    TSNode d = ts_node_child_by_field_name(definition, "declarator", 10);
    if (ts_node_is_null(d) || std::string_view(ts_node_type(d)) != "identifier") return true;
    const std::string_view name = text_between(text, ts_node_start_byte(d), ts_node_end_byte(d));
    return could_name_macro(name);
  }
  TSNode type = ts_node_child_by_field_name(definition, "type", 4);
  if (!ts_node_is_null(type) && std::string_view(ts_node_type(type)) == "type_identifier") {
    const std::string_view name = text_between(text, ts_node_start_byte(type), ts_node_end_byte(type));
    if (could_name_macro(name)) return true;
  }
  TSNode d = ts_node_child_by_field_name(definition, "declarator", 10);
  if (ts_node_is_null(d)) return true;  // a macro-made definition without one: not ours to judge
  while (!ts_node_is_null(d)) {
    const std::string_view t = ts_node_type(d);
    if (t == "function_declarator") return true;
    if (t == "pointer_declarator" || t == "reference_declarator" || t == "array_declarator" ||
        t == "attributed_declarator") {
      d = ts_node_child_by_field_name(d, "declarator", 10);
    } else if (t == "parenthesized_declarator") {
      d = ts_node_named_child(d, 0);
    } else {
      // A name, or a node the chain does not cover (a qualified name, an
      // operator's): only a plain name is known to declare no function.
      return t != "identifier" && t != "field_identifier";
    }
  }
  return true;
}

// The name a C or C++ declarator declares, if it is a plain variable's
// (`x`, `x = 1`, `*x`, `x[4]`).
std::string_view c_declared_name(TSNode d, std::string_view text) {
  while (!ts_node_is_null(d)) {
    const std::string_view t = ts_node_type(d);
    if (t == "identifier") return text_between(text, ts_node_start_byte(d), ts_node_end_byte(d));
    if (t != "init_declarator" && t != "pointer_declarator" && t != "array_declarator" && t != "reference_declarator")
      return {};
    d = ts_node_child_by_field_name(d, "declarator", 10);
  }
  return {};
}

// Whether the C or C++ declaration `node` (in a body) names as its type a
// variable its function declared before it (`bool success = true;` above
// `success` + ` e, argv;` where `success = false;` was: gcc's "expected ';'
// before 'e'"). A type and a variable of one name in one function do not
// happen in code that compiles.
bool c_type_is_a_variable(TSNode node, std::string_view text) {
  TSNode type = ts_node_child_by_field_name(node, "type", 4);
  if (ts_node_is_null(type) || std::string_view(ts_node_type(type)) != "type_identifier") return false;
  const std::string_view name = text_between(text, ts_node_start_byte(type), ts_node_end_byte(type));
  TSNode function = ts_node_parent(node);
  while (!ts_node_is_null(function) && std::string_view(ts_node_type(function)) != "function_definition")
    function = ts_node_parent(function);
  if (ts_node_is_null(function)) return false;
  const uint32_t before = ts_node_start_byte(node);
  bool found = false;
  for_each_preorder(function, [&](TSNode n) {
    if (found || ts_node_start_byte(n) >= before) return Walk::Stop;
    const std::string_view t = ts_node_type(n);
    if (t == "declaration" || t == "parameter_declaration") {
      for (uint32_t i = 0, count = ts_node_child_count(n); i < count; ++i) {
        const char* field = ts_node_field_name_for_child(n, i);
        if (field && std::string_view(field) == "declarator" && c_declared_name(ts_node_child(n, i), text) == name) {
          found = true;
          return Walk::Stop;
        }
      }
      return Walk::Skip;
    }
    return Walk::Enter;
  });
  return found;
}

// Whether `node` stands where C++ takes declarations only: the top level, a
// namespace's body or an `extern "C" {` block.
bool cpp_at_declaration_level(TSNode node) {
  TSNode parent = ts_node_parent(node);
  // Through conditional inclusion (`#if GTEST_IS_THREADSAFE` around a file)
  // and a template's head.
  while (!ts_node_is_null(parent) && (std::string_view(ts_node_type(parent)).starts_with("preproc_") ||
                                      std::string_view(ts_node_type(parent)) == "template_declaration"))
    parent = ts_node_parent(parent);
  const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
  return in == "translation_unit" || in == "declaration_list";
}

// The name a C++ function definition at the declaration level declares, if
// a plain one (`f(...)`, not `A::f(...)` or an operator), with its node.
TSNode cpp_defined_name(TSNode definition) {
  TSNode declarator = ts_node_child_by_field_name(definition, "declarator", 10);
  if (ts_node_is_null(declarator) || std::string_view(ts_node_type(declarator)) != "function_declarator") return {};
  TSNode name = ts_node_child_by_field_name(declarator, "declarator", 10);
  if (ts_node_is_null(name) || std::string_view(ts_node_type(name)) != "identifier") return {};
  return name;
}

// The number of arguments `definition`'s parameter list holds (comments
// aside), or -1 without one.
int cpp_argument_count(TSNode definition) {
  TSNode name = cpp_defined_name(definition);
  TSNode params = ts_node_is_null(name) ? name : ts_node_child_by_field_name(ts_node_parent(name), "parameters", 10);
  if (ts_node_is_null(params)) return -1;
  int count = 0;
  for (uint32_t i = 0, n = ts_node_named_child_count(params); i < n; ++i)
    count += std::string_view(ts_node_type(ts_node_named_child(params, i))) != "comment";
  return count;
}

// The argument counts of the file's definitions without a type named `word`
// where declarations go (a macro's calls with a body), other than `except`.
std::vector<int> cpp_macro_with_body_arities(TSNode root, std::string_view text, std::string_view word, TSNode except) {
  std::vector<int> counts;
  for_each_preorder(root, [&](TSNode n) {
    const std::string_view t = ts_node_type(n);
    if (t == "translation_unit" || t == "namespace_definition" || t == "linkage_specification" ||
        t == "declaration_list" || t == "preproc_if" || t == "preproc_ifdef" || t == "preproc_else" ||
        t == "preproc_elif" || t == "preproc_elifdef")
      return Walk::Enter;
    if (t == "function_definition" && !ts_node_eq(n, except) &&
        ts_node_is_null(ts_node_child_by_field_name(n, "type", 4))) {
      TSNode name = cpp_defined_name(n);
      if (!ts_node_is_null(name) && text_between(text, ts_node_start_byte(name), ts_node_end_byte(name)) == word)
        counts.push_back(cpp_argument_count(n));
    }
    return Walk::Skip;
  });
  return counts;
}

// A C++ function definition with a type whose name the file calls with a
// body elsewhere without one (`TEST` + `RIBCXX_USE_S` above `TEST_F(QueueTest,
// Dequeue) {`: a function TEST_F returning a TESTRIBCXX_USE_S, to the
// grammar): a macro's name is no function's. Only where the span reaches the
// type or the name.
bool cpp_macro_defined_as_function(TSNode node, const Context& c) {
  TSNode type = ts_node_child_by_field_name(node, "type", 4);
  if (ts_node_is_null(type) || !cpp_at_declaration_level(node)) return false;
  TSNode name = cpp_defined_name(node);
  if (ts_node_is_null(name) || ts_node_end_byte(name) <= c.start || ts_node_start_byte(type) >= c.end) return false;
  return !cpp_macro_with_body_arities(c.root, c.text,
                                      text_between(c.text, ts_node_start_byte(name), ts_node_end_byte(name)), node)
              .empty();
}

// Whether the file names `name` as a type (a type_identifier) outside
// `except`, and defines no macro of that name.
bool cpp_used_as_type(std::string_view name, TSNode except, const Context& c) {
  const uint32_t a = ts_node_start_byte(except), b = ts_node_end_byte(except);
  bool defined = false, elsewhere = false, type = false;
  for (size_t at = c.text.find(name); at != std::string_view::npos; at = c.text.find(name, at + 1)) {
    if (at >= a && at < b) continue;
    elsewhere = true;
    size_t line = c.text.rfind('\n', at);
    line = line == std::string_view::npos ? 0 : line + 1;
    std::string_view head = c.text.substr(line, at - line);
    while (!head.empty() && (head.front() == ' ' || head.front() == '\t')) head.remove_prefix(1);
    if (head.starts_with("#") && head.find("define") != std::string_view::npos) defined = true;
  }
  if (defined || !elsewhere) return false;
  for_each_preorder(c.root, [&](TSNode n) {
    if (ts_node_start_byte(n) >= a && ts_node_end_byte(n) <= b) return Walk::Skip;
    if (ts_node_child_count(n) > 0) return Walk::Enter;
    if (std::string_view(ts_node_type(n)) == "type_identifier" &&
        text_between(c.text, ts_node_start_byte(n), ts_node_end_byte(n)) == name) {
      type = true;
      return Walk::Stop;
    }
    return Walk::Skip;
  });
  return type;
}

// A C++ function definition without a type where declarations go is a
// macro's call with a body (googletest's `TEST_F(Suite, Name) {`): C++ has
// no implicit int. Refused where an argument has a default value, which no
// macro pasting names from its arguments takes (`TEST(AD` +
// `EVICESPACE_BINARY_PARAMS = 0, C) {}`; g++: "expected unqualified-id before
// '=' token"), where member initialisers follow, and where the file's other
// calls of the macro all take another number of arguments (`TEST(` + `s) {`
// among `TEST(A, B) {`s: g++'s "expected unqualified-id before '{'"). Only
// where the span reaches the name or its arguments.
bool cpp_typeless_definition_refused(TSNode node, const Context& c) {
  if (!cpp_at_declaration_level(node)) return false;
  TSNode type = ts_node_child_by_field_name(node, "type", 4);
  if (!ts_node_is_null(type)) {
    // With one argument tree-sitter-cpp reads the call as a typed
    // definition: `TEST (None) {`, a `None` of type TEST.
    TSNode declarator = ts_node_child_by_field_name(node, "declarator", 10);
    if (std::string_view(ts_node_type(type)) != "type_identifier" || ts_node_is_null(declarator) ||
        std::string_view(ts_node_type(declarator)) != "parenthesized_declarator" ||
        ts_node_end_byte(declarator) <= c.start || ts_node_start_byte(type) >= c.end)
      return false;
    const std::vector<int> others = cpp_macro_with_body_arities(
        c.root, c.text, text_between(c.text, ts_node_start_byte(type), ts_node_end_byte(type)), node);
    return !others.empty() && std::all_of(others.begin(), others.end(), [&](int n) { return n == others[0]; }) &&
           others[0] != 1;
  }
  TSNode name = cpp_defined_name(node);
  if (ts_node_is_null(name)) return false;
  TSNode declarator = ts_node_parent(name);
  if (ts_node_end_byte(declarator) <= c.start || ts_node_start_byte(declarator) >= c.end) return false;
  // A constructor's member initialisers after an unqualified name: outside
  // its class a constructor is named `A::A` (`typede` + `fined(BOOST_PRECATED):`
  // above `TEST_F(...) {`, which tree-sitter-cpp reads as a constructor
  // `typedefined` initialising a member `TEST_F`: g++'s "expected
  // constructor, destructor, or type conversion before '('").
  for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n; ++i)
    if (std::string_view(ts_node_type(ts_node_named_child(node, i))) == "field_initializer_list") return true;
  TSNode params = ts_node_child_by_field_name(declarator, "parameters", 10);
  for (uint32_t i = 0, n = ts_node_is_null(params) ? 0 : ts_node_named_child_count(params); i < n; ++i)
    if (std::string_view(ts_node_type(ts_node_named_child(params, i))) == "optional_parameter_declaration") return true;
  // A name the file uses as a type elsewhere: a class's constructor,
  // which outside its class is named `A::A` (`PrimeTab` + `le() {` where
  // `PrimeTable* CreatePreCalculatedPrimeTable() {` was, below `typedef
  // PrimeTable* CreatePrimeTableFunc();`: g++'s "expected primary-expression
  // before ')' token"). Not where the file defines a macro of that name.
  const std::string_view word = text_between(c.text, ts_node_start_byte(name), ts_node_end_byte(name));
  if (!macro_like(word) && cpp_used_as_type(word, node, c)) return true;
  const std::vector<int> others = cpp_macro_with_body_arities(c.root, c.text, word, node);
  const int own = cpp_argument_count(node);
  return !others.empty() && std::all_of(others.begin(), others.end(), [&](int n) { return n == others[0]; }) &&
         others[0] != own;
}

}  // namespace

// Whether `operand` is the left operand of a `<<` (`parent`): googletest's
// assertions take a message so (`EXPECT_EQ(1, x) << "why";`).
bool streams_into(TSNode parent, TSNode operand, std::string_view text) {
  if (ts_node_is_null(parent) || std::string_view(ts_node_type(parent)) != "binary_expression") return false;
  TSNode left = ts_node_child_by_field_name(parent, "left", 4);
  TSNode op = ts_node_child_by_field_name(parent, "operator", 8);
  return !ts_node_is_null(left) && ts_node_eq(left, operand) && !ts_node_is_null(op) &&
         text_between(text, ts_node_start_byte(op), ts_node_end_byte(op)) == "<<";
}

// Whether the file calls `name` at least twice besides `except`, and each
// time as a whole statement (`EXPECT_STREQ(a, b);`, with a message streamed
// into it or not): a macro that expands to statements (googletest's
// assertions open with a `switch`), which no expression can hold.
bool called_only_as_statements(TSNode root, std::string_view text, std::string_view name, TSNode except) {
  size_t statements = 0;
  bool value = false;
  for_each_preorder(root, [&](TSNode n) {
    if (value) return Walk::Skip;
    if (std::string_view(ts_node_type(n)) != "call_expression" || ts_node_eq(n, except)) return Walk::Enter;
    TSNode f = ts_node_child_by_field_name(n, "function", 8);
    if (!ts_node_is_null(f) && std::string_view(ts_node_type(f)) == "identifier" &&
        text_between(text, ts_node_start_byte(f), ts_node_end_byte(f)) == name) {
      TSNode parent = ts_node_parent(n);
      for (TSNode at = n; streams_into(parent, at, text);) at = parent, parent = ts_node_parent(parent);
      if (!ts_node_is_null(parent) && std::string_view(ts_node_type(parent)) == "expression_statement") ++statements;
      else value = true;
    }
    return Walk::Enter;
  });
  return !value && statements >= 2;
}

// A destructor declared in a class body under another name than its class's
// (`~PrimeTa` + `gicate();` in a class PrimeTableTestSmpl7: g++'s "expected
// class-name before '(' token"). The name counts once something follows it
// in the span, or the span is finished.
bool cpp_destructor_misnamed(TSNode node, const Context& c) {
  TSNode name = ts_node_named_child(node, 0);
  if (ts_node_is_null(name) || std::string_view(ts_node_type(name)) != "identifier") return false;
  if (!c.finished && ts_node_end_byte(name) >= c.end) return false;
  TSNode declarator = ts_node_parent(node);
  if (ts_node_is_null(declarator) || std::string_view(ts_node_type(declarator)) != "function_declarator") return false;
  TSNode member = ts_node_parent(declarator);
  TSNode list = ts_node_is_null(member) ? TSNode{} : ts_node_parent(member);
  TSNode owner = ts_node_is_null(list) ? TSNode{} : ts_node_parent(list);
  if (ts_node_is_null(owner) || std::string_view(ts_node_type(list)) != "field_declaration_list") return false;
  const std::string_view kind = ts_node_type(owner);
  if (kind != "class_specifier" && kind != "struct_specifier" && kind != "union_specifier") return false;
  TSNode class_name = ts_node_child_by_field_name(owner, "name", 4);
  // `template <> class Table<int> {`: the template's name.
  if (!ts_node_is_null(class_name) && std::string_view(ts_node_type(class_name)) == "template_type")
    class_name = ts_node_child_by_field_name(class_name, "name", 4);
  if (ts_node_is_null(class_name) || std::string_view(ts_node_type(class_name)) != "type_identifier") return false;
  return text_between(c.text, ts_node_start_byte(name), ts_node_end_byte(name)) !=
         text_between(c.text, ts_node_start_byte(class_name), ts_node_end_byte(class_name));
}

// Whether an identifier stands where only a value goes: an operand, the
// object of a `.`, an argument of a call that is not a macro's
// (`TEST_F(Suite, Name)` takes names of any kind), an initialiser, a
// statement; not in `sizeof(...)`, `alignof(...)` or `decltype(...)`, which
// take types too.
bool cpp_value_place(TSNode node, const Context& c) {
  TSNode parent = ts_node_parent(node);
  static constexpr std::string_view kExpressionParents[] = {
      "argument_list",         "expression_statement", "return_statement",  "binary_expression",
      "parenthesized_expression", "assignment_expression", "init_declarator", "conditional_expression",
      "unary_expression",      "comma_expression",     "initializer_list"};
  const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
  // The object of a `.` (`testin` + `g.` above `InitGoogleTest(&argc, argv);`).
  if (in == "field_expression") {
    TSNode object = ts_node_child_by_field_name(parent, "argument", 8);
    return !ts_node_is_null(object) && ts_node_eq(object, node);
  }
  if (std::find(std::begin(kExpressionParents), std::end(kExpressionParents), in) == std::end(kExpressionParents))
    return false;
  TSNode above = ts_node_parent(parent);
  const std::string_view outer = ts_node_is_null(above) ? "" : ts_node_type(above);
  if (outer == "sizeof_expression" || outer == "alignof_expression" || outer == "decltype") return false;
  if (in == "argument_list" && outer == "call_expression") {
    TSNode function = ts_node_child_by_field_name(above, "function", 8);
    if (!ts_node_is_null(function) && std::string_view(ts_node_type(function)) == "identifier" &&
        macro_like(text_between(c.text, ts_node_start_byte(function), ts_node_end_byte(function))))
      return false;
  }
  return true;
}

// Whether the file names `name` only as a scope (`name::x`, `namespace
// name`, `using namespace name;`), and nowhere but at `except` as anything
// else.
bool cpp_scope_only(std::string_view name, TSNode except, const Context& c) {
  // Most names never come before `::` or after `namespace`: a scan of the
  // text first.
  bool qualifier = false;
  for (size_t at = c.text.find(name); at != std::string_view::npos && !qualifier; at = c.text.find(name, at + 1)) {
    const bool starts = at == 0 || !(std::isalnum(static_cast<unsigned char>(c.text[at - 1])) || c.text[at - 1] == '_');
    size_t before = at;
    while (before > 0 && (c.text[before - 1] == ' ' || c.text[before - 1] == '\t')) --before;
    qualifier = starts && (c.text.substr(at + name.size()).starts_with("::") ||
                           (before < at && c.text.substr(0, before).ends_with("namespace")));
  }
  if (!qualifier) return false;
  bool scope = false, other = false;
  for_each_preorder(c.root, [&](TSNode n) {
    if (ts_node_child_count(n) > 0) return Walk::Enter;
    const std::string_view t = ts_node_type(n);
    if (!t.ends_with("identifier") || ts_node_eq(n, except) ||
        text_between(c.text, ts_node_start_byte(n), ts_node_end_byte(n)) != name)
      return Walk::Skip;
    TSNode parent = ts_node_parent(n);
    // `using namespace name;` names it an identifier.
    if (t == "namespace_identifier" ||
        (!ts_node_is_null(parent) && std::string_view(ts_node_type(parent)) == "using_declaration")) {
      scope = true;
      return Walk::Skip;
    }
    other = true;
    return Walk::Stop;
  });
  return scope && !other;
}

// Whether `name` stands as a whole word in `text` outside [a, b).
bool word_elsewhere(std::string_view text, std::string_view name, uint32_t a, uint32_t b) {
  auto part = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; };
  for (size_t at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1)) {
    if (at >= a && at < b) continue;
    if ((at == 0 || !part(text[at - 1])) && (at + name.size() == text.size() || !part(text[at + name.size()])))
      return true;
  }
  return false;
}

// Whether a call where C++ takes declarations only (`call`, an expression
// statement's) calls a name that is no macro's: no `_` and a lowercase
// letter (`INSuite(TypeValue, argv);` where `INSTANTIATE_TYPED_TEST_SUITE_P(`
// was, gtest_list_output_unittest_.cc, seed 19: g++'s "expected
// constructor, destructor, or type conversion before '(' token"), and the
// file names it nowhere else (no `#define`, no other use). Also with one
// name in the parentheses (`INSuite(` + `\n    TypeParameterizedTestSuiteTypes);`,
// the answer trimmed: a function's declaration without its return type, to
// g++), though a header's macro of that shape would take it (ROOT's
// `ClassImp(Foo)`).
bool cpp_unknown_call_at_top(TSNode call, const Context& c) {
  TSNode function = ts_node_child_by_field_name(call, "function", 8);
  if (ts_node_is_null(function) || std::string_view(ts_node_type(function)) != "identifier") return false;
  const std::string_view name = text_between(c.text, ts_node_start_byte(function), ts_node_end_byte(function));
  if (name.find('_') != std::string_view::npos || could_name_macro(name)) return false;
  return !word_elsewhere(c.text, name, ts_node_start_byte(function), ts_node_end_byte(function));
}

bool c_family_refuses(TSNode node, const Context& c) {
  const std::string_view type = ts_node_type(node);
  if (c.finished && (type == "assignment_expression" || type == "binary_expression" || type == "init_declarator" ||
                     type == "return_statement" || type == "conditional_expression" ||
                     type == "unary_expression" || type == "comma_expression" || type == "update_expression")) {
    // A call of a macro the file calls only as whole statements, as an
    // operand or a value (`EXPEC` + `RECATED =` above `EXPECT_STREQ(nullptr,
    // s.c_string());` in googletest's sample2_unittest.cc: the assertion
    // becomes what is assigned, and g++ finds its expansion's `switch`
    // where a value goes: "expected primary-expression before 'switch'").
    // Asked of the operator, which the span reaches where the call may lie
    // wholly below it (`EX` + `ML -----` above `EXPECT_EQ(1, foo.Bar(0));`).
    for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n; ++i) {
      TSNode call = ts_node_named_child(node, i);
      if (std::string_view(ts_node_type(call)) != "call_expression") continue;
      TSNode function = ts_node_child_by_field_name(call, "function", 8);
      if (ts_node_is_null(function) || std::string_view(ts_node_type(function)) != "identifier" ||
          streams_into(node, call, c.text))
        continue;
      const std::string_view name = text_between(c.text, ts_node_start_byte(function), ts_node_end_byte(function));
      if (macro_like(name) && called_only_as_statements(c.root, c.text, name, call)) return true;
    }
  }
  if (c.finished && type == "call_expression") {
    // A macro's name as a member called (`Pri` + `ority.` above
    // `EXPECT_EQ(0, a.x_);`: tree-sitter reads `Priority.EXPECT_EQ(...)`,
    // and g++ expands the macro after the `.`): a member function is not
    // named in capitals only.
    TSNode callee = ts_node_child_by_field_name(node, "function", 8);
    if (ts_node_is_null(callee) || std::string_view(ts_node_type(callee)) != "field_expression") return false;
    TSNode field = ts_node_child_by_field_name(callee, "field", 5);
    if (ts_node_is_null(field)) return false;
    const std::string_view name = text_between(c.text, ts_node_start_byte(field), ts_node_end_byte(field));
    return macro_like(name) && name.find('_') != std::string_view::npos;
  }
  if (c.finished && (type == "labeled_statement" || type == "compound_statement") && cpp_at_declaration_level(node) &&
      !c.tree_holds_error_node()) {
    // A block or a label where only declarations go: `static bool` + `race;`
    // where ` xz_compress (FILE *in_file, FILE *out_file)` was leaves the
    // function's body a block of the file's (gcc's "expected identifier or
    // '(' before '{' token"); `TE` + `rror: 0, 0;` a label (g++'s "expected
    // unqualified-id before ':' token"). Only in a tree without errors, as
    // for expressions below.
    return true;
  }
  if (c.finished && c.language.id == "cpp" && type == "pure_virtual_clause") {
    // `= 0` ends a member function's declaration only: a function at the
    // top level or in a namespace (`typede` + `fined(BOOST_PRECATED) = 0;`
    // where `typedef PrematureExitTest PrematureExitDeathTest;` was, which
    // tree-sitter-cpp reads as a function without a type) is g++'s
    // "expected constructor, destructor, or type conversion before '('".
    TSNode owner = ts_node_parent(node);
    return !ts_node_is_null(owner) && std::string_view(ts_node_type(owner)) == "function_definition" &&
           cpp_at_declaration_level(owner);
  }
  if (c.finished && c.language.id == "c" && type == "labeled_statement") {
    // A declaration is no statement in C: labelled, it may stand in a block
    // (gcc takes that), not as an if's, else's or loop's body (`m` +
    // `ask_memit:` under `if (mt.threads > threads_max)`, above `lzma_ret ret
    // = ...;`: gcc's "expected expression before 'lzma_ret'").
    TSNode last = ts_node_named_child(node, ts_node_named_child_count(node) - 1);
    if (ts_node_is_null(last) || std::string_view(ts_node_type(last)) != "declaration") return false;
    TSNode up = ts_node_parent(node);
    while (!ts_node_is_null(up) && std::string_view(ts_node_type(up)) == "labeled_statement") up = ts_node_parent(up);
    const std::string_view in = ts_node_is_null(up) ? "" : ts_node_type(up);
    return in == "if_statement" || in == "else_clause" || in == "while_statement" || in == "for_statement" ||
           in == "do_statement";
  }
  if (c.finished && c.language.id == "cpp" && type == "using_declaration") {
    // A using-declaration names a member of a namespace or a class (`using
    // ::testing::X;`), or a namespace or an enumeration with its keyword:
    // `using` + `e;` where `testing::internal::ShouldUseColor;` was is
    // g++'s "expected nested-name-specifier before 'e'".
    bool keyword = false, plain = false;
    for (uint32_t i = 0, n = ts_node_child_count(node); i < n; ++i) {
      const std::string_view part = ts_node_type(ts_node_child(node, i));
      keyword = keyword || part == "namespace" || part == "enum";
      plain = plain || part == "identifier";
    }
    return plain && !keyword;
  }
  if (type == "sized_type_specifier") {
    // `signed`, `unsigned`, `short` and `long` modify only char, int and
    // double (and each other): tree-sitter's grammars let them take any
    // type's name (`unsigne` + `d` above `z_stream strm;` in zlib's
    // zpipe.c is read as `unsigned z_stream strm;`; gcc's "expected '=',
    // ',', ';', 'asm' or '__attribute__' before 'strm'"). Not a name a
    // macro or the compiler may make a type (`unsigned __int128`, `unsigned
    // INT_TYPE`): one in capitals or beginning with `_`.
    for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n; ++i) {
      TSNode part = ts_node_named_child(node, i);
      if (std::string_view(ts_node_type(part)) != "type_identifier") continue;
      const auto first = static_cast<unsigned char>(c.text[ts_node_start_byte(part)]);
      if (std::islower(first)) return true;
    }
    return false;
  }
  if (type == "concatenated_string") {
    // The grammars let any name join string literals, for macros that
    // expand to strings (`"%" PRIu64 "\n"`, `__FILE__`): such a macro is
    // named in capitals or begins with `_`. A lowercase word there (`in
    // "2.0"`, `e "x"`) is no macro's name: gcc's "expected ';' before
    // string constant".
    // Nor is a CamelCase one (`Check(R` + `unA` above a string argument
    // in googletest's gtest_environment_test.cc: g++'s "expected ')' before
    // string constant"): a macro's name has no lowercase letter right after
    // its first (PRIu64 and SCNd64 have two capitals first).
    for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n; ++i) {
      TSNode part = ts_node_named_child(node, i);
      if (std::string_view(ts_node_type(part)) != "identifier") continue;
      const uint32_t a = ts_node_start_byte(part), b = ts_node_end_byte(part);
      const auto first = static_cast<unsigned char>(c.text[a]);
      if (std::islower(first)) return true;
      if (b - a >= 2 && std::isupper(first) && std::islower(static_cast<unsigned char>(c.text[a + 1]))) return true;
    }
    return false;
  }
  if (c.finished && c.language.id == "cpp" && type == "identifier" && cpp_value_place(node, c)) {
    // The standard library's namespace as a value (`fflush(` + `std` + `);`
    // in googletest's sample9_unittest.cc: "expected primary-expression
    // before ')'"); as a scope tree-sitter-cpp names it a
    // namespace_identifier. Only where an expression stands (`using
    // namespace std;` names it an identifier too).
    const std::string_view name = text_between(c.text, ts_node_start_byte(node), ts_node_end_byte(node));
    if (name == "std") return true;
    // Likewise a name the file uses only as a scope (`testing::Test`), never
    // as a value, a type or a member: a namespace, or a class named only
    // for its members (`testing` + `, so;` in a googletest file).
    return cpp_scope_only(name, node, c);
  }
  if (c.language.id == "cpp" && type == "destructor_name") return cpp_destructor_misnamed(node, c);
  if (c.finished && c.language.id == "cpp" && (type == "function_definition" || type == "declaration") &&
      ts_node_is_null(ts_node_child_by_field_name(node, "type", 4))) {
    // `const` or `volatile` with no type: C++ has no implicit int (`const T`
    // + `ree<size_t>(value, value) {` where `const TestPartResult&
    // TestPartResultArray::GetTestPartResult(int index) const {` was, in
    // gtest-test-part.cc: g++'s "expected ')' before ','"; "ISO C++ forbids
    // declaration of 'f' with no type" where it knows the names).
    // tree-sitter-cpp takes `constexpr` for a qualifier too, which a
    // constructor may have. Only where the span reaches the declarator.
    TSNode declarator = ts_node_child_by_field_name(node, "declarator", 10);
    for (uint32_t i = 0, n = ts_node_is_null(declarator) || ts_node_end_byte(declarator) <= c.start
                                  ? 0
                                  : ts_node_named_child_count(node);
         i < n; ++i) {
      TSNode part = ts_node_named_child(node, i);
      if (std::string_view(ts_node_type(part)) != "type_qualifier") continue;
      const std::string_view word = text_between(c.text, ts_node_start_byte(part), ts_node_end_byte(part));
      if (word == "const" || word == "volatile") return true;
    }
  }
  if (c.finished && type == "declaration" && c_type_is_a_variable(node, c.text)) return true;
  if (c.finished && c.language.id == "cpp" && type == "declaration") {
    // A name the file calls with a body (a macro's: `TEST(Suite, Name) {`) as
    // a declaration's type (`TEST(Ba` + `sed) { FILESpecFuncated,};`, which
    // tree-sitter-cpp reads as a variable `Based` of type `TEST` initialised
    // with a list: g++'s "expected unqualified-id before '{'").
    TSNode declared = ts_node_child_by_field_name(node, "type", 4);
    if (!ts_node_is_null(declared) && std::string_view(ts_node_type(declared)) == "type_identifier") {
      const std::string_view name = text_between(c.text, ts_node_start_byte(declared), ts_node_end_byte(declared));
      if (macro_like(name) && !cpp_macro_with_body_arities(c.root, c.text, name, node).empty()) return true;
    }
  }
  if (type == "declaration") {
    // In a body, a declaration whose declarator starts a line no deeper
    // than the line of its type (`Prie` then `EXPECT_EQ(0, a.x());`: a
    // variable of type Prie, to the grammar) joins two statements: a type
    // name alone on its line is an unfinished statement, and what follows
    // is one of its own (a macro call, to the compiler).
    TSNode parent = ts_node_parent(node);
    TSNode type_node = ts_node_child_by_field_name(node, "type", 4);
    TSNode declarator = ts_node_child_by_field_name(node, "declarator", 10);
    if (!ts_node_is_null(parent) && std::string_view(ts_node_type(parent)) == "compound_statement" &&
        !ts_node_is_null(type_node) && !ts_node_is_null(declarator) &&
        ts_node_end_point(type_node).row < ts_node_start_point(declarator).row &&
        indentation_at(c.text, ts_node_start_byte(declarator)) <= indentation_at(c.text, ts_node_start_byte(node)))
      return true;
    return false;
  }
  if (c.finished && c.language.id == "cpp" && type == "expression_statement" && cpp_at_declaration_level(node) &&
      !c.tree_holds_error_node()) {
    // An expression where C++ takes declarations only (`TE` + `SPACE_SIGNORE
    // = 1;` above `int main`: g++'s "expected unqualified-id before '='").
    // Not a macro's call or name (`MODULE_INFO(x);`, `FOO;`), which expand
    // to declarations; C's gcc takes `x = 1;` as an int's definition. A
    // member's call is no macro's (`au` + `tors.  This` above
    // `::testing::AddGlobalTestEnvironment(...);`: g++'s "expected
    // unqualified-id before '.'"), nor a name the file knows nothing of
    // (cpp_unknown_call_at_top). Only in a tree without errors: in a broken
    // file tree-sitter may leave a function's statements at the top level.
    TSNode e = ts_node_named_child(node, 0);
    if (ts_node_is_null(e) || c.language.comments.contains(e)) return false;
    const std::string_view what = ts_node_type(e);
    if (what == "call_expression") {
      TSNode function = ts_node_child_by_field_name(e, "function", 8);
      const std::string_view called = ts_node_is_null(function) ? "" : ts_node_type(function);
      if (called == "field_expression" || cpp_unknown_call_at_top(e, c)) return true;
      // A macro's argument that is an assignment (`TEST(n, err = 1);` where
      // `TEST(GTestColorTest, Dummy) {}` was, googletest-color-test_.cc, seed
      // 23: pasted into a name, g++'s "expected unqualified-id before '='").
      TSNode args = ts_node_child_by_field_name(e, "arguments", 9);
      for (uint32_t i = 0, n = ts_node_is_null(args) ? 0 : ts_node_named_child_count(args); i < n; ++i)
        if (std::string_view(ts_node_type(ts_node_named_child(args, i))) == "assignment_expression") return true;
      return false;
    }
    return what != "identifier" && what != "qualified_identifier";
  }
  if (c.finished && c.language.id == "cpp" && type == "new_expression") {
    // A macro the file calls only as whole statements as the type a `new`
    // makes (`EXPEC` + `ATED = new` above `EXPECT_FALSE(table_->IsPrime(0));`:
    // g++ finds the expansion's `switch` where a type goes).
    TSNode made = ts_node_child_by_field_name(node, "type", 4);
    if (ts_node_is_null(made) || std::string_view(ts_node_type(made)) != "type_identifier") return false;
    const std::string_view name = text_between(c.text, ts_node_start_byte(made), ts_node_end_byte(made));
    return macro_like(name) && called_only_as_statements(c.root, c.text, name, TSNode{});
  }
  if (c.finished && c.language.id == "cpp" && type == "function_definition" &&
      (cpp_typeless_definition_refused(node, c) || cpp_macro_defined_as_function(node, c)))
    return true;
  if ((c.language.id == "c" || c.finished) && type == "function_definition") {
    // In C++ only once finished: `std::vector<int> values{` is a brace
    // initialisation being written, which tree-sitter-cpp reads as a
    // function's body until its `};`.
    if (!c_declares_function(node, c.text)) return true;
    return false;
  }
  return false;
}

}  // namespace astfill::parsing::constructs
