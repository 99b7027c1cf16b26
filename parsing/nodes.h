// Small helpers over tree-sitter nodes shared by documents and extraction:
// spans, the text under a node, whitespace collapsing.
#pragma once

#include <tree_sitter/api.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "parsing/symbols.h"

namespace astfill::parsing {

Span span_of(TSNode node);

// The row and column (in bytes) of `byte`, counting rows by '\n' as tree-sitter does.
TSPoint point_at(std::string_view text, uint32_t byte);

// The bytes a node covers, clamped to `text` (a tree that lags behind its text
// after a cancelled reparse may point past the end).
std::string_view node_text(std::string_view text, TSNode node);
std::string_view text_between(std::string_view text, uint32_t start, uint32_t end);

// Runs of whitespace become one space; leading and trailing whitespace goes.
// At most `max_bytes` are kept, cut at a UTF-8 character boundary and marked
// with "…" when cut.
std::string collapse_whitespace(std::string_view s, size_t max_bytes = 240);

// The child in `field`, or a null node.
TSNode field(TSNode node, std::string_view name);

// One step of a pre-order walk: into the current node's first child when
// `descend`, else to the next node after its subtree. False at the end.
bool advance_preorder(TSTreeCursor* cursor, bool descend);

// What a pre-order visitor wants next.
enum class Walk {
  Enter,  // into the node's children
  Skip,   // past the node's subtree
  Stop,   // end the walk
};

// Visits `root` and its descendants in pre-order (document order), every
// node (named or not, MISSING included), with a tree cursor: no
// ts_node_parent (a rescan from the root in tree-sitter 0.20) and no stack.
// `visit(node)` or `visit(node, depth)` (root: 0) returns a Walk. Whether a
// visit stopped the walk; false for a null root.
template <typename Visit>
bool for_each_preorder(TSNode root, Visit&& visit) {
  if (ts_node_is_null(root)) return false;
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  uint32_t depth = 0;
  bool stopped = false;
  for (;;) {
    TSNode node = ts_tree_cursor_current_node(&cursor);
    Walk next;
    if constexpr (std::is_invocable_v<Visit&, TSNode, uint32_t>) next = visit(node, depth);
    else next = visit(node);
    if (next == Walk::Stop) {
      stopped = true;
      break;
    }
    if (next == Walk::Enter && ts_tree_cursor_goto_first_child(&cursor)) {
      ++depth;
      continue;
    }
    bool more = false;
    while (depth > 0) {
      if (ts_tree_cursor_goto_next_sibling(&cursor)) {
        more = true;
        break;
      }
      ts_tree_cursor_goto_parent(&cursor);
      --depth;
    }
    if (!more) break;
  }
  ts_tree_cursor_delete(&cursor);
  return stopped;
}

inline bool same_node(TSNode a, TSNode b) { return a.id == b.id && a.tree == b.tree; }

}  // namespace astfill::parsing

namespace astfill::parsing {

// Whether `byte` is inside `node` for the purpose of "what is the cursor in":
// start <= byte < end, or byte == end when the node is still open (its last
// token is not a closing bracket or `;`), so a cursor just after `x = 1` or
// at the end of an indented Python block is still in it, and one just after
// `}` or `;` is not.
bool contains_cursor(TSNode node, uint32_t byte);

// The chain of nodes from `root` down to the deepest node containing `byte`
// (by contains_cursor), root first. Iterative: a 5,000-deep tree costs one
// walk down, not one ts_node_parent (itself a walk from the root) per level.
std::vector<TSNode> path_at(TSNode root, uint32_t byte);


}  // namespace astfill::parsing
