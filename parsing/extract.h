// The parsing module's entry points for the index: which language a file is,
// and what it defines, references and imports.
#pragma once

#include <string>
#include <string_view>

#include "parsing/symbols.h"
#include "support/cancel.h"

namespace astfill::parsing {

// The LSP languageId for a path, by extension ("python", "javascript",
// "typescript", "typescriptreact", "c", "cpp", "go", "rust", "java"); "" when
// the file is not in a supported language.
std::string language_of_path(std::string_view path);

// The languageId for a file whose text is known: language_of_path, except
// that a C file (in practice a `.h` header) whose text shows C++ (a class,
// namespace or template, an access specifier, `std::`, `nullptr`, a standard
// header without `.h`, ...) is "cpp", so C++ headers parse without errors.
std::string language_of_file(std::string_view path, std::string_view text);

// Whether C or C++ `text` shows constructs only C++ has (looks at the first
// 64 KiB; comments and string literals are skipped).
bool looks_like_cpp(std::string_view text);

// Whether `language_id` (an LSP languageId) is one astfill parses.
bool is_supported_language(std::string_view language_id);

// Parses `text` as `language_id` and extracts its symbols. Never throws on bad
// input: invalid UTF-8, NUL bytes or broken syntax give partial results with
// has_syntax_errors set. An unsupported language gives empty results.
FileSymbols extract_symbols(std::string_view language_id, std::string_view text);

class Document;

// The same for a document already parsed (the daemon keeps one per open
// file). Definitions nested in function bodies (locals) are left out. Polls
// `cancel` while running queries; a cancelled extraction returns what it has.
// A document whose last parse was stopped (its tree lags its text) gives
// empty results until it is reparsed.
//
// References are the uses the queries name: calls, member and attribute
// accesses, type uses and `new X`; not every identifier.
FileSymbols extract_symbols(const Document& document, const CancellationToken& cancel = {});

}  // namespace astfill::parsing
