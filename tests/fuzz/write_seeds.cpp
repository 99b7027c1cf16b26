// Writes the model harnesses' seed inputs (tests/fuzz/corpus/{gguf,
// safetensors,hf_config,tokenizer_json}) from the smallest valid random
// model: `write_seeds <corpus dir>`. The committed seeds were written by it.
#include <cstdio>
#include <filesystem>
#include <string>

#include "engine/gguf.h"
#include "engine/model_file.h"
#include "tests/fuzz/seed_model.h"

using namespace astfill::engine;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_seeds <corpus dir>\n");
    return 2;
  }
  const fs::path out = argv[1];
  for (const char* d : {"gguf", "safetensors", "hf_config", "tokenizer_json"}) fs::create_directories(out / d);
  auto spec = astfill::fuzz::seed_spec();
  write_random_model((out / "gguf" / "qwen2-tiny.gguf").string(), spec);
  auto moe = spec;
  moe.hp.arch = "qwen3";
  write_random_model((out / "gguf" / "qwen3-tiny.gguf").string(), moe);
  GgufFile g = GgufFile::open((out / "gguf" / "qwen2-tiny.gguf").string());
  astfill::fuzz::write_text((out / "safetensors" / "qwen2-tiny.safetensors").string(), astfill::fuzz::safetensors_bytes(g));
  astfill::fuzz::write_text((out / "hf_config" / "config.json").string(), astfill::fuzz::config_json_text(spec.hp));
  astfill::fuzz::write_text((out / "tokenizer_json" / "tokenizer.json").string(),
                            astfill::fuzz::tokenizer_json_text(tokenizer_from_gguf(g)));
  return 0;
}
