// Writes a random-weight model for tests that drive the CLI:
//   write_random_model OUT.gguf [--arch qwen2|qwen3|qwen3moe] [--type f32|f16|q8_0] [--seed N]
#include <cstdio>
#include <string>

#include "engine/errors.h"
#include "engine/random_model.h"

int main(int argc, char** argv) {
  using namespace astfill::engine;
  if (argc < 2) {
    std::fprintf(stderr, "usage: write_random_model OUT.gguf [--arch A] [--type T] [--seed N]\n");
    return 2;
  }
  std::string out = argv[1], arch = "qwen2";
  GgmlType type = GgmlType::F32;
  uint32_t seed = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--arch") arch = value;
    else if (flag == "--type" && parse_type(value)) type = *parse_type(value);
    else if (flag == "--seed") seed = static_cast<uint32_t>(std::stoul(value));
    else {
      std::fprintf(stderr, "write_random_model: bad option %s %s\n", flag.c_str(), value.c_str());
      return 2;
    }
  }
  auto spec = tiny_spec(arch);
  spec.weight_type = type;
  spec.seed = seed;
  try {
    write_random_model(out, spec);
  } catch (const ModelError& e) {
    std::fprintf(stderr, "write_random_model: %s\n", e.what());
    return 1;
  }
  return 0;
}
