// Randomised edits in the style of tree-sitter's own corpus tests: seeded
// insertions, deletions and replacements on each language's fixture, an
// incremental reparse after each (which must agree with a parse from
// scratch; see require_same_tree), then every edit undone in reverse, which
// must give back the original tree exactly.
//
// These tests found a crash in tree-sitter 0.20.7 when an incremental parse
// is resumed after a timeout; Document never resumes a stopped parse (see
// parse_text and docs/architecture.md).
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

// Every node's symbol, byte range, row/column and MISSING flag, in order: a
// stricter comparison than ts_node_string, which has no positions.
using NodeRecord = std::tuple<TSSymbol, uint32_t, uint32_t, uint32_t, uint32_t, bool>;
std::vector<NodeRecord> structure(TSNode root) {
  std::vector<NodeRecord> out;
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&cursor);
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

// tree-sitter's check_consistent_sizes: every node lies inside its parent,
// after its previous sibling, and its row/column agree with its byte offset
// in the text. This is what a wrong ts_tree_edit or a bad subtree reuse
// breaks.
void require_consistent(TSNode root, std::string_view text) {
  std::vector<uint32_t> line_starts{0};
  for (uint32_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') line_starts.push_back(i + 1);
  auto point = [&](uint32_t byte) {
    auto row = static_cast<uint32_t>(std::upper_bound(line_starts.begin(), line_starts.end(), byte) -
                                     line_starts.begin() - 1);
    return std::pair(row, byte - line_starts[row]);
  };
  REQUIRE(ts_node_end_byte(root) <= text.size());
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  std::vector<std::pair<uint32_t, uint32_t>> parents{{0, static_cast<uint32_t>(text.size())}};
  uint32_t previous_end = 0;
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&cursor);
    uint32_t s = ts_node_start_byte(n), e = ts_node_end_byte(n);
    REQUIRE(s <= e);
    REQUIRE(parents.back().first <= s);
    REQUIRE(e <= parents.back().second);
    REQUIRE(previous_end <= s);
    REQUIRE(point(s) == std::pair(ts_node_start_point(n).row, ts_node_start_point(n).column));
    REQUIRE(point(e) == std::pair(ts_node_end_point(n).row, ts_node_end_point(n).column));
    if (ts_tree_cursor_goto_first_child(&cursor)) {
      parents.emplace_back(s, e);
      previous_end = s;
      continue;
    }
    previous_end = e;
    while (!ts_tree_cursor_goto_next_sibling(&cursor)) {
      if (!ts_tree_cursor_goto_parent(&cursor)) {
        ts_tree_cursor_delete(&cursor);
        return;
      }
      previous_end = parents.back().second;
      parents.pop_back();
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
// swallows, and so how the text around it reads (its own randomised tests
// compare trees only once the edits are undone, and check sizes meanwhile).
// So the trees must be identical when the text is free of syntax errors;
// with errors, both must report them and the incremental tree must be
// consistent with the text.
void require_same_tree(const Document& incremental, const Document& fresh) {
  INFO("incremental: " << sexp(incremental.root()) << "\nfresh: " << sexp(fresh.root()));
  REQUIRE(incremental.has_syntax_errors() == fresh.has_syntax_errors());
  require_consistent(incremental.root(), incremental.text());
  if (!fresh.has_syntax_errors()) {
    REQUIRE(sexp(incremental.root()) == sexp(fresh.root()));
    REQUIRE(structure(incremental.root()) == structure(fresh.root()));
  }
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
