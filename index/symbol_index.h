// What completion asks of the project index, as a small interface: the
// SQLite-backed Index implements it, and completion code (and its tests) may
// use any other implementation, such as a fixed in-memory one.
//
// Paths in questions may be absolute (under the workspace root) or relative
// to the root; paths in answers are relative to the root, '/'-separated.
// Answers are empty when nothing matches or the index cannot be read (that is
// logged); a question never throws.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsing/symbols.h"

namespace astfill::index {

// A definition and where it is.
struct Symbol {
  std::string name;
  parsing::SymbolKind kind = parsing::SymbolKind::Function;
  std::string signature;
  std::string doc;
  std::string container;
  std::string path;
  parsing::Span range;
  parsing::Span name_range;
  // definitions() only: how near the definition is to the file asked about
  // (0 that file, 1 a file it imports, 2 its directory, 3 elsewhere).
  int proximity = 3;
};

// One import of a file, and the workspace file (or package directory) it
// lands on when it lands in the workspace.
struct ResolvedImport {
  std::string module;
  std::vector<std::string> names;
  bool relative = false;
  parsing::Span range;
  std::optional<std::string> resolved_path;
  bool resolved_is_directory = false;
};

// A window of code similar to the one asked about.
struct SimilarChunk {
  std::string path;
  uint32_t start_line = 0;  // zero-based
  uint32_t end_line = 0;    // exclusive
  std::string text;
  double score = 0;  // BM25, higher is more similar
};

class SymbolIndex {
 public:
  virtual ~SymbolIndex() = default;

  // Definitions named exactly `name`, best first: those in `current_file`,
  // then in files it imports, then in its directory, then others (any
  // `limit` of them, by path: a name defined thousands of times is not
  // ranked in full). Each carries its rank in Symbol::proximity.
  virtual std::vector<Symbol> definitions(std::string_view name, std::string_view current_file,
                                          size_t limit = 50) const = 0;

  // Definitions whose container is exactly `container` (a class, module or
  // namespace path as parsing writes it: "Stack", "ns::Inner"), by path and
  // position.
  virtual std::vector<Symbol> members(std::string_view container, size_t limit = 200) const = 0;

  // Every definition in `file` (top level and nested, not locals), by
  // position; for a package directory as imports_of gives it (Go), those of
  // the files directly inside it, by path and position. The API a file
  // offers to the files that import it.
  virtual std::vector<Symbol> definitions_in(std::string_view file, size_t limit = 500) const = 0;

  // What `file` imports, in source order, and where each import resolves.
  virtual std::vector<ResolvedImport> imports_of(std::string_view file) const = 0;

  // The k chunks most similar to `window` (BM25 over the window's
  // identifiers), leaving out chunks of `exclude_file`.
  virtual std::vector<SimilarChunk> similar_chunks(std::string_view window, size_t k,
                                                   std::string_view exclude_file = {}) const = 0;

  // Definitions whose name starts with `prefix` (case-sensitive), by name.
  virtual std::vector<Symbol> symbols_with_prefix(std::string_view prefix, size_t limit = 100) const = 0;
};

}  // namespace astfill::index
