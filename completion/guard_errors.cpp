// The syntax guard's view of tree-sitter's errors (completion/guard_errors.h).
#include "completion/guard_errors.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace astfill::completion::guard_errors {

using parsing::Document;
using parsing::for_each_preorder;
using parsing::Walk;

std::vector<ErrorMark> error_marks(TSNode root) {
  std::vector<ErrorMark> marks;
  if (ts_node_is_null(root) || !ts_node_has_error(root)) return marks;
  for_each_preorder(root, [&](TSNode node) {
    if (ts_node_symbol(node) == kErrorSymbol) marks.push_back({ts_node_start_byte(node), 0, ts_node_end_byte(node)});
    else if (ts_node_is_missing(node))
      marks.push_back({ts_node_start_byte(node), ts_node_symbol(node), ts_node_end_byte(node)});
    else if (ts_node_has_error(node)) return Walk::Enter;
    return Walk::Skip;
  });
  return marks;
}

// The statement `node` is part of without a block between them (`const a =
// c ? x : y;` for any node of its expression; none for a statement of a
// block, or for a node that no statement holds), or a null node.
TSNode simple_statement_of(TSNode node, const parsing::Language& language) {
  for (; !ts_node_is_null(node); node = ts_node_parent(node)) {
    if (language.statements.contains(node)) return node;
    if (language.blocks.contains(node)) break;
  }
  return TSNode{};
}

// The starts of `doc`'s errors (as error_marks lists them) that are in the
// statement holding the byte before `cursor` (simple_statement_of) and start
// from `from` to at most `lines` lines after `limit`: with the hole's code missing, an
// expression cut in the middle leaves errors further down that statement
// (`a ?` + hole + `\n  true\n  : b\n  : c;`: the hole held the inner `x ?`,
// and tree-sitter marks the `: b` a line below).
std::vector<uint32_t> statement_errors(const Document& doc, uint32_t cursor, uint32_t from, uint32_t limit,
                                       int lines) {
  std::vector<uint32_t> starts;
  if (cursor == 0 || !ts_node_has_error(doc.root())) return starts;
  const parsing::Language& language = *doc.language();
  const TSNode hole = simple_statement_of(ts_node_descendant_for_byte_range(doc.root(), cursor - 1, cursor), language);
  if (ts_node_is_null(hole)) return starts;
  size_t last = limit;
  for (int i = 0; i < lines && last < doc.text().size(); ++i) {
    last = doc.text().find('\n', last + 1);
    if (last == std::string::npos) last = doc.text().size();
  }
  for_each_preorder(hole, [&](TSNode node) {
    if (ts_node_start_byte(node) > last || ts_node_end_byte(node) < from) return Walk::Skip;
    const bool error = ts_node_symbol(node) == kErrorSymbol || ts_node_is_missing(node);
    if (error && ts_node_start_byte(node) >= from && ts_node_eq(simple_statement_of(ts_node_parent(node), language), hole))
      starts.push_back(ts_node_start_byte(node));
    if (error) return Walk::Skip;
    return ts_node_has_error(node) ? Walk::Enter : Walk::Skip;
  });
  std::sort(starts.begin(), starts.end());
  return starts;
}

// Whether an error or a missing token nested in an error (at any depth
// below an outer one) has its first token in [from, to], or ends there (it
// swallowed the code above up to the hole: numpy's test_generic_alias.py,
// `def test` + `tion:`, nests one from the class's first line to `:`).
// `ending_at_from`: one that ends at `from` counts too.
bool nested_error_between(TSNode root, uint32_t from, uint32_t to, bool ending_at_from) {
  if (ts_node_is_null(root) || !ts_node_has_error(root)) return false;
  bool found = false;
  for_each_preorder(root, [&](TSNode node) {
    if (found || ts_node_end_byte(node) < from || ts_node_start_byte(node) > to) return Walk::Skip;
    if (ts_node_symbol(node) != kErrorSymbol) return ts_node_has_error(node) ? Walk::Enter : Walk::Skip;
    // An outer error: look for the errors inside it.
    for_each_preorder(node, [&](TSNode inner) {
      if (found || ts_node_end_byte(inner) < from || ts_node_start_byte(inner) > to) return Walk::Skip;
      // Where its first token starts (an error's range may begin with the
      // line break before it).
      TSNode first = inner;
      while (ts_node_child_count(first) > 0) first = ts_node_child(first, 0);
      const uint32_t start = ts_node_start_byte(first), end = ts_node_end_byte(inner);
      if (!ts_node_eq(inner, node) && (ts_node_symbol(inner) == kErrorSymbol || ts_node_is_missing(inner)) &&
          ((start >= from && start <= to) || ((end > from || (ending_at_from && end == from)) && end <= to))) {
        found = true;
        return Walk::Stop;
      }
      return ts_node_has_error(inner) || ts_node_symbol(inner) == kErrorSymbol ? Walk::Enter : Walk::Skip;
    });
    return Walk::Skip;
  });
  return found;
}

// Whether an error or a missing token starts strictly inside [from, to) at
// any depth, also inside an error that begins outside it: tree-sitter-c may
// wrap a whole function in one ERROR (a `do` it cannot finish), and the
// completion's own unparsable words (`retue, and the` for `return Z_ERRNO;`)
// are then an ERROR nested in it, which error_marks() does not list.
bool error_inside(TSNode root, uint32_t from, uint32_t to) {
  if (ts_node_is_null(root) || !ts_node_has_error(root) || from >= to) return false;
  bool found = false;
  for_each_preorder(root, [&](TSNode node) {
    if (found || ts_node_end_byte(node) <= from || ts_node_start_byte(node) >= to) return Walk::Skip;
    const uint32_t start = ts_node_start_byte(node);
    if ((ts_node_symbol(node) == kErrorSymbol || ts_node_is_missing(node)) && start > from && start < to) {
      found = true;
      return Walk::Skip;
    }
    return ts_node_has_error(node) || ts_node_symbol(node) == kErrorSymbol ? Walk::Enter : Walk::Skip;
  });
  return found;
}

// Whether `doc` has an error inside the block that the last `{` of [from,
// to) leaves open (one the suffix closes), or at the word right after that
// block. Both are the answer's, even where the file without it had an error
// at the same place: the hole's code decided what the suffix's lines are
// (`expo` + `rt function isResolvePattern(options: Iterator): void {` where
// `export type D = {` was: the type's members, an error at the top level
// without the answer, are a function's statements with it, `range:
// readonly [a: number]` still an error; `}` + `    {` where ` else if (x)
// {` was, above the chain's `} else {`: javac's "'else' without 'if'").
bool error_in_opened_block(const Document& doc, uint32_t from, uint32_t to) {
  std::vector<TSNode> open;
  for_each_token(doc.root(), from, to, [&](TSNode leaf) {
    const std::string_view type = ts_node_type(leaf);
    if (type == "{") open.push_back(leaf);
    else if (type == "}" && !open.empty()) open.pop_back();
  });
  if (open.empty()) return false;
  TSNode block = ts_node_parent(open.back());
  if (ts_node_is_null(block) || ts_node_symbol(block) == kErrorSymbol) return false;
  const std::string& all = doc.text();
  uint32_t after = ts_node_end_byte(block);
  while (after < all.size() && (all[after] == ' ' || all[after] == '\t' || all[after] == '\r' || all[after] == '\n'))
    ++after;
  while (after < all.size() && (std::isalnum(static_cast<unsigned char>(all[after])) || all[after] == '_')) ++after;
  return error_inside(doc.root(), to, std::min<uint32_t>(after + 1, static_cast<uint32_t>(all.size())));
}

// Whether `with` (the text of `without` plus an insertion of `inserted`
// bytes at `at`) has an error `without` lacks, anywhere. Bytes map as in
// Document::errors_introduced: before the insertion to themselves, after it
// shifted back, at its edges to `at`; inside it to nothing.
bool has_new_errors(const Document& with, const std::vector<ErrorMark>& before, uint32_t at, uint32_t inserted) {
  for (const ErrorMark& mark : error_marks(with.root())) {
    uint32_t byte = mark.byte;
    if (byte > at && byte < at + inserted) return true;
    if (byte >= at + inserted) byte -= inserted;
    if (!std::binary_search(before.begin(), before.end(), ErrorMark{byte, mark.symbol})) return true;
  }
  return false;
}

}  // namespace astfill::completion::guard_errors
