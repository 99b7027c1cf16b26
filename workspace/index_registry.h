// The daemon's open project indexes, one per (workspace folder, settings),
// shared by every session that works on that folder: two editor windows on
// one project (two TCP sessions) read and feed the same index.
//
// lsp/ does not know how an index is built: the opener (index::open_project_index
// with the tree-sitter extractor, in the daemon; something smaller in tests)
// is given to the registry.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "index/index.h"

namespace astfill::workspace {

using IndexOpener = std::function<std::unique_ptr<index::Index>(index::IndexOptions)>;

class IndexRegistry {
 public:
  // `defaults`: options every index starts from (parse threads, database
  // location when a test overrides it, ...); root and the per-folder settings
  // are filled in by acquire().
  IndexRegistry(IndexOpener opener, index::IndexOptions defaults = {});

  // The index of `root` with these settings, opened (or created, migrated,
  // rebuilt) when no session holds it. Throws index::IndexError, or
  // std::runtime_error when root is not a directory.
  std::shared_ptr<index::Index> acquire(const std::filesystem::path& root, uint64_t max_file_bytes,
                                        const std::vector<std::string>& include_dirs,
                                        const std::vector<std::string>& deny_paths = {});

 private:
  IndexOpener opener_;
  index::IndexOptions defaults_;
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<index::Index>> open_;
};

}  // namespace astfill::workspace
