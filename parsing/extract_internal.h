// Pieces of extraction shared by extract.cpp, extract_docs.cpp and
// extract_imports.cpp; not part of the module's interface.
#pragma once

#include <tree_sitter/api.h>

#include <string>
#include <string_view>
#include <vector>

#include "parsing/language.h"
#include "parsing/symbols.h"

namespace astfill::parsing::detail {

// The index in `path` (root first) of the outermost wrapper (export,
// template, typedef, Go declaration) around the definition at path[i], when
// the definition is the only one the wrapper holds; i itself otherwise.
size_t outermost_wrapper(const Language& language, const std::vector<TSNode>& path, size_t i);

// The documentation of the definition at the end of `path` (root first), in
// the language's style, without comment markers; "" when there is none.
std::string doc_for(const Language& language, std::string_view text, const std::vector<TSNode>& path);

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
