#include "cli/task_index.h"

#include <algorithm>
#include <tuple>

#include "index/files.h"
#include "index/parsed.h"
#include "index/walk.h"

namespace astfill::cli {

TaskFiles::TaskFiles(std::filesystem::path root, std::vector<std::string> include_dirs) : root_(std::move(root)) {
  for (const index::WalkedFile& f : index::walk_workspace(root_, {}).files) files_.add(f.path);
  resolver_ = std::make_unique<index::ImportResolver>(root_, files_, std::move(include_dirs));
}

TaskIndex::TaskIndex(std::shared_ptr<const index::SymbolIndex> disk, std::shared_ptr<const TaskFiles> files,
                     std::string path, std::string language, std::string_view text)
    : disk_(std::move(disk)), files_(std::move(files)), path_(std::move(path)) {
  parsing::FileSymbols parsed = index::tree_sitter_extractor()(language, text);
  for (parsing::Definition& d : parsed.definitions)
    symbols_.push_back(index::Symbol{std::move(d.name), d.kind, std::move(d.signature), std::move(d.doc),
                                     std::move(d.container), path_, d.range, d.name_range, 0});
  std::stable_sort(symbols_.begin(), symbols_.end(),
                   [](const index::Symbol& a, const index::Symbol& b) { return a.range.start_byte < b.range.start_byte; });
  for (const parsing::Import& i : parsed.imports) {
    index::ResolvedImport r{i.module, i.names, i.relative, i.range, std::nullopt, false};
    if (auto target = files_->resolver().resolve(language, path_, i)) {
      r.resolved_path = target->path;
      r.resolved_is_directory = target->is_directory;
    }
    imports_.push_back(std::move(r));
  }
}

std::string TaskIndex::relative(std::string_view file) const {
  return index::workspace_relative(files_->root(), file).value_or("");
}

int TaskIndex::proximity(const std::string& path, const std::string& current) const {
  if (path == current) return 0;
  const std::vector<index::ResolvedImport> imports = current == path_ ? imports_ : disk_->imports_of(current);
  for (const index::ResolvedImport& i : imports)
    if (i.resolved_path && (*i.resolved_path == path || (i.resolved_is_directory && index::parent_dir(path) == *i.resolved_path)))
      return 1;
  return index::parent_dir(path) == index::parent_dir(current) ? 2 : 3;
}

namespace {

// By path, then position.
bool by_place(const index::Symbol& a, const index::Symbol& b) {
  return std::tie(a.path, a.range.start_byte) < std::tie(b.path, b.range.start_byte);
}

void cap(std::vector<index::Symbol>& v, size_t limit) {
  if (v.size() > limit) v.resize(limit);
}

}  // namespace

std::vector<index::Symbol> TaskIndex::definitions(std::string_view name, std::string_view current_file,
                                                  size_t limit) const {
  const std::string current = relative(current_file);
  std::vector<index::Symbol> out;
  for (const index::Symbol& s : symbols_)
    if (s.name == name) out.push_back(s);
  // The disk's answer ranks by the disk's version of this task's file (its
  // imports): ranked again here, with the task's own.
  for (index::Symbol& s : disk_->definitions(name, current_file, limit + out.size()))
    if (s.path != path_) out.push_back(std::move(s));
  for (index::Symbol& s : out) s.proximity = proximity(s.path, current);
  std::stable_sort(out.begin(), out.end(), [](const index::Symbol& a, const index::Symbol& b) {
    return std::tie(a.proximity, a.path, a.range.start_byte) < std::tie(b.proximity, b.path, b.range.start_byte);
  });
  cap(out, limit);
  return out;
}

std::vector<index::Symbol> TaskIndex::members(std::string_view container, size_t limit) const {
  std::vector<index::Symbol> out;
  for (index::Symbol& s : disk_->members(container, limit))
    if (s.path != path_) out.push_back(std::move(s));
  for (const index::Symbol& s : symbols_)
    if (s.container == container) out.push_back(s);
  std::stable_sort(out.begin(), out.end(), by_place);
  cap(out, limit);
  return out;
}

std::vector<index::Symbol> TaskIndex::definitions_in(std::string_view file, size_t limit) const {
  const std::string rel = relative(file);
  std::vector<index::Symbol> out;
  if (rel == path_) {
    out = symbols_;
  } else {
    for (index::Symbol& s : disk_->definitions_in(file, limit))
      if (s.path != path_) out.push_back(std::move(s));
    // A package directory (Go) that holds this task's file.
    if (!rel.empty() && index::parent_dir(path_) == rel) {
      out.insert(out.end(), symbols_.begin(), symbols_.end());
      std::stable_sort(out.begin(), out.end(), by_place);
    }
  }
  cap(out, limit);
  return out;
}

std::vector<index::ResolvedImport> TaskIndex::imports_of(std::string_view file) const {
  return own(file) ? imports_ : disk_->imports_of(file);
}

std::vector<index::SimilarChunk> TaskIndex::similar_chunks(std::string_view window, size_t k,
                                                           std::string_view exclude_file) const {
  // This task's file is never offered as similar code (completion leaves it
  // out: its text is the prompt's own), so only other files' chunks are asked for.
  std::vector<index::SimilarChunk> out = disk_->similar_chunks(window, k + (own(exclude_file) ? 0 : k), exclude_file);
  std::erase_if(out, [&](const index::SimilarChunk& c) { return c.path == path_; });
  if (out.size() > k) out.resize(k);
  return out;
}

std::vector<index::Symbol> TaskIndex::symbols_with_prefix(std::string_view prefix, size_t limit) const {
  std::vector<index::Symbol> out;
  for (index::Symbol& s : disk_->symbols_with_prefix(prefix, limit))
    if (s.path != path_) out.push_back(std::move(s));
  for (const index::Symbol& s : symbols_)
    if (std::string_view(s.name).starts_with(prefix)) out.push_back(s);
  std::stable_sort(out.begin(), out.end(), [](const index::Symbol& a, const index::Symbol& b) { return a.name < b.name; });
  cap(out, limit);
  return out;
}

}  // namespace astfill::cli
