// `astfill generate`: stream a model's continuation of a prompt.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/describe_image.h"
#include "cli/model_options.h"
#include "engine/errors.h"
#include "engine/generate.h"
#include "support/files.h"
#include "support/openmp_env.h"

namespace astfill::cli {
using namespace astfill::engine;

int run_generate(const std::vector<std::string>& args) {
  ModelOptions mo;
  std::optional<std::string> prompt, prompt_file;
  unsigned long long n = 64;
  SamplingParams sp;
  bool json = false;
  ArgParser p("astfill generate", "Streams the model's continuation of a prompt to stdout.");
  mo.add_to(p);
  p.option("--prompt", "S", "the prompt (special-token text such as <|fim_prefix|> becomes its id)",
           [&](const std::string& v) -> std::optional<std::string> { prompt = v; return std::nullopt; });
  p.option("--prompt-file", "F", "read the prompt from F",
           [&](const std::string& v) -> std::optional<std::string> { prompt_file = v; return std::nullopt; });
  p.option("-n", "N", "tokens to generate (default 64)",
           [&](const std::string& v) { return parse_uint(v, "token count", 0, 1u << 20, n); });
  auto real = [](float& out, const char* what, double lo, double hi) {
    return [&out, what, lo, hi](const std::string& v) -> std::optional<std::string> {
      try {
        size_t used = 0;
        double d = std::stod(v, &used);
        if (used != v.size() || d < lo || d > hi) throw std::invalid_argument(v);
        out = static_cast<float>(d);
        return std::nullopt;
      } catch (const std::exception&) {
        return "'" + v + "' is not a " + what + " in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
      }
    };
  };
  p.option("--temp", "T", "sampling temperature (default 0: greedy)", real(sp.temperature, "temperature", 0, 100));
  p.option("--top-k", "K", "keep the K most likely tokens (default 0: off)",
           [&](const std::string& v) -> std::optional<std::string> {
             unsigned long long k = 0;
             if (auto e = parse_uint(v, "count", 0, 1u << 24, k)) return e;
             sp.top_k = static_cast<int>(k);
             return std::nullopt;
           });
  p.option("--top-p", "P", "nucleus sampling mass (default 1: off)", real(sp.top_p, "probability", 0, 1));
  p.option("--min-p", "P", "drop tokens below P x the best one's probability (default 0)", real(sp.min_p, "probability", 0, 1));
  p.option("--repeat-penalty", "R", "penalise recently seen tokens (default 1: off)", real(sp.repetition_penalty, "penalty", 0.01, 100));
  p.option("--seed", "K", "random seed (default 0)", [&](const std::string& v) -> std::optional<std::string> {
    unsigned long long s = 0;
    if (auto e = parse_uint(v, "seed", 0, ~0ull, s)) return e;
    sp.seed = s;
    return std::nullopt;
  });
  p.flag("--json", "after the text, print one JSON line of statistics", [&] { json = true; });
  // Images (issue 19): a Qwen2-VL model continues the image followed by the prompt.
  std::optional<std::string> image, mmproj;
  p.option("--image", "F", "an image (PNG or JPEG) before the prompt; needs a Qwen2-VL model (see describe-image)",
           [&](const std::string& v) -> std::optional<std::string> { image = v; return std::nullopt; });
  p.option("--mmproj", "F", "with --image: the vision tower (mmproj GGUF; default: the one pulled beside --model, else the checkpoint's)",
           [&](const std::string& v) -> std::optional<std::string> { mmproj = v; return std::nullopt; });
  if (auto err = p.parse(args)) {
    std::fprintf(stderr, "astfill generate: %s\n", err->c_str());
    return 2;
  }
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (mo.model.empty() || (!prompt && !prompt_file)) {
    std::fprintf(stderr, "astfill generate: --model and --prompt (or --prompt-file) are required\n");
    return 2;
  }
  if (prompt_file) {
    std::string text;
    if (auto e = support::read_text(*prompt_file, text)) {
      std::fprintf(stderr, "astfill generate: %s\n", e->c_str());
      return 1;
    }
    prompt = text;
  }
  if (image) {
    ImageRun run;
    run.command = "astfill generate";
    run.image = *image;
    run.prompt = *prompt;
    run.mmproj = mmproj;
    run.chat = false;
    run.max_tokens = static_cast<int>(n);
    run.sampling = sp;
    run.json = json;
    return run_image(mo, run);
  }
  try {
    auto t0 = std::chrono::steady_clock::now();
    auto model = Model::open(mo.model, mo.load);
    double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const Tokenizer& tok = model->tokenizer();
    auto ids = tok.encode(*prompt);
    if (ids.empty()) {
      std::fprintf(stderr, "astfill generate: the prompt is empty\n");
      return 2;
    }
    Session session(*model, ids.size() + n + 1);
    mo.apply_adapters(session);
    Sampler sampler(sp);
    GenerateOptions go;
    go.max_tokens = static_cast<int>(n);
    // Qwen's control tokens end a plain continuation (end of text, end of a
    // chat turn, the start of another FIM section or file).
    for (int32_t id = 0; id < static_cast<int32_t>(tok.vocab_size()); ++id)
      if (tok.is_special(id) && tok.token_text(id).rfind("<|", 0) == 0 && tok.token_text(id) != "<|fim_middle|>")
        go.stop_tokens.push_back(id);
    StreamDecoder out(tok);
    std::vector<int32_t> history;
    auto stats = generate(session, history, ids, go, sampler, [&](int32_t t, float) {
      // A stop token ends generation (generate() sees to that) and is not printed.
      if (std::find(go.stop_tokens.begin(), go.stop_tokens.end(), t) != go.stop_tokens.end()) return true;
      std::string piece = out.push(t);
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    std::string rest = out.flush();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    if (json) {
      std::printf("\n{\"prompt_tokens\":%zu,\"prefill_tokens_per_s\":%.2f,\"generated_tokens\":%zu,"
                  "\"decode_tokens_per_s\":%.2f,\"load_seconds\":%.3f,\"weights\":\"%s\",\"threads\":%d,"
                  "\"kv_cache_mb\":%.2f,\"kv\":\"%s\",\"omp_wait_policy\":\"%s\"}\n",
                  stats.prompt_tokens, stats.prefill_seconds > 0 ? stats.prompt_tokens / stats.prefill_seconds : 0.0,
                  stats.generated_tokens,
                  stats.decode_seconds > 0 && stats.generated_tokens > 1 ? (stats.generated_tokens - 1) / stats.decode_seconds : 0.0,
                  load_s, mo.load.weights == WeightMode::Int8 ? "int8" : "f32", model->threads(),
                  session.kv_bytes() / 1048576.0, kv_type_name(session.kv_type()),
                  astfill::support::openmp_wait_policy());
    } else {
      std::printf("\n");
    }
  } catch (const ModelError& e) {
    std::fprintf(stderr, "astfill generate: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace astfill::cli
