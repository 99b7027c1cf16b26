#include "index/imports.h"

#include <algorithm>

#include "index/files.h"
#include "support/files.h"

namespace astfill::index {

// ---- WorkspaceFiles -----------------------------------------------------------

void WorkspaceFiles::add(const std::string& path) {
  std::unique_lock lock(mu_);
  if (!paths_.insert(path).second) return;
  by_name_[std::string(base_name(path))].insert(path);
  by_dir_[std::string(parent_dir(path))].insert(path);
}

void WorkspaceFiles::remove(const std::string& path) {
  std::unique_lock lock(mu_);
  if (!paths_.erase(path)) return;
  auto drop = [&](auto& map, std::string_view key) {
    auto it = map.find(key);
    if (it == map.end()) return;
    it->second.erase(path);
    if (it->second.empty()) map.erase(it);
  };
  drop(by_name_, base_name(path));
  drop(by_dir_, parent_dir(path));
}

void WorkspaceFiles::clear() {
  std::unique_lock lock(mu_);
  paths_.clear();
  by_name_.clear();
  by_dir_.clear();
}

bool WorkspaceFiles::contains(std::string_view path) const {
  std::shared_lock lock(mu_);
  return paths_.find(path) != paths_.end();
}

std::vector<std::string> WorkspaceFiles::named(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<std::string> WorkspaceFiles::in_directory(std::string_view dir) const {
  std::shared_lock lock(mu_);
  auto it = by_dir_.find(dir);
  if (it == by_dir_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<std::string> WorkspaceFiles::directories_ending_with(std::string_view suffix) const {
  std::shared_lock lock(mu_);
  std::vector<std::string> dirs;
  for (const auto& [dir, _] : by_dir_) {
    std::string_view d = dir;
    if (d == suffix || (d.size() > suffix.size() && d.ends_with(suffix) && d[d.size() - suffix.size() - 1] == '/'))
      dirs.push_back(dir);
  }
  return dirs;
}

size_t WorkspaceFiles::size() const {
  std::shared_lock lock(mu_);
  return paths_.size();
}

std::vector<std::string> WorkspaceFiles::all() const {
  std::shared_lock lock(mu_);
  return {paths_.begin(), paths_.end()};
}

// ---- ImportResolver -------------------------------------------------------------

namespace {

std::vector<std::string_view> split(std::string_view text, std::string_view separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t at = text.find(separator, start);
    parts.push_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + separator.size();
  }
}

std::string joined(const std::vector<std::string_view>& parts, size_t count, char separator) {
  std::string out;
  for (size_t i = 0; i < count && i < parts.size(); ++i) {
    if (i) out += separator;
    out += parts[i];
  }
  return out;
}

size_t common_prefix(std::string_view a, std::string_view b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

// The one name of "from M import n" / "use a::{n}", when there is exactly one.
std::optional<std::string_view> single_name(const parsing::Import& import) {
  if (import.names.size() != 1 || import.names[0] == "*" || import.names[0].empty()) return std::nullopt;
  return std::string_view(import.names[0]);
}

bool is_script_language(std::string_view language) {
  return language == "javascript" || language == "javascriptreact" || language == "typescript" ||
         language == "typescriptreact";
}

}  // namespace

ImportResolver::ImportResolver(std::filesystem::path root, const WorkspaceFiles& files,
                               std::vector<std::string> include_dirs)
    : root_(std::move(root)), files_(files) {
  for (auto& dir : include_dirs) {
    if (dir.empty() || dir == ".") {
      include_dirs_.push_back("");
      continue;
    }
    // Absolute directories count when they lie in the workspace.
    auto rel = dir.front() == '/' ? workspace_relative(root_, dir) : normalize_relative(dir);
    if (rel) include_dirs_.push_back(*rel);
  }
}

std::optional<ImportTarget> ImportResolver::resolve(std::string_view language, std::string_view importer,
                                                    const parsing::Import& import) const {
  if (import.module.empty() && import.names.empty()) return std::nullopt;
  if (language == "python") return python(importer, import);
  if (is_script_language(language)) return script(importer, import);
  if (language == "c" || language == "cpp") return c_include(importer, import);
  if (language == "go") return go(importer, import);
  if (language == "rust") return rust(importer, import);
  if (language == "java") return java(importer, import);
  return std::nullopt;
}

namespace {

std::optional<ImportTarget> existing_file(const WorkspaceFiles& files, const std::string& path) {
  if (!files.contains(path)) return std::nullopt;
  return ImportTarget{path, false, path};
}

// "a/b" as a Python module: a/b.py, or the package a/b/__init__.py.
std::optional<ImportTarget> python_file(const WorkspaceFiles& files, const std::string& path) {
  if (path.empty()) return existing_file(files, "__init__.py");
  if (auto t = existing_file(files, path + ".py")) return t;
  return existing_file(files, path + "/__init__.py");
}

}  // namespace

std::optional<ImportTarget> ImportResolver::python_module(const std::string& base, std::string_view dotted,
                                                          const std::vector<std::string>& names) const {
  std::string path = base;
  if (!dotted.empty()) {
    for (auto part : split(dotted, ".")) {
      if (part.empty()) return std::nullopt;
      path = join_path(path, part);
    }
  }
  parsing::Import probe;
  probe.names = names;
  if (auto name = single_name(probe))
    if (auto submodule = python_file(files_, join_path(path, *name))) return submodule;
  return python_file(files_, path);
}

std::optional<ImportTarget> ImportResolver::python(std::string_view importer, const parsing::Import& import) const {
  std::string_view module = import.module;
  size_t dots = module.find_first_not_of('.');
  if (dots == std::string_view::npos) dots = module.size();
  if (dots > 0) {
    // One dot is the importing file's package; each further dot climbs one up.
    std::string base(parent_dir(importer));
    for (size_t i = 1; i < dots; ++i) {
      if (base.empty()) return std::nullopt;
      base = std::string(parent_dir(base));
    }
    return python_module(base, module.substr(dots), import.names);
  }
  std::string dir(parent_dir(importer));
  std::string top = dir;
  while (!top.empty() && files_.contains(join_path(top, "__init__.py"))) top = std::string(parent_dir(top));
  std::vector<std::string> roots{top};
  for (std::string d = dir;; d = std::string(parent_dir(d))) {
    if (std::find(roots.begin(), roots.end(), d) == roots.end()) roots.push_back(d);
    if (d.empty()) break;
  }
  for (const auto& root : roots)
    if (auto target = python_module(root, module, import.names)) return target;
  return std::nullopt;
}

std::optional<ImportTarget> ImportResolver::script(std::string_view importer, const parsing::Import& import) const {
  std::string_view spec = import.module;
  if (!spec.starts_with("./") && !spec.starts_with("../") && spec != "." && spec != "..") return std::nullopt;
  auto base = normalize_relative(join_path(parent_dir(importer), spec));
  if (!base) return std::nullopt;
  static const char* const extensions[] = {".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs"};
  if (!base->empty())
    if (auto t = existing_file(files_, *base)) return t;
  for (const char* ext : extensions)
    if (auto t = existing_file(files_, *base + ext)) return t;
  for (const char* ext : extensions)
    if (auto t = existing_file(files_, join_path(*base, std::string("index") + ext))) return t;
  // TypeScript's ESM style names the output: "./x.js" means x.ts.
  for (std::string_view js : {".js", ".jsx", ".mjs", ".cjs"}) {
    if (!std::string_view(*base).ends_with(js)) continue;
    std::string stem = base->substr(0, base->size() - js.size());
    for (const char* ts : {".ts", ".tsx", ".mts", ".cts"})
      if (auto t = existing_file(files_, stem + ts)) return t;
  }
  return std::nullopt;
}

std::optional<ImportTarget> ImportResolver::c_include(std::string_view importer, const parsing::Import& import) const {
  if (import.relative)
    if (auto path = normalize_relative(join_path(parent_dir(importer), import.module)))
      if (auto t = existing_file(files_, *path)) return t;
  for (const auto& dir : include_dirs_)
    if (auto path = normalize_relative(join_path(dir, import.module)))
      if (auto t = existing_file(files_, *path)) return t;
  return std::nullopt;
}

std::optional<ImportTarget> ImportResolver::package_directory(const std::string& dir,
                                                              std::string_view extension) const {
  std::string first, first_test;
  for (const auto& file : files_.in_directory(dir)) {
    std::string_view name = base_name(file);
    if (!name.ends_with(extension)) continue;
    bool test = name.ends_with("_test.go");
    if (!test && first.empty()) first = file;
    if (test && first_test.empty()) first_test = file;
  }
  if (first.empty()) first = first_test;
  if (first.empty()) return std::nullopt;
  return ImportTarget{dir, true, first};
}

std::optional<std::string> ImportResolver::go_module_path(const std::string& dir) const {
  {
    std::lock_guard lock(go_mu_);
    if (auto it = go_modules_.find(dir); it != go_modules_.end()) return it->second;
  }
  std::optional<std::string> module;
  support::FileContent content = support::read_file(root_ / join_path(dir, "go.mod"), 1 << 20);
  if (content.error.empty()) {
    for (auto line : split(content.text, "\n")) {
      size_t start = line.find_first_not_of(" \t");
      if (start == std::string_view::npos || !line.substr(start).starts_with("module")) continue;
      std::string_view rest = line.substr(start + 6);
      if (rest.empty() || (rest[0] != ' ' && rest[0] != '\t')) continue;
      rest = rest.substr(0, rest.find("//"));
      size_t b = rest.find_first_not_of(" \t\"`"), e = rest.find_last_not_of(" \t\r\"`");
      if (b != std::string_view::npos) module = std::string(rest.substr(b, e - b + 1));
      break;
    }
  }
  std::lock_guard lock(go_mu_);
  go_modules_[dir] = module;
  return module;
}

void ImportResolver::forget_module_files() {
  std::lock_guard lock(go_mu_);
  go_modules_.clear();
}

std::optional<ImportTarget> ImportResolver::go(std::string_view importer, const parsing::Import& import) const {
  std::string_view path = import.module;
  if (path.starts_with("./") || path.starts_with("../")) {
    auto dir = normalize_relative(join_path(parent_dir(importer), path));
    return dir ? package_directory(*dir, ".go") : std::nullopt;
  }
  for (std::string dir(parent_dir(importer));; dir = std::string(parent_dir(dir))) {
    if (auto module = go_module_path(dir)) {
      if (path == *module) return package_directory(dir, ".go");
      if (path.starts_with(*module + "/"))
        if (auto sub = normalize_relative(path.substr(module->size() + 1)))
          return package_directory(join_path(dir, *sub), ".go");
      return std::nullopt;  // the nearest go.mod decides: another module's package
    }
    if (dir.empty()) return std::nullopt;
  }
}

namespace {

// The directory holding a Rust file's child modules: next to lib.rs, main.rs
// and mod.rs; in a/ for a.rs.
std::string rust_module_dir(std::string_view file) {
  std::string_view name = base_name(file);
  if (name == "lib.rs" || name == "main.rs" || name == "mod.rs") return std::string(parent_dir(file));
  std::string_view stem = file.substr(0, file.size() - (name.ends_with(".rs") ? 3 : 0));
  return std::string(stem);
}

std::optional<ImportTarget> rust_file(const WorkspaceFiles& files, const std::string& dir, std::string_view name) {
  if (auto t = existing_file(files, join_path(dir, std::string(name) + ".rs"))) return t;
  return existing_file(files, join_path(join_path(dir, name), "mod.rs"));
}

// Follows `segments` from `dir` as deep as module files exist.
std::optional<ImportTarget> rust_path(const WorkspaceFiles& files, std::string dir,
                                      const std::vector<std::string_view>& segments) {
  std::optional<ImportTarget> best;
  for (auto segment : segments) {
    auto file = rust_file(files, dir, segment);
    if (!file) break;
    best = file;
    dir = join_path(dir, segment);
  }
  return best;
}

}  // namespace

std::optional<ImportTarget> ImportResolver::rust(std::string_view importer, const parsing::Import& import) const {
  auto segments = split(import.module, "::");
  if (auto name = single_name(import)) segments.push_back(*name);
  std::erase_if(segments, [](std::string_view s) { return s.empty(); });
  if (segments.empty()) return std::nullopt;
  std::string module_dir = rust_module_dir(importer);
  if (segments.front() == "crate") {
    std::string crate_dir(parent_dir(importer));
    while (!files_.contains(join_path(crate_dir, "lib.rs")) && !files_.contains(join_path(crate_dir, "main.rs"))) {
      if (crate_dir.empty()) return std::nullopt;
      crate_dir = std::string(parent_dir(crate_dir));
    }
    return rust_path(files_, crate_dir, {segments.begin() + 1, segments.end()});
  }
  size_t skip = 0;
  std::string dir = module_dir;
  if (segments.front() == "self") skip = 1;
  while (skip < segments.size() && segments[skip] == "super") {
    // The parent module's directory is one up from this module's.
    dir = std::string(parent_dir(dir));
    ++skip;
  }
  std::vector<std::string_view> rest(segments.begin() + static_cast<long>(skip), segments.end());
  if (auto t = rust_path(files_, dir, rest)) return t;
  // "mod x;" in a file that is not a module root, written the 2015 way.
  if (skip == 0) return rust_path(files_, std::string(parent_dir(importer)), rest);
  return std::nullopt;
}

std::optional<ImportTarget> ImportResolver::java(std::string_view importer, const parsing::Import& import) const {
  std::string dotted = import.module;
  bool wildcard = false;
  if (dotted.ends_with(".*")) dotted.resize(dotted.size() - 2), wildcard = true;
  if (!import.names.empty() && import.names[0] == "*") wildcard = true;
  else if (auto name = single_name(import)) dotted.append(".").append(*name);
  auto parts = split(dotted, ".");
  if (std::any_of(parts.begin(), parts.end(), [](std::string_view p) { return p.empty(); })) return std::nullopt;
  auto nearest = [&](std::vector<std::string> candidates) {
    std::stable_sort(candidates.begin(), candidates.end(), [&](const std::string& a, const std::string& b) {
      return common_prefix(a, importer) > common_prefix(b, importer);
    });
    return candidates;
  };
  if (wildcard) {
    for (const auto& dir : nearest(files_.directories_ending_with(joined(parts, parts.size(), '/'))))
      if (auto t = package_directory(dir, ".java")) return t;
    return std::nullopt;
  }
  // a.b.C.m (a static import) is a/b/C.java: try the longest class path first.
  for (size_t n = parts.size(); n >= 1; --n) {
    std::string rel = joined(parts, n, '/') + ".java";
    std::vector<std::string> matches;
    for (auto& file : files_.named(std::string(parts[n - 1]) + ".java"))
      if (file == rel || std::string_view(file).ends_with("/" + rel)) matches.push_back(file);
    if (!matches.empty()) return existing_file(files_, nearest(matches).front());
  }
  return std::nullopt;
}

}  // namespace astfill::index
