// `astfill tune`: fine-tunes a LoRA adapter on a repository's own code on the
// CPU (train/tune.h), with a progress line on stderr; Ctrl-C saves a
// checkpoint that the same command resumes from.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "cli/commands.h"
#include "cli/model_name.h"
#include "cli/progress_bar.h"
#include "engine/bundled_model.h"
#include "engine/errors.h"
#include "support/args.h"
#include "support/log.h"
#include "support/signals.h"
#include "train/tune.h"

namespace astfill::cli {

namespace {


int fail(const std::string& msg, int code) {
  std::fprintf(stderr, "astfill tune: %s\n", msg.c_str());
  return code;
}

std::string duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s / 60 % 60);
  else std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  return buf;
}

std::optional<std::string> parse_number(const std::string& v, const char* what, double lo, double& out) {
  try {
    size_t used = 0;
    out = std::stod(v, &used);
    if (used == v.size() && std::isfinite(out) && out > lo) return std::nullopt;
  } catch (const std::exception&) {
  }
  return "'" + v + "' is not a valid " + what;
}

// --cuts: NAME=WEIGHT,... over line, block, call_args and span; the ones
// not named weigh 0.
std::optional<std::string> parse_cuts(const std::string& v, train::SampleOptions& s) {
  double line = 0, block = 0, args = 0, span = 0;
  size_t start = 0;
  while (start <= v.size()) {
    const size_t comma = std::min(v.find(',', start), v.size());
    const std::string item = v.substr(start, comma - start);
    const size_t eq = item.find('=');
    if (eq == std::string::npos) return "--cuts: '" + item + "' is not NAME=WEIGHT";
    const std::string name = item.substr(0, eq);
    double* w = name == "line" ? &line : name == "block" ? &block : name == "call_args" ? &args : name == "span" ? &span : nullptr;
    if (!w) return "--cuts: '" + name + "' is no cut (line, block, call_args, span)";
    try {
      size_t used = 0;
      *w = std::stod(item.substr(eq + 1), &used);
      if (used != item.size() - eq - 1 || !std::isfinite(*w) || *w < 0) throw std::invalid_argument("");
    } catch (const std::exception&) {
      return "--cuts: '" + item.substr(eq + 1) + "' is not a weight (a number, 0 or more)";
    }
    start = comma + 1;
  }
  if (line + block + args + span <= 0) return "--cuts gives every cut a weight of 0";
  s.line_weight = line;
  s.block_weight = block;
  s.call_args_weight = args;
  s.span_weight = span;
  return std::nullopt;
}

}  // namespace

int run_tune(const std::vector<std::string>& args) {
  train::TuneOptions o;
  std::string model, format = "peft", teacher;
  o.out_dir = "astfill-tune";
  ArgParser p("astfill tune",
              "Fine-tunes a LoRA adapter on the code of a repository, on the CPU: fill-in-the-middle\n"
              "samples of its files in the prompt layout completion uses, a share of the files held\n"
              "out for evaluation. Ctrl-C saves a checkpoint in --out; the same command resumes\n"
              "from it. At the end the adapter with the best held-out loss is written to\n"
              "OUT/adapter (PEFT) and/or OUT/adapter.gguf (llama.cpp), for --adapter.");
  p.option("--root", "REPO", "the repository to learn from (required)", [&](const std::string& v) -> std::optional<std::string> {
    o.root = v;
    return std::nullopt;
  });
  p.option("--model", "M", "the base model: a GGUF file or a pulled model's name (default: the bundled model)",
           [&](const std::string& v) -> std::optional<std::string> {
             model = resolve_model_argument(v);
             return std::nullopt;
           });
  p.option("--out", "DIR", "checkpoint and adapter directory (default ./astfill-tune)",
           [&](const std::string& v) -> std::optional<std::string> {
             o.out_dir = v;
             return std::nullopt;
           });
  p.option("--rank", "R", "the adapter's rank (default 16)", [&](const std::string& v) -> std::optional<std::string> {
    unsigned long long n = 0;
    if (auto e = parse_uint(v, "rank", 1, 1024, n)) return e;
    o.rank = static_cast<int64_t>(n);
    return std::nullopt;
  });
  p.option("--alpha", "A", "LoRA's alpha: the update is scaled by alpha/rank (default 32)",
           [&](const std::string& v) { return parse_number(v, "alpha", 0, o.alpha); });
  p.option("--targets", "LIST",
           "the projections to adapt, of q,k,v,o,gate,up,down or 'all' (default q,k,v,o); on a "
           "mixture-of-experts model gate, up and down adapt every expert",
           [&](const std::string& v) -> std::optional<std::string> {
             try {
               o.targets = engine::parse_lora_targets(v);
             } catch (const std::invalid_argument& e) {
               return e.what();
             }
             return std::nullopt;
           });
  p.option("--steps", "N", "training steps (--batch samples each)", [&](const std::string& v) -> std::optional<std::string> {
    unsigned long long n = 0;
    if (auto e = parse_uint(v, "step count", 1, 100000000, n)) return e;
    o.steps = static_cast<int64_t>(n);
    return std::nullopt;
  });
  p.option("--batch", "N", "samples per step; a step's loss is the mean over all their middle and end tokens (default 8)",
           [&](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "batch size", 1, 4096, n)) return e;
             o.batch = static_cast<int64_t>(n);
             return std::nullopt;
           });
  p.option("--cuts", "MIX",
           "how middles are cut, as weights: line (the rest of a line), block (a short block's\n"
           "statements), call_args (a call's arguments), span (a line's rest and up to 3 lines more)\n"
           "(default line=3,block=3,call_args=3,span=1)",
           [&](const std::string& v) { return parse_cuts(v, o.samples); });
  p.option("--end-weight", "W",
           "the end token's weight in the loss against 1 for each token of the middle, in (0, 1]\n"
           "(default 0.1: a small model weighing it fully learns to end everywhere and stops early)",
           [&](const std::string& v) { return parse_number(v, "weight", 0, o.samples.end_weight); });
  p.option("--hours", "H", "train for this long instead of a number of steps",
           [&](const std::string& v) { return parse_number(v, "number of hours", 0, o.hours); });
  p.option("--threads", "N", "threads for the kernels (default: all cores)", [&](const std::string& v) -> std::optional<std::string> {
    unsigned long long n = 0;
    if (auto e = parse_uint(v, "thread count", 1, 256, n)) return e;
    o.threads = static_cast<int>(n);
    return std::nullopt;
  });
  p.option("--lr", "RATE", "peak learning rate of AdamW (default 1e-3)",
           [&](const std::string& v) { return parse_number(v, "learning rate", 0, o.learning_rate); });
  p.option("--max-tokens", "N", "tokens of a sample: prompt, middle and end (default 512)",
           [&](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "token count", 128, 32768, n)) return e;
             o.samples.max_tokens = n;
             // The middle's cap leaves the prompt at least 64 tokens.
             o.samples.max_middle_tokens = std::min<size_t>(train::SampleOptions{}.max_middle_tokens, n - 64);
             return std::nullopt;
           });
  p.option("--cross-file-tokens", "N",
           "cross-file context in each sample's prompt, as completion's astfill.context.crossFileTokens,\n"
           "from an index of the repository in OUT/index.db that leaves the held-out files out\n"
           "(default 1024, at most a quarter of --max-tokens' room; 0: the current file only)",
           [&](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "token count", 0, 1 << 20, n)) return e;
             o.samples.cross_file_tokens = static_cast<size_t>(n);
             return std::nullopt;
           });
  p.option("--eval-every", "N", "steps between held-out evaluations (default 50)",
           [&](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "step count", 1, 100000000, n)) return e;
             o.eval_every = static_cast<int64_t>(n);
             return std::nullopt;
           });
  p.option("--seed", "N", "the seed of the adapter's initialisation and the samples (default 1)",
           [&](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "seed", 0, ~0ull, n)) return e;
             o.seed = n;
             return std::nullopt;
           });
  p.option("--weights", "int8|f32", "how the frozen base weights are held (default int8)",
           [&](const std::string& v) -> std::optional<std::string> {
             if (v == "int8") o.weights = engine::WeightMode::Int8;
             else if (v == "f32") o.weights = engine::WeightMode::F32;
             else return "'" + v + "' is not int8 or f32";
             return std::nullopt;
           });
  p.option("--format", "peft|gguf|both", "how the adapter is written (default peft)",
           [&](const std::string& v) -> std::optional<std::string> {
             if (v != "peft" && v != "gguf" && v != "both") return "'" + v + "' is not peft, gguf or both";
             format = v;
             return std::nullopt;
           });
  p.flag("--gguf", "write the GGUF adapter as well as the PEFT directory (--format both)", [&] { format = "both"; });
  p.option("--teacher", "MODEL",
           "distil from a model with the same tokenizer (GGUF file or pulled name); its top-k is cached in --out",
           [&](const std::string& v) -> std::optional<std::string> {
             teacher = resolve_model_argument(v);
             return std::nullopt;
           });
  p.option("--distill-weight", "L", "with --teacher: the loss is (1-L) CE + L T^2 KL (default 0.5)",
           [&](const std::string& v) -> std::optional<std::string> {
             if (auto e = parse_number(v, "distillation weight", -1e-300, o.distill_weight)) return e;
             if (o.distill_weight > 1) return "'" + v + "' is not a valid distillation weight (0 to 1)";
             return std::nullopt;
           });
  p.option("--temperature", "T", "with --teacher: the temperature of both distributions in the KL (default 1)",
           [&](const std::string& v) { return parse_number(v, "temperature", 0, o.temperature); });
  p.option("--teacher-top-k", "K", "with --teacher: the teacher's most likely tokens kept per position (default 32)",
           [&](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "top-k", 1, 4096, n)) return e;
             o.teacher_top_k = static_cast<int32_t>(n);
             return std::nullopt;
           });
  if (auto err = p.parse(args)) return fail(*err + " (see 'astfill tune --help')", 2);
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (o.root.empty()) return fail("--root is required (the repository to learn from)", 2);
  if ((o.steps > 0) == (o.hours > 0)) return fail("give either --steps N or --hours H", 2);
  if (model.empty()) {
    auto bundled = engine::bundled_model_path();
    if (!bundled) return fail("no --model given and the bundled model was not found", 2);
    model = *bundled;
  }
  o.model_path = model;
  o.teacher_path = teacher;
  // The samples' index logs its routine steps at info; the progress line says what matters.
  log::set_level(log::Level::Warn);
  o.write_peft = format != "gguf";
  o.write_gguf = format != "peft";

  const bool terminal = stderr_is_terminal();
  auto report = [&](const train::TuneProgress& pr) {
    char total[32] = "?";
    if (o.steps > 0 || pr.step >= 10) std::snprintf(total, sizeof total, "%lld", static_cast<long long>(pr.total_steps));
    char line[256];
    char kl[48] = "";
    if (pr.distilling) std::snprintf(kl, sizeof kl, "  KL %.4f", pr.held_out_kl);
    std::snprintf(line, sizeof line, "step %lld/%s  loss %.4f  held-out %.4f%s  %.0f tok/s  ETA %s",
                  static_cast<long long>(pr.step), total, pr.loss, pr.held_out, kl, pr.tokens_per_second,
                  duration(pr.eta_seconds).c_str());
    if (terminal) std::fprintf(stderr, "\r\033[K%s", line);
    else if (pr.evaluated) std::fprintf(stderr, "%s\n", line);
  };
  // The first SIGINT or SIGTERM ends the run after its step, with a
  // checkpoint; a second ends the process at once.
  std::atomic<bool> interrupted{false};
  const support::OnTerminationSignal on_signal([&interrupted](int signum) {
    if (interrupted.exchange(true)) support::die_of(signum);
  });
  try {
    const train::TuneResult r = train::tune(o, report, &interrupted);
    if (terminal) std::fputs("\n", stderr);
    if (r.interrupted) {
      std::printf("interrupted at step %lld: checkpoint saved to %s; run the same command to resume\n",
                  static_cast<long long>(r.step), r.checkpoint_path.c_str());
      return 130;
    }
    std::printf("%s%lld steps on %zu files (%zu held out), %.0f tokens/s\n", r.resumed ? "resumed: " : "",
                static_cast<long long>(r.step), r.train_files, r.held_out_files, r.tokens_per_second);
    if (r.samples_made > 0) {
      std::printf("samples: %llu cut, %.1f/s", static_cast<unsigned long long>(r.samples_made),
                  r.sample_seconds > 0 ? static_cast<double>(r.samples_made) / r.sample_seconds : 0.0);
      if (o.samples.cross_file_tokens > 0)
        std::printf(", %llu with cross-file context from an index of %zu files (%.1f s to sync)",
                    static_cast<unsigned long long>(r.samples_with_context), r.indexed_files, r.index_seconds);
      else
        std::printf(", no cross-file context");
      std::printf("\n");
    }
    std::printf("held-out loss%s %.4f before, %.4f best (step %lld)\n",
                r.distilled ? " ((1-L) CE + L T^2 KL)" : "", r.held_out_before, r.held_out_best,
                static_cast<long long>(r.best_step));
    if (r.distilled) {
      std::printf("held-out KL to the teacher %.4f before, %.4f after; cross-entropy %.4f before, %.4f after\n",
                  r.kl_before, r.kl_after, r.cross_entropy_before, r.cross_entropy_after);
      std::printf("teacher: %llu samples run, the rest from its cache %s%s\n",
                  static_cast<unsigned long long>(r.teacher_runs), r.teacher_cache_path.c_str(),
                  r.teacher_cache_rebuilt ? " (rebuilt: the old file was not this run's or was damaged)" : "");
    }
    if (!r.peft_dir.empty()) std::printf("adapter (PEFT): %s\n", r.peft_dir.c_str());
    if (!r.gguf_path.empty()) std::printf("adapter (GGUF): %s\n", r.gguf_path.c_str());
    std::printf("held-out files: %s\n", r.held_out_list_path.c_str());
    return 0;
  } catch (const std::invalid_argument& e) {
    return fail(e.what(), 2);
  } catch (const std::exception& e) {
    if (terminal) std::fputs("\n", stderr);
    return fail(e.what(), 1);
  }
}

}  // namespace astfill::cli
