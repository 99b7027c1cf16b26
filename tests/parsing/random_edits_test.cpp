// Randomised edits in the style of tree-sitter's own corpus tests: seeded
// insertions, deletions and replacements on each language's fixture, an
// incremental reparse after each (which must agree with a parse from
// scratch; see require_same_tree), then every edit undone in reverse, which
// must give back the original tree exactly.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "fixtures.h"
#include "parsing/document.h"

using namespace astfill::parsing;

namespace {

struct Edit {
  uint32_t start = 0, old_end = 0;
  std::string text;
};

// Fragments that make and break syntax in every language here.
const char* const kFragments[] = {"{", "}", "(", ")", "[", "]", ":", ";", ",", "\n", "    ", "\"", "'", "/*",
                                  "*/", "//", "#", "=", "=>", "<", ">", "def ", "fn ", "class ", "return ", "\\"};

Edit random_edit(std::mt19937& rng, const std::string& text, std::string_view source) {
  auto uniform = [&](size_t lo, size_t hi) { return std::uniform_int_distribution<size_t>(lo, hi)(rng); };
  Edit e;
  e.start = static_cast<uint32_t>(uniform(0, text.size()));
  int what = static_cast<int>(uniform(0, 2));  // 0 insert, 1 delete, 2 replace
  e.old_end = e.start;
  if (what != 0) e.old_end = static_cast<uint32_t>(std::min(text.size(), e.start + uniform(1, 24)));
  if (what != 1) {
    if (uniform(0, 1) == 0) {
      e.text = kFragments[uniform(0, std::size(kFragments) - 1)];
    } else {  // a piece of real code from elsewhere in the file
      size_t from = uniform(0, source.size() - 1);
      e.text = std::string(source.substr(from, uniform(1, 32)));
    }
  }
  return e;
}

constexpr TSSymbol kErrorSymbol = static_cast<TSSymbol>(-1);

// Every node's symbol, byte range, row/column and MISSING flag, in order: a
// stricter comparison than ts_node_string, which has no positions. Only nodes
// that end by `until` are listed.
using NodeRecord = std::tuple<TSSymbol, uint32_t, uint32_t, uint32_t, uint32_t, bool>;
std::vector<NodeRecord> structure(TSNode root, uint32_t until = UINT32_MAX) {
  std::vector<NodeRecord> out;
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&cursor);
    if (ts_node_end_byte(n) <= until)
      out.emplace_back(ts_node_symbol(n), ts_node_start_byte(n), ts_node_end_byte(n), ts_node_start_point(n).row,
                       ts_node_start_point(n).column, ts_node_is_missing(n));
    if (ts_tree_cursor_goto_first_child(&cursor)) continue;
    while (!ts_tree_cursor_goto_next_sibling(&cursor)) {
      if (!ts_tree_cursor_goto_parent(&cursor)) {
        ts_tree_cursor_delete(&cursor);
        return out;
      }
    }
  }
}

// Where the first ERROR or MISSING node begins; UINT32_MAX without errors.
uint32_t first_error(TSNode root) {
  uint32_t first = UINT32_MAX;
  if (!ts_node_has_error(root)) return first;
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&cursor);
    bool error = ts_node_symbol(n) == kErrorSymbol || ts_node_is_missing(n);
    if (error) first = std::min(first, ts_node_start_byte(n));
    if (!error && ts_node_has_error(n) && ts_tree_cursor_goto_first_child(&cursor)) continue;
    while (!ts_tree_cursor_goto_next_sibling(&cursor)) {
      if (!ts_tree_cursor_goto_parent(&cursor)) {
        ts_tree_cursor_delete(&cursor);
        return first;
      }
    }
  }
}

std::string sexp(TSNode root) {
  char* s = ts_node_string(root);
  std::string out(s);
  free(s);
  return out;
}

}  // namespace

// tree-sitter does not promise that error recovery after an incremental
// parse makes the same choices as a fresh parse: which tokens an ERROR
// swallows, and so how the text after it is read, may differ (its own
// randomised tests compare trees only once the edits are undone). So the
// trees must be identical when the text is free of syntax errors; with
// errors, both must have them, cover the same bytes, and agree exactly on
// every node that ends before the first error in either tree.
void require_same_tree(const Document& incremental, const Document& fresh) {
  INFO("incremental: " << sexp(incremental.root()) << "\nfresh: " << sexp(fresh.root()));
  REQUIRE(incremental.has_syntax_errors() == fresh.has_syntax_errors());
  if (!fresh.has_syntax_errors()) {
    REQUIRE(sexp(incremental.root()) == sexp(fresh.root()));
    REQUIRE(structure(incremental.root()) == structure(fresh.root()));
    return;
  }
  REQUIRE(ts_node_end_byte(incremental.root()) == ts_node_end_byte(fresh.root()));
  uint32_t until = std::min(first_error(incremental.root()), first_error(fresh.root()));
  REQUIRE(structure(incremental.root(), until) == structure(fresh.root(), until));
}

TEST_CASE("random edits reparse like a fresh parse, and undoing them restores the tree", "[edits]") {
  const int kSeeds = std::getenv("ASTFILL_EDIT_SEEDS") ? std::atoi(std::getenv("ASTFILL_EDIT_SEEDS")) : 16;
  constexpr int kEditsPerSeed = 8;
  for (auto [language, source] : fixtures::all) {
    const Document pristine(language, std::string(source));
    const std::string original_sexp = sexp(pristine.root());
    const auto original_structure = structure(pristine.root());
    for (int seed = 0; seed < kSeeds; ++seed) {
      INFO(language << ", seed " << seed);
      std::mt19937 rng(static_cast<uint32_t>(seed * 7919 + 17));
      Document doc = pristine;
      std::vector<Edit> undo;
      for (int i = 0; i < kEditsPerSeed; ++i) {
        Edit e = random_edit(rng, doc.text(), source);
        undo.push_back({e.start, e.start + static_cast<uint32_t>(e.text.size()),
                        doc.text().substr(e.start, e.old_end - e.start)});
        REQUIRE(doc.edit(e.start, e.old_end, e.text) == ParseStatus::Parsed);
        INFO("after edit " << i << ", text:\n" << doc.text());
        require_same_tree(doc, Document(language, doc.text()));
      }
      for (auto it = undo.rbegin(); it != undo.rend(); ++it) doc.edit(it->start, it->old_end, it->text);
      REQUIRE(doc.text() == source);
      CHECK(sexp(doc.root()) == original_sexp);
      CHECK(structure(doc.root()) == original_structure);
    }
  }
}
