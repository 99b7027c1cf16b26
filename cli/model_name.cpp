#include "cli/model_name.h"

#include <system_error>

#include "hub/model_cache.h"
#include "index/files.h"

namespace astfill::cli {

std::filesystem::path default_models_dir() { return hub::models_dir(index::cache_home()); }

std::string resolve_model_argument(const std::string& argument) {
  std::error_code ec;
  if (std::filesystem::exists(argument, ec)) return argument;
  if (auto cached = hub::find_cached_model(default_models_dir(), argument)) return cached->string();
  return argument;
}

}  // namespace astfill::cli
