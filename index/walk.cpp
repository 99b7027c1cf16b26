#include "index/walk.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include "index/files.h"
#include "support/files.h"
#include "support/log.h"

namespace astfill::index {
namespace {

constexpr uint64_t kMaxIgnoreFileBytes = 1 << 20;

int64_t mtime_ns_of(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// Reads one ignore file into `out`; false when it does not exist.
bool read_ignore_file(const std::filesystem::path& path, const std::string& dir, std::vector<IgnoreFile>& out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  support::FileContent content = support::read_file(path, kMaxIgnoreFileBytes);
  if (!content.error.empty()) {
    log::warn("index: cannot read ignore file '", path.string(), "': ", content.error, " (its rules are not applied)");
    return false;
  }
  out.emplace_back(content.text, dir);
  return true;
}

class Walker {
 public:
  Walker(const std::filesystem::path& root, const WalkOptions& options) : root_(root), options_(options) {}

  WalkResult run() {
    struct stat st {};
    if (::stat(root_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      log::warn("index: cannot walk workspace '", root_.string(), "': ", std::strerror(errno ? errno : ENOTDIR));
      ++result_.unreadable;
      return std::move(result_);
    }
    visited_.insert({st.st_dev, st.st_ino});
    walk_directory("");
    std::sort(result_.files.begin(), result_.files.end(),
              [](const WalkedFile& a, const WalkedFile& b) { return a.path < b.path; });
    result_.cancelled = stopped();
    return std::move(result_);
  }

 private:
  bool stopped() const { return options_.cancelled && options_.cancelled(); }

  std::filesystem::path absolute(const std::string& rel) const { return rel.empty() ? root_ : root_ / rel; }

  std::vector<std::string> list_directory(const std::string& rel) {
    std::vector<std::string> names;
    DIR* dir = ::opendir(absolute(rel).c_str());
    if (!dir) {
      log::warn("index: cannot read directory '", absolute(rel).string(), "': ", std::strerror(errno));
      ++result_.unreadable;
      return names;
    }
    while (dirent* entry = ::readdir(dir)) {
      std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
  }

  void walk_directory(const std::string& rel) {
    auto names = list_directory(rel);
    size_t depth = ignores_.size();
    for (auto& file : read_ignore_files(root_, rel)) ignores_.push(std::move(file));
    for (const auto& name : names) {
      if (stopped()) break;
      if (name == ".git") continue;  // a directory, or a file in worktrees and submodules
      visit(join_path(rel, name));
    }
    ignores_.truncate(depth);
  }

  void visit(const std::string& rel) {
    std::filesystem::path path = absolute(rel);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return;  // vanished since the listing
    if (S_ISLNK(st.st_mode)) {
      if (!options_.follow_symlinks) return;
      if (::stat(path.c_str(), &st) != 0) {
        log::debug("index: skipping dangling symlink '", path.string(), "'");
        return;
      }
    }
    if (S_ISDIR(st.st_mode)) return visit_directory(rel, st);
    if (S_ISREG(st.st_mode)) return visit_file(rel, st);
    // FIFOs, sockets and devices are not source code, and reading a FIFO blocks.
  }

  bool denied(const std::string& rel) {
    if (!options_.deny || !options_.deny->denied(rel)) return false;
    log::debug("index: leaving out '", rel, "': deny-listed (credentials)");
    ++result_.denied;
    return true;
  }

  void visit_directory(const std::string& rel, const struct stat& st) {
    if (denied(rel)) return;
    if (ignores_.ignored(rel, true)) {
      ++result_.ignored;
      return;
    }
    if (!visited_.insert({st.st_dev, st.st_ino}).second) {
      log::debug("index: '", absolute(rel).string(), "' was already walked (symlinked directory); skipping");
      ++result_.repeated_directories;
      return;
    }
    walk_directory(rel);
  }

  void visit_file(const std::string& rel, const struct stat& st) {
    if (denied(rel)) return;
    if (ignores_.ignored(rel, false)) {
      ++result_.ignored;
      return;
    }
    if (options_.wanted && !options_.wanted(rel)) return;
    if (static_cast<uint64_t>(st.st_size) > options_.max_file_bytes) {
      log::debug("index: skipping '", absolute(rel).string(), "': ", st.st_size, " bytes is over the limit of ",
                 options_.max_file_bytes);
      ++result_.too_large;
      return;
    }
    if (::access(absolute(rel).c_str(), R_OK) != 0) {
      log::warn("index: cannot read '", absolute(rel).string(), "': ", std::strerror(errno));
      ++result_.unreadable;
      return;
    }
    result_.files.push_back({rel, static_cast<uint64_t>(st.st_size), mtime_ns_of(st)});
  }

  const std::filesystem::path& root_;
  const WalkOptions& options_;
  WalkResult result_;
  IgnoreStack ignores_;
  std::set<std::pair<dev_t, ino_t>> visited_;
};

}  // namespace

WalkResult walk_workspace(const std::filesystem::path& root, const WalkOptions& options) {
  return Walker(root, options).run();
}

std::vector<IgnoreFile> read_ignore_files(const std::filesystem::path& root, const std::string& dir) {
  std::vector<IgnoreFile> files;
  std::filesystem::path base = dir.empty() ? root : root / dir;
  if (dir.empty()) read_ignore_file(root / ".git" / "info" / "exclude", "", files);
  read_ignore_file(base / ".gitignore", dir, files);
  read_ignore_file(base / ".astfillignore", dir, files);
  return files;
}

bool is_ignore_file_name(std::string_view name) { return name == ".gitignore" || name == ".astfillignore"; }

const std::vector<IgnoreFile>& IgnoreCache::rules_of(const std::string& dir) {
  auto it = rules_.find(dir);
  if (it == rules_.end()) it = rules_.emplace(dir, read_ignore_files(root_, dir)).first;
  return it->second;
}

bool IgnoreCache::ignored(std::string_view path) {
  if (deny_.denied(path)) return true;
  std::lock_guard lock(mu_);
  IgnoreStack stack;
  for (const auto& file : rules_of("")) stack.push(file);
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string_view name = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (name == ".git") return true;
    if (slash == std::string_view::npos) break;
    std::string dir(path.substr(0, slash));
    if (stack.ignored(dir, true)) return true;
    for (const auto& file : rules_of(dir)) stack.push(file);
    start = slash + 1;
  }
  return stack.ignored(path, false);
}

void IgnoreCache::clear() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

}  // namespace astfill::index
