// Rust: the constructs its own front end refuses where tree-sitter's
// grammar accepts them (Document::constructs_refused, parsing/constructs.h).
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "parsing/constructs.h"
#include "parsing/nodes.h"

namespace astfill::parsing::constructs {
namespace {

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
    const unsigned d = std::isdigit(u)    ? static_cast<unsigned>(c - '0')
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
// a `;` in an expression: "expected one of ... found doc comment"), and
// something that is no empty statement.
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
  // A macro's input (libc's `s! { pub struct kinfo_proc { /// Thread ID. ...`):
  // tokens whose doc comments rustc judges in what the macro makes.
  if (in == "token_tree") return false;
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
  static const std::string_view kContainers[] = {"source_file",
                                                 "declaration_list",
                                                 "block",
                                                 "field_declaration_list",
                                                 "enum_variant_list",
                                                 "match_block",
                                                 "ordered_field_declaration_list"};
  if (std::find(std::begin(kContainers), std::end(kContainers), in) == std::end(kContainers)) return true;
  // What it documents may still be coming while the completion is written.
  if (!finished) return false;
  // Nor does a `;` alone count (`/** The name of the*/;` where a block's
  // statements were, indexmap's rayon/map.rs, seed 19: the same error).
  for (TSNode n = ts_node_next_named_sibling(comment); !ts_node_is_null(n); n = ts_node_next_named_sibling(n))
    if (!is_comment(n)) return std::string_view(ts_node_type(n)) == "empty_statement";
  return true;
}

// Whether a binary expression compares (==, !=, <, >, <=, >=).
bool rust_comparison(TSNode binary, std::string_view text) {
  TSNode op = ts_node_child_by_field_name(binary, "operator", 8);
  if (ts_node_is_null(op)) return false;
  const std::string_view o = text_between(text, ts_node_start_byte(op), ts_node_end_byte(op));
  return o == "==" || o == "!=" || o == "<" || o == ">" || o == "<=" || o == ">=";
}

}  // namespace

bool rust_refuses(TSNode node, const Context& c) {
  // Literals and items once finished (a digit may be coming; a macro's name
  // is a plain expression until its `!`); doc comments once written to their
  // end (`///` may still become `////`, a plain comment).
  const std::string_view type = ts_node_type(node);
  const uint32_t a = ts_node_start_byte(node), b = ts_node_end_byte(node);
  if (type == "'" && !ts_node_is_named(node) && (c.finished || b < c.end)) {
    // In a macro's tokens a quote that no character literal closes begins a
    // lifetime, and a lifetime's name follows it: tree-sitter-rust lets a
    // lone `'` stand there (`.zip(oth` + `er(other) -> {@fmt::get_allocator()}')`
    // in a macro's body: rustc's "unterminated character literal").
    TSNode parent = ts_node_parent(node);
    if (ts_node_is_null(parent) || std::string_view(ts_node_type(parent)) != "token_tree") return false;
    const auto next = b < c.text.size() ? static_cast<unsigned char>(c.text[b]) : 0;
    return !(std::isalpha(next) || next == '_' || next >= 0x80);
  }
  if (c.finished && type == "parameters") {
    // A function with a body names each parameter (`fn is_` +
    // `_safe_iteral(Optional<I>) {`, `te, T`: rustc's "expected one of `:`,
    // `@`, or `|`"); only a body-less trait method of the 2015 edition may
    // leave a parameter's pattern out.
    TSNode owner = ts_node_parent(node);
    if (ts_node_is_null(owner) || std::string_view(ts_node_type(owner)) != "function_item") return false;
    for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n; ++i) {
      const std::string_view t = ts_node_type(ts_node_named_child(node, i));
      if (t != "parameter" && t != "self_parameter" && t != "variadic_parameter" && t != "attribute_item" &&
          t != "line_comment" && t != "block_comment")
        return true;
    }
    return false;
  }
  if (c.finished && type == "escape_sequence") {
    // An escape rustc does not know (`"\u0000..."` where `\u{0}` is meant:
    // "incorrect unicode escape sequence"; tree-sitter-rust takes any
    // `\u` and hex digits): `\n \r \t \\ \0 \' \"`, `\x` and two hex digits
    // (at most 7F outside byte literals), `\u{` one to six hex digits `}`.
    const std::string_view e = text_between(c.text, a, b);
    auto hex = [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)) != 0; };
    if (e.size() < 2 || e[0] != '\\') return false;
    switch (e[1]) {
      case 'n': case 'r': case 't': case '\\': case '0': case '\'': case '"': case '\n': case '\r':
        return false;
      case 'x': {
        if (e.size() != 4 || !hex(e[2]) || !hex(e[3])) return true;
        TSNode literal = ts_node_parent(node);
        const bool bytes = !ts_node_is_null(literal) && c.text[ts_node_start_byte(literal)] == 'b';
        return !bytes && e[2] > '7';
      }
      case 'u': {
        if (e.size() < 5 || e[2] != '{' || e.back() != '}' || e.size() > 10) return true;
        for (size_t i = 3; i + 1 < e.size(); ++i)
          if (!hex(e[i]) && e[i] != '_') return true;
        return false;
      }
      default:
        return true;
    }
  }
  // `let mut` binds one name: before a pattern it is rustc's "`mut` must be
  // attached to each individual binding" (`let mut ` + `  _is_alloc(1, s1);`
  // where `sel = Select::new();` was).
  if (c.finished && type == "let_declaration") {
    bool mutable_let = false;
    for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n && !mutable_let; ++i)
      mutable_let = std::string_view(ts_node_type(ts_node_named_child(node, i))) == "mutable_specifier";
    TSNode pattern = ts_node_child_by_field_name(node, "pattern", 7);
    return mutable_let && !ts_node_is_null(pattern) && std::string_view(ts_node_type(pattern)) != "identifier";
  }
  // A character literal holds one character (`require(` + `'')`: rustc's
  // "empty character literal"; tree-sitter-rust takes `''` as one).
  if (type == "char_literal") {
    const std::string_view literal = text_between(c.text, a, b);
    return literal == "''" || literal == "b''";
  }
  // Comparisons do not chain (`this._safe.Pointer<T>()`, a method's type
  // arguments without `::`, is `(a < T) > ()`: rustc's "comparison operators
  // cannot be chained").
  if (type == "binary_expression" && rust_comparison(node, c.text)) {
    for (const char* side : {"left", "right"}) {
      TSNode operand = ts_node_child_by_field_name(node, side, static_cast<uint32_t>(std::strlen(side)));
      if (!ts_node_is_null(operand) && std::string_view(ts_node_type(operand)) == "binary_expression" &&
          rust_comparison(operand, c.text))
        return true;
    }
    return false;
  }
  if (c.finished && type == "expression_statement") {
    // An expression where items go (a file's or a module's top level):
    // only a macro call may stand there (`pub` + `0x8425;`: rustc expects
    // `!` or `::`).
    TSNode parent = ts_node_parent(node);
    TSNode first = ts_node_named_child(node, 0);
    const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
    if ((in == "source_file" || in == "declaration_list") &&
        (ts_node_is_null(first) || std::string_view(ts_node_type(first)) != "macro_invocation"))
      return true;
    return false;
  }
  // An `extern` block needs its braces (`extern` + `;` where `extern crate
  // no_panic;` was, ryu's lib.rs, seed 23: rustc's "expected `{}`, found
  // `;`"); tree-sitter-rust lets a `;` end one.
  if (type == "foreign_mod_item") {
    const uint32_t n = ts_node_child_count(node);
    return n > 0 && std::string_view(ts_node_type(ts_node_child(node, n - 1))) == ";";
  }
  if (c.finished && type == "integer_literal") {
    if (rust_integer_too_large(text_between(c.text, a, b))) return true;
    return false;
  }
  if ((type == "line_comment" || type == "block_comment") && a >= c.start && (c.finished || b < c.end))
    return rust_doc_misplaced(node, c.finished);
  return false;
}

}  // namespace astfill::parsing::constructs
