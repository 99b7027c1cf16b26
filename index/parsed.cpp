#include "index/parsed.h"

#include "parsing/extract.h"

namespace astfill::index {

Extractor tree_sitter_extractor() {
  return [](std::string_view language_id, std::string_view text) {
    // `.h` is C by its name; a C++ header is parsed with the C++ grammar.
    if (language_id == "c" && parsing::looks_like_cpp(text)) return parsing::extract_symbols("cpp", text);
    return parsing::extract_symbols(language_id, text);
  };
}

LanguageOf tree_sitter_language_of() {
  return [](std::string_view path) { return parsing::language_of_path(path); };
}

std::unique_ptr<Index> open_project_index(IndexOptions options) {
  return std::make_unique<Index>(std::move(options), tree_sitter_extractor(), tree_sitter_language_of());
}

}  // namespace astfill::index
