// Where an import lands in the workspace, per language, by looking at which
// files exist (never at the file system, except go.mod for a module's path).
//
//   python      "from . import x", "from ..a import b": relative to the
//               importing file's package; "a.b": a/b.py or a/b/__init__.py
//               under the importing file's package root (the parent of its
//               outermost package), then its own directory and each ancestor
//               up to the workspace root. "from M import n" lands on the
//               submodule M/n when there is one, else on M.
//   javascript, typescript (and their react variants)
//               relative specifiers only ("./x", "../x"): the exact file, then
//               x.ts, x.tsx, x.js, x.jsx, x.mjs, x.cjs, then x/index.* in the
//               same order; "./x.js" also finds x.ts (TypeScript's ESM
//               convention). Bare specifiers (packages) do not resolve.
//   c, cpp      quote includes relative to the including file, then each
//               configured include directory; angle includes only in those.
//   go          import paths under the module path of the nearest go.mod land
//               on the package's directory (and its first non-test .go file).
//   rust        "mod x;" (an import of one plain name): x.rs or x/mod.rs in the
//               file's module directory (next to lib.rs/main.rs/mod.rs, in
//               a/ for a.rs), then next to the file; "crate::a::b": from the
//               crate root directory (the nearest holding lib.rs or main.rs),
//               a.rs or a/mod.rs, then b inside it, as deep as files go;
//               "self::" and "super::" from the file's module directory.
//   java        "a.b.C" (and static "a.b.C.m"): a/b/C.java under any source
//               root, nearest to the importing file first; "a.b.*": the
//               package directory.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "parsing/symbols.h"

namespace astfill::index {

// The workspace's indexable files, by path relative to the root. Thread-safe.
class WorkspaceFiles {
 public:
  void add(const std::string& path);
  void remove(const std::string& path);
  void clear();
  bool contains(std::string_view path) const;
  // Every path whose last component is `name`, sorted.
  std::vector<std::string> named(std::string_view name) const;
  // The files directly in `dir`, sorted.
  std::vector<std::string> in_directory(std::string_view dir) const;
  // Directories that hold files and are `suffix` or end with "/" + suffix.
  std::vector<std::string> directories_ending_with(std::string_view suffix) const;
  size_t size() const;
  std::vector<std::string> all() const;

 private:
  mutable std::shared_mutex mu_;
  std::set<std::string, std::less<>> paths_;
  std::map<std::string, std::set<std::string>, std::less<>> by_name_;
  std::map<std::string, std::set<std::string>, std::less<>> by_dir_;
};

struct ImportTarget {
  std::string path;           // the file, or for a package import the directory
  bool is_directory = false;
  std::string file;           // the file to link: `path`, or a file of the package
};

class ImportResolver {
 public:
  // `include_dirs`: C/C++ include directories, relative to the root ("" or
  // "." for the root itself) or absolute within it (others are left out).
  ImportResolver(std::filesystem::path root, const WorkspaceFiles& files, std::vector<std::string> include_dirs);

  // `importer`: the importing file's path relative to the root; `language`:
  // its LSP languageId. Thread-safe.
  std::optional<ImportTarget> resolve(std::string_view language, std::string_view importer,
                                      const parsing::Import& import) const;

  // Forgets what it read from go.mod files (one of them changed).
  void forget_module_files();

 private:
  std::optional<ImportTarget> python(std::string_view importer, const parsing::Import& import) const;
  std::optional<ImportTarget> script(std::string_view importer, const parsing::Import& import) const;
  std::optional<ImportTarget> c_include(std::string_view importer, const parsing::Import& import) const;
  std::optional<ImportTarget> go(std::string_view importer, const parsing::Import& import) const;
  std::optional<ImportTarget> rust(std::string_view importer, const parsing::Import& import) const;
  std::optional<ImportTarget> java(std::string_view importer, const parsing::Import& import) const;

  std::optional<ImportTarget> python_module(const std::string& base, std::string_view dotted,
                                            const std::vector<std::string>& names) const;
  std::optional<ImportTarget> package_directory(const std::string& dir, std::string_view extension) const;
  std::optional<std::string> go_module_path(const std::string& dir) const;

  std::filesystem::path root_;
  const WorkspaceFiles& files_;
  std::vector<std::string> include_dirs_;
  mutable std::mutex go_mu_;
  mutable std::unordered_map<std::string, std::optional<std::string>> go_modules_;  // dir -> module path
};

}  // namespace astfill::index
