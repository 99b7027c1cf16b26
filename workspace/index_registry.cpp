#include "workspace/index_registry.h"

#include <stdexcept>

namespace astfill::workspace {

IndexRegistry::IndexRegistry(IndexOpener opener, index::IndexOptions defaults)
    : opener_(std::move(opener)), defaults_(std::move(defaults)) {}

std::shared_ptr<index::Index> IndexRegistry::acquire(const std::filesystem::path& root, uint64_t max_file_bytes,
                                                     const std::vector<std::string>& include_dirs,
                                                     const std::vector<std::string>& deny_paths) {
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec))
    throw std::runtime_error("'" + root.string() + "' is not a directory" + (ec ? ": " + ec.message() : ""));
  std::string key = root.lexically_normal().string() + '\n' + std::to_string(max_file_bytes);
  for (const auto& dir : include_dirs) key += '\n' + dir;
  key += "\n--deny";
  for (const auto& pattern : deny_paths) key += '\n' + pattern;
  std::lock_guard lock(mu_);
  if (auto it = open_.find(key); it != open_.end())
    if (auto index = it->second.lock()) return index;
  index::IndexOptions options = defaults_;
  options.root = root;
  options.max_file_bytes = max_file_bytes;
  options.include_dirs = include_dirs;
  options.deny_paths = deny_paths;
  std::shared_ptr<index::Index> index = opener_(std::move(options));
  open_[key] = index;
  std::erase_if(open_, [](const auto& entry) { return entry.second.expired(); });
  return index;
}

}  // namespace astfill::workspace
