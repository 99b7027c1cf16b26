// A ModelRunner over a tiny random-weight qwen2 model written to a temporary
// directory (one thread, 512 tokens of context): decode()'s tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "../engine/temp_dir.h"
#include "completion/model_runner.h"
#include "tests/fixtures/random_model.h"

namespace astfill::testing {

struct TinyRunner {
  TempDir dir;
  std::unique_ptr<completion::ModelRunner> runner;
  TinyRunner() {
    auto spec = engine::tiny_spec("qwen2");
    engine::write_random_model(dir.file("m.gguf"), spec);
    completion::RunnerOptions options;
    options.model_path = dir.file("m.gguf");
    options.load.threads = 1;
    options.context_tokens = 512;
    runner = std::make_unique<completion::ModelRunner>(options);
  }
  std::vector<int32_t> encode(std::string_view text) { return runner->tokenizer().encode(text, false); }
};

}  // namespace astfill::testing
