// The models directory (<cache>/astfill/models, where `astfill pull` puts
// files): what it holds, and finding a model in it by name, so that
// `--model qwen2.5-coder-1.5b:q8_0` works once the model has been pulled.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace astfill::hub {

// <cache_home>/astfill/models
std::filesystem::path models_dir(const std::filesystem::path& cache_home);

struct CachedModel {
  std::string name;  // the known model's name, else the file name without ".gguf"
  std::filesystem::path path;
  uint64_t bytes = 0;
  std::optional<std::filesystem::path> mmproj;  // its vision tower, pulled beside it
};

// The finished .gguf files in `dir` (not the .part files of downloads in
// progress), by name. A vision tower pulled with its model (NAME.mmproj.gguf)
// is listed as that model's `mmproj`, not as a model. An absent directory
// holds nothing.
std::vector<CachedModel> list_cached_models(const std::filesystem::path& dir);

// The file in `dir` that `name` means: a known model's cached file, or a file
// called `name` or `name`.gguf. nullopt when there is none, and for anything
// that looks like a path (it contains a '/').
std::optional<std::filesystem::path> find_cached_model(const std::filesystem::path& dir, std::string_view name);

// The vision tower pulled beside a model file: MODEL.mmproj.gguf next to
// MODEL.gguf (what `astfill pull` writes for a vision-language model), when
// it exists; nullopt otherwise.
std::optional<std::filesystem::path> projector_file_for(const std::filesystem::path& model);

}  // namespace astfill::hub
