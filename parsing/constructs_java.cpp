// Java: the constructs its own front end refuses where tree-sitter's
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
    const unsigned d = std::isdigit(u)    ? static_cast<unsigned>(c - '0')
                       : std::isxdigit(u) ? static_cast<unsigned>(std::tolower(u) - 'a' + 10)
                                          : 99;
    if (d >= base) return false;                       // not a literal this reads: not ours to judge
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

}  // namespace

bool java_refuses(TSNode node, const Context& c) {
  // Statements are judged once their `;` is written (nothing after it makes
  // one a statement); literals, constructors, constants and the top level
  // once finished (an `L` may be coming).
  const std::string_view type = ts_node_type(node);
  const uint32_t a = ts_node_start_byte(node), b = ts_node_end_byte(node);
  if (c.finished && ts_node_is_null(ts_node_parent(node))) return top_level_refused(c, java_top_level);
  if (type == "expression_statement") {
    TSNode first = ts_node_child(node, 0), last = ts_node_child(node, ts_node_child_count(node) - 1);
    const bool ended =
        !ts_node_is_null(last) && !ts_node_is_missing(last) && std::string_view(ts_node_type(last)) == ";";
    if (ended && !ts_node_is_null(first) && ts_node_is_named(first) && !ts_node_is_missing(first)) {
      const std::string_view what = ts_node_type(first);
      if (what != "ERROR" && !java_statement_expression(what)) return true;
    }
    return false;
  }
  if (c.finished && type == "field_access") {
    // `X.this` and `X.super` name an enclosing class or an interface: X is a
    // type's name, a chain of identifiers. `this.re` + `ference.` above
    // `this.stamp = stamp;` makes `this.reference.this.stamp` (javac: "as of
    // release 8, 'this' is allowed as the parameter name for the receiver
    // type only").
    TSNode field = ts_node_child_by_field_name(node, "field", 5);
    const std::string_view word = ts_node_is_null(field) ? "" : ts_node_type(field);
    if (word != "this" && word != "super") return false;
    for (TSNode object = ts_node_child_by_field_name(node, "object", 6);;) {
      const std::string_view what = ts_node_is_null(object) ? "" : ts_node_type(object);
      if (what == "identifier") return false;
      if (what != "field_access") return true;
      TSNode name = ts_node_child_by_field_name(object, "field", 5);
      if (ts_node_is_null(name) || std::string_view(ts_node_type(name)) != "identifier") return true;
      object = ts_node_child_by_field_name(object, "object", 6);
    }
  }
  if (c.finished && type == "import_declaration") {
    // An import names a type or a member by its qualified name, or a
    // package's with `.*`: `import` + `e;` where `java.util.Calendar;` was
    // is javac's "'.' expected".
    bool plain = false, star = false;
    for (uint32_t i = 0, n = ts_node_child_count(node); i < n; ++i) {
      const std::string_view part = ts_node_type(ts_node_child(node, i));
      plain = plain || part == "identifier";
      star = star || part == "asterisk";
    }
    return plain && !star;
  }
  if (c.finished && (type == "decimal_integer_literal" || type == "hex_integer_literal" ||
                     type == "octal_integer_literal" || type == "binary_integer_literal")) {
    TSNode parent = ts_node_parent(node);
    bool negated = false;
    if (!ts_node_is_null(parent) && std::string_view(ts_node_type(parent)) == "unary_expression") {
      TSNode op = ts_node_child_by_field_name(parent, "operator", 8);
      negated = !ts_node_is_null(op) && text_between(c.text, ts_node_start_byte(op), ts_node_end_byte(op)) == "-";
    }
    if (java_integer_too_large(type, text_between(c.text, a, b), negated)) return true;
    return false;
  }
  if (c.finished && (type == "identifier" || type == "type_identifier") && text_between(c.text, a, b) == "_") {
    // `_` is a keyword since Java 9 (javac 17: "as of release 9, '_' is a
    // keyword"; `        _` + `(argumentation);` where `_errIdx = ...` was).
    // Java 22 takes it only as an unnamed declaration, which tree-sitter-java
    // parses as an underscore_pattern, and as a lambda's parameter, which it
    // leaves an identifier: those stay free.
    TSNode parent = ts_node_parent(node);
    const std::string_view p = ts_node_is_null(parent) ? "" : ts_node_type(parent);
    return p != "lambda_expression" && p != "inferred_parameters";
  }
  if (type == "object_creation_expression") {
    // `new` makes a primitive type's array only (`enas = new int(0, 1);`:
    // javac's "'[' expected").
    TSNode made = ts_node_child_by_field_name(node, "type", 4);
    const std::string_view t = ts_node_is_null(made) ? "" : ts_node_type(made);
    return t == "integral_type" || t == "floating_point_type" || t == "boolean_type";
  }
  if ((type == "local_variable_declaration" || type == "class_declaration" || type == "interface_declaration" ||
       type == "record_declaration" || type == "enum_declaration") &&
      java_single_statement_body(node))
    return true;
  if (type == "local_variable_declaration" && ts_node_named_child_count(node) > 0 &&
      std::string_view(ts_node_type(ts_node_named_child(node, 0))) == "modifiers") {
    // A local variable takes `final` and annotations only (`try {` above
    // `    public void getNamed;`: javac's "illegal start of expression").
    TSNode modifiers = ts_node_named_child(node, 0);
    for (uint32_t i = 0, n = ts_node_child_count(modifiers); i < n; ++i) {
      TSNode child = ts_node_child(modifiers, i);
      if (ts_node_is_named(child)) continue;  // annotations, comments
      if (text_between(c.text, ts_node_start_byte(child), ts_node_end_byte(child)) != "final") {
        return true;
      }
    }
    return false;
  }
  if (type == "labeled_statement") {
    // A label's statement is no declaration (`Obtion: The value;`: javac's
    // "variable declaration not allowed here").
    TSNode what = ts_node_named_child(node, ts_node_named_child_count(node) - 1);
    const std::string_view s = ts_node_is_null(what) ? "" : ts_node_type(what);
    if (s == "local_variable_declaration" || s == "class_declaration" || s == "interface_declaration" ||
        s == "record_declaration" || s == "enum_declaration")
      return true;
    return false;
  }
  if (type == "compact_constructor_declaration") {
    // `Name {` is a constructor only in a record's body (javac: "<identifier>
    // expected" in a class, e.g. `pr` + `     {` where `protected A() {` was).
    TSNode body = ts_node_parent(node);
    TSNode owner = ts_node_is_null(body) ? body : ts_node_parent(body);
    if (ts_node_is_null(owner) || std::string_view(ts_node_type(owner)) != "record_declaration") return true;
    return false;
  }
  if (c.finished && type == "constructor_declaration") {
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
        text_between(c.text, ts_node_start_byte(name), ts_node_end_byte(name)) !=
            text_between(c.text, ts_node_start_byte(owner_name), ts_node_end_byte(owner_name)))
      return true;
    return false;
  }
  if (c.finished && type == "constant_declaration") {
    // An interface's field needs its value (`int red;`: javac's "= expected").
    for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n; ++i) {
      TSNode declarator = ts_node_named_child(node, i);
      if (std::string_view(ts_node_type(declarator)) == "variable_declarator" &&
          ts_node_is_null(ts_node_child_by_field_name(declarator, "value", 5))) {
        return true;
      }
    }
    return false;
  }
  if (type == "modifiers") {
    // `private // ...` above `private final int x;`: javac's "repeated modifier".
    std::vector<std::string_view> seen;
    for (uint32_t i = 0, n = ts_node_child_count(node); i < n; ++i) {
      TSNode child = ts_node_child(node, i);
      if (ts_node_is_named(child)) continue;  // annotations, comments
      const std::string_view word = text_between(c.text, ts_node_start_byte(child), ts_node_end_byte(child));
      if (std::find(seen.begin(), seen.end(), word) != seen.end()) {
        return true;
      }
      seen.push_back(word);
    }
    return false;
  }
  return false;
}

}  // namespace astfill::parsing::constructs
