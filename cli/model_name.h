// What `--model` means when it is not a file: the name of a model that
// `astfill pull` put in the models directory (a known name such as
// qwen2.5-coder-1.5b:q8_0, or the file name of one pulled by URL).
#pragma once

#include <filesystem>
#include <string>

namespace astfill::cli {

// The default models directory: <cache>/astfill/models.
std::filesystem::path default_models_dir();

// `argument` itself when it names an existing file or directory; otherwise
// the cached model of that name when there is one; otherwise `argument`
// unchanged (so that opening it reports it as missing).
std::string resolve_model_argument(const std::string& argument);

}  // namespace astfill::cli
