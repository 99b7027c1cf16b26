// Finding the files of a workspace: a walk that honours ignore files and
// stays out of trouble (.git, huge files, special files, symlink loops,
// directories it may not read), and a cached "is this one path ignored?" for
// single-file events from the editor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "index/deny.h"
#include "index/ignore.h"

namespace astfill::index {

struct WalkOptions {
  uint64_t max_file_bytes = 1 << 20;
  // Symlinks to files and directories are followed; each real directory is
  // entered once (by device and inode), which is what breaks loops.
  bool follow_symlinks = true;
  // Which files to report, by path relative to the root; null reports all.
  std::function<bool(std::string_view path)> wanted;
  // Polled before each entry; the walk stops early when it returns true.
  std::function<bool()> cancelled;
  // Files and directories it names are left out whatever the ignore files
  // say; null: none.
  const DenyList* deny = nullptr;
};

struct WalkedFile {
  std::string path;  // relative to the root, '/'-separated
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

struct WalkResult {
  std::vector<WalkedFile> files;  // sorted by path
  size_t ignored = 0;             // files and directories left out by ignore rules
  size_t denied = 0;              // files and directories left out by the deny-list (credentials)
  size_t too_large = 0;
  size_t unreadable = 0;          // files and directories we could not read (each warned about)
  size_t repeated_directories = 0;  // symlinked directories already walked (loops among them)
  bool cancelled = false;
};

WalkResult walk_workspace(const std::filesystem::path& root, const WalkOptions& options);

// The ignore files that apply from directory `dir` (relative to the root; ""
// for the root) downwards, in increasing precedence: .git/info/exclude (root
// only), .gitignore, .astfillignore. Missing files are skipped; unreadable
// ones are warned about.
std::vector<IgnoreFile> read_ignore_files(const std::filesystem::path& root, const std::string& dir);

// Whether a single path would be left out by the walk (ignored itself, below
// an ignored directory, inside .git, or deny-listed). Thread-safe; each
// directory's ignore files are read once until clear().
class IgnoreCache {
 public:
  explicit IgnoreCache(std::filesystem::path root, DenyList deny = DenyList())
      : root_(std::move(root)), deny_(std::move(deny)) {}
  bool ignored(std::string_view path);
  void clear();

 private:
  const std::vector<IgnoreFile>& rules_of(const std::string& dir);

  std::filesystem::path root_;
  DenyList deny_;
  std::mutex mu_;
  std::map<std::string, std::vector<IgnoreFile>> rules_;
};

// Whether `name` is the name of an ignore file (its change changes the walk).
bool is_ignore_file_name(std::string_view name);

}  // namespace astfill::index
