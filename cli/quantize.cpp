// `astfill quantize IN OUT --type q8_0|f16|bf16|f32`: converts a GGUF file or a
// Hugging Face checkpoint directory into a GGUF file.
#include <chrono>
#include <cstdio>
#include <unistd.h>

#include "support/args.h"
#include "cli/commands.h"
#include "engine/errors.h"
#include "engine/model_export.h"

namespace astfill::cli {
using namespace astfill::engine;

int run_quantize(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  std::optional<GgmlType> type;
  bool quiet = false;
  ArgParser p("astfill quantize IN OUT",
              "Writes OUT, a GGUF file, from IN, a GGUF file or a Hugging Face checkpoint directory\n"
              "(config.json + *.safetensors + tokenizer.json): the way to convert a checkpoint\n"
              "without Python. 2-D weights take --type; norms and biases stay f32.");
  p.option("--type", "TYPE", "q8_0, f16, bf16 or f32 (required)",
           [&](const std::string& v) -> std::optional<std::string> {
             type = parse_type(v);
             if (!type || (*type != GgmlType::Q8_0 && *type != GgmlType::F16 &&
                           *type != GgmlType::BF16 && *type != GgmlType::F32))
               return "'" + v + "' is not one of q8_0, f16, bf16, f32";
             return std::nullopt;
           });
  p.flag("--quiet", "print only the summary", [&] { quiet = true; });
  p.positional("IN OUT", [&](const std::string& v) { paths.push_back(v); });
  if (auto err = p.parse(args)) {
    std::fprintf(stderr, "astfill quantize: %s\n", err->c_str());
    return 2;
  }
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (paths.size() != 2 || !type) {
    std::fprintf(stderr, "astfill quantize: expected IN OUT and --type (see --help)\n");
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  try {
    ModelFile model = ModelFile::open(paths[0]);
    size_t done = 0, total = model.tensors().size();
    bool tty = isatty(STDERR_FILENO);
    auto stats = quantize_model(model, paths[1], *type, [&](const ModelTensor& t, GgmlType target) {
      ++done;
      if (quiet) return;
      if (tty)
        std::fprintf(stderr, "\r[%zu/%zu] %-40s -> %-5s", done, total, t.name.c_str(), type_info(target).name);
      else
        std::fprintf(stderr, "[%zu/%zu] %s %s -> %s\n", done, total, t.name.c_str(), type_info(t.type).name,
                     type_info(target).name);
    });
    if (!quiet && tty) std::fprintf(stderr, "\n");
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("wrote %s: %zu tensors (%zu converted), %.1f MiB -> %.1f MiB in %.2f s\n", paths[1].c_str(),
                stats.tensors, stats.converted, stats.bytes_in / 1048576.0, stats.bytes_out / 1048576.0, secs);
  } catch (const ModelError& e) {
    std::fprintf(stderr, "astfill quantize: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace astfill::cli
