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
namespace {

// Statements whose whole text is one logical line, and compound statements
// (and clauses) whose header, up to its `:`, is.
constexpr std::string_view kSimpleStatements[] = {
    "expression_statement", "return_statement", "delete_statement",    "raise_statement",
    "pass_statement",       "break_statement",  "continue_statement",  "import_statement",
    "import_from_statement", "future_import_statement", "global_statement", "nonlocal_statement",
    "assert_statement",     "print_statement",  "exec_statement",      "type_alias_statement",
    "decorator"};
constexpr std::string_view kHeaders[] = {"if_statement",    "elif_clause",         "while_statement",
                                         "for_statement",   "with_statement",      "function_definition",
                                         "class_definition", "except_clause",      "except_group_clause"};

template <size_t N>
bool one_of(std::string_view type, const std::string_view (&types)[N]) {
  return std::find(std::begin(types), std::end(types), type) != std::end(types);
}

// Walks the tokens of `node` before `until` in order: a string, and a
// bracketed construct whose first token opens and last token closes it, as
// one token (line breaks inside them are allowed). Calls gap(a, b) for the
// text between consecutive tokens outside brackets (`depth`: the brackets
// open, as other bracket tokens open and close them: a subscript's, an
// import's). False when an error or a MISSING token is met (errors are
// counted elsewhere).
template <typename Gap>
bool walk_tokens(TSNode node, uint32_t until, uint32_t& prev_end, int& depth, Gap& gap) {
  if (ts_node_is_missing(node) || std::string_view(ts_node_type(node)) == "ERROR") return false;
  const uint32_t a = ts_node_start_byte(node);
  if (a >= until) return true;
  const uint32_t n = ts_node_child_count(node);
  bool atomic = n == 0 || std::string_view(ts_node_type(node)) == "string";
  if (!atomic && n >= 2) {
    const std::string_view first = ts_node_type(ts_node_child(node, 0)), last = ts_node_type(ts_node_child(node, n - 1));
    atomic = (first == "(" && last == ")") || (first == "[" && last == "]") || (first == "{" && last == "}");
    if (atomic && ts_node_has_error(node)) atomic = false;  // its tokens are walked, and the error found
  }
  if (atomic) {
    if (prev_end != UINT32_MAX && depth == 0 && gap(prev_end, a)) return false;
    prev_end = ts_node_end_byte(node);
    if (n == 0) {
      const std::string_view token = ts_node_type(node);
      if (token == "(" || token == "[" || token == "{") ++depth;
      else if ((token == ")" || token == "]" || token == "}") && depth > 0) --depth;
    }
    return true;
  }
  for (uint32_t i = 0; i < n; ++i)
    if (!walk_tokens(ts_node_child(node, i), until, prev_end, depth, gap)) return false;
  return true;
}

}  // namespace

bool python_refuses(TSNode node, const Context& c) {
  const std::string_view type = ts_node_type(node);
  if (type == "parameters" || type == "lambda_parameters") {
    // A positional parameter without a default after one with a default
    // (`def __init__(self, name, sources, ...,` + `l_args,` where
    // `define_macros=None,` was: CPython's "non-default argument follows
    // default argument"); after `*` or `*args` they are keyword-only and
    // need none. `/` changes nothing.
    bool defaulted = false;
    for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n; ++i) {
      TSNode p = ts_node_named_child(node, i);
      std::string_view t = ts_node_type(p);
      if (t == "typed_parameter" && ts_node_named_child_count(p) > 0)
        t = ts_node_type(ts_node_named_child(p, 0));  // `*args: int` is a typed list_splat_pattern
      if (t == "default_parameter" || t == "typed_default_parameter") defaulted = true;
      else if (t == "list_splat_pattern" || t == "keyword_separator" || t == "dictionary_splat_pattern") return false;
      else if (defaulted && t == "identifier") return true;
    }
    return false;
  }
  if (type == "integer") {
    // A decimal literal with a leading zero (`* 0232325`: CPython's "leading
    // zeros in decimal integer literals are not permitted"); zeros alone
    // (`00`, `0_0`) and imaginary literals (`012j`) may have them.
    const std::string_view text = text_between(c.text, ts_node_start_byte(node), ts_node_end_byte(node));
    if (text.size() < 2 || text[0] != '0' || !(std::isdigit(static_cast<unsigned char>(text[1])) || text[1] == '_'))
      return false;
    if (text.back() == 'j' || text.back() == 'J') return false;
    return text.find_first_not_of("0_") != std::string_view::npos;
  }
  // A statement (or a compound statement's header) whose tokens run on past
  // a line break in [start, end) outside brackets with no backslash before
  // it: CPython ends the logical line there, while tree-sitter-python's
  // scanner gives no NEWLINE where the grammar cannot take one and reads on
  // (`state = rg.` above `r1 = rg.standard_gamma(4.0)`: one chained
  // assignment `state = rg.r1 = ...`).
  if (type == "block" || type == "module") {
    // Two statements on one line without a `;` between them (`p = poly` +
    // `naration(other, b) 0`: tree-sitter-python ends the call's statement
    // and begins one at `0`; CPython's "invalid syntax").
    TSNode prev{};
    for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n; ++i) {
      TSNode stmt = ts_node_named_child(node, i);
      if (std::string_view(ts_node_type(stmt)) == "comment" || ts_node_is_missing(stmt)) continue;
      if (!ts_node_is_null(prev) && ts_node_end_point(prev).row == ts_node_start_point(stmt).row &&
          ts_node_start_byte(stmt) >= c.start && ts_node_start_byte(stmt) < c.end &&
          text_between(c.text, ts_node_end_byte(prev), ts_node_start_byte(stmt)).find(';') == std::string_view::npos &&
          std::string_view(ts_node_type(prev)) != "ERROR" && std::string_view(ts_node_type(stmt)) != "ERROR")
        return true;
      prev = stmt;
    }
    return false;
  }
  const bool simple = one_of(type, kSimpleStatements);
  if (simple || one_of(type, kHeaders)) {
    uint32_t until = ts_node_end_byte(node);
    if (!simple) {
      for (uint32_t i = 0, n = ts_node_child_count(node); i < n; ++i) {
        TSNode child = ts_node_child(node, i);
        if (std::string_view(ts_node_type(child)) == ":") {
          until = ts_node_start_byte(child) + 1;
          break;
        }
      }
    }
    bool joined = false;
    auto gap = [&](uint32_t a, uint32_t b) {
      for (uint32_t i = std::max(a, c.start); i < b && i < c.end; ++i) {
        if (c.text[i] != '\n') continue;
        const uint32_t before = i > a && c.text[i - 1] == '\r' ? i - 1 : i;
        if (before > a && c.text[before - 1] == '\\') continue;
        joined = true;
        return true;
      }
      return false;
    };
    uint32_t prev_end = UINT32_MAX;
    int depth = 0;
    for (uint32_t i = 0, n = ts_node_child_count(node); i < n && !joined; ++i)
      if (!walk_tokens(ts_node_child(node, i), until, prev_end, depth, gap)) break;
    if (joined) return true;
  }
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
