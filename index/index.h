// The project index: a workspace's persistent, incremental memory, which
// completion queries on every keystroke.
//
// Threads. Questions (the SymbolIndex calls) run on the caller's thread, each
// on a read-only connection of its own from a pool; the database is in WAL
// mode, so they read the last commit and never wait for indexing. Indexing
// runs in the background at a lower priority (nice): a pool of parse threads,
// one per core, reads files and calls the extractor concurrently (so the
// extractor must be thread-safe), and one writer thread commits their results
// in batched transactions. Requests from the editor (update_file, ...) jump
// ahead of a running sync.
//
// Incremental. A sync walks the workspace and reparses only files whose mtime
// or size changed and whose content hash confirms it; files that vanished are
// removed (a rename is a removal and an addition). Each file is committed
// whole or not at all, so after a crash (kill -9) the database is consistent
// and the next sync starts where the last one stopped.
//
// Ordering. Every request for a path gets a newer generation; a result that
// is no longer the newest for its path is dropped when it reaches the writer,
// so a slow parse never overwrites a later edit or removal. While the editor
// owns a file (update_file until close_file or remove_file), its text wins:
// syncs and disk events leave that file alone.
//
// Cancellation and progress. A sync polls its CancellationToken (and the
// index's own, cancelled on destruction) before each file, and reports
// progress (percentage of files committed, message) from the writer thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/chunks.h"
#include "index/symbol_index.h"
#include "parsing/symbols.h"
#include "support/cancel.h"
#include "support/progress.h"

namespace astfill::index {

// parsing::extract_symbols and parsing::language_of_path, or a test's own.
using Extractor = std::function<parsing::FileSymbols(std::string_view language_id, std::string_view text)>;
using LanguageOf = std::function<std::string(std::string_view path)>;

struct IndexOptions {
  std::filesystem::path root;      // the workspace folder
  std::filesystem::path database;  // empty: default_database_path(root) under the cache directory
  uint64_t max_file_bytes = 1 << 20;
  unsigned parse_threads = 0;      // 0: one per core
  size_t max_batch_files = 256;    // files per write transaction, at most
  int background_nice = 10;        // niceness added to the indexing threads; 0 leaves them alone
  bool follow_symlinks = true;
  std::vector<std::string> include_dirs;  // C/C++ include directories, relative to the root or inside it
  // Patterns (gitignore syntax) added to the built-in deny-list (index/deny.h).
  std::vector<std::string> deny_paths;
  ChunkOptions chunks;
  // Called on the writer thread after each commit, with the number of files
  // committed since the index opened (tests synchronise on it).
  std::function<void(size_t files_committed)> on_commit;
};

// Counters since the index opened.
struct IndexStats {
  size_t parsed = 0;          // extractor calls
  size_t unchanged = 0;       // files a sync skipped: same mtime and size
  size_t same_content = 0;    // mtime or size differed, the content hash did not
  size_t removed = 0;         // files removed from the index
  size_t failed = 0;          // files that could not be read, or whose extraction threw
  size_t committed = 0;       // files written (parsed, touched or removed)
  size_t superseded = 0;      // editor texts dropped unparsed: a newer text for the file came first
};

// What the database holds, whoever indexed it.
struct IndexTotals {
  size_t files = 0;    // files rows (binary files and files whose extraction failed included)
  size_t symbols = 0;  // definitions
  uint64_t bytes = 0;  // the files' sizes
  uint64_t lines = 0;  // lines the files' chunks cover: all of a text file's lines but trailing blank runs
                     // long enough to be a chunk of their own
};

class Index final : public SymbolIndex {
 public:
  // Opens (or creates, migrates, or rebuilds) the workspace's database and
  // starts the background threads; indexes nothing until asked. Throws
  // IndexError when no database can be created at all.
  Index(IndexOptions options, Extractor extract, LanguageOf language_of);
  // Cancels background work, commits what was already parsed, and joins.
  ~Index() override;
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  // Brings the index in line with the files on disk, in the background.
  // `progress` (may be null) is called from background threads.
  void sync_with_disk(std::shared_ptr<Progress> progress = nullptr, CancellationToken cancel = {});
  // The editor's text for a file (didOpen, didChange, didSave).
  void update_file(std::string_view path, std::string text);
  // The file is gone (deleted, or the old name of a rename).
  void remove_file(std::string_view path);
  // The editor closed the file: the disk is the truth again.
  void close_file(std::string_view path);
  // A watcher saw the path change (didChangeWatchedFiles): created, changed,
  // deleted; a directory, or an ignore file, starts a sync.
  void file_changed_on_disk(std::string_view path);

  // Blocks until everything asked so far is committed or dropped.
  void wait_until_idle();
  IndexStats stats() const;
  // Counts over the whole database (a scan: for reports, not for completion).
  IndexTotals totals() const;
  const std::filesystem::path& root() const;
  const std::filesystem::path& database_path() const;

  std::vector<Symbol> definitions(std::string_view name, std::string_view current_file,
                                  size_t limit = 50) const override;
  std::vector<Symbol> members(std::string_view container, size_t limit = 200) const override;
  std::vector<Symbol> definitions_in(std::string_view file, size_t limit = 500) const override;
  std::vector<ResolvedImport> imports_of(std::string_view file) const override;
  std::vector<SimilarChunk> similar_chunks(std::string_view window, size_t k,
                                           std::string_view exclude_file = {}) const override;
  std::vector<Symbol> symbols_with_prefix(std::string_view prefix, size_t limit = 100) const override;
  // A fuzzy search by name for workspace/symbol: exact, prefix, substring,
  // then subsequence matches (case-sensitive first), best `limit` of them.
  std::vector<Symbol> search_symbols(std::string_view query, size_t limit = 100) const;

 private:
  class Background;
  std::unique_ptr<Background> background_;
};

}  // namespace astfill::index
