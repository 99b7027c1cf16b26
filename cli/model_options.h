// Options every command that loads a model takes: --model (a path, or the
// name of a pulled model), --weights, --kv, --threads, --adapter.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/args.h"
#include "cli/model_name.h"
#include "engine/model.h"

namespace astfill::cli {

// --kv auto|bf16|int8|f32 into load.kv (also for `astfill serve`, which has
// options of its own).
inline void add_kv_option(ArgParser& p, engine::LoadOptions& load) {
  p.option("--kv", "auto|bf16|int8|f32",
           "the KV cache's type (default auto: with int8 weights int8 where the CPU has\n"
           "AVX512-VNNI, which decode multiplies in place, else bf16; f32 with f32 weights);\n"
           "bf16 takes half of f32's memory, int8 a quarter",
           [&load](const std::string& v) -> std::optional<std::string> {
             auto t = engine::parse_kv_type(v);
             if (!t) return "'" + v + "' is not auto, bf16, int8 or f32";
             load.kv = *t;
             return std::nullopt;
           });
}

// --adapter PATH[:SCALE], repeatable, into `specs` (checked as a spec here,
// a relative PATH made absolute against the current directory; the file is
// read when the model is).
inline void add_adapter_option(ArgParser& p, std::vector<std::string>& specs) {
  p.option("--adapter", "PATH[:SCALE]",
           "a LoRA adapter on the model (a PEFT directory or a GGUF adapter), its deltas\n"
           "times SCALE (default 1); repeat for several",
           [&specs](const std::string& v) -> std::optional<std::string> {
             try {
               engine::parse_adapter_spec(v);
             } catch (const std::invalid_argument& e) {
               return std::string(e.what());
             }
             std::error_code ec;
             const std::filesystem::path cwd = std::filesystem::current_path(ec);
             specs.push_back(ec ? v : engine::resolve_adapter_spec(v, cwd.string()));
             return std::nullopt;
           });
}

// The adapters `specs` name, read (throws engine::ModelError naming the file).
inline std::vector<engine::AdapterChoice> read_adapters(const std::vector<std::string>& specs) {
  std::vector<engine::AdapterChoice> out;
  for (const std::string& s : specs) {
    engine::AdapterSpec spec = engine::parse_adapter_spec(s);
    out.push_back({std::make_shared<const engine::LoraAdapter>(engine::read_lora_adapter(spec.path)), spec.scale,
                   spec.path});
  }
  return out;
}

struct ModelOptions {
  std::string model;
  engine::LoadOptions load;
  std::vector<std::string> adapters;  // --adapter, in order

  // Puts the --adapter adapters on `session` (none: leaves it). Throws
  // engine::ModelError for a file that is not an adapter or not for the model.
  void apply_adapters(engine::Session& session) const {
    if (!adapters.empty()) session.set_adapters(read_adapters(adapters));
  }

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
    add_adapter_option(p, adapters);
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
