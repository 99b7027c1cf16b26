// Node helpers; see nodes.h.
#include "parsing/nodes.h"

#include <algorithm>
#include <cstring>

namespace astfill::parsing {

Span span_of(TSNode node) {
  TSPoint start = ts_node_start_point(node), end = ts_node_end_point(node);
  return Span{ts_node_start_byte(node), ts_node_end_byte(node), start.row, start.column, end.row, end.column};
}

TSPoint point_at(std::string_view text, uint32_t byte) {
  TSPoint p{0, 0};
  const char* s = text.data();
  const char* end = s + std::min<size_t>(byte, text.size());
  const char* line = s;
  while (const void* nl = std::memchr(line, '\n', static_cast<size_t>(end - line))) {
    ++p.row;
    line = static_cast<const char*>(nl) + 1;
  }
  p.column = static_cast<uint32_t>(end - line);
  return p;
}

std::string_view text_between(std::string_view text, uint32_t start, uint32_t end) {
  size_t s = std::min<size_t>(start, text.size());
  size_t e = std::clamp<size_t>(end, s, text.size());
  return text.substr(s, e - s);
}

std::string_view node_text(std::string_view text, TSNode node) {
  return text_between(text, ts_node_start_byte(node), ts_node_end_byte(node));
}

namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
}  // namespace

std::string collapse_whitespace(std::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  bool pending_space = false;
  for (char c : s) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
    if (out.size() > max_bytes) {
      size_t cut = max_bytes;
      while (cut > 0 && is_continuation(out[cut])) --cut;
      out.resize(cut);
      while (!out.empty() && out.back() == ' ') out.pop_back();
      out += "…";
      return out;
    }
  }
  return out;
}

TSNode field(TSNode node, std::string_view name) {
  return ts_node_child_by_field_name(node, name.data(), static_cast<uint32_t>(name.size()));
}

}  // namespace astfill::parsing

namespace astfill::parsing {

namespace {
// Tokens after which the cursor has left the construct they end.
bool is_closing_token(TSNode node) {
  if (ts_node_is_named(node) || ts_node_is_missing(node)) return false;
  std::string_view type = ts_node_type(node);
  return type == "}" || type == ")" || type == "]" || type == ";";
}
}  // namespace

bool contains_cursor(TSNode node, uint32_t byte) {
  uint32_t start = ts_node_start_byte(node), end = ts_node_end_byte(node);
  if (start <= byte && byte < end) return true;
  if (byte != end || start == end) return false;
  uint32_t n = ts_node_child_count(node);
  return n == 0 ? ts_node_is_named(node) : !is_closing_token(ts_node_child(node, n - 1));
}

std::vector<TSNode> path_at(TSNode root, uint32_t byte) {
  std::vector<TSNode> path;
  if (ts_node_is_null(root)) return path;
  path.push_back(root);
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  while (ts_tree_cursor_goto_first_child(&cursor)) {
    // Children are in order; take the last that contains the cursor, so that
    // at a boundary the node starting there wins over one merely open there.
    TSNode chosen{};
    bool found = false;
    do {
      TSNode child = ts_tree_cursor_current_node(&cursor);
      if (ts_node_start_byte(child) > byte) break;
      if (contains_cursor(child, byte)) {
        chosen = child;
        found = true;
      }
    } while (ts_tree_cursor_goto_next_sibling(&cursor));
    if (!found) break;
    ts_tree_cursor_reset(&cursor, chosen);
    path.push_back(chosen);
  }
  ts_tree_cursor_delete(&cursor);
  return path;
}

bool advance_preorder(TSTreeCursor* cursor, bool descend) {
  if (descend && ts_tree_cursor_goto_first_child(cursor)) return true;
  while (!ts_tree_cursor_goto_next_sibling(cursor))
    if (!ts_tree_cursor_goto_parent(cursor)) return false;
  return true;
}

}  // namespace astfill::parsing
