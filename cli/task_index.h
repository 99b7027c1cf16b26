// What one `astfill batch` task's context sees of the project: the index of
// the files as on disk, with the task's own file replaced by the task's text.
//
// Tasks that run at once (--parallel) share the workspace's index; opening
// each task's text in it (as an editor opens a file) would let one running
// task's text of its file enter another task's cross-file context, where a
// sequential run sees the disk's. So no task's text enters the shared index:
// each task asks through a TaskIndex, which answers every question about its
// own file from its text (definitions, members, imports resolved against the
// files on disk) and leaves that file's disk version out of every answer.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "index/imports.h"
#include "index/symbol_index.h"

namespace astfill::cli {

// The files on disk, for resolving a task's imports as the index resolves
// the disk's (index/imports.h). Walked once per run.
class TaskFiles {
 public:
  TaskFiles(std::filesystem::path root, std::vector<std::string> include_dirs);
  const std::filesystem::path& root() const { return root_; }
  const index::ImportResolver& resolver() const { return *resolver_; }

 private:
  std::filesystem::path root_;
  index::WorkspaceFiles files_;
  std::unique_ptr<index::ImportResolver> resolver_;
};

class TaskIndex final : public index::SymbolIndex {
 public:
  // `disk`: the project's index with no task's text in it; `path`: the task's
  // file relative to the root; `language`: its languageId.
  TaskIndex(std::shared_ptr<const index::SymbolIndex> disk, std::shared_ptr<const TaskFiles> files, std::string path,
            std::string language, std::string_view text);

  std::vector<index::Symbol> definitions(std::string_view name, std::string_view current_file,
                                         size_t limit = 50) const override;
  std::vector<index::Symbol> members(std::string_view container, size_t limit = 200) const override;
  std::vector<index::Symbol> definitions_in(std::string_view file, size_t limit = 500) const override;
  std::vector<index::ResolvedImport> imports_of(std::string_view file) const override;
  std::vector<index::SimilarChunk> similar_chunks(std::string_view window, size_t k,
                                                  std::string_view exclude_file = {}) const override;
  std::vector<index::Symbol> symbols_with_prefix(std::string_view prefix, size_t limit = 100) const override;

 private:
  // `file` relative to the root ("" when outside it).
  std::string relative(std::string_view file) const;
  bool own(std::string_view file) const { return relative(file) == path_; }
  // How near `path` is to `current` (Symbol::proximity), with this task's imports for its own file.
  int proximity(const std::string& path, const std::string& current) const;

  std::shared_ptr<const index::SymbolIndex> disk_;
  std::shared_ptr<const TaskFiles> files_;
  std::string path_;
  std::vector<index::Symbol> symbols_;          // the task's text's definitions, by position
  std::vector<index::ResolvedImport> imports_;  // its imports, resolved against the files on disk
};

}  // namespace astfill::cli
