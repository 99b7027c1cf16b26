// Go: the constructs its own front end refuses where tree-sitter's
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

// What may stand at the top level of a Go source file: declarations only
// (tree-sitter-go's source_file takes statements too: `fun` + `t.Bytes() {`
// where `func testGetAfterClose(...) {` was; gofmt's "expected declaration").
bool go_top_level(std::string_view type) {
  return type == "package_clause" || type == "import_declaration" || type == "function_declaration" ||
         type == "method_declaration" || type == "const_declaration" || type == "var_declaration" ||
         type == "type_declaration" || type == "comment" || type == ";" || type == "\n";
}

// The bracketed lists of Go whose elements a line break may end: the line
// break after an element puts a `;` there unless a `,` ends the line.
bool go_list(std::string_view type) {
  return type == "literal_value" || type == "argument_list" || type == "parameter_list" || type == "type_arguments" ||
         type == "type_parameter_list";
}

}  // namespace

bool go_refuses(TSNode node, const Context& c) {
  // Lists, defers and the top level once finished (the closing tail is on a
  // line of its own while a completion is written); `:=` once its left side
  // is written (nothing after it makes a selector or an index a name).
  const std::string_view type = ts_node_type(node);
  if (c.finished && ts_node_is_null(ts_node_parent(node))) return top_level_refused(c, go_top_level);
  if (c.finished && type == "const_declaration") {
    // A constant's first spec needs its value; only a group's later specs
    // repeat the one above (`const copy` where `const count = 200` was,
    // textproto/reader_test.go, seed 24: gofmt's "missing constant value").
    for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n; ++i) {
      TSNode spec = ts_node_named_child(node, i);
      if (std::string_view(ts_node_type(spec)) != "const_spec") continue;
      return ts_node_is_null(ts_node_child_by_field_name(spec, "value", 5));
    }
    return false;
  }
  if ((type == "short_var_declaration" || type == "range_clause")) {
    // `:=` declares names: its left side holds identifiers only (`sw.f` +
    // `nf := fmt.Sprintf(...)`: gofmt's "expected identifier on left side
    // of :="). A range clause with `=` assigns, and may hold any operand.
    TSNode left = ts_node_child_by_field_name(node, "left", 4);
    TSNode op = ts_node_is_null(left) ? left : ts_node_next_sibling(left);
    const bool declares =
        type == "short_var_declaration" ||
        (!ts_node_is_null(op) && text_between(c.text, ts_node_start_byte(op), ts_node_end_byte(op)) == ":=");
    if (declares && !ts_node_is_null(left)) {
      const bool list = std::string_view(ts_node_type(left)) == "expression_list";
      for (uint32_t i = 0, n = list ? ts_node_named_child_count(left) : 1; i < n; ++i) {
        TSNode name = list ? ts_node_named_child(left, i) : left;
        const std::string_view what = ts_node_type(name);
        if (what != "identifier" && !c.language.comments.contains(name)) {
          return true;
        }
      }
    }
    return false;
  }
  if (c.finished && (type == "defer_statement" || type == "go_statement")) {
    // `defer e`: Go defers and starts only a call ("function must be
    // invoked in defer statement").
    TSNode what = ts_node_named_child(node, 0);
    if (!ts_node_is_null(what) && std::string_view(ts_node_type(what)) != "call_expression" &&
        !c.language.comments.contains(what))
      return true;
    return false;
  }
  if (c.finished && go_list(type)) {
    // The last element ends a line before the closer without a `,`
    // (`Protocol: x` above `}`): Go puts a `;` there ("missing ',' before
    // newline in composite literal").
    const uint32_t n = ts_node_child_count(node);
    if (n >= 2) {
      TSNode closer = ts_node_child(node, n - 1);
      uint32_t i = n - 1;
      while (i > 0 && c.language.comments.contains(ts_node_child(node, i - 1))) --i;
      // i - 1: the last child before the closer that is no comment; 0 is the opener.
      if (i > 1 && !ts_node_is_missing(closer) && ts_node_child_count(closer) == 0) {
        TSNode last = ts_node_child(node, i - 1);
        if (std::string_view(ts_node_type(last)) != "," && !ts_node_is_missing(last) &&
            ts_node_end_point(last).row < ts_node_start_point(closer).row)
          return true;
      }
    }
    return false;
  }
  return false;
}

}  // namespace astfill::parsing::constructs
