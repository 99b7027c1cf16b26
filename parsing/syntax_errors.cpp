// errors_introduced: which syntax errors a span of text brought with it. The
// rules are documented on Document::errors_introduced; this file compares the
// document's tree with a parse of the text without the span.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <vector>

#include "parsing/constructs.h"
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
  // words no macro argument is made of count: statements', C++'s
  // alternative operator spellings and its access specifiers (`public static
  // final;` in a body: a `final` of type `public`, to tree-sitter-cpp; g++'s
  // "expected primary-expression before 'public'").
  static const Words c{"break", "case", "continue", "default", "do", "else", "for", "goto", "if", "return",
                       "switch", "while"};
  static const Words cpp{"and",   "and_eq", "bitand", "bitor",  "break",  "case",   "catch", "compl",
                         "continue", "co_return", "co_yield", "default", "do", "else", "for",   "goto",
                         "if",    "not",    "not_eq", "or",     "or_eq",  "return", "switch", "throw",
                         "try",   "using",  "while",  "xor",    "xor_eq", "public", "private", "protected"};
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
// The basic types' words.
bool c_basic_type_word(std::string_view word) {
  static constexpr std::string_view kBasic[] = {"void", "char", "short", "int", "long", "float", "double",
                                                "signed", "unsigned"};
  return std::find(std::begin(kBasic), std::end(kBasic), word) != std::end(kBasic);
}

// C's and C++'s words that make a type or qualify a declaration: no value
// is one. (A macro's arguments may hold any, so they count only where an
// operator needs a value: `messt(const` + `\n ? new ...`: to tree-sitter-cpp
// an identifier `const` as the condition; g++'s "expected
// primary-expression before 'const'".)
bool c_type_keyword(std::string_view word, bool cpp) {
  static constexpr std::string_view kBoth[] = {"const",  "volatile", "static", "extern", "register", "auto",
                                               "inline", "struct",   "union",  "enum",   "typedef"};
  static constexpr std::string_view kCpp[] = {"class",   "mutable",  "constexpr", "consteval", "constinit", "virtual",
                                              "explicit", "friend",  "template",  "typename",  "namespace",
                                              "thread_local"};
  if (c_basic_type_word(word) || std::find(std::begin(kBoth), std::end(kBoth), word) != std::end(kBoth)) return true;
  if (cpp) return std::find(std::begin(kCpp), std::end(kCpp), word) != std::end(kCpp);
  return word == "restrict";
}

// Whether `node` stands where an operator or a statement needs a value: an
// operand of a binary, conditional, unary or update expression, what is
// returned, or what is assigned; and in no call's arguments, which a macro
// may take as any tokens (zlib's `int gzread OF((gzFile, void *,
// unsigned));`: to tree-sitter `void * unsigned` is a product). Only a name
// can be a macro's: the arguments of a call of anything else (a call's
// result: `inflate(t) (internal, int)`, gcc's "expected expression before
// 'int'") are values, each of them.
bool c_value_position(TSNode node) {
  TSNode parent = ts_node_parent(node);
  const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
  // Whether `list` is the arguments of a call of a name (a macro's, maybe).
  const auto macro_arguments = [](TSNode list) {
    TSNode call = ts_node_parent(list);
    if (ts_node_is_null(call) || std::string_view(ts_node_type(call)) != "call_expression") return false;
    TSNode function = ts_node_child_by_field_name(call, "function", 8);
    return ts_node_is_null(function) || std::string_view(ts_node_type(function)) == "identifier";
  };
  bool value = in == "binary_expression" || in == "conditional_expression" || in == "unary_expression" ||
               in == "update_expression" || in == "return_statement" ||
               (in == "argument_list" && !macro_arguments(parent));
  if (in == "assignment_expression") {
    TSNode right = ts_node_child_by_field_name(parent, "right", 5);
    value = !ts_node_is_null(right) && ts_node_eq(right, node);
  }
  if (!value) return false;
  for (TSNode up = parent; !ts_node_is_null(up); up = ts_node_parent(up))
    if (std::string_view(ts_node_type(up)) == "argument_list" && macro_arguments(up)) return false;
  return true;
}

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
  const bool rust = language_->id == "rust", java = language_->id == "java", go = language_->id == "go";
  const std::string_view id = language_->id;
  const bool c_family = id == "c" || id == "cpp";
  // JavaScript's and TypeScript's strict code: a module or a file whose
  // first statement is the "use strict" directive.
  const bool strict = finished && (id == "javascript" || id == "typescript" || id == "typescriptreact") &&
                      constructs::ecmascript_strict_file(root(), text_);
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
    // g++'s "expected unqualified-id before 'return'"), and a type's (`const`
    // + `  return false;`: a `false` of type `return`), except `else`: after
    // an `#if`'s branches, each with its own `if`, it is one there.
    // tree-sitter-go as a type's, a field's, a package's or a label's (`tw :=`
    // + `\t\tcontinue {`: a composite literal of type `continue`).
    // tree-sitter-rust as a field's (`.co` + `ntinue=1.charset;`: rustc's
    // "expected identifier, found keyword `continue`"), but for `.await`,
    // which is no field, and as a type's (`let g` + `et: true;`: rustc's
    // "expected type, found keyword `true`").
    const std::string_view leaf = ts_node_type(node);
    if (rust && leaf == "field_identifier" && text_between(text_, a, b) != "await") {
      const std::string_view word = text_between(text_, a, b);
      if (std::find(reserved.begin(), reserved.end(), word) != reserved.end()) ++count;
      return Walk::Skip;
    }
    if (leaf != "identifier" && !((java || rust) && leaf == "type_identifier") &&
        !(c_family && (leaf == "field_identifier" || leaf == "statement_identifier" || leaf == "namespace_identifier" ||
                       (leaf == "type_identifier" && text_between(text_, a, b) != "else"))) &&
        !(go && (leaf == "type_identifier" || leaf == "field_identifier" || leaf == "package_identifier" ||
                 leaf == "label_name")))
      return Walk::Enter;
    std::string_view word = text_between(text_, a, b);
    if (std::find(reserved.begin(), reserved.end(), word) != reserved.end() ||
        std::find(strict_words.begin(), strict_words.end(), word) != strict_words.end())
      ++count;
    else if (c_family && c_type_keyword(word, id == "cpp") && c_value_position(node))
      ++count;
    else if (id == "cpp" && leaf != "identifier" &&
             (word == "this" || word == "nullptr" || word == "true" || word == "false")) {
      // Words tree-sitter-cpp lexes as tokens of their own: a type's, a
      // field's or a namespace's name that is one is a misreading (`void On`
      // + `ly<T>(this,`: a parameter of type `this`; g++'s "expected ';' at
      // end of member declaration"), unless it is inside an error, whose
      // recovery may read anything as a name (`const FilePath& path(c ?
      // *this : f());`, read as a declaration). A plain identifier may be a
      // misread value (`const FilePath& path(*this);`: a function whose
      // parameter `*this` has a missing type).
      bool in_error = false;
      for (TSNode up = ts_node_parent(node); !ts_node_is_null(up) && !in_error; up = ts_node_parent(up))
        in_error = std::string_view(ts_node_type(up)) == "ERROR";
      if (!in_error) ++count;
    }
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
    } else if (c_family && c_basic_type_word(word)) {
      // A basic type's word as the name a function definition declares
      // (`vo` + `id (void) {` among a class's members: tree-sitter-cpp reads
      // a function named `void`; g++'s "expected unqualified-id before
      // 'void'"). Not in declarations: K&R-era headers wrap their parameter
      // lists in a macro (`int gzdopen OF((int, const char *));`), which
      // tree-sitter reads with such names.
      TSNode parent = ts_node_parent(node);
      TSNode grand = ts_node_is_null(parent) ? TSNode{} : ts_node_parent(parent);
      if (!ts_node_is_null(grand) && std::string_view(ts_node_type(parent)) == "parenthesized_declarator" &&
          std::string_view(ts_node_type(grand)) == "function_definition")
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

namespace constructs {

bool ecmascript_strict_file(TSNode root, std::string_view text) {
  for (uint32_t i = 0, n = ts_node_named_child_count(root); i < n; ++i) {
    TSNode child = ts_node_named_child(root, i);
    const std::string_view type = ts_node_type(child);
    if (type == "import_statement" || type == "export_statement") return true;
    if (i == 0 && type == "expression_statement") {
      const std::string_view first = text_between(text, ts_node_start_byte(child), ts_node_end_byte(child));
      if (first.starts_with("\"use strict\"") || first.starts_with("'use strict'")) return true;
    }
  }
  return false;
}

bool Context::strict_file() const {
  if (!strict_) strict_ = ecmascript_strict_file(root, text);
  return *strict_;
}

bool Context::tree_holds_error_node() const {
  if (!error_node_) {
    bool found = false;
    for_each_preorder(root, [&](TSNode node) {
      if (found || !ts_node_has_error(node)) return Walk::Skip;
      if (ts_node_symbol(node) == kErrorSymbol || ts_node_is_missing(node)) {
        found = true;
        return Walk::Stop;
      }
      return Walk::Enter;
    });
    error_node_ = found;
  }
  return *error_node_;
}

bool top_level_refused(const Context& c, bool (*allowed)(std::string_view type)) {
  if (c.tree_holds_error_node()) return false;
  for (uint32_t i = 0, n = ts_node_child_count(c.root); i < n; ++i) {
    TSNode part = ts_node_child(c.root, i);
    const uint32_t a = ts_node_start_byte(part), b = ts_node_end_byte(part);
    if (b <= c.start || a >= c.end || ts_node_is_missing(part)) continue;
    const std::string_view what = ts_node_type(part);
    if (what != "ERROR" && !allowed(what)) return true;
  }
  return false;
}

bool comma_opens_list(TSNode node, std::string_view id) {
  if (ts_node_is_named(node) || std::string_view(ts_node_type(node)) != ",") return false;
  TSNode before = ts_node_prev_sibling(node);
  while (!ts_node_is_null(before) && ts_node_is_named(before) && ts_node_is_extra(before))  // comments
    before = ts_node_prev_sibling(before);
  if (ts_node_is_null(before) || ts_node_is_named(before)) return false;
  const std::string_view opener = ts_node_type(before);
  TSNode parent = ts_node_parent(node);
  const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
  if (opener != "(" && opener != "[" && opener != "{" && opener != "<" &&
      !(opener == "|" && in == "closure_parameters"))
    return false;
  if (id == "rust") return in != "token_tree" && in != "token_repetition" && in != "token_tree_pattern" &&
                           in != "token_repetition_pattern" && in != "delim_token_tree";
  if (id == "javascript" || id == "typescript" || id == "typescriptreact")
    return in != "array" && in != "array_pattern";
  if (id == "java") return opener != "{";
  return true;
}

}  // namespace constructs


size_t Document::constructs_refused(uint32_t start, uint32_t end, bool finished) const {
  if (!language_ || !tree_ || start >= end) return 0;
  const std::string_view id = language_->id;
  bool (*refuses)(TSNode, const constructs::Context&) = nullptr;
  // Python's rules once finished: a line's end may still change what its
  // start is (`de` + `e:` above a docstring).
  if (id == "python") refuses = finished ? constructs::python_refuses : nullptr;
  else if (id == "javascript" || id == "typescript" || id == "typescriptreact") refuses = constructs::ecmascript_refuses;
  else if (id == "java") refuses = constructs::java_refuses;
  else if (id == "c" || id == "cpp") refuses = constructs::c_family_refuses;
  else if (id == "go") refuses = constructs::go_refuses;
  else if (id == "rust") refuses = constructs::rust_refuses;
  else return 0;
  const constructs::Context context{text_, *language_, start, end, finished, root()};
  size_t count = 0;
  for_each_preorder(root(), [&](TSNode node) {
    const uint32_t a = ts_node_start_byte(node), b = ts_node_end_byte(node);
    if (b <= start || a >= end) return Walk::Skip;  // only subtrees that overlap the span
    if (constructs::comma_opens_list(node, id) || (refuses && refuses(node, context))) ++count;
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
