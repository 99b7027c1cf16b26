// The demo model that ships with astfill (models/astfill-demo-q8_0.gguf: a
// 6.8M-parameter Qwen3 trained on the Python standard library by
// tools/train/). It is what `astfill serve`, `complete` and `batch` run when
// no model is named, so a fresh checkout completes code with no download.
#pragma once

#include <optional>
#include <string>

namespace astfill::engine {

inline constexpr const char* kBundledModelFile = "astfill-demo-q8_0.gguf";

// Where the bundled model is, first found: next to an installed binary
// (<prefix>/share/astfill/models/), then the source tree the binary was built
// from (<source>/models/). nullopt when neither has it.
std::optional<std::string> bundled_model_path();

}  // namespace astfill::engine
