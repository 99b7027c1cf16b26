// What `astfill index` and `astfill query` share: the options that say which
// index to open and how to build it, and opening it for a workspace folder
// with errors that name the folder or the database file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/args.h"
#include "index/index.h"

namespace astfill::cli {

struct ProjectIndexOptions {
  std::string database;  // empty: the default path under the cache directory
  uint64_t max_file_bytes = 1 << 20;
  unsigned threads = 0;  // 0: one per core
  std::vector<std::string> include_dirs;

  void add_to(ArgParser& p);
};

// The index of the workspace folder `root` (indexing nothing yet), or an error
// message naming what is wrong: a missing root, a root that is not a folder,
// a database that cannot be written.
struct OpenedIndex {
  std::unique_ptr<index::Index> index;
  std::string error;
};
OpenedIndex open_index(const std::string& root, const ProjectIndexOptions& options);

// The database's size on disk: the file and its write-ahead log.
uint64_t database_bytes(const std::filesystem::path& database);

}  // namespace astfill::cli
