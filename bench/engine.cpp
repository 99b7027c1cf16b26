// bench_engine: the engine's speed on a random-weight model with
// Qwen2.5-Coder-0.5B's shapes in Q8_0, next to what this machine can do in
// the same run: streaming-read bandwidth and oneDNN's own int8 GEMM
// throughput at the model's shapes. Prints one JSON object.
//
//   bench_engine [--model-dir DIR] [--threads 1,2] [--prompt 512] [--decode 128]
//                [--long 1024,8192]   (32768 works too; its prefill takes minutes)
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <string>
#include <vector>

#include "bench/args.h"
#include "engine/model.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::engine;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// Sums a buffer far larger than the caches: GB/s of streaming reads.
double stream_bandwidth(int threads) {
  const size_t n = size_t(1) << 27;  // 512 MiB of floats
  static std::vector<float> buf(n, 1.0f);
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    auto t = clock_type::now();
    double total = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : total) schedule(static)
    for (size_t i = 0; i < n; i += 16) {
      float s = 0;
      for (size_t j = 0; j < 16; ++j) s += buf[i + j];
      total += s;
    }
    double secs = seconds_since(t);
    if (total < 0) std::puts("");  // keep the loop
    best = std::max(best, n * sizeof(float) / secs / 1e9);
  }
  return best;
}

// oneDNN u8 x s8 -> s32 matmul, weights in its preferred layout: GOP/s.
double onednn_int8_gops(int64_t m, int64_t k, int64_t n) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  memory::desc src({m, k}, dt::u8, tag::ab), w({k, n}, dt::s8, tag::any), dst({m, n}, dt::s32, tag::ab);
  matmul::primitive_desc pd(matmul::desc(src, w, dst), eng);
  memory a(pd.src_desc(), eng), b(pd.weights_desc(), eng), c(pd.dst_desc(), eng);
  std::memset(a.get_data_handle(), 3, pd.src_desc().get_size());
  std::memset(b.get_data_handle(), 1, pd.weights_desc().get_size());
  matmul mm(pd);
  auto run = [&] { mm.execute(s, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}}); };
  run();
  s.wait();
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    auto t = clock_type::now();
    run();
    s.wait();
    best = std::min(best, seconds_since(t));
  }
  return 2.0 * m * k * n / best / 1e9;
}

struct RunStats {
  double load_s = 0, prefill_tps = 0, decode_tps = 0;
  uint64_t bytes_per_token = 0;
  double kv_mb = 0;
};

// Loads `path`, prefills `prompt_len` random tokens and decodes `decode_len`
// greedily.
RunStats run_model(const std::string& path, int threads, int prompt_len, int decode_len, uint32_t vocab) {
  RunStats r;
  auto t = clock_type::now();
  auto model = Model::open(path, {WeightMode::Int8, threads});
  r.load_s = seconds_since(t);
  std::mt19937 rng(5);
  std::vector<int32_t> prompt(static_cast<size_t>(prompt_len));
  for (auto& x : prompt) x = static_cast<int32_t>(rng() % (vocab - 64));
  Session s(*model, static_cast<size_t>(prompt_len + decode_len + 1));
  t = clock_type::now();
  auto logits = s.evaluate({prompt, {}, {}});
  r.prefill_tps = prompt_len / seconds_since(t);
  t = clock_type::now();
  for (int i = 0; i < decode_len; ++i) {
    auto next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    logits = s.evaluate({{next}, {}, {}});
  }
  r.decode_tps = decode_len / seconds_since(t);
  r.bytes_per_token = model->bytes_per_token();
  r.kv_mb = s.kv_bytes() / 1048576.0;
  return r;
}

// A dense model and a mixture-of-experts model with the same active
// parameters per token, the MoE one holding ~8x the total.
void write_moe_pair(const std::string& dense_path, const std::string& moe_path) {
  RandomModelSpec dense = tiny_spec("qwen3");
  auto& hp = dense.hp;
  hp.embedding_length = 512;
  hp.block_count = 8;
  hp.head_count = 8;
  hp.head_count_kv = 2;
  hp.head_dim = 64;
  hp.feed_forward_length = 2048;
  hp.vocab_size = 16384;
  dense.weight_type = GgmlType::Q8_0;
  dense.weight_scale = 0.02f;
  RandomModelSpec moe = dense;
  moe.hp.arch = "qwen3moe";
  moe.hp.feed_forward_length = 0;
  moe.hp.expert_count = 48;
  moe.hp.expert_used_count = 4;
  moe.hp.expert_feed_forward_length = 512;  // 4 x 512 = the dense model's 2048
  if (!std::filesystem::exists(dense_path)) write_random_model(dense_path, dense);
  if (!std::filesystem::exists(moe_path)) write_random_model(moe_path, moe);
}

long peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = (std::filesystem::temp_directory_path() / "astfill-bench").string();
  std::vector<int> thread_counts = {1, 2};
  int prompt_len = 512, decode_len = 128;
  std::vector<int> long_contexts = {1024, 8192};
  astfill::bench::ArgParser args(
      "bench_engine",
      "The engine's speed on a random-weight model with Qwen2.5-Coder-0.5B's shapes in Q8_0\n"
      "(written once to --model-dir), next to this machine's read bandwidth and oneDNN's int8\n"
      "GEMM at the model's shapes. Prints one JSON object.");
  using astfill::bench::count_list_value;
  using astfill::bench::count_value;
  args.option("--model-dir", "DIR", "where the random model is kept (default: $TMPDIR/astfill-bench)",
              astfill::bench::text_value(dir));
  args.option("--threads", "N,N", "thread counts to measure (default 1,2)",
              count_list_value(thread_counts, "thread count", 1, 256));
  args.option("--prompt", "N", "prompt tokens (default 512)", count_value(prompt_len, "token count", 1, 32768));
  args.option("--decode", "N", "generated tokens (default 128)", count_value(decode_len, "token count", 1, 32768));
  args.option("--long", "N,N", "long contexts to prefill (default 1024,8192; 32768 takes minutes)",
              count_list_value(long_contexts, "context length", 1, 32768));
  astfill::bench::parse_args_or_exit(args, "bench_engine", argc, argv);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/qwen2.5-0.5b-shapes.q8_0.gguf";

  RandomModelSpec spec = tiny_spec("qwen2");
  auto& hp = spec.hp;
  hp.name = "random Qwen2.5-Coder-0.5B shapes";
  hp.embedding_length = 896;
  hp.block_count = 24;
  hp.feed_forward_length = 4864;
  hp.head_count = 14;
  hp.head_count_kv = 2;
  hp.head_dim = 64;
  hp.vocab_size = 151936;
  hp.context_length = 32768;
  spec.weight_type = GgmlType::Q8_0;
  spec.weight_scale = 0.02f;
  double write_s = 0;
  if (!std::filesystem::exists(path)) {
    auto t = clock_type::now();
    write_random_model(path, spec);
    write_s = seconds_since(t);
  }

  std::printf("{\"model\":{\"path\":\"%s\",\"shapes\":\"hidden 896, 24 layers, 14/2 heads, head_dim 64, ffn 4864, vocab 151936, tied\","
              "\"file_bytes\":%ju,\"write_seconds\":%.2f},\n \"runs\":[",
              path.c_str(), static_cast<uintmax_t>(std::filesystem::file_size(path)), write_s);
  bool first = true;
  for (int threads : thread_counts) {
    omp_set_num_threads(threads);
    double bw = stream_bandwidth(threads);
    // The model's prefill GEMMs: qkv, attention output, gate+up, down.
    const int64_t M = prompt_len;
    double gemm_ops = 0, gemm_secs = 0;
    for (auto [k, n] : {std::pair<int64_t, int64_t>{896, 1152}, {896, 896}, {896, 9728}, {4864, 896}}) {
      double g = onednn_int8_gops(M, k, n);
      double ops = 2.0 * M * k * n;
      gemm_ops += ops;
      gemm_secs += ops / (g * 1e9);
    }
    double onednn_gops = gemm_ops / gemm_secs / 1e9;

    RunStats run = run_model(path, threads, prompt_len, decode_len, 150000 + 64);

    // Work per prefill token in the layers' GEMMs (the LM head runs once).
    double layer_ops_per_token = 0;
    for (auto [k, n] : {std::pair<int64_t, int64_t>{896, 1152}, {896, 896}, {896, 9728}, {4864, 896}})
      layer_ops_per_token += 2.0 * k * n;
    layer_ops_per_token *= hp.block_count;
    double prefill_tps = run.prefill_tps, decode_tps = run.decode_tps;
    double bound_tps = bw * 1e9 / static_cast<double>(run.bytes_per_token);
    double prefill_gops = prefill_tps * layer_ops_per_token / 1e9;
    std::printf("%s\n  {\"threads\":%d,\"stream_read_gb_per_s\":%.2f,\"onednn_int8_gemm_gops\":%.1f,"
                "\"load_seconds\":%.2f,\"prefill_tokens\":%d,\"prefill_tokens_per_s\":%.1f,\"prefill_gops\":%.1f,"
                "\"prefill_vs_onednn\":%.3f,\"decode_tokens\":%d,\"decode_tokens_per_s\":%.2f,"
                "\"bytes_per_token\":%ju,\"decode_bound_tokens_per_s\":%.2f,\"decode_vs_bound\":%.3f,"
                "\"kv_cache_mb\":%.1f,\"peak_rss_mb\":%ld}",
                first ? "" : ",", threads, bw, onednn_gops, run.load_s, prompt_len, prefill_tps, prefill_gops,
                prefill_gops / onednn_gops, decode_len, decode_tps, static_cast<uintmax_t>(run.bytes_per_token),
                bound_tps, decode_tps / bound_tps, run.kv_mb, peak_rss_mb());
    std::fflush(stdout);
    first = false;
  }
  std::printf("\n],\n \"moe\":[");
  const std::string dense_path = dir + "/dense-38m-active.q8_0.gguf", moe_path = dir + "/moe-48x4.q8_0.gguf";
  write_moe_pair(dense_path, moe_path);
  auto params = [](const std::string& p) {
    uint64_t total = 0;
    auto m = ModelFile::open(p);
    for (auto& t : m.tensors()) total += static_cast<uint64_t>(t.elements());
    return total;
  };
  const uint64_t dense_params = params(dense_path), moe_params = params(moe_path);
  first = true;
  for (int threads : thread_counts) {
    omp_set_num_threads(threads);
    RunStats d = run_model(dense_path, threads, prompt_len, decode_len, 16384);
    RunStats m = run_model(moe_path, threads, prompt_len, decode_len, 16384);
    std::printf("%s\n  {\"threads\":%d,\"dense_params\":%ju,\"moe_total_params\":%ju,\"moe_total_vs_active\":%.2f,"
                "\"dense_prefill_tokens_per_s\":%.1f,\"moe_prefill_tokens_per_s\":%.1f,"
                "\"dense_decode_tokens_per_s\":%.2f,\"moe_decode_tokens_per_s\":%.2f,"
                "\"dense_vs_moe_decode\":%.3f,\"target\":\"dense_vs_moe_decode <= 1.5\"}",
                first ? "" : ",", threads, static_cast<uintmax_t>(dense_params), static_cast<uintmax_t>(moe_params),
                double(moe_params) / dense_params, d.prefill_tps, m.prefill_tps, d.decode_tps, m.decode_tps,
                d.decode_tps / m.decode_tps);
    std::fflush(stdout);
    first = false;
  }
  // Long context on the 0.5B shapes, all threads: prefill in 512-token
  // chunks (as generation does), then decode at that depth.
  std::printf("\n],\n \"long_context\":[");
  first = true;
  {
    const int threads = thread_counts.back();
    omp_set_num_threads(threads);
    auto model = Model::open(path, {WeightMode::Int8, threads});
    for (int ctx : long_contexts) {
      std::mt19937 rng(9);
      std::vector<int32_t> prompt(static_cast<size_t>(ctx));
      for (auto& x : prompt) x = static_cast<int32_t>(rng() % 150000);
      const int decode = 32;
      Session s(*model, static_cast<size_t>(ctx + decode + 1));
      auto t = clock_type::now();
      std::vector<float> logits;
      for (int at = 0; at < ctx; at += 512) {
        std::vector<int32_t> part(prompt.begin() + at, prompt.begin() + std::min(ctx, at + 512));
        logits = s.evaluate({part, {}, {}});
      }
      double prefill_s = seconds_since(t);
      t = clock_type::now();
      for (int i = 0; i < decode; ++i) {
        auto next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        logits = s.evaluate({{next}, {}, {}});
      }
      double decode_s = seconds_since(t);
      std::printf("%s\n  {\"threads\":%d,\"context\":%d,\"prefill_seconds\":%.2f,\"prefill_tokens_per_s\":%.1f,"
                  "\"decode_tokens_per_s\":%.2f,\"kv_cache_mb\":%.1f,\"peak_rss_mb\":%ld}",
                  first ? "" : ",", threads, ctx, prefill_s, ctx / prefill_s, decode / decode_s, s.kv_bytes() / 1048576.0,
                  peak_rss_mb());
      std::fflush(stdout);
      first = false;
    }
  }
  std::printf("\n]}\n");
  return 0;
}
