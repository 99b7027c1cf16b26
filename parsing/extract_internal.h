// Pieces of extraction shared by extract.cpp, extract_docs.cpp and
// extract_imports.cpp; not part of the module's interface.
#pragma once

#include <tree_sitter/api.h>

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parsing/language.h"
#include "parsing/symbols.h"

namespace astfill::parsing::detail {

// The index in `path` (root first) of the outermost wrapper (export,
// template, typedef, Go declaration) around the definition at path[i], when
// the definition is the only one the wrapper holds; i itself otherwise.
size_t outermost_wrapper(const Language& language, std::span<const TSNode> path, size_t i);

// What came just before a node among its siblings: the unbroken run of
// comments (and Rust attributes) right before it, and the sibling before that
// run (null when none). Gathered while walking down the tree, because
// tree-sitter 0.20's ts_node_prev_sibling rescans the parent from its first
// child (quadratic in a module of thousands of definitions).
struct Preceding {
  std::vector<TSNode> run;
  TSNode before{};
};

// A definition reached by walking down the tree: the chain of nodes from the
// root to it, and what precedes each of them (preceding[i] for path[i]).
struct Located {
  std::span<const TSNode> path;
  std::span<const Preceding> preceding;
};

// Walks down from `root` to every node in `targets` (in any order, repeats
// allowed), calling visit(index into targets, located) once per target.
// Only subtrees that contain a target are entered, so the cost is the paths
// to the targets plus one look at each sibling along the way.
void walk_to(TSNode root, const Language& language, const std::vector<TSNode>& targets,
             const std::function<void(size_t, const Located&)>& visit);

// The documentation of the definition at the end of `at.path`, in the
// language's style, without comment markers; "" when there is none.
std::string doc_for(const Language& language, std::string_view text, const Located& at);

// What one query match said about an import statement.
struct ImportHit {
  TSNode statement{};
  TSNode module{};  // may be null (Python `from __future__ import x`)
  std::vector<TSNode> names;
  bool relative = false;  // an @import.relative capture
  TSNode use_tree{};      // Rust: the argument of `use`
};

// Groups the hits (one per module per statement) into imports, in order.
std::vector<Import> build_imports(const Language& language, std::string_view text, std::vector<ImportHit> hits);

}  // namespace astfill::parsing::detail
