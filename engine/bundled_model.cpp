#include "engine/bundled_model.h"

#include <filesystem>
#include <system_error>
#include <vector>

namespace astfill::engine {
namespace fs = std::filesystem;

std::optional<std::string> bundled_model_path() {
  std::error_code ec;
  std::vector<fs::path> candidates;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path().parent_path() / "share" / "astfill" / "models" / kBundledModelFile);
#ifdef ASTFILL_SOURCE_DIR
  candidates.push_back(fs::path(ASTFILL_SOURCE_DIR) / "models" / kBundledModelFile);
#endif
  for (const auto& p : candidates)
    if (fs::is_regular_file(p, ec)) return fs::weakly_canonical(p, ec).string();
  return std::nullopt;
}

}  // namespace astfill::engine
