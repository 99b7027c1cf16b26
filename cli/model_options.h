// Options every command that loads a model takes: --model (a path, or the
// name of a pulled model), --weights, --kv, --threads.
#pragma once

#include <optional>
#include <string>

#include "support/args.h"
#include "cli/model_name.h"
#include "engine/model.h"

namespace astfill::cli {

// --kv auto|bf16|int8|f32 into load.kv (also for `astfill serve`, which has
// options of its own).
inline void add_kv_option(ArgParser& p, engine::LoadOptions& load) {
  p.option("--kv", "auto|bf16|int8|f32",
           "the KV cache's type (default auto: bf16 with int8 weights, f32 with f32\n"
           "weights); bf16 takes half of f32's memory, int8 a quarter",
           [&load](const std::string& v) -> std::optional<std::string> {
             auto t = engine::parse_kv_type(v);
             if (!t) return "'" + v + "' is not auto, bf16, int8 or f32";
             load.kv = *t;
             return std::nullopt;
           });
}

struct ModelOptions {
  std::string model;
  engine::LoadOptions load;

  void add_to(ArgParser& p) {
    p.option("--model", "M",
             "a GGUF file, a Hugging Face checkpoint directory, or the name of a model\n"
             "`astfill pull` downloaded",
             [this](const std::string& v) -> std::optional<std::string> {
               model = resolve_model_argument(v);
               return std::nullopt;
             });
    p.option("--weights", "int8|f32", "how weights are held and multiplied (default int8)",
             [this](const std::string& v) -> std::optional<std::string> {
               if (v == "int8") load.weights = engine::WeightMode::Int8;
               else if (v == "f32") load.weights = engine::WeightMode::F32;
               else return "'" + v + "' is not int8 or f32";
               return std::nullopt;
             });
    add_kv_option(p, load);
    p.option("--threads", "N", "threads for the kernels (default: all cores)",
             [this](const std::string& v) -> std::optional<std::string> {
               unsigned long long n = 0;
               if (auto e = parse_uint(v, "thread count", 1, 256, n)) return e;
               load.threads = static_cast<int>(n);
               return std::nullopt;
             });
  }
};

}  // namespace astfill::cli
