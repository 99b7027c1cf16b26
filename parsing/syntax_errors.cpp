// errors_introduced: which syntax errors a span of text brought with it. The
// rules are documented on Document::errors_introduced; this file compares the
// document's tree with a parse of the text without the span.
#include <algorithm>
#include <array>
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
constexpr std::array<std::string_view, 33> kPythonReserved = {
    "False", "None",   "True", "and",    "as",     "assert",   "break",  "class", "continue",
    "def",   "del",    "elif", "else",   "except", "finally",  "for",    "from",  "global",
    "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",    "or",    "pass",
    "raise", "return", "try",  "while",  "with",   "yield"};

}  // namespace

size_t Document::reserved_words_as_names(uint32_t start, uint32_t end) const {
  if (!language_ || language_->id != "python" || !tree_ || start >= end) return 0;
  size_t count = 0;
  for_each_preorder(root(), [&](TSNode node) {
    const uint32_t a = ts_node_start_byte(node), b = ts_node_end_byte(node);
    if (b <= start || a >= end) return Walk::Skip;  // only subtrees that overlap the span
    if (ts_node_child_count(node) > 0 || a < start || b >= end) return Walk::Enter;
    if (std::string_view(ts_node_type(node)) != "identifier") return Walk::Enter;
    std::string_view word = text_between(text_, a, b);
    if (std::find(kPythonReserved.begin(), kPythonReserved.end(), word) != kPythonReserved.end()) ++count;
    return Walk::Enter;
  });
  return count;
}

}  // namespace astfill::parsing
