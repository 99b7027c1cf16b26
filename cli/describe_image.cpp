// `astfill describe-image --model VL --mmproj F IMAGE [--prompt ...]`: a
// Qwen2(.5)-VL model describes an image (vision/describe.h).
#include "cli/describe_image.h"

#include <cstdio>

#include "cli/commands.h"
#include "engine/errors.h"
#include "hub/model_cache.h"
#include "engine/model.h"
#include "vision/describe.h"

namespace astfill::cli {

int run_image(const ModelOptions& mo, const ImageRun& run) {
  try {
    // The image first: a bad file fails before seconds of model loading.
    const vision::Image image = vision::read_image(run.image);
    auto lm = engine::Model::open(mo.model, mo.load);
    vision::TowerOptions to;
    to.weights = run.vision_weights.value_or(mo.load.weights);
    // No --mmproj: the tower `astfill pull` put beside a pulled VL model, else
    // the --model checkpoint's own visual.* tensors.
    std::string tower_file = mo.model;
    if (run.mmproj) tower_file = *run.mmproj;
    else if (auto beside = hub::projector_file_for(mo.model)) tower_file = beside->string();
    const vision::VisionTower tower = vision::VisionTower::load(tower_file, to);
    vision::check_pair(*lm, mo.model, tower);
    vision::DescribeOptions o;
    o.prompt = run.prompt;
    o.chat = run.chat;
    o.max_tokens = run.max_tokens;
    o.max_image_tokens = run.max_image_tokens;
    o.sampling = run.sampling;
    engine::StreamDecoder out(lm->tokenizer());
    const auto stats = vision::describe_image(*lm, tower, image, o, [&](int32_t t) {
      const std::string piece = out.push(t);
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    const std::string rest = out.flush();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    std::printf("\n");
    if (run.json)
      std::printf("{\"image_grid\":[%lld,%lld],\"image_tokens\":%zu,\"prompt_tokens\":%zu,\"generated_tokens\":%zu,"
                  "\"encode_seconds\":%.3f,\"prefill_seconds\":%.3f,\"decode_seconds\":%.3f,"
                  "\"vision_weights\":\"%s\"}\n",
                  static_cast<long long>(stats.grid_h), static_cast<long long>(stats.grid_w), stats.image_tokens,
                  stats.prompt_tokens, stats.generated_tokens, stats.encode_seconds, stats.prefill_seconds,
                  stats.decode_seconds, to.weights == engine::WeightMode::Int8 ? "int8" : "f32");
  } catch (const vision::ImageError& e) {
    std::fprintf(stderr, "%s: %s\n", run.command, e.what());
    return 1;
  } catch (const engine::ModelError& e) {
    std::fprintf(stderr, "%s: %s\n", run.command, e.what());
    return 1;
  }
  return 0;
}

int run_describe_image(const std::vector<std::string>& args) {
  ModelOptions mo;
  ImageRun run;
  run.prompt = "Describe this image.";
  std::vector<std::string> images;
  ArgParser p("astfill describe-image",
              "A Qwen2-VL / Qwen2.5-VL model describes an image (PNG or JPEG). --model is the VL model's\n"
              "language model (GGUF, or a Hugging Face checkpoint that also holds the vision tower);\n"
              "--mmproj its vision tower (llama.cpp's mmproj GGUF; default: the one `astfill pull` put beside\n"
              "--model, e.g. for qwen2.5-vl-3b:q4_k_m, else the checkpoint's own).");
  mo.add_to(p);
  p.option("--mmproj", "F", "the vision tower: an mmproj GGUF, or a checkpoint with visual.* tensors",
           [&](const std::string& v) -> std::optional<std::string> { run.mmproj = v; return std::nullopt; });
  p.option("--prompt", "S", "what to ask about the image (default: \"Describe this image.\")",
           [&](const std::string& v) -> std::optional<std::string> { run.prompt = v; return std::nullopt; });
  p.option("-n", "N", "tokens to generate at most (default 256)", [&](const std::string& v) {
    unsigned long long n = 0;
    auto e = parse_uint(v, "token count", 1, 1u << 20, n);
    run.max_tokens = static_cast<int>(n);
    return e;
  });
  p.option("--max-image-tokens", "N",
           "the image's token budget: it is resized to at most N 28x28 units (default 256)",
           [&](const std::string& v) {
             unsigned long long n = 0;
             auto e = parse_uint(v, "token budget", 4, 16384, n);
             run.max_image_tokens = static_cast<long long>(n);
             return e;
           });
  p.option("--vision-weights", "W", "the tower's weights: int8 or f32 (default: as --weights)",
           [&](const std::string& v) -> std::optional<std::string> {
             if (v == "int8") run.vision_weights = engine::WeightMode::Int8;
             else if (v == "f32") run.vision_weights = engine::WeightMode::F32;
             else return "'" + v + "' is not int8 or f32";
             return std::nullopt;
           });
  p.option("--seed", "K", "random seed for sampling (default 0)", [&](const std::string& v) {
    unsigned long long s = 0;
    auto e = parse_uint(v, "seed", 0, ~0ull, s);
    run.sampling.seed = s;
    return e;
  });
  p.option("--temp", "T", "sampling temperature (default 0: greedy)", [&](const std::string& v) -> std::optional<std::string> {
    try {
      size_t used = 0;
      const double t = std::stod(v, &used);
      if (used != v.size() || t < 0 || t > 100) throw std::invalid_argument(v);
      run.sampling.temperature = static_cast<float>(t);
      return std::nullopt;
    } catch (const std::exception&) {
      return "'" + v + "' is not a temperature in [0, 100]";
    }
  });
  p.flag("--json", "after the text, print one JSON line of statistics", [&] { run.json = true; });
  p.positional("IMAGE", [&](const std::string& v) { images.push_back(v); });
  if (auto err = p.parse(args)) {
    std::fprintf(stderr, "astfill describe-image: %s\n", err->c_str());
    return 2;
  }
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (mo.model.empty() || images.size() != 1) {
    std::fprintf(stderr, "astfill describe-image: --model and one IMAGE are required (see --help)\n");
    return 2;
  }
  run.image = images[0];
  return run_image(mo, run);
}

}  // namespace astfill::cli
