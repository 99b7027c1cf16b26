// The index as the daemon and the CLI use it: bound to parsing/'s tree-sitter
// extractor and language table. (index/ itself takes the extractor as a
// dependency, so that its own tests can use a toy one.)
#pragma once

#include <memory>

#include "index/index.h"

namespace astfill::index {

// parsing::extract_symbols, by LSP languageId.
Extractor tree_sitter_extractor();
// parsing::language_of_path.
LanguageOf tree_sitter_language_of();

// An Index over `options.root` with the tree-sitter extractor.
std::unique_ptr<Index> open_project_index(IndexOptions options);

}  // namespace astfill::index
