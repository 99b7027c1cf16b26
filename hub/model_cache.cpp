#include "hub/model_cache.h"

#include <algorithm>
#include <system_error>

#include "hub/catalog.h"

namespace astfill::hub {

namespace fs = std::filesystem;

namespace {

bool is_regular(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

constexpr std::string_view kProjectorSuffix = ".mmproj.gguf";

bool is_projector(const fs::path& p) { return p.filename().string().ends_with(kProjectorSuffix); }

}  // namespace

fs::path models_dir(const fs::path& cache_home) { return cache_home / "astfill" / "models"; }

std::vector<CachedModel> list_cached_models(const fs::path& dir) {
  std::vector<CachedModel> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() != ".gguf" || is_projector(p) || !is_regular(p)) continue;
    CachedModel m;
    m.path = p;
    m.mmproj = projector_file_for(p);
    m.name = p.stem().string();
    for (const auto& known : known_models())
      if (cached_file_name(known) == p.filename().string()) m.name = known.name;
    std::error_code size_ec;
    m.bytes = fs::file_size(p, size_ec);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const CachedModel& a, const CachedModel& b) { return a.name < b.name; });
  return out;
}

std::optional<fs::path> find_cached_model(const fs::path& dir, std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos || name == "." || name == "..") return std::nullopt;
  if (const KnownModel* known = find_known_model(name)) {
    fs::path p = dir / cached_file_name(*known);
    if (is_regular(p)) return p;
  }
  for (const fs::path& p : {dir / std::string(name), dir / (std::string(name) + ".gguf")})
    if (p.extension() == ".gguf" && is_regular(p)) return p;
  return std::nullopt;
}

std::optional<fs::path> projector_file_for(const fs::path& model) {
  if (model.extension() != ".gguf" || is_projector(model)) return std::nullopt;
  fs::path p = model;
  p.replace_extension();
  p += std::string(kProjectorSuffix);
  if (is_regular(p)) return p;
  return std::nullopt;
}

}  // namespace astfill::hub
