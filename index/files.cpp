#include "index/files.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace astfill::index {

uint64_t content_hash(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

bool looks_binary(std::string_view text) {
  return text.substr(0, 8192).find('\0') != std::string_view::npos;
}

std::optional<std::string> normalize_relative(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(start, slash - start);
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = slash + 1;
  }
  std::string out;
  for (auto part : parts) {
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

std::optional<std::string> workspace_relative(const std::filesystem::path& root, std::string_view path) {
  if (path.empty()) return std::nullopt;
  std::optional<std::string> rel;
  if (path.front() == '/') {
    std::string base = root.lexically_normal().string();
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    auto normal = normalize_relative(path.substr(1));
    if (!normal) return std::nullopt;
    std::string full = "/" + *normal;
    if (base == "/") {
      rel = normal;
    } else {
      if (full.size() <= base.size() || full.compare(0, base.size(), base) != 0 || full[base.size()] != '/')
        return std::nullopt;
      rel = full.substr(base.size() + 1);
    }
  } else {
    rel = normalize_relative(path);
  }
  if (!rel || rel->empty()) return std::nullopt;
  return rel;
}

std::string_view parent_dir(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string join_path(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (name.empty()) return std::string(dir);
  std::string out;
  out.reserve(dir.size() + 1 + name.size());
  out.append(dir).append("/").append(name);
  return out;
}

std::filesystem::path cache_home() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/') return xdg;
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache";
  return std::filesystem::temp_directory_path();
}

std::filesystem::path default_database_path(const std::filesystem::path& root) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(content_hash(root.lexically_normal().string())));
  return cache_home() / "astfill" / "index" / (std::string(hex) + ".db");
}

}  // namespace astfill::index
