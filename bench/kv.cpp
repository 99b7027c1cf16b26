// bench_kv: what a bf16 or int8 KV cache costs and saves against the f32
// cache. For each cache type, one session reads the same tokens as an f32
// session (prefill in chunks, then decode one token at a time) and the
// next-token distributions are compared at every position: mean KL(f32 ||
// type) and top-1 agreement; with each type's prefill and decode speed at that
// depth and its KV memory. A second f32 session with the portable kernels (the
// same values, summed in another order) is the noise floor: on a model whose
// distributions are very sharp it is far from zero too. Prints one JSON object.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <memory>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/args.h"
#include "bench/random_model.h"
#include "engine/attention.h"
#include "engine/model.h"
#include "tests/fixtures/random_model.h"
#include "support/openmp_env.h"

using namespace astfill::engine;

namespace {

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// KL(p || q) of two logit rows and whether their top tokens agree.
struct Agreement {
  size_t rows = 0, top1 = 0;
  double kl = 0;
  void add(const float* p, const float* q, size_t vocab) {
    ++rows;
    top1 += std::max_element(p, p + vocab) - p == std::max_element(q, q + vocab) - q;
    const double mp = *std::max_element(p, p + vocab), mq = *std::max_element(q, q + vocab);
    double zp = 0, zq = 0;
    for (size_t v = 0; v < vocab; ++v) {
      zp += std::exp(p[v] - mp);
      zq += std::exp(q[v] - mq);
    }
    const double lzp = std::log(zp), lzq = std::log(zq);
    double kl_row = 0;
    for (size_t v = 0; v < vocab; ++v) {
      const double lp = p[v] - mp - lzp, lq = q[v] - mq - lzq;
      kl_row += std::exp(lp) * (lp - lq);
    }
    kl += kl_row;
  }
};

struct Run {
  KvType type;
  bool portable = false;  // the noise floor: f32 with the portable kernels, only the summation order differs
  Agreement prefill, decode;
  double prefill_s = 0, decode_s = 0;
  double kv_mb = 0;
};

}  // namespace

int main(int argc, char** argv) {
  astfill::support::prefer_passive_openmp_wait(argv);  // as astfill itself runs
  std::string dir = (std::filesystem::temp_directory_path() / "astfill-bench").string();
  std::string model_path, text_file;
  int positions = 4096, decode = 64, chunk = 512, threads = 2;
  std::string weight_scale = "0.02";
  astfill::bench::ArgParser args(
      "bench_kv",
      "The KV cache's types against f32: mean KL and top-1 agreement of the next-token\n"
      "distribution at every position (prefill in chunks, then decode), prefill and decode\n"
      "speed at that depth, and KV memory. By default a random-weight model with\n"
      "Qwen2.5-Coder-0.5B's shapes in Q8_0 (written once to --model-dir, as bench_engine's)\n"
      "reads random tokens. Prints one JSON object.");
  using astfill::bench::count_value;
  args.option("--model-dir", "DIR", "where the random model is kept (default: $TMPDIR/astfill-bench)",
              astfill::bench::text_value(dir));
  args.option("--model", "PATH", "measure this model file instead of the random one",
              astfill::bench::text_value(model_path));
  args.option("--text-file", "FILE", "read this text (repeated up to --positions tokens) instead of random tokens",
              astfill::bench::text_value(text_file));
  args.option("--positions", "N", "prompt tokens compared (default 4096)",
              count_value(positions, "token count", 16, 32768));
  args.option("--decode", "N", "decoded tokens compared after the prompt (default 64)",
              count_value(decode, "token count", 1, 4096));
  args.option("--chunk", "N", "prefill batch size (default 512)", count_value(chunk, "token count", 8, 32768));
  args.option("--threads", "N", "threads (default 2)", count_value(threads, "thread count", 1, 256));
  args.option("--weight-scale", "X",
              "the random model's weight scale (default 0.02, bench_engine's model; at 0.02 its\n"
              "logits are so large that any change of summation order moves top-1 on a quarter\n"
              "of positions: 0.005 is a model whose distributions are not chaotic)",
              [&weight_scale](const std::string& v) -> std::optional<std::string> {
                char* end = nullptr;
                const double x = std::strtod(v.c_str(), &end);
                if (v.empty() || *end || !(x > 0 && x < 1)) return "'" + v + "' is not a scale between 0 and 1";
                weight_scale = v;
                return std::nullopt;
              });
  astfill::bench::parse_args_or_exit(args, "bench_kv", argc, argv);
  omp_set_num_threads(threads);

  if (model_path.empty()) {
    std::filesystem::create_directories(dir);
    model_path = dir + "/qwen2.5-0.5b-shapes.q8_0" + (weight_scale == "0.02" ? "" : "-ws" + weight_scale) + ".gguf";
    if (!std::filesystem::exists(model_path)) {
      RandomModelSpec spec = astfill::bench::qwen_05b_shapes_spec();
      spec.weight_scale = std::stof(weight_scale);
      write_random_model(model_path, spec);
    }
  }
  std::unique_ptr<Model> model;
  try {
    model = Model::open(model_path, {WeightMode::Int8, threads});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_kv: %s\n", e.what());
    return 1;
  }
  const auto& hp = model->hparams();
  const size_t V = hp.vocab_size;
  std::vector<int32_t> tokens;
  if (!text_file.empty()) {
    std::ifstream in(text_file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "bench_kv: %s: cannot be read\n", text_file.c_str());
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto ids = model->tokenizer().encode(ss.str());
    if (ids.empty()) {
      std::fprintf(stderr, "bench_kv: %s: no tokens\n", text_file.c_str());
      return 1;
    }
    while (tokens.size() < static_cast<size_t>(positions))
      tokens.insert(tokens.end(), ids.begin(), ids.begin() + std::min(ids.size(), positions - tokens.size()));
  } else {
    std::mt19937 rng(1);
    for (int i = 0; i < positions; ++i) tokens.push_back(static_cast<int32_t>(rng() % V));
  }

  // The f32 session leads: its logits are the reference, its greedy choices
  // the decoded tokens every session reads.
  std::vector<Run> runs;
  for (KvType t : {KvType::F32, KvType::F32, KvType::Bf16, KvType::Int8}) runs.push_back(Run{t, runs.size() == 1, {}, {}});
  // A session is neither copied nor moved (the batcher may hold its address).
  std::vector<std::unique_ptr<Session>> sessions;
  for (const Run& r : runs)
    sessions.push_back(std::make_unique<Session>(*model, static_cast<size_t>(positions + decode + 1), r.type));
  // The portable row's kernels are chosen through the environment around its evaluations.
  const char* env = std::getenv("ASTFILL_ATTENTION");
  const std::string outer = env ? env : "";
  auto evaluate = [&](size_t r, const Session::Batch& b) {
    if (runs[r].portable) ::setenv("ASTFILL_ATTENTION", "portable", 1);
    auto out = sessions[r]->evaluate(b);
    if (runs[r].portable) {
      if (env) ::setenv("ASTFILL_ATTENTION", outer.c_str(), 1);
      else ::unsetenv("ASTFILL_ATTENTION");
    }
    return out;
  };
  std::vector<std::vector<float>> logits(runs.size());
  for (int at = 0; at < positions; at += chunk) {
    const int n = std::min(chunk, positions - at);
    Session::Batch b{{tokens.begin() + at, tokens.begin() + at + n}, {}, std::vector<bool>(n, true)};
    for (size_t r = 0; r < runs.size(); ++r) {
      const auto t = clock_type::now();
      logits[r] = evaluate(r, b);
      runs[r].prefill_s += seconds_since(t);
    }
    for (size_t r = 1; r < runs.size(); ++r)
      for (int i = 0; i < n; ++i) runs[r].prefill.add(logits[0].data() + i * V, logits[r].data() + i * V, V);
  }
  for (int i = 0; i < decode; ++i) {
    const float* last = logits[0].data() + logits[0].size() - V;
    const int32_t next = static_cast<int32_t>(std::max_element(last, last + V) - last);
    for (size_t r = 0; r < runs.size(); ++r) {
      const auto t = clock_type::now();
      logits[r] = evaluate(r, {{next}, {}, {}});
      runs[r].decode_s += seconds_since(t);
    }
    for (size_t r = 1; r < runs.size(); ++r) runs[r].decode.add(logits[0].data(), logits[r].data(), V);
  }
  std::printf("{\"model\":\"%s\",\"positions\":%d,\"decoded\":%d,\"chunk\":%d,\"threads\":%d,\"tokens\":\"%s\",\"rows\":[",
              model_path.c_str(), positions, decode, chunk, threads, text_file.empty() ? "random" : text_file.c_str());
  for (size_t r = 0; r < runs.size(); ++r) {
    const Run& run = runs[r];
    std::printf("%s\n  {\"kv\":\"%s\",\"attention\":\"%s\",\"kv_mb\":%.1f,\"prefill_tokens_per_s\":%.1f,"
                "\"decode_tokens_per_s\":%.2f",
                r ? "," : "", kv_type_name(run.type),
                attention_kernels_in_use(run.type, hp.head_dim,
                                         run.portable ? AttentionKernels::Portable : default_attention_kernels())
                    .c_str(),
                sessions[r]->kv_bytes() / 1048576.0, positions / run.prefill_s, decode / run.decode_s);
    if (r)
      std::printf(",\"prefill_mean_kl\":%.3g,\"prefill_top1\":%.4f,\"decode_mean_kl\":%.3g,\"decode_top1\":%.4f",
                  run.prefill.kl / run.prefill.rows, double(run.prefill.top1) / run.prefill.rows,
                  run.decode.kl / run.decode.rows, double(run.decode.top1) / run.decode.rows);
    std::printf("}");
  }
  std::printf("\n]}\n");
}
