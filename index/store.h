// The database side of the index: writing what was learnt about a file
// (writer thread, inside the caller's transaction) and the questions
// completion asks (any thread, on its own read connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "index/chunks.h"
#include "index/database.h"
#include "index/imports.h"
#include "index/index.h"
#include "index/schema.h"
#include "index/symbol_index.h"
#include "parsing/symbols.h"

namespace astfill::index {

// A files row.
struct FileRecord {
  std::string path;
  std::string language;
  uint64_t content_hash = 0;
  int64_t mtime_ns = 0;  // 0: unknown (editor text, or racily recent): confirm by hash next time
  uint64_t size = 0;
  FileState state = FileState::Indexed;
};

// What the database holds about a file, for deciding whether it changed.
struct StoredFile {
  uint64_t content_hash = 0;
  int64_t mtime_ns = 0;
  uint64_t size = 0;
  FileState state = FileState::Stale;
};

std::unordered_map<std::string, StoredFile> load_stored_files(Database& db);
std::optional<StoredFile> load_stored_file(Database& db, std::string_view path);
std::vector<std::string> load_stored_paths(Database& db);

// An import row that may need resolving again, with what resolution needs.
struct ImportRow {
  int64_t rowid = 0;
  std::string importer;
  std::string language;
  parsing::Import import;
  bool resolved = false;  // it has a target now
};

// Writes; every call expects the caller's open transaction.
class IndexWriter {
 public:
  explicit IndexWriter(Database& db) : db_(db) {}

  // Replaces everything stored about the file. `targets` has one entry per
  // import of `symbols`.
  void put_file(const FileRecord& file, const parsing::FileSymbols& symbols, const std::vector<CodeChunk>& chunks,
                const std::vector<std::optional<ImportTarget>>& targets);
  // The content is unchanged; only mtime and size are new.
  void touch_file(const std::string& path, int64_t mtime_ns, uint64_t size);
  // Removes the file and what it defines; imports that landed on it stay, unlinked.
  bool remove_file(const std::string& path);
  // Paths of stored files under the directory `dir`.
  std::vector<std::string> paths_under(const std::string& dir);

  // Imports not resolved, and imports that landed on one of `removed` (or, for
  // package imports, on their directory).
  std::vector<ImportRow> imports_to_resolve_again(bool unresolved, const std::vector<std::string>& removed);
  std::vector<ImportRow> all_imports();
  void set_import_target(int64_t rowid, const std::optional<ImportTarget>& target);

 private:
  int64_t file_id(const std::string& path);
  void insert_symbols(int64_t file_id, const std::vector<parsing::Definition>& definitions);
  void insert_references(int64_t file_id, const std::vector<parsing::Reference>& references);
  void insert_imports(int64_t file_id, const std::vector<parsing::Import>& imports,
                      const std::vector<std::optional<ImportTarget>>& targets);
  void insert_chunks(int64_t file_id, const std::vector<CodeChunk>& chunks);
  std::vector<ImportRow> import_rows(Query& query);

  Database& db_;
};

// The questions, on a read connection.
namespace queries {

std::vector<Symbol> definitions(Database& db, std::string_view name, std::string_view current_file, size_t limit);
std::vector<Symbol> members(Database& db, std::string_view container, size_t limit);
std::vector<Symbol> definitions_in(Database& db, std::string_view file, size_t limit);
std::vector<ResolvedImport> imports_of(Database& db, std::string_view file);
std::vector<SimilarChunk> similar_chunks(Database& db, std::string_view window, size_t k,
                                         std::string_view exclude_file);
std::vector<Symbol> symbols_with_prefix(Database& db, std::string_view prefix, size_t limit);
// Symbols matching `query` as a fuzzy name search (workspace/symbol): the best
// `limit` by match_rank, then shorter names, then by name.
std::vector<Symbol> search_symbols(Database& db, std::string_view query, size_t limit);
std::optional<int> match_rank(std::string_view name, std::string_view query);
// Files, symbols, bytes and lines in the whole database.
IndexTotals totals(Database& db);

// The smallest string greater than every string that starts with `prefix`
// (byte order, which is SQLite's for TEXT); nullopt when there is none.
std::optional<std::string> prefix_upper_bound(std::string_view prefix);

}  // namespace queries
}  // namespace astfill::index
