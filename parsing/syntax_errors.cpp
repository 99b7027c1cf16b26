// errors_introduced: which syntax errors a span of text brought with it. The
// rules are documented on Document::errors_introduced; this file compares the
// document's tree with a parse of the text without the span.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <vector>

#include "parsing/document.h"
#include "parsing/nodes.h"

namespace astfill::parsing {

namespace {

// ts_builtin_sym_error; 0.20.7 has no ts_node_is_error.
constexpr TSSymbol kErrorSymbol = static_cast<TSSymbol>(-1);

struct ErrorMark {
  uint32_t byte;
  uint32_t end;
  TSSymbol symbol;  // 0 (ts_builtin_sym_end, never a MISSING node's symbol) for ERROR nodes
  bool operator<(const ErrorMark& o) const { return byte != o.byte ? byte < o.byte : symbol < o.symbol; }
  };

// Outermost ERROR nodes and every MISSING node that begin before `before`, in
// document order, skipping subtrees without errors (so a clean tree costs one
// look at the root).
std::vector<ErrorMark> error_marks(TSNode root, uint32_t before) {
  std::vector<ErrorMark> marks;
  if (ts_node_is_null(root) || !ts_node_has_error(root)) return marks;
  for_each_preorder(root, [&](TSNode node) {
    if (ts_node_start_byte(node) >= before) return Walk::Skip;
    if (ts_node_symbol(node) == kErrorSymbol) {
      marks.push_back({ts_node_start_byte(node), ts_node_end_byte(node), 0});
    } else if (ts_node_is_missing(node)) {
      marks.push_back({ts_node_start_byte(node), ts_node_end_byte(node), ts_node_symbol(node)});
    } else if (ts_node_has_error(node)) {
      return Walk::Enter;
    }
    return Walk::Skip;
  });
  return marks;
}

// The tree of `text` without [start, end), parsed incrementally from `tree`.
TSTree* tree_without(const Document& doc, uint32_t start, uint32_t end, std::string* without) {
  const std::string& text = doc.text();
  *without = text.substr(0, start) + text.substr(end);
  TSTree* edited = ts_tree_copy(doc.tree());
  TSInputEdit e{};
  e.start_byte = start;
  e.old_end_byte = end;
  e.new_end_byte = start;
  e.start_point = point_at(text, start);
  e.old_end_point = point_at(text, end);
  e.new_end_point = e.start_point;
  ts_tree_edit(edited, &e);
  TSParser* parser = ts_parser_new();
  ts_parser_set_language(parser, doc.language()->grammar);
  TSTree* result = nullptr;
  parse_text(parser, edited, *without, ParseLimits{}, &result);
  ts_parser_delete(parser);
  ts_tree_delete(edited);
  return result;
}

}  // namespace

SyntaxCheck Document::errors_introduced(uint32_t start, uint32_t end) const {
  SyntaxCheck check;
  if (!tree_) return check;
  const auto size = static_cast<uint32_t>(text_.size());
  start = std::min(start, size);
  end = std::clamp(end, start, size);
  std::vector<ErrorMark> now = error_marks(root(), end);
  if (now.empty()) return check;

  std::string without;
  TSTree* base_tree = tree_without(*this, start, end, &without);
  std::vector<ErrorMark> before =
      base_tree ? error_marks(ts_tree_root_node(base_tree), UINT32_MAX) : std::vector<ErrorMark>{};
  if (base_tree) ts_tree_delete(base_tree);
  std::sort(before.begin(), before.end());
  auto had = [&](uint32_t byte, TSSymbol symbol) {
    return std::binary_search(before.begin(), before.end(), ErrorMark{byte, 0, symbol});
  };

  const uint32_t removed = end - start;
  for (const ErrorMark& mark : now) {
    // Pending: an ERROR still open at the frontier (an unfinished construct).
    if (mark.symbol == 0 && mark.end >= end) continue;
    bool old;
    if (mark.byte < start) old = had(mark.byte, mark.symbol);
    else if (mark.byte > end) old = had(mark.byte - removed, mark.symbol);
    else if (mark.byte == start || mark.byte == end) old = had(start, mark.symbol);
    else old = false;  // inside the span: nothing to compare with
    if (old) continue;
    if (check.new_errors == 0) check.first_error = mark.byte;
    ++check.new_errors;
  }
  check.introduced = check.new_errors > 0;
  return check;
}

namespace {

// Python's keywords that are never names (the soft keywords match, case, type
// and _ are names elsewhere; async and await were names before 3.7).
// Each language's reserved words: words that can never be a name (its
// specification's hard keywords and literal words, not contextual keywords
// such as JavaScript's `of`, Java's `var` or C++'s `override`, which are
// names elsewhere). Grammars that lex a keyword as a name in error recovery
// accept `foo(if)` or `return return`; the language's own front end does not.
using Words = std::vector<std::string_view>;
const Words& reserved_words(std::string_view language_id) {
  static const Words python{"False", "None",   "True",     "and",    "as",     "assert", "break", "class",
                            "continue", "def", "del",      "elif",   "else",   "except", "finally", "for",
                            "from",  "global", "if",       "import", "in",     "is",     "lambda", "nonlocal",
                            "not",   "or",     "pass",     "raise",  "return", "try",    "while", "with", "yield"};
  // ECMAScript's reserved words, for identifiers in expression and binding
  // position (a property name after `.`, property_identifier, may be any
  // word). The words only strict code reserves (`let`, `static`, `yield`,
  // `implements`, `interface`, `package`, `private`, `protected`, `public`)
  // count in strict files only: a CommonJS file may use them as names.
  static const Words ecmascript{"break",   "case",   "catch",      "class",    "const",  "continue", "debugger",
                                "default", "delete", "do",         "else",     "enum",   "export",   "extends",
                                "false",   "finally", "for",       "function", "if",     "import",   "in",
                                "instanceof", "new",  "null",      "return",   "super",  "switch",   "this",
                                "throw",   "true",   "try",        "typeof",   "var",    "void",     "while",
                                "with"};
  // What strict code reserves besides: in a module (a file with `import` or
  // `export` at its top level) or under a "use strict" directive; V8:
  // "Unexpected strict mode reserved word".
  static const Words ecmascript_strict{"implements", "interface", "let",    "package", "private",
                                       "protected",  "public",    "static", "yield"};
  static const Words java{"abstract", "assert",     "boolean",   "break",   "byte",     "case",   "catch",
                          "char",     "class",      "const",     "continue", "default", "do",     "double",
                          "else",     "enum",       "extends",   "false",   "final",    "finally", "float",
                          "for",      "goto",       "if",        "implements", "import", "instanceof", "int",
                          "interface", "long",      "native",    "new",     "null",     "package", "private",
                          "protected", "public",    "return",    "short",   "static",   "strictfp", "super",
                          "switch",   "synchronized", "this",    "throw",   "throws",   "transient", "true",
                          "try",      "void",       "volatile",  "while"};
  static const Words go{"break",     "case",   "chan",   "const",  "continue", "default", "defer",
                        "else",      "fallthrough", "for", "func", "go",       "goto",    "if",
                        "import",    "interface", "map",   "package", "range",  "return",  "select",
                        "struct",    "switch", "type",   "var"};
  // C and C++: a macro's arguments may be any words (`va_arg(ap, int)`,
  // zlib's `OF((void *, unsigned))`), and tree-sitter reads a macro call as a
  // call, so type and storage words stand as names in real code. Only the
  // words no macro argument is made of count: statements', and C++'s
  // alternative operator spellings.
  static const Words c{"break", "case", "continue", "default", "do", "else", "for", "goto", "if", "return",
                       "switch", "while"};
  static const Words cpp{"and",   "and_eq", "bitand", "bitor",  "break",  "case",   "catch", "compl",
                         "continue", "co_return", "co_yield", "default", "do", "else", "for",   "goto",
                         "if",    "not",    "not_eq", "or",     "or_eq",  "return", "switch", "throw",
                         "try",   "while",  "xor",    "xor_eq"};
  // Rust's `Self` is a keyword that names a type or a path's start
  // (`Self::new`, `Self { x }`), which tree-sitter-rust reads as an identifier.
  static const Words rust{"as",    "break", "const", "continue", "crate", "else",  "enum",   "extern", "false",
                          "fn",    "for",   "if",    "impl",     "in",    "let",   "loop",   "match",  "mod",
                          "move",  "mut",   "pub",   "ref",      "return", "self", "static", "struct",
                          "super", "trait", "true",  "type",     "unsafe", "use",  "where",  "while",  "async",
                          "await", "dyn"};
  static const Words none;
  if (language_id == "ecmascript-strict") return ecmascript_strict;
  if (language_id == "python") return python;
  if (language_id == "javascript" || language_id == "typescript" || language_id == "typescriptreact") return ecmascript;
  if (language_id == "java") return java;
  if (language_id == "go") return go;
  if (language_id == "c") return c;
  if (language_id == "cpp") return cpp;
  if (language_id == "rust") return rust;
  return none;
}

// The standard headers' typedef names that code never redefines as
// something else (<stdint.h>, <stddef.h>, <sys/types.h>): to the grammars a
// plain identifier, to the compiler a type, never a value.
bool c_standard_typedef(std::string_view word) {
  static constexpr std::string_view kTypes[] = {
      "int8_t",   "int16_t",   "int32_t",   "int64_t",  "uint8_t",   "uint16_t", "uint32_t",
      "uint64_t", "intptr_t",  "uintptr_t", "intmax_t", "uintmax_t", "size_t",   "ssize_t",
      "ptrdiff_t"};
  return std::find(std::begin(kTypes), std::end(kTypes), word) != std::end(kTypes);
}

// C's and C++'s words that begin a type's or a template's definition: no
// declarator is named by one.
bool c_declarator_keyword(std::string_view word, bool cpp) {
  if (word == "struct" || word == "union" || word == "enum" || word == "typedef") return true;
  return cpp && (word == "class" || word == "namespace" || word == "template" || word == "typename");
}

}  // namespace

size_t Document::reserved_words_as_names(uint32_t start, uint32_t end, bool finished) const {
  if (!language_ || !tree_ || start >= end) return 0;
  if (!finished && language_->id != "python") return 0;
  const Words& reserved = reserved_words(language_->id);
  if (reserved.empty()) return 0;
  const bool rust = language_->id == "rust", java = language_->id == "java";
  const std::string_view id = language_->id;
  const bool c_family = id == "c" || id == "cpp";
  // JavaScript's and TypeScript's strict code: a module or a file whose
  // first statement is the "use strict" directive.
  bool strict = false;
  if (finished && (id == "javascript" || id == "typescript" || id == "typescriptreact")) {
    TSNode top = root();
    for (uint32_t i = 0, n = ts_node_named_child_count(top); i < n && !strict; ++i) {
      TSNode child = ts_node_named_child(top, i);
      const std::string_view type = ts_node_type(child);
      if (type == "import_statement" || type == "export_statement") strict = true;
      else if (i == 0 && type == "expression_statement") {
        const std::string_view first = text_between(text_, ts_node_start_byte(child), ts_node_end_byte(child));
        strict = first.starts_with("\"use strict\"") || first.starts_with("'use strict'");
      }
    }
  }
  const Words& strict_words = reserved_words(strict ? "ecmascript-strict" : "");
  size_t count = 0;
  for_each_preorder(root(), [&](TSNode node) {
    const uint32_t a = ts_node_start_byte(node), b = ts_node_end_byte(node);
    if (b <= start || a >= end) return Walk::Skip;  // only subtrees that overlap the span
    // A Rust macro's token tree holds tokens, not code: any word is one
    // (tree-sitter-rust lexes `in` there as an identifier).
    if (rust && std::string_view(ts_node_type(node)) == "token_tree") return Walk::Skip;
    if (ts_node_child_count(node) > 0 || a < start || b >= end) return Walk::Enter;
    // tree-sitter-java also reads a keyword as a type's name (`return cs;`
    // among class members: a field `cs` of type `return`), and
    // tree-sitter-c and -cpp as a field's, a label's or a namespace's (`sta`
    // + `  return;` among class members: a field `return` of type `sta`;
    // g++'s "expected unqualified-id before 'return'"). Not as a type's: an
    // `else` after an `#if`'s branches, each with its own `if`, is one there.
    const std::string_view leaf = ts_node_type(node);
    if (leaf != "identifier" && !(java && leaf == "type_identifier") &&
        !(c_family && (leaf == "field_identifier" || leaf == "statement_identifier" || leaf == "namespace_identifier")))
      return Walk::Enter;
    std::string_view word = text_between(text_, a, b);
    if (std::find(reserved.begin(), reserved.end(), word) != reserved.end() ||
        std::find(strict_words.begin(), strict_words.end(), word) != strict_words.end())
      ++count;
    else if (c_family && c_declarator_keyword(word, id == "cpp")) {
      // A type-defining word where a declaration's name goes (`TEST` +
      // `    struct {` before a function body: tree-sitter-cpp reads a
      // function named `struct`); in a macro's arguments it may stand.
      TSNode parent = ts_node_parent(node);
      const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
      if (in == "function_definition" || in == "function_declarator" || in == "init_declarator" ||
          in == "declaration" || in == "pointer_declarator" || in == "reference_declarator" ||
          in == "array_declarator" || in == "parameter_declaration")
        ++count;
    } else if (c_family && c_standard_typedef(word)) {
      // A type's name where a value goes: an operand, what is returned or
      // assigned (`return` + `n, int32_t;`: gcc's "expected expression
      // before 'int32_t'"). A macro's arguments (va_arg, offsetof) and
      // parentheses (a cast, sizeof) may hold one.
      TSNode parent = ts_node_parent(node);
      const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
      TSNode right = in == "assignment_expression" ? ts_node_child_by_field_name(parent, "right", 5) : TSNode{};
      if (in == "comma_expression" || in == "binary_expression" || in == "return_statement" ||
          in == "conditional_expression" ||
          (in == "assignment_expression" && !ts_node_is_null(right) && ts_node_eq(right, node)))
        ++count;
    }
    return Walk::Enter;
  });
  return count;
}

namespace {

// Whether a Java integer literal (tree-sitter-java's decimal, hex, octal or
// binary_integer_literal node, `text`) is out of range: javac's lexer refuses
// it ("integer number too large"). An int holds 32 bits, a long (suffix `l`
// or `L`) 64; a decimal one up to 2^31 - 1 (2^63 - 1), or 2^31 (2^63) as
// the operand of a unary minus.
bool java_integer_too_large(std::string_view type, std::string_view text, bool negated) {
  std::string digits;
  for (char c : text)
    if (c != '_') digits += c;
  const bool is_long = !digits.empty() && (digits.back() == 'l' || digits.back() == 'L');
  if (is_long) digits.pop_back();
  unsigned base = 10;
  if (type == "hex_integer_literal") {
    base = 16;
    digits.erase(0, 2);
  } else if (type == "binary_integer_literal") {
    base = 2;
    digits.erase(0, 2);
  } else if (type == "octal_integer_literal") {
    base = 8;
  }
  uint64_t value = 0;
  for (char c : digits) {
    const auto u = static_cast<unsigned char>(c);
    const unsigned d = std::isdigit(u) ? static_cast<unsigned>(c - '0')
                       : std::isxdigit(u) ? static_cast<unsigned>(std::tolower(u) - 'a' + 10)
                                          : 99;
    if (d >= base) return false;  // not a literal this reads: not ours to judge
    if (value > (UINT64_MAX - d) / base) return true;  // 2^64 or more: too large for anything
    value = value * base + d;
  }
  if (base != 10) return !is_long && value > UINT32_MAX;
  // 2^31 (2^63): only as the operand of a unary minus.
  const uint64_t limit = is_long ? uint64_t{1} << 63 : uint64_t{1} << 31;
  return value > limit || (value == limit && !negated);
}

// The expressions Java allows as a statement (JLS 14.8): javac's parser
// refuses any other (`1000;`, `a.b;`, `x + 1;`: "not a statement").
bool java_statement_expression(std::string_view type) {
  return type == "assignment_expression" || type == "update_expression" || type == "method_invocation" ||
         type == "object_creation_expression" || type == "switch_expression";
}

// Whether `node` (JavaScript or TypeScript) is inside the constructor of a
// class that extends another, the only place a `super(...)` call may be:
// arrow functions see their surroundings' constructor, any other function
// (or a method, a static block, a field's initializer) does not.
bool in_derived_constructor(TSNode node, std::string_view text) {
  for (TSNode at = ts_node_parent(node); !ts_node_is_null(at); at = ts_node_parent(at)) {
    const std::string_view t = ts_node_type(at);
    if (t == "arrow_function") continue;
    if (t == "method_definition") {
      TSNode name = ts_node_child_by_field_name(at, "name", 4);
      if (ts_node_is_null(name) ||
          text_between(text, ts_node_start_byte(name), ts_node_end_byte(name)) != "constructor")
        return false;
      TSNode body = ts_node_parent(at);
      TSNode owner = ts_node_is_null(body) ? body : ts_node_parent(body);
      if (ts_node_is_null(owner) || std::string_view(ts_node_type(body)) != "class_body") return false;
      for (uint32_t i = 0, n = ts_node_named_child_count(owner); i < n; ++i)
        if (std::string_view(ts_node_type(ts_node_named_child(owner, i))) == "class_heritage") return true;
      return false;
    }
    if (t == "function_declaration" || t == "function_expression" || t == "function" ||
        t == "generator_function" || t == "generator_function_declaration" || t == "class_static_block" ||
        t == "field_definition" || t == "public_field_definition" || t == "program")
      return false;
  }
  return false;
}

// Whether `scope` (JavaScript or TypeScript) holds a node of type `wanted`
// of its own: not inside a function or a class within it.
bool holds_own(TSNode scope, std::string_view wanted) {
  bool found = false;
  for_each_preorder(scope, [&](TSNode node) {
    const std::string_view t = ts_node_type(node);
    if (t == wanted) {
      found = true;
      return Walk::Stop;
    }
    if (!ts_node_eq(node, scope) &&
        (t == "arrow_function" || t == "function_declaration" || t == "function_expression" || t == "function" ||
         t == "generator_function" || t == "generator_function_declaration" || t == "method_definition" ||
         t == "class" || t == "class_declaration"))
      return Walk::Skip;
    return Walk::Enter;
  });
  return found;
}

// Whether a function that is not async (a method, a declaration, an
// expression) awaits in its own body.
bool awaits_outside_async(TSNode fn) {
  for (uint32_t i = 0, n = ts_node_child_count(fn); i < n; ++i)
    if (std::string_view(ts_node_type(ts_node_child(fn, i))) == "async") return false;
  TSNode body = ts_node_child_by_field_name(fn, "body", 4);
  return !ts_node_is_null(body) && holds_own(body, "await_expression");
}

// Whether a C or C++ function definition inside a function's body declares
// a function: somewhere down its chain of declarators (through pointers,
// references, parentheses, arrays, attributes) there is a parameter list.
// tree-sitter-c takes `T (x) {` as a function definition too (`i` +
// `tzma_encoder(BOOST_PARAM) {` where `if (ret_xz != LZMA_OK) {` was; gcc:
// "expected ';' before '{'"). A macro's call may be one (`F(f) {` with `#define
// F(x) int x(void)` at the top level, `FOR_EACH(x) {` in a body), so only a
// body's, and only where the type's name is no macro's: one with a lowercase
// letter that does not begin with `_`.
bool c_declares_function(TSNode definition, std::string_view text) {
  TSNode parent = ts_node_parent(definition);
  if (ts_node_is_null(parent) || std::string_view(ts_node_type(parent)) != "compound_statement") return true;
  TSNode type = ts_node_child_by_field_name(definition, "type", 4);
  if (!ts_node_is_null(type) && std::string_view(ts_node_type(type)) == "type_identifier") {
    const std::string_view name = text_between(text, ts_node_start_byte(type), ts_node_end_byte(type));
    if (name.empty() || name[0] == '_' ||
        std::none_of(name.begin(), name.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
      return true;
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

// What may stand at the top level of a Java 17 compilation unit (JLS 7.3):
// tree-sitter-java's program takes any statement there (`p` + `e the;` where
// `package java.util;` was: javac's "class, interface, enum, or record
// expected").
bool java_top_level(std::string_view type) {
  return type == "package_declaration" || type == "import_declaration" || type == "class_declaration" ||
         type == "interface_declaration" || type == "enum_declaration" || type == "record_declaration" ||
         type == "annotation_type_declaration" || type == "module_declaration" || type == "line_comment" ||
         type == "block_comment" || type == ";";
}

// Whether an ERROR or a MISSING node is anywhere under `root` (tree-sitter's
// has_error flag also stays set by a recovery that left neither).
bool holds_error_node(TSNode root) {
  bool found = false;
  for_each_preorder(root, [&](TSNode node) {
    if (found || !ts_node_has_error(node)) return Walk::Skip;
    if (ts_node_symbol(node) == kErrorSymbol || ts_node_is_missing(node)) {
      found = true;
      return Walk::Stop;
    }
    return Walk::Enter;
  });
  return found;
}

// The name a C or C++ declarator declares, if it is a plain variable's
// (`x`, `x = 1`, `*x`, `x[4]`).
std::string_view c_declared_name(TSNode d, std::string_view text) {
  while (!ts_node_is_null(d)) {
    const std::string_view t = ts_node_type(d);
    if (t == "identifier") return text_between(text, ts_node_start_byte(d), ts_node_end_byte(d));
    if (t != "init_declarator" && t != "pointer_declarator" && t != "array_declarator" &&
        t != "reference_declarator")
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

// What may stand at the top level of a Go source file: declarations only
// (tree-sitter-go's source_file takes statements too: `fun` + `t.Bytes() {`
// where `func testGetAfterClose(...) {` was; gofmt's "expected declaration").
bool go_top_level(std::string_view type) {
  return type == "package_clause" || type == "import_declaration" || type == "function_declaration" ||
         type == "method_declaration" || type == "const_declaration" || type == "var_declaration" ||
         type == "type_declaration" || type == "comment" || type == ";" || type == "\n";
}

// Whether `node` is the body of a Java statement whose body is one
// statement, not a block: a declaration there is javac's "variable
// declaration not allowed here" (`if (...)` above `retu` + `nce the;` where
// `return super.containsAll(c);` was). A for's initialiser is no body.
bool java_single_statement_body(TSNode node) {
  TSNode parent = ts_node_parent(node);
  if (ts_node_is_null(parent)) return false;
  const std::string_view type = ts_node_type(parent);
  auto is_field = [&](const char* field) {
    TSNode f = ts_node_child_by_field_name(parent, field, static_cast<uint32_t>(std::strlen(field)));
    return !ts_node_is_null(f) && ts_node_eq(f, node);
  };
  if (type == "if_statement") return is_field("consequence") || is_field("alternative");
  if (type == "while_statement" || type == "for_statement" || type == "enhanced_for_statement" ||
      type == "do_statement")
    return is_field("body");
  return false;
}

// Whether a Rust integer literal (tree-sitter-rust's integer_literal, `text`
// with its `_`s and type suffix) is past u128: rustc's lexer refuses it
// ("integer literal is too large") whatever its type.
bool rust_integer_too_large(std::string_view text) {
  unsigned base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'o' || text[1] == 'b')) {
    base = text[1] == 'x' ? 16 : text[1] == 'o' ? 8 : 2;
    text.remove_prefix(2);
  }
  unsigned __int128 value = 0;
  const auto max = ~static_cast<unsigned __int128>(0);
  for (char c : text) {
    if (c == '_') continue;
    const auto u = static_cast<unsigned char>(c);
    const unsigned d = std::isdigit(u) ? static_cast<unsigned>(c - '0')
                       : std::isxdigit(u) ? static_cast<unsigned>(std::tolower(u) - 'a' + 10)
                                          : 99;
    if (d >= base) break;  // the type suffix (`u8`, `i64`; in hex, `i`/`u` are no digits)
    if (value > (max - d) / base) return true;
    value = value * base + d;
  }
  return false;
}

// Whether a Rust comment is a doc comment where rustc's parser refuses one.
// An inner one (`//!`, `/*!`) documents what encloses it: a file, module,
// impl or trait, or function, before anything but comments and inner
// attributes ("expected outer doc comment"; in an `if`'s block: "an inner
// attribute is not permitted in this context"). An
// outer one (`///`, `/**`) documents what follows: it stands among items,
// statements, fields, variants or match arms, and once `finished`, something follows it
// ("found a documentation comment that doesn't document anything"; before
// a `;` in an expression: "expected one of ... found doc comment").
bool rust_doc_misplaced(TSNode comment, bool finished) {
  bool inner = false, outer = false;
  for (uint32_t i = 0, n = ts_node_child_count(comment); i < n; ++i) {
    const std::string_view marker = ts_node_type(ts_node_child(comment, i));
    inner = inner || marker == "inner_doc_comment_marker";
    outer = outer || marker == "outer_doc_comment_marker";
  }
  if (!inner && !outer) return false;
  auto is_comment = [](TSNode n) {
    const std::string_view t = ts_node_type(n);
    return t == "line_comment" || t == "block_comment";
  };
  TSNode parent = ts_node_parent(comment);
  const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
  if (inner) {
    // A file, a module, an impl or trait body, a function's body; not a
    // block of an `if`, a loop or a closure.
    TSNode owner = ts_node_is_null(parent) ? parent : ts_node_parent(parent);
    const bool function_body =
        in == "block" && !ts_node_is_null(owner) && std::string_view(ts_node_type(owner)) == "function_item";
    if (in != "source_file" && in != "declaration_list" && !function_body) return true;
    for (TSNode n = ts_node_prev_named_sibling(comment); !ts_node_is_null(n); n = ts_node_prev_named_sibling(n))
      if (!is_comment(n) && std::string_view(ts_node_type(n)) != "inner_attribute_item") return true;
    return false;
  }
  static const std::string_view kContainers[] = {"source_file",          "declaration_list",
                                                 "block",                "field_declaration_list",
                                                 "enum_variant_list",    "match_block",
                                                 "ordered_field_declaration_list"};
  if (std::find(std::begin(kContainers), std::end(kContainers), in) == std::end(kContainers)) return true;
  // What it documents may still be coming while the completion is written.
  if (!finished) return false;
  for (TSNode n = ts_node_next_named_sibling(comment); !ts_node_is_null(n); n = ts_node_next_named_sibling(n))
    if (!is_comment(n)) return false;
  return true;
}

// The bracketed lists of Go whose elements a line break may end: the line
// break after an element puts a `;` there unless a `,` ends the line.
bool go_list(std::string_view type) {
  return type == "literal_value" || type == "argument_list" || type == "parameter_list" ||
         type == "type_arguments" || type == "type_parameter_list";
}

}  // namespace

size_t Document::constructs_refused(uint32_t start, uint32_t end, bool finished) const {
  if (!language_ || !tree_ || start >= end) return 0;
  const std::string_view id = language_->id;
  const bool python = id == "python" && finished;
  const bool ecmascript = id == "javascript" || id == "typescript" || id == "typescriptreact";
  // Java's statements once their `;` is written (nothing after it makes
  // one a statement); its literals once finished (an `L` may be coming).
  const bool java = id == "java", java_literals = java && finished;
  const bool c_family = id == "c" || id == "cpp";
  // Go's lists and Rust's literals and items once finished (the closing tail
  // is on a line of its own while a completion is written; a digit may be
  // coming; a macro's name is a plain expression until its `!`).
  const bool go = id == "go" && finished, rust = id == "rust" && finished;
  // Go's `:=` once its left side is written (nothing after it makes a
  // selector or an index a name).
  const bool go_declarations = id == "go";
  // Rust's doc comments once written to their end (`///` may still become
  // `////`, a plain comment).
  const bool rust_docs = id == "rust";
  if (!python && !ecmascript && !java && !c_family && !go_declarations && !rust_docs) return 0;
  // The indentation of the line `byte` is on.
  auto indentation_at = [&](uint32_t byte) {
    size_t line = byte == 0 ? 0 : text_.rfind('\n', byte - 1);
    line = line == std::string::npos ? 0 : line + 1;
    size_t first = text_.find_first_not_of(" \t", line);
    return (first == std::string::npos ? text_.size() : first) - line;
  };
  size_t count = 0;
  for_each_preorder(root(), [&](TSNode node) {
    const uint32_t a = ts_node_start_byte(node), b = ts_node_end_byte(node);
    if (b <= start || a >= end) return Walk::Skip;  // only subtrees that overlap the span
    const std::string_view type = ts_node_type(node);
    if (python && type == "as_pattern") {
      TSNode parent = ts_node_parent(node);
      const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
      if (in != "with_item" && in != "except_clause" && in != "except_group_clause" && in != "case_pattern" &&
          in != "case_clause")
        ++count;
    } else if (python && type == "assignment") {
      // An annotation on the next line (`de` + `e:` above a docstring:
      // tree-sitter-python's scanner gives no newline where the grammar
      // wants a type and reads `dee:\n    \"\"\"...\"\"\"` as an annotated name;
      // CPython ends the line at `:`). An assignment is never inside
      // brackets, so only a backslash joins the lines.
      TSNode annotation = ts_node_child_by_field_name(node, "type", 4);
      if (!ts_node_is_null(annotation)) {
        TSNode colon = ts_node_prev_sibling(annotation);
        if (!ts_node_is_null(colon)) {
          const std::string_view gap =
              text_between(text_, ts_node_end_byte(colon), ts_node_start_byte(annotation));
          for (size_t i = gap.find('\n'); i != std::string_view::npos; i = gap.find('\n', i + 1)) {
            const size_t before = i > 0 && gap[i - 1] == '\r' ? i - 1 : i;
            if (before == 0 || gap[before - 1] != '\\') {
              ++count;
              break;
            }
          }
        }
      }
    } else if (python && type == "named_expression") {
      // `:=` stands unparenthesized only where CPython's grammar has a
      // named expression: a condition of if/elif/while, a match's subject,
      // a positional argument, an element of a list, set, tuple or
      // comprehension's result, a subscript (`asser` + `, err := range(0)`
      // at statement level: "invalid syntax").
      TSNode parent = ts_node_parent(node);
      const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
      static constexpr std::string_view kAllowed[] = {
          "parenthesized_expression", "argument_list", "list",   "set",
          "tuple",                    "subscript",     "if_statement", "elif_clause",
          "while_statement",          "match_statement", "list_comprehension", "set_comprehension",
          "generator_expression"};
      if (std::find(std::begin(kAllowed), std::end(kAllowed), in) == std::end(kAllowed)) ++count;
    } else if (python && type == "argument_list") {
      // A `,` before any argument (`f(,)`: CPython's invalid syntax).
      if (ts_node_child_count(node) > 1 && std::string_view(ts_node_type(ts_node_child(node, 1))) == ",") {
        ++count;
        return Walk::Enter;
      }
      // A positional argument after a keyword argument or `**` unpacking.
      bool keywords = false;
      for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n; ++i) {
        const std::string_view arg = ts_node_type(ts_node_named_child(node, i));
        if (arg == "keyword_argument" || arg == "dictionary_splat") keywords = true;
        else if (keywords && arg != "list_splat" && arg != "comment") {
          ++count;
          break;
        }
      }
    } else if (ecmascript && type == "expression_statement") {
      // `{` begins a block where a statement begins: an object literal
      // there (`if (x) { "a": 1, }`) is no statement. Likewise `function`
      // and `class` begin declarations, which need a name (`function (e)
      // {`: V8's "Function statements require a function name").
      TSNode first = ts_node_child(node, 0);
      const std::string_view what = ts_node_is_null(first) ? "" : ts_node_type(first);
      if (what == "object" || what == "function_expression" || what == "generator_function" || what == "class")
        ++count;
    } else if (java && type == "expression_statement") {
      TSNode first = ts_node_child(node, 0), last = ts_node_child(node, ts_node_child_count(node) - 1);
      const bool ended = !ts_node_is_null(last) && !ts_node_is_missing(last) && std::string_view(ts_node_type(last)) == ";";
      if (ended && !ts_node_is_null(first) && ts_node_is_named(first) && !ts_node_is_missing(first)) {
        const std::string_view what = ts_node_type(first);
        if (what != "ERROR" && !java_statement_expression(what)) ++count;
      }
    } else if (java_literals && (type == "decimal_integer_literal" || type == "hex_integer_literal" ||
                        type == "octal_integer_literal" || type == "binary_integer_literal")) {
      TSNode parent = ts_node_parent(node);
      bool negated = false;
      if (!ts_node_is_null(parent) && std::string_view(ts_node_type(parent)) == "unary_expression") {
        TSNode op = ts_node_child_by_field_name(parent, "operator", 8);
        negated = !ts_node_is_null(op) && text_between(text_, ts_node_start_byte(op), ts_node_end_byte(op)) == "-";
      }
      if (java_integer_too_large(type, text_between(text_, a, b), negated)) ++count;
    } else if (c_family && type == "concatenated_string") {
      // The grammars let any name join string literals, for macros that
      // expand to strings (`"%" PRIu64 "\n"`, `__FILE__`): such a macro is
      // named in capitals or begins with `_`. A lowercase word there (`in
      // "2.0"`, `e "x"`) is no macro's name: gcc's "expected ';' before
      // string constant".
      for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n; ++i) {
        TSNode part = ts_node_named_child(node, i);
        if (std::string_view(ts_node_type(part)) != "identifier") continue;
        const auto first = static_cast<unsigned char>(text_[ts_node_start_byte(part)]);
        if (std::islower(first)) {
          ++count;
          break;
        }
      }
    } else if (c_family && finished && type == "declaration" && c_type_is_a_variable(node, text_)) {
      ++count;
    } else if (c_family && type == "declaration") {
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
          indentation_at(ts_node_start_byte(declarator)) <= indentation_at(a))
        ++count;
    } else if (ecmascript && (type == "assignment_expression" || type == "augmented_assignment_expression")) {
      // `(a, 0, m) = x`: a parenthesized left side must hold something
      // assignable (V8: "Invalid left-hand side in assignment").
      TSNode left = ts_node_child_by_field_name(node, "left", 4);
      bool wrapped = false;
      while (!ts_node_is_null(left) && std::string_view(ts_node_type(left)) == "parenthesized_expression" &&
             ts_node_named_child_count(left) == 1) {
        left = ts_node_named_child(left, 0);
        wrapped = true;
      }
      if (wrapped && !ts_node_is_null(left)) {
        const std::string_view inner = ts_node_type(left);
        static const std::string_view kAssignable[] = {"identifier",    "member_expression",     "subscript_expression",
                                                       "non_null_expression", "as_expression", "satisfies_expression",
                                                       "type_assertion"};
        if (std::find(std::begin(kAssignable), std::end(kAssignable), inner) == std::end(kAssignable)) ++count;
      }
    } else if (ecmascript && type == "call_expression") {
      // `super(...)` only in a derived class's constructor (V8: "'super'
      // keyword unexpected here"; an early error): `cons` + `toroutine() {`
      // where `constructor(` was leaves the suffix's super() call in a method.
      TSNode callee = ts_node_child_by_field_name(node, "function", 8);
      if (!ts_node_is_null(callee) && std::string_view(ts_node_type(callee)) == "super" &&
          !in_derived_constructor(node, text_))
        ++count;
    } else if (ecmascript && (type == "method_definition" || type == "function_declaration" ||
                              type == "function_expression" || type == "function")) {
      // `await` only in an async function (V8: "Unexpected reserved word";
      // `static` + `     return (err) {` where `static async azure(client)
      // {` was leaves the body's await in a plain method).
      if (awaits_outside_async(node)) ++count;
    } else if (ecmascript && type == "class_static_block") {
      // A class's static block is no function: a `return` in it (outside the
      // functions it holds) is V8's "Illegal return statement" (`static` +
      // `     {` where `static async azure(client) {` was makes the method's
      // body a static block).
      if (holds_own(node, "return_statement")) ++count;
    } else if ((java_literals || go) && ts_node_is_null(ts_node_parent(node)) && !holds_error_node(node)) {
      // The compilation unit (Java) or source file (Go): each of its parts
      // must be a declaration. Only in a tree without errors: in a file
      // broken elsewhere (a function's `)` missing) tree-sitter may leave a
      // function's statements at the top level.
      for (uint32_t i = 0, n = ts_node_child_count(node); i < n; ++i) {
        TSNode part = ts_node_child(node, i);
        const uint32_t pa = ts_node_start_byte(part), pb = ts_node_end_byte(part);
        if (pb <= start || pa >= end || ts_node_is_missing(part)) continue;
        const std::string_view what = ts_node_type(part);
        if (what != "ERROR" && !(java ? java_top_level(what) : go_top_level(what))) {
          ++count;
          break;
        }
      }
    } else if (java && (type == "local_variable_declaration" || type == "class_declaration" ||
                        type == "interface_declaration" || type == "record_declaration" ||
                        type == "enum_declaration") &&
               java_single_statement_body(node)) {
      ++count;
    } else if (java && type == "local_variable_declaration" && ts_node_named_child_count(node) > 0 &&
               std::string_view(ts_node_type(ts_node_named_child(node, 0))) == "modifiers") {
      // A local variable takes `final` and annotations only (`try {` above
      // `    public void getNamed;`: javac's "illegal start of expression").
      TSNode modifiers = ts_node_named_child(node, 0);
      for (uint32_t i = 0, n = ts_node_child_count(modifiers); i < n; ++i) {
        TSNode child = ts_node_child(modifiers, i);
        if (ts_node_is_named(child)) continue;  // annotations, comments
        if (text_between(text_, ts_node_start_byte(child), ts_node_end_byte(child)) != "final") {
          ++count;
          break;
        }
      }
    } else if (java && type == "labeled_statement") {
      // A label's statement is no declaration (`Obtion: The value;`: javac's
      // "variable declaration not allowed here").
      TSNode what = ts_node_named_child(node, ts_node_named_child_count(node) - 1);
      const std::string_view s = ts_node_is_null(what) ? "" : ts_node_type(what);
      if (s == "local_variable_declaration" || s == "class_declaration" || s == "interface_declaration" ||
          s == "record_declaration" || s == "enum_declaration")
        ++count;
    } else if (java && type == "compact_constructor_declaration") {
      // `Name {` is a constructor only in a record's body (javac: "<identifier>
      // expected" in a class, e.g. `pr` + `     {` where `protected A() {` was).
      TSNode body = ts_node_parent(node);
      TSNode owner = ts_node_is_null(body) ? body : ts_node_parent(body);
      if (ts_node_is_null(owner) || std::string_view(ts_node_type(owner)) != "record_declaration") ++count;
    } else if (java_literals && type == "constructor_declaration") {
      // A constructor bears its class's name (`in` + `nce() {` in class
      // Semaphore: javac's "invalid method declaration; return type
      // required"); an anonymous class's body has none.
      TSNode owner = ts_node_parent(node);
      while (!ts_node_is_null(owner)) {
        const std::string_view o = ts_node_type(owner);
        if (o != "class_body" && o != "enum_body" && o != "enum_body_declarations") break;
        owner = ts_node_parent(owner);
      }
      const std::string_view o = ts_node_is_null(owner) ? "" : ts_node_type(owner);
      TSNode name = ts_node_child_by_field_name(node, "name", 4);
      TSNode owner_name = ts_node_is_null(owner) ? owner : ts_node_child_by_field_name(owner, "name", 4);
      if ((o != "class_declaration" && o != "enum_declaration" && o != "record_declaration") || ts_node_is_null(name) ||
          ts_node_is_null(owner_name) ||
          text_between(text_, ts_node_start_byte(name), ts_node_end_byte(name)) !=
              text_between(text_, ts_node_start_byte(owner_name), ts_node_end_byte(owner_name)))
        ++count;
    } else if (java_literals && type == "constant_declaration") {
      // An interface's field needs its value (`int red;`: javac's "= expected").
      for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n; ++i) {
        TSNode declarator = ts_node_named_child(node, i);
        if (std::string_view(ts_node_type(declarator)) == "variable_declarator" &&
            ts_node_is_null(ts_node_child_by_field_name(declarator, "value", 5))) {
          ++count;
          break;
        }
      }
    } else if (java && type == "modifiers") {
      // `private // ...` above `private final int x;`: javac's "repeated modifier".
      std::vector<std::string_view> seen;
      for (uint32_t i = 0, n = ts_node_child_count(node); i < n; ++i) {
        TSNode child = ts_node_child(node, i);
        if (ts_node_is_named(child)) continue;  // annotations, comments
        const std::string_view word = text_between(text_, ts_node_start_byte(child), ts_node_end_byte(child));
        if (std::find(seen.begin(), seen.end(), word) != seen.end()) {
          ++count;
          break;
        }
        seen.push_back(word);
      }
    } else if (rust && type == "expression_statement") {
      // An expression where items go (a file's or a module's top level):
      // only a macro call may stand there (`pub` + `0x8425;`: rustc expects
      // `!` or `::`).
      TSNode parent = ts_node_parent(node);
      TSNode first = ts_node_named_child(node, 0);
      const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
      if ((in == "source_file" || in == "declaration_list") &&
          (ts_node_is_null(first) || std::string_view(ts_node_type(first)) != "macro_invocation"))
        ++count;
    } else if (go_declarations && (type == "short_var_declaration" || type == "range_clause")) {
      // `:=` declares names: its left side holds identifiers only (`sw.f` +
      // `nf := fmt.Sprintf(...)`: gofmt's "expected identifier on left side
      // of :="). A range clause with `=` assigns, and may hold any operand.
      TSNode left = ts_node_child_by_field_name(node, "left", 4);
      TSNode op = ts_node_is_null(left) ? left : ts_node_next_sibling(left);
      const bool declares = type == "short_var_declaration" ||
                            (!ts_node_is_null(op) && text_between(text_, ts_node_start_byte(op), ts_node_end_byte(op)) == ":=");
      if (declares && !ts_node_is_null(left)) {
        const bool list = std::string_view(ts_node_type(left)) == "expression_list";
        for (uint32_t i = 0, n = list ? ts_node_named_child_count(left) : 1; i < n; ++i) {
          TSNode name = list ? ts_node_named_child(left, i) : left;
          const std::string_view what = ts_node_type(name);
          if (what != "identifier" && !language_->comments.contains(name)) {
            ++count;
            break;
          }
        }
      }
    } else if (c_family && (id == "c" || finished) && type == "function_definition") {
      // In C++ only once finished: `std::vector<int> values{` is a brace
      // initialisation being written, which tree-sitter-cpp reads as a
      // function's body until its `};`.
      if (!c_declares_function(node, text_)) ++count;
    } else if (go && (type == "defer_statement" || type == "go_statement")) {
      // `defer e`: Go defers and starts only a call ("function must be
      // invoked in defer statement").
      TSNode what = ts_node_named_child(node, 0);
      if (!ts_node_is_null(what) && std::string_view(ts_node_type(what)) != "call_expression" &&
          !language_->comments.contains(what))
        ++count;
    } else if (rust && type == "integer_literal") {
      if (rust_integer_too_large(text_between(text_, a, b))) ++count;
    } else if (go && go_list(type)) {
      // The last element ends a line before the closer without a `,`
      // (`Protocol: x` above `}`): Go puts a `;` there ("missing ',' before
      // newline in composite literal").
      const uint32_t n = ts_node_child_count(node);
      if (n >= 2) {
        TSNode closer = ts_node_child(node, n - 1);
        uint32_t i = n - 1;
        while (i > 0 && language_->comments.contains(ts_node_child(node, i - 1))) --i;
        // i - 1: the last child before the closer that is no comment; 0 is the opener.
        if (i > 1 && !ts_node_is_missing(closer) && ts_node_child_count(closer) == 0) {
          TSNode last = ts_node_child(node, i - 1);
          if (std::string_view(ts_node_type(last)) != "," && !ts_node_is_missing(last) &&
              ts_node_end_point(last).row < ts_node_start_point(closer).row)
            ++count;
        }
      }
    } else if (rust_docs && (type == "line_comment" || type == "block_comment") && a >= start &&
               (finished || b < end)) {
      if (rust_doc_misplaced(node, finished)) ++count;
    } else if (ecmascript && type == "update_expression") {
      TSNode argument = ts_node_child_by_field_name(node, "argument", 8);
      if (!ts_node_is_null(argument) && std::string_view(ts_node_type(argument)) == "update_expression") ++count;
    }
    return Walk::Enter;
  });
  return count;
}

namespace {

// Calls `each_break(a, b)`, with the literal's byte range, for every line
// break within [start, end) inside a string literal that may not span lines
// (line_breaks_in_strings) that ends no escaped line and is not the literal's
// last byte (a grammar may end an unterminated literal at the line end).
template <typename OnBreak>
void for_each_single_line_string(const Language* language, TSNode root, const std::string& text_, uint32_t start,
                                 uint32_t end, OnBreak each_break) {
  const std::string_view id = language->id;
  const bool python = id == "python";
  const bool ecmascript = id == "javascript" || id == "typescript" || id == "typescriptreact";
  const bool c_family = id == "c" || id == "cpp";
  const bool java = id == "java", go = id == "go";
  // Where a backslash before the line break continues the literal.
  const bool continuation = python || ecmascript || c_family;
  auto single_line = [&](TSNode node, std::string_view type, std::string_view text) {
    if (python) {
      if (type != "string") return false;
      size_t quote = text.find_first_of("'\"");
      if (quote == std::string_view::npos) return false;
      std::string_view rest = text.substr(quote);
      return !(rest.starts_with(R"(""")") || rest.starts_with("'''"));
    }
    if (ecmascript) {
      if (type != "string") return false;
      TSNode parent = ts_node_parent(node);
      return ts_node_is_null(parent) || std::string_view(ts_node_type(parent)) != "jsx_attribute";
    }
    if (c_family) return type == "string_literal" || type == "char_literal";
    if (java) return (type == "string_literal" && !text.starts_with(R"(""")")) || type == "character_literal";
    return type == "interpreted_string_literal" || type == "rune_literal";
  };
  if (!python && !ecmascript && !c_family && !java && !go) return;
  for_each_preorder(root, [&](TSNode node) {
    const uint32_t a = ts_node_start_byte(node), b = ts_node_end_byte(node);
    if (b <= start || a >= end) return Walk::Skip;  // only subtrees that overlap the span
    if (!single_line(node, ts_node_type(node), text_between(text_, a, b))) return Walk::Enter;
    for (uint32_t i = std::max(a, start); i < std::min(b, end); ++i) {
      if (text_[i] != '\n' || i + 1 >= b) continue;
      uint32_t before = i;
      if (before > a && text_[before - 1] == '\r') --before;
      if (continuation && before > a && text_[before - 1] == '\\') continue;
      each_break(a, b);
    }
    return Walk::Skip;
  });
}

}  // namespace

size_t Document::line_breaks_in_strings(uint32_t start, uint32_t end) const {
  if (!language_ || !tree_ || start >= end) return 0;
  size_t count = 0;
  for_each_single_line_string(language_, root(), text_, start, end, [&](uint32_t, uint32_t) { ++count; });
  return count;
}

std::vector<std::pair<uint32_t, uint32_t>> Document::strings_across_lines() const {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  if (!language_ || !tree_) return out;
  for_each_single_line_string(language_, root(), text_, 0, static_cast<uint32_t>(text_.size()),
                              [&](uint32_t a, uint32_t b) {
                                if (out.empty() || out.back().first != a) out.emplace_back(a, b);
                              });
  return out;
}

size_t Document::unknown_directives(uint32_t start, uint32_t end) const {
  if (!language_ || !tree_ || start >= end) return 0;
  if (language_->id != "c" && language_->id != "cpp") return 0;
  // GCC's directives that tree-sitter-c reads as a preproc_call (the others
  // have nodes of their own); `# 12 "file.c"` is a line marker.
  static constexpr std::string_view known[] = {"pragma", "error",   "warning",  "line",    "ident",  "sccs",
                                               "include_next", "import", "assert", "unassert", "elifdef",
                                               "elifndef", "embed"};
  size_t count = 0;
  for_each_preorder(root(), [&](TSNode node) {
    const uint32_t a = ts_node_start_byte(node), b = ts_node_end_byte(node);
    if (b <= start || a >= end) return Walk::Skip;  // only subtrees that overlap the span
    if (std::string_view(ts_node_type(node)) != "preproc_directive") return Walk::Enter;
    // One that ends at `end` may still grow (`#pr` into `#pragma`).
    if (b >= end) return Walk::Skip;
    std::string_view word = text_between(text_, a, b);
    while (!word.empty() && (word.front() == '#' || word.front() == ' ' || word.front() == '\t')) word.remove_prefix(1);
    if (word.empty() || std::isdigit(static_cast<unsigned char>(word.front()))) return Walk::Skip;
    if (std::find(std::begin(known), std::end(known), word) == std::end(known)) ++count;
    return Walk::Skip;
  });
  return count;
}

}  // namespace astfill::parsing
