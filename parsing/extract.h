// The parsing module's entry points for the index: which language a file is,
// and what it defines, references and imports.
#pragma once

#include <string>
#include <string_view>

#include "parsing/symbols.h"

namespace astfill::parsing {

// The LSP languageId for a path, by extension ("python", "javascript",
// "typescript", "typescriptreact", "c", "cpp", "go", "rust", "java"); "" when
// the file is not in a supported language.
std::string language_of_path(std::string_view path);

// Whether `language_id` (an LSP languageId) is one astfill parses.
bool is_supported_language(std::string_view language_id);

// Parses `text` as `language_id` and extracts its symbols. Never throws on bad
// input: invalid UTF-8, NUL bytes or broken syntax give partial results with
// has_syntax_errors set. An unsupported language gives empty results.
FileSymbols extract_symbols(std::string_view language_id, std::string_view text);

}  // namespace astfill::parsing
