// The syntax guard's view of tree-sitter's errors: where they are, which
// are nested in which, and whether a candidate's document has errors its
// base lacks. Internal to completion/ (syntax_guard.cpp).
#pragma once

#include <tree_sitter/api.h>

#include <cstdint>
#include <vector>

#include "parsing/document.h"
#include "parsing/language.h"
#include "parsing/nodes.h"

namespace astfill::completion::guard_errors {

// ts_builtin_sym_error; tree-sitter 0.20.7 has no ts_node_is_error.
inline constexpr TSSymbol kErrorSymbol = static_cast<TSSymbol>(-1);

// Calls f(leaf) for every token (leaf, not MISSING) that starts in [from, to),
// in document order, descending only into nodes that reach past `from`.
template <typename F>
void for_each_token(TSNode root, uint32_t from, uint32_t to, F&& f) {
  parsing::for_each_preorder(root, [&](TSNode node) {
    const uint32_t start = ts_node_start_byte(node);
    if (start >= to) return parsing::Walk::Stop;  // pre-order: every later node starts here or later
    if (ts_node_end_byte(node) <= from && start < from) return parsing::Walk::Skip;
    if (ts_node_child_count(node) > 0) return parsing::Walk::Enter;
    if (start >= from && !ts_node_is_missing(node)) f(node);
    return parsing::Walk::Skip;
  });
}

// Outermost ERROR and MISSING nodes, as (start byte, symbol; 0 for ERROR),
// compared by those two; and where they end.
struct ErrorMark {
  uint32_t byte;
  TSSymbol symbol;
  uint32_t end = 0;
  bool operator<(const ErrorMark& o) const { return byte != o.byte ? byte < o.byte : symbol < o.symbol; }
  bool operator==(const ErrorMark& o) const { return byte == o.byte && symbol == o.symbol; }
};

std::vector<ErrorMark> error_marks(TSNode root);
TSNode simple_statement_of(TSNode node, const parsing::Language& language);
std::vector<uint32_t> statement_errors(const parsing::Document& doc, uint32_t cursor, uint32_t from, uint32_t limit,
                                       int lines);
bool nested_error_between(TSNode root, uint32_t from, uint32_t to, bool ending_at_from = false);
bool error_inside(TSNode root, uint32_t from, uint32_t to);
bool error_in_opened_block(const parsing::Document& doc, uint32_t from, uint32_t to);
bool has_new_errors(const parsing::Document& with, const std::vector<ErrorMark>& before, uint32_t at,
                    uint32_t inserted);

}  // namespace astfill::completion::guard_errors
