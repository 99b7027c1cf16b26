// Writes a random-weight model for tests that drive the CLI (see usage below).
// Anything that starts with '-' is an option: an unknown one is an error, never
// the name of the file to write.
#include <cstdio>
#include <optional>
#include <string>

#include "engine/errors.h"
#include "tests/fixtures/random_model.h"

namespace {

constexpr const char* kUsage =
    "usage: write_random_model OUT.gguf [--arch qwen2|qwen3|qwen3moe] [--type f32|f16|q8_0] [--seed N]\n"
    "\n"
    "Writes a tiny model of the given architecture with random weights (the fixture\n"
    "of the CLI, LSP and editor tests) to OUT.gguf.\n"
    "\n"
    "  --arch A    architecture (default qwen2)\n"
    "  --type T    type of the 2-D weights (default f32)\n"
    "  --seed N    seed of the weights (default 1)\n"
    "  -h, --help  print this and exit\n"
    "  --          the next argument is OUT.gguf even if it starts with '-'\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "write_random_model: %s\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace astfill::engine;
  std::optional<std::string> out;
  std::string arch = "qwen2";
  GgmlType type = GgmlType::F32;
  uint32_t seed = 1;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!options_done && arg == "--") {
      options_done = true;
      continue;
    }
    if (options_done || arg.empty() || arg[0] != '-') {
      if (out) return usage_error("more than one output file ('" + *out + "', '" + arg + "')");
      out = arg;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg != "--arch" && arg != "--type" && arg != "--seed") return usage_error("unknown option " + arg);
    if (i + 1 >= argc) return usage_error(arg + " needs a value");
    std::string value = argv[++i];
    if (arg == "--arch") {
      if (value != "qwen2" && value != "qwen3" && value != "qwen3moe")
        return usage_error("--arch " + value + ": not qwen2, qwen3 or qwen3moe");
      arch = value;
    } else if (arg == "--type") {
      auto parsed = parse_type(value);
      if (!parsed) return usage_error("--type " + value + ": not a weight type");
      type = *parsed;
    } else {
      size_t used = 0;
      unsigned long n = 0;
      try {
        n = std::stoul(value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != value.size() || n > 0xffffffffUL)
        return usage_error("--seed " + value + ": not a number from 0 to 4294967295");
      seed = static_cast<uint32_t>(n);
    }
  }
  if (!out) return usage_error("no output file");
  try {
    auto spec = tiny_spec(arch);
    spec.weight_type = type;
    spec.seed = seed;
    write_random_model(*out, spec);
  } catch (const ModelError& e) {
    std::fprintf(stderr, "write_random_model: %s\n", e.what());
    return 1;
  }
  return 0;
}
