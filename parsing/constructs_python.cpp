// Python: the constructs its own front end refuses where tree-sitter's
// grammar accepts them (Document::constructs_refused, parsing/constructs.h).
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "parsing/constructs.h"
#include "parsing/nodes.h"

namespace astfill::parsing::constructs {
namespace {}  // namespace

bool python_refuses(TSNode node, const Context& c) {
  const std::string_view type = ts_node_type(node);
  // Python 2's `raise E, value` (`raise Ty` + `rb, self._complexies(other,`
  // where `raise TypeError(` was: CPython's "invalid syntax").
  if (type == "raise_statement") {
    TSNode what = ts_node_named_child(node, 0);
    return !ts_node_is_null(what) && std::string_view(ts_node_type(what)) == "expression_list";
  }
  if (type == "as_pattern") {
    TSNode parent = ts_node_parent(node);
    const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
    if (in != "with_item" && in != "except_clause" && in != "except_group_clause" && in != "case_pattern" &&
        in != "case_clause")
      return true;
    return false;
  }
  if (type == "assignment") {
    // An annotation on the next line (`de` + `e:` above a docstring:
    // tree-sitter-python's scanner gives no newline where the grammar
    // wants a type and reads `dee:\n    \"\"\"...\"\"\"` as an annotated name;
    // CPython ends the line at `:`). An assignment is never inside
    // brackets, so only a backslash joins the lines.
    TSNode annotation = ts_node_child_by_field_name(node, "type", 4);
    if (!ts_node_is_null(annotation)) {
      TSNode colon = ts_node_prev_sibling(annotation);
      if (!ts_node_is_null(colon)) {
        const std::string_view gap = text_between(c.text, ts_node_end_byte(colon), ts_node_start_byte(annotation));
        for (size_t i = gap.find('\n'); i != std::string_view::npos; i = gap.find('\n', i + 1)) {
          const size_t before = i > 0 && gap[i - 1] == '\r' ? i - 1 : i;
          if (before == 0 || gap[before - 1] != '\\') {
            return true;
          }
        }
      }
    }
    return false;
  }
  if (type == "named_expression") {
    // `:=` stands unparenthesized only where CPython's grammar has a
    // named expression: a condition of if/elif/while, a match's subject,
    // a positional argument, an element of a list, set, tuple or
    // comprehension's result, a subscript (`asser` + `, err := range(0)`
    // at statement level: "invalid syntax").
    TSNode parent = ts_node_parent(node);
    const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
    static constexpr std::string_view kAllowed[] = {"parenthesized_expression",
                                                    "argument_list",
                                                    "list",
                                                    "set",
                                                    "tuple",
                                                    "subscript",
                                                    "if_statement",
                                                    "elif_clause",
                                                    "while_statement",
                                                    "match_statement",
                                                    "list_comprehension",
                                                    "set_comprehension",
                                                    "generator_expression"};
    if (std::find(std::begin(kAllowed), std::end(kAllowed), in) == std::end(kAllowed)) return true;
    return false;
  }
  if (type == "argument_list") {
    // A `,` before any argument (`f(,)`: CPython's invalid syntax).
    if (ts_node_child_count(node) > 1 && std::string_view(ts_node_type(ts_node_child(node, 1))) == ",") {
      return true;
    }
    // A positional argument after a keyword argument or `**` unpacking.
    bool keywords = false;
    for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n; ++i) {
      const std::string_view arg = ts_node_type(ts_node_named_child(node, i));
      if (arg == "keyword_argument" || arg == "dictionary_splat")
        keywords = true;
      else if (keywords && arg != "list_splat" && arg != "comment") {
        return true;
      }
    }
    return false;
  }
  return false;
}

}  // namespace astfill::parsing::constructs
