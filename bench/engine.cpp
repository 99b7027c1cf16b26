// bench_engine: the engine's speed on a random-weight model with
// Qwen2.5-Coder-0.5B's shapes in Q8_0, next to what this machine can do in
// the same run: streaming-read bandwidth (vectorised, so no figure can beat
// it), oneDNN's own int8 GEMM throughput at the model's shapes, and the
// process's resident memory against the model file. Prints one JSON object.
//
//   bench_engine [--model-dir DIR] [--threads 1,2] [--prompt 512] [--decode 128]
//                [--contexts 1024,4096,8192] [--long] [--kv auto|bf16|int8|f32]   (--long adds 16384 and 32768: minutes)
//   bench_engine --attention 4096,16384 [--threads 1,2] [--kv ...]   (decode attention alone, then exit)
//   bench_engine --decode-at 512,4096,16384 [--threads 2] [--decode 128] [--read-ahead 2]
//                (decode at depth without the long prefill; attention's read-ahead on and off alternating)
//   bench_engine --decode-at 512,4096,16384 --compare-kv bf16,int8
//                (the same, one session per cache type, alternating rounds)
//   bench_engine --decode-at 512,4096,16384 --compare-gemv 2048:2:0,2048:2:4
//                (the same, one session per GEMV chunking: KB a chunk at most : chunks a thread)
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <string>
#include <vector>

#include "bench/args.h"
#include "bench/random_model.h"
#include "engine/attention.h"
#include "engine/model.h"
#include "engine/streamed_memory.h"
#include "engine/thread_team.h"
#include "tests/fixtures/random_model.h"
#include "support/openmp_env.h"

using namespace astfill::engine;
using clock_type = std::chrono::steady_clock;

namespace {

KvType kv_type = KvType::Auto;  // --kv: the sessions' KV cache type

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// Streaming reads, the way a decode step reads weights and KV: each thread
// sums its own contiguous share of a buffer far larger than the last-level
// cache with eight independent vector accumulators (AVX-512, else AVX2), so
// the loop is limited by memory, never by a chain of dependent adds.
__attribute__((target("avx512f"))) float sum_avx512(const float* p, size_t n) {
  __m512 a[8];
  for (auto& x : a) x = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 128 <= n; i += 128)
    for (int j = 0; j < 8; ++j) a[j] = _mm512_add_ps(a[j], _mm512_load_ps(p + i + 16 * j));
  for (int j = 1; j < 8; ++j) a[0] = _mm512_add_ps(a[0], a[j]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, a[0]);
  float s = 0;
  for (float x : lanes) s += x;
  for (; i < n; ++i) s += p[i];
  return s;
}

__attribute__((target("avx2"))) float sum_avx2(const float* p, size_t n) {
  __m256 a[8];
  for (auto& x : a) x = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int j = 0; j < 8; ++j) a[j] = _mm256_add_ps(a[j], _mm256_load_ps(p + i + 8 * j));
  for (int j = 1; j < 8; ++j) a[0] = _mm256_add_ps(a[0], a[j]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, a[0]);
  float s = 0;
  for (float x : lanes) s += x;
  for (; i < n; ++i) s += p[i];
  return s;
}

volatile float stream_sink;

// Whether the last stream_bandwidth() buffer sat on huge pages.
bool stream_on_huge_pages = false;

std::string stream_method() {
  std::string m = __builtin_cpu_supports("avx512f") ? "avx512, 8 accumulators per thread"
                                                    : "avx2, 8 accumulators per thread";
  return m + (stream_on_huge_pages ? ", 2 MB pages" : ", 4 KB pages");
}

// The streaming read that bounds decode: 1 GiB from the allocator the
// engine's weights come from (engine/streamed_memory.h): on 4 KB pages this
// machine's single-thread read is ~40% slower, and a bound read on smaller
// pages than the weights' would not bound decode. Each pass() reads it all
// once, vectorised with several accumulators a thread, and says at how many
// GB/s; the best pass seen is the bound.
class StreamProbe {
 public:
  explicit StreamProbe(int threads) : threads_(threads) {
    const int64_t huge_before = process_huge_page_bytes();
    storage_ = allocate_streamed(kFloats * sizeof(float));
    float* buf = reinterpret_cast<float*>(storage_.get());
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < kFloats; ++i) buf[i] = 1.0f;  // each thread touches (and so places) its own share
    huge_bytes_ = process_huge_page_bytes() - huge_before;
    stream_on_huge_pages = huge_bytes_ >= int64_t(kFloats * sizeof(float) / 2);
  }

  double pass() {
    const float* buf = reinterpret_cast<const float*>(storage_.get());
    const bool avx512 = __builtin_cpu_supports("avx512f");
    float total = 0;
    auto t = clock_type::now();
#pragma omp parallel num_threads(threads_) reduction(+ : total)
    {
      const size_t parts = static_cast<size_t>(omp_get_num_threads()), me = static_cast<size_t>(omp_get_thread_num());
      const size_t begin = (kFloats / parts * me) & ~size_t(127),
                   end = me + 1 == parts ? kFloats : (kFloats / parts * (me + 1)) & ~size_t(127);
      total += avx512 ? sum_avx512(buf + begin, end - begin) : sum_avx2(buf + begin, end - begin);
    }
    const double secs = seconds_since(t);
    stream_sink = total;  // keeps the sums
    const double gb_per_s = static_cast<double>(kFloats * sizeof(float)) / secs / 1e9;
    best_ = std::max(best_, gb_per_s);
    return gb_per_s;
  }

  double best() const { return best_; }
  // Of the process's huge pages, how many bytes are the probe's.
  int64_t huge_bytes() const { return huge_bytes_; }

 private:
  static constexpr size_t kFloats = size_t(1) << 28;  // 1 GiB of floats
  int threads_;
  std::shared_ptr<uint8_t> storage_;
  int64_t huge_bytes_ = 0;
  double best_ = 0;
};

// GB/s, best of five passes over 1 GiB (the buffer is freed afterwards, so
// the memory figures below do not carry it).
double stream_bandwidth(int threads) {
  StreamProbe probe(threads);
  for (int rep = 0; rep < 5; ++rep) probe.pass();
  return probe.best();
}

// Each round's speed against the bandwidth of its own minute: the VM's
// bandwidth moves between ~35 and ~63 GB/s every few tens of seconds, so
// a run's best read (the bound above) can come from a fast minute while
// half its rounds ran in a slow one. A round's bound is the larger of the
// probe passes just before and just after it (the fairer to the bound when
// the bandwidth changed during the round); the median of the rounds'
// ratios is reported beside the whole run's against the best read.
class RoundRatios {
 public:
  explicit RoundRatios(double bandwidth_before) : before_(bandwidth_before) {}
  // A round that decoded at `tokens_per_s`, reading `bytes_per_token`.
  void round(double tokens_per_s, double bytes_per_token) { pending_.push_back({tokens_per_s, bytes_per_token}); }
  // A probe pass just ended at `bandwidth` GB/s: the rounds since the last
  // one are measured against it and the one before.
  void probed(double bandwidth) {
    const double bound = std::max(before_, bandwidth) * 1e9;
    for (const auto& [tps, bytes] : pending_) ratios_.push_back(tps / (bound / bytes));
    pending_.clear();
    before_ = bandwidth;
  }
  double median() const {
    if (ratios_.empty()) return 0;
    std::vector<double> v = ratios_;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }

 private:
  double before_;
  std::vector<std::pair<double, double>> pending_;
  std::vector<double> ratios_;
};

// Decode attention alone, as a decode step runs it: 24 layers of the 0.5B
// shapes (14 query and 2 KV heads of 64), one query at `depth` over a cache
// of random rows, the layers one after another (so each layer's cache comes
// from DRAM, as in a real step). Best and mean of `reps` steps, in ms, with
// the cache bytes read per ms. Both kernel choices: the CPU's best (auto) and
// the f32-rows path (ASTFILL_ATTENTION=f32), the decode kernel before the
// in-place bf16 one.
void decode_attention_rows(const std::vector<int>& depths, const std::vector<int>& thread_counts, KvType type) {
  const int64_t layers = 24, heads = 14, kv_heads = 2, d = 64;
  if (type == KvType::Auto) type = KvType::Bf16;
  std::printf("{\"decode_attention\":[");
  bool first = true;
  for (int depth : depths) {
    KvCache cache(type, layers, kv_heads, d);
    cache.grow(static_cast<size_t>(depth) + 1, 0);
    std::mt19937 rng(3);
    std::normal_distribution<float> dist(0, 1);
    std::vector<float> k(d), v(d), q(heads * d), out(heads * d);
    for (int64_t l = 0; l < layers; ++l)
      for (int64_t h = 0; h < kv_heads; ++h)
        for (int64_t s = 0; s <= depth; ++s) {
          for (auto& x : k) x = dist(rng);
          for (auto& x : v) x = dist(rng);
          kv_store(cache.layer(static_cast<size_t>(l)), d, h, s, k.data(), v.data());
        }
    for (auto& x : q) x = dist(rng);
    const double kv_mb = static_cast<double>(cache.bytes()) / 1e6;
    for (int threads : thread_counts) {
      omp_set_num_threads(threads);
      for (AttentionKernels kernels : {AttentionKernels::Auto, AttentionKernels::F32}) {
        const int reps = 20;
        double best = 1e30, total = 0;
        for (int r = 0; r < reps; ++r) {
          auto t = clock_type::now();
          for (int64_t l = 0; l < layers; ++l)
            attention(q.data(), 1, heads, kv_heads, d, cache.layer(static_cast<size_t>(l)), depth, out.data(), kernels);
          const double secs = seconds_since(t);
          best = std::min(best, secs);
          total += secs;
        }
        std::printf("%s\n  {\"depth\":%d,\"threads\":%d,\"kv\":\"%s\",\"kernels\":\"%s\",\"kv_cache_mb\":%.1f,"
                    "\"best_ms\":%.3f,\"mean_ms\":%.3f,\"kv_gb_per_s_at_best\":%.1f}",
                    first ? "" : ",", depth, threads, kv_type_name(type),
                    attention_kernels_in_use(type, d, kernels).c_str(), kv_mb, best * 1e3, total / reps * 1e3,
                    kv_mb / 1e3 / best);
        std::fflush(stdout);
        first = false;
      }
    }
  }
  std::printf("\n]}\n");
}

// The process's resident memory (MB) now and at its peak since the last
// reset_peak_rss() (Linux: /proc/self/status VmRSS / VmHWM).
struct Rss {
  double now_mb = 0, peak_mb = 0;
};
Rss read_rss() {
  Rss r;
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) r.now_mb = std::stod(line.substr(6)) / 1024.0;
    if (line.rfind("VmHWM:", 0) == 0) r.peak_mb = std::stod(line.substr(6)) / 1024.0;
  }
  return r;
}
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

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

// The bytes a decoded token reads: every weight once, and the KV cache up
// to its position (`kv_per_token` bytes a token; on average the context
// plus half the decode). The decode bound is bandwidth / this.
double decode_read_bytes(uint64_t weights, double kv_per_token, double context, double decode) {
  return static_cast<double>(weights) + kv_per_token * (context + decode / 2.0);
}

struct RunStats {
  double load_s = 0, prefill_tps = 0, decode_tps = 0;
  uint64_t bytes_per_token = 0;
  double kv_mb = 0, kv_bytes_per_token = 0;
  const char* kv = "";
  // Resident memory: before the load, after it (and its peak during it),
  // after prefill and decode (and the peak over the whole run).
  double rss_before_mb = 0, rss_loaded_mb = 0, peak_load_mb = 0, rss_after_mb = 0, peak_mb = 0;
};

// Loads `path`, prefills `prompt_len` random tokens and decodes `decode_len`
// greedily.
RunStats run_model(const std::string& path, int threads, int prompt_len, int decode_len, uint32_t vocab) {
  RunStats r;
  reset_peak_rss();
  r.rss_before_mb = read_rss().now_mb;
  auto t = clock_type::now();
  auto model = Model::open(path, {WeightMode::Int8, threads, kv_type});
  r.load_s = seconds_since(t);
  Rss loaded = read_rss();
  r.rss_loaded_mb = loaded.now_mb;
  r.peak_load_mb = loaded.peak_mb;
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
  r.kv_bytes_per_token = static_cast<double>(s.kv_bytes_per_token());
  r.kv = kv_type_name(s.kv_type());
  Rss after = read_rss();
  r.rss_after_mb = after.now_mb;
  r.peak_mb = after.peak_mb;
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

// Decode alone at each depth, without the long prefill: the cache is filled
// with copies of one 512-token prefill's keys and values (Session::load_kv),
// so a 16K row takes seconds, not minutes. The keys repeat every 512 slots,
// which changes nothing a decode step reads or computes. Decode tokens/s
// against the same bound as the long-context rows (weights + the cache so far
// read once per token, at the best streaming read this mode has measured).
// What the engine's thread team (engine/thread_team.h) did between two
// counter readings, over `tokens` decoded tokens.
std::string team_json(const ThreadTeam::Counters& a, const ThreadTeam::Counters& b, int tokens) {
  const double chunks = static_cast<double>(b.chunks - a.chunks);
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "\"team\":{\"loops\":\"%s\",\"spin_us\":%d,\"loops_per_token\":%.1f,\"worker_chunk_share\":%.3f,"
                "\"ran_alone\":%lld,\"contended\":%lld}",
                ThreadTeam::openmp_instead() ? "openmp" : "team", ThreadTeam::spin_microseconds(),
                static_cast<double>(b.loops - a.loops) / std::max(1, tokens),
                chunks > 0 ? static_cast<double>(b.worker_chunks - a.worker_chunks) / chunks : 0.0,
                static_cast<long long>(b.alone - a.alone), static_cast<long long>(b.contended - a.contended));
  return buf;
}

// Empties `s` and fills its cache to `depth` slots with copies of `block`,
// the saved cache of one `chunk`-token prefill in s's cache type.
void fill_to_depth(const Model& model, Session& s, const std::vector<uint8_t>& block, int chunk, int depth) {
  s.truncate(0);
  for (int at = 0; at < depth; at += chunk) {
    const int count = std::min(chunk, depth - at);
    if (count == chunk) {
      s.load_kv(static_cast<size_t>(at), static_cast<size_t>(count), block);
    } else {  // a shorter run's bytes are not a prefix of the block's (per layer and head)
      Session tmp(model, static_cast<size_t>(chunk), s.kv_type());
      std::vector<uint8_t> part;
      tmp.load_kv(0, static_cast<size_t>(chunk), block);
      tmp.save_kv(0, static_cast<size_t>(count), part);
      s.load_kv(static_cast<size_t>(at), static_cast<size_t>(count), part);
    }
  }
}

void decode_at_rows(const std::string& path, const std::vector<int>& depths, int threads, int decode,
                    int read_ahead) {
  omp_set_num_threads(threads);
  auto model = Model::open(path, {WeightMode::Int8, threads, kv_type});
  // The bound: the best streaming read seen, five passes first and one
  // after every pair of rounds (the VM's bandwidth moves while it decodes,
  // and a bound read only before and after could miss a fast minute).
  StreamProbe probe(threads);
  double last_pass = 0;
  for (int rep = 0; rep < 5; ++rep) last_pass = probe.pass();
  const int chunk = 512;
  const int deepest = *std::max_element(depths.begin(), depths.end());
  Session s(*model, static_cast<size_t>(deepest + decode + 1));
  std::mt19937 rng(9);
  std::vector<int32_t> prompt(static_cast<size_t>(chunk));
  for (auto& x : prompt) x = static_cast<int32_t>(rng() % 150000);
  std::vector<float> logits = s.evaluate({prompt, {}, {}});
  const auto first_token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  std::vector<uint8_t> block;
  s.save_kv(0, static_cast<size_t>(chunk), block);
  const int engine_default = attention_read_ahead();
  std::printf("{\"decode_at\":[");
  bool first = true;
  for (int depth : depths) {
    fill_to_depth(*model, s, block, chunk, depth);
    // Rounds of 8 tokens alternate between decode attention's read-ahead
    // of the next weights (attention.h ReadAhead, --read-ahead lines per
    // row) and none, so both see the same load; decode_tokens_per_s is the
    // engine's default's.
    int32_t next = first_token;
    const ThreadTeam::Counters team0 = ThreadTeam::shared().counters();
    double secs[2] = {0, 0};
    int tokens[2] = {0, 0};
    std::vector<double> round_ms[2];
    const double bytes_per_token =
        decode_read_bytes(model->bytes_per_token(), s.kv_bytes_per_token(), depth + decode / 2, 0);
    RoundRatios paired[2] = {RoundRatios(last_pass), RoundRatios(last_pass)};
    for (int i = 0, round = 0; i < decode; ++round) {
      const int with = round % 2 == 0 ? 1 : 0, n = std::min(8, decode - i);
      set_attention_read_ahead(with ? read_ahead : 0);
      const auto t = clock_type::now();
      for (int j = 0; j < n; ++j, ++i) {
        logits = s.evaluate({{next}, {}, {}});
        next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      }
      const double e = seconds_since(t);
      secs[with] += e;
      tokens[with] += n;
      round_ms[with].push_back(e * 1e3 / n);
      paired[with].round(n / e, bytes_per_token);
      last_pass = probe.pass();
      for (RoundRatios& r : paired) r.probed(last_pass);
    }
    set_attention_read_ahead(engine_default);
    auto median = [](std::vector<double> v) {
      if (v.empty()) return 0.0;
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    const int as_run = engine_default == read_ahead ? 1 : 0;
    const double decode_s = secs[as_run] * decode / std::max(1, tokens[as_run]);
    const double bw = probe.best();
    const double read_bytes = decode_read_bytes(model->bytes_per_token(), s.kv_bytes_per_token(), depth, decode);
    const double kv_read = read_bytes - static_cast<double>(model->bytes_per_token());
    const double bound_tps = bw * 1e9 / read_bytes, decode_tps = decode / decode_s;
    std::printf("%s\n  {\"threads\":%d,\"depth\":%d,\"decode_tokens\":%d,\"decode_tokens_per_s\":%.2f,"
                "\"ms_per_token\":%.2f,\"kv\":\"%s\",\"kv_read_mb_per_token\":%.1f,"
                "\"weights_read_mb_per_token\":%.1f,\"stream_read_gb_per_s\":%.2f,\"stream_read_method\":\"%s\","
                "\"huge_pages_mb\":%.1f,\"decode_bound_tokens_per_s\":%.2f,\"decode_vs_bound\":%.3f,\"attention\":\"%s\","
                "\"engine_read_ahead\":%d,\"with_read_ahead\":{\"lines_per_row\":%d,\"decode_tokens_per_s\":%.2f,"
                "\"median_round_ms\":%.2f,\"decode_vs_bound\":%.3f,\"median_round_vs_its_bound\":%.3f},"
                "\"without_read_ahead\":{\"decode_tokens_per_s\":%.2f,\"median_round_ms\":%.2f,"
                "\"decode_vs_bound\":%.3f,\"median_round_vs_its_bound\":%.3f},%s}",
                first ? "" : ",", threads, depth, decode, decode_tps, 1e3 / decode_tps, kv_type_name(s.kv_type()),
                kv_read / 1048576.0, model->bytes_per_token() / 1048576.0, bw, stream_method().c_str(),
                (process_huge_page_bytes() - probe.huge_bytes()) / 1048576.0, bound_tps, decode_tps / bound_tps,
                attention_kernels_in_use(s.kv_type(), model->hparams().head_dim, default_attention_kernels()).c_str(),
                engine_default, read_ahead, tokens[1] / std::max(1e-9, secs[1]), median(round_ms[1]),
                tokens[1] / std::max(1e-9, secs[1]) / bound_tps, paired[1].median(),
                tokens[0] / std::max(1e-9, secs[0]), median(round_ms[0]), tokens[0] / std::max(1e-9, secs[0]) / bound_tps,
                paired[0].median(),
                team_json(team0, ThreadTeam::shared().counters(), decode).c_str());
    std::fflush(stdout);
    first = false;
  }
  std::printf("\n]}\n");
}

// What one session of a --compare-kv or --compare-gemv run decodes with.
struct DecodeVariant {
  KvType kv = KvType::Auto;
  GemvSchedule gemv = kDefaultGemvSchedule;
};

// --decode-at with --compare-kv or --compare-gemv: one session per variant
// (a KV cache type, or a way of splitting the int8 products among the
// threads), each filled to the depth as decode_at_rows fills its one,
// decoding in rounds of 8 tokens that alternate between the variants, so
// every variant sees the same machine (this shared VM's bandwidth moves
// between 35 and 63 GB/s from one minute to the next). Attention's
// read-ahead stays at the engine's default.
void decode_compare_rows(const std::string& path, const std::vector<int>& depths, int threads, int decode,
                         const std::vector<DecodeVariant>& variants, const char* key) {
  omp_set_num_threads(threads);
  auto model = Model::open(path, {WeightMode::Int8, threads, KvType::Auto});
  // The bound: the best streaming read seen, five passes first and one after
  // every round of all variants (as decode_at_rows).
  StreamProbe probe(threads);
  double last_pass = 0;
  for (int rep = 0; rep < 5; ++rep) last_pass = probe.pass();
  const int chunk = 512;
  const int deepest = *std::max_element(depths.begin(), depths.end());
  std::mt19937 rng(9);
  std::vector<int32_t> prompt(static_cast<size_t>(chunk));
  for (auto& x : prompt) x = static_cast<int32_t>(rng() % 150000);
  struct Run {
    DecodeVariant variant;
    std::unique_ptr<Session> s;
    std::vector<uint8_t> block;
    int32_t first = 0, next = 0;
    double secs = 0;
    std::vector<double> round_ms;
    RoundRatios paired{0};
  };
  std::vector<Run> runs;
  for (const DecodeVariant& v : variants) {
    Run r;
    r.variant = v;
    set_gemv_schedule(v.gemv);
    r.s = std::make_unique<Session>(*model, static_cast<size_t>(deepest + decode + 1), v.kv);
    std::vector<float> logits = r.s->evaluate({prompt, {}, {}});
    r.first = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    r.s->save_kv(0, static_cast<size_t>(chunk), r.block);
    runs.push_back(std::move(r));
  }
  std::printf("{\"%s\":[", key);
  bool first_row = true;
  for (int depth : depths) {
    for (Run& r : runs) {
      set_gemv_schedule(r.variant.gemv);
      fill_to_depth(*model, *r.s, r.block, chunk, depth);
      r.next = r.first;
      r.secs = 0;
      r.round_ms.clear();
      r.paired = RoundRatios(last_pass);
    }
    for (int i = 0; i < decode; i += 8) {
      const int n = std::min(8, decode - i);
      for (Run& r : runs) {
        set_gemv_schedule(r.variant.gemv);
        const auto t = clock_type::now();
        for (int j = 0; j < n; ++j) {
          std::vector<float> logits = r.s->evaluate({{r.next}, {}, {}});
          r.next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        }
        const double e = seconds_since(t);
        r.secs += e;
        r.round_ms.push_back(e * 1e3 / n);
        r.paired.round(n / e, decode_read_bytes(model->bytes_per_token(), r.s->kv_bytes_per_token(),
                                                 depth + decode / 2, 0));
      }
      last_pass = probe.pass();
      for (Run& r : runs) r.paired.probed(last_pass);
    }
    const double bw = probe.best();
    const double first_tps = decode / runs[0].secs;
    for (Run& r : runs) {
      std::sort(r.round_ms.begin(), r.round_ms.end());
      const double read_bytes = decode_read_bytes(model->bytes_per_token(), r.s->kv_bytes_per_token(), depth, decode);
      const double bound_tps = bw * 1e9 / read_bytes, tps = decode / r.secs;
      std::printf("%s\n  {\"threads\":%d,\"depth\":%d,\"decode_tokens\":%d,\"kv\":\"%s\",\"attention\":\"%s\","
                  "\"gemv_chunk_kb\":%lld,\"gemv_chunks_per_thread\":%d,\"gemv_prefetch_kb\":%lld,"
                  "\"decode_tokens_per_s\":%.2f,\"median_round_ms\":%.2f,\"vs_first_type\":%.3f,"
                  "\"kv_read_mb_per_token\":%.1f,\"stream_read_gb_per_s\":%.2f,\"decode_bound_tokens_per_s\":%.2f,"
                  "\"decode_vs_bound\":%.3f,\"median_round_vs_its_bound\":%.3f}",
                  first_row ? "" : ",", threads, depth, decode, kv_type_name(r.s->kv_type()),
                  attention_kernels_in_use(r.s->kv_type(), model->hparams().head_dim, default_attention_kernels())
                      .c_str(),
                  static_cast<long long>(r.variant.gemv.max_bytes >> 10), r.variant.gemv.per_thread,
                  static_cast<long long>(r.variant.gemv.prefetch_bytes >> 10), tps,
                  r.round_ms[r.round_ms.size() / 2], tps / first_tps,
                  (read_bytes - static_cast<double>(model->bytes_per_token())) / 1048576.0, bw, bound_tps,
                  tps / bound_tps, r.paired.median());
      first_row = false;
    }
    std::fflush(stdout);
  }
  set_gemv_schedule(kDefaultGemvSchedule);
  std::printf("\n]}\n");
}

}  // namespace

int main(int argc, char** argv) {
  astfill::support::prefer_passive_openmp_wait(argv);  // as astfill itself runs
  std::string dir = (std::filesystem::temp_directory_path() / "astfill-bench").string();
  std::vector<int> thread_counts = {1, 2};
  int prompt_len = 512, decode_len = 128;
  std::vector<int> contexts = {1024, 4096, 8192};
  bool long_run = false;
  std::vector<int> attention_depths, decode_depths;
  int read_ahead_lines = 2;
  std::vector<KvType> compare_kv;
  std::vector<GemvSchedule> compare_gemv;
  astfill::bench::ArgParser args(
      "bench_engine",
      "The engine's speed on a random-weight model with Qwen2.5-Coder-0.5B's shapes in Q8_0\n"
      "(written once to --model-dir), next to this machine's read bandwidth and oneDNN's int8\n"
      "GEMM at the model's shapes, and its resident memory against the model file. Prints one\n"
      "JSON object.");
  using astfill::bench::count_list_value;
  using astfill::bench::count_value;
  args.option("--model-dir", "DIR", "where the random model is kept (default: $TMPDIR/astfill-bench)",
              astfill::bench::text_value(dir));
  args.option("--threads", "N,N", "thread counts to measure (default 1,2)",
              count_list_value(thread_counts, "thread count", 1, 256));
  args.option("--prompt", "N", "prompt tokens (default 512)", count_value(prompt_len, "token count", 1, 32768));
  args.option("--decode", "N", "generated tokens (default 128)", count_value(decode_len, "token count", 1, 32768));
  args.option("--contexts", "N,N", "long-context rows: prompt lengths (default 1024,4096,8192)",
              count_list_value(contexts, "context length", 1, 32736));
  args.option("--kv", "auto|bf16|int8|f32", "the sessions' KV cache type (default auto: the engine's choice)",
              [](const std::string& v) -> std::optional<std::string> {
                auto t = parse_kv_type(v);
                if (!t) return "'" + v + "' is not one of auto, bf16, int8, f32";
                kv_type = *t;
                return std::nullopt;
              });
  args.option("--attention", "N,N",
              "only decode attention at these depths (24 layers of the 0.5B shapes, both kernel choices), then exit",
              count_list_value(attention_depths, "depth", 1, 262144));
  args.option("--decode-at", "N,N",
              "only decode at these depths, the cache filled with copies of a 512-token prefill (no long "
              "prefill), on the last --threads count, --decode tokens each (default 128), then exit",
              count_list_value(decode_depths, "depth", 1, 262144));
  args.option("--read-ahead", "N",
              "--decode-at: lines per key row decode attention pulls of the next weights in the rounds that "
              "alternate with none (default 2)",
              count_value(read_ahead_lines, "line count", 1, 64));
  args.option("--compare-kv", "T,T",
              "--decode-at: one session per KV cache type (bf16, int8, f32), decoding in alternating rounds of 8 "
              "tokens so every type sees the same machine",
              [&](const std::string& v) -> std::optional<std::string> {
                compare_kv.clear();
                for (const std::string& name : astfill::bench::split_list(v)) {
                  auto t = parse_kv_type(name);
                  if (!t || *t == KvType::Auto) return "'" + name + "' is not one of bf16, int8, f32";
                  compare_kv.push_back(*t);
                }
                return std::nullopt;
              });
  args.option("--compare-gemv", "KB:N:P,KB:N:P",
              "--decode-at: one session per way of running the int8 products (chunks of at most KB of weights, "
              "about N chunks a thread, each thread prefetching P KB ahead into L2, 0 for none; the engine's is "
              "2048:2:4), alternating rounds of 8 tokens",
              [&](const std::string& v) -> std::optional<std::string> {
                compare_gemv.clear();
                for (const std::string& item : astfill::bench::split_list(v)) {
                  const std::vector<std::string> f = astfill::bench::split_list(item, ':');
                  unsigned long long kb = 0, n = 0, pf = 0;
                  if (f.size() != 3) return "'" + item + "' is not KB:N:P";
                  if (auto e = astfill::parse_uint(f[0], "chunk KB", 4, 1 << 20, kb)) return e;
                  if (auto e = astfill::parse_uint(f[1], "chunks a thread", 1, 64, n)) return e;
                  if (auto e = astfill::parse_uint(f[2], "prefetch KB", 0, 1024, pf)) return e;
                  compare_gemv.push_back({static_cast<int64_t>(kb << 10), static_cast<int>(n),
                                          static_cast<int64_t>(pf << 10)});
                }
                return std::nullopt;
              });
  args.flag("--long", "add the 16384- and 32768-token rows (their prefill takes minutes)", [&] { long_run = true; });
  astfill::bench::parse_args_or_exit(args, "bench_engine", argc, argv);
  if (!attention_depths.empty()) {
    decode_attention_rows(attention_depths, thread_counts, kv_type);
    return 0;
  }
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/qwen2.5-0.5b-shapes.q8_0.gguf";
  RandomModelSpec spec = astfill::bench::qwen_05b_shapes_spec();
  spec.weight_scale = 0.02f;
  double write_s = 0;
  if (!std::filesystem::exists(path)) {
    auto t = clock_type::now();
    write_random_model(path, spec);
    write_s = seconds_since(t);
  }
  if (!decode_depths.empty() && (!compare_kv.empty() || !compare_gemv.empty())) {
    std::vector<DecodeVariant> variants;
    for (KvType t : compare_kv) variants.push_back({t, kDefaultGemvSchedule});
    for (GemvSchedule g : compare_gemv) variants.push_back({kv_type, g});
    decode_compare_rows(path, decode_depths, thread_counts.back(), decode_len, variants,
                        compare_gemv.empty() ? "decode_compare_kv" : "decode_compare");
    return 0;
  }
  if (!decode_depths.empty()) {
    decode_at_rows(path, decode_depths, thread_counts.back(), decode_len, read_ahead_lines);
    return 0;
  }
  if (long_run) {
    for (int c : {16384, 32768})
      if (std::find(contexts.begin(), contexts.end(), c) == contexts.end()) contexts.push_back(c);
  }

  std::printf("{\"model\":{\"path\":\"%s\",\"shapes\":\"hidden 896, 24 layers, 14/2 heads, head_dim 64, ffn 4864, vocab 151936, tied\","
              "\"file_bytes\":%ju,\"write_seconds\":%.2f},\n \"runs\":[",
              path.c_str(), static_cast<uintmax_t>(std::filesystem::file_size(path)), write_s);
  bool first = true;
  std::map<int, double> bandwidth;  // GB/s by thread count
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
    layer_ops_per_token *= spec.hp.block_count;
    double prefill_tps = run.prefill_tps, decode_tps = run.decode_tps;
    const double read_bytes = decode_read_bytes(run.bytes_per_token, run.kv_bytes_per_token, prompt_len, decode_len);
    double bound_tps = bw * 1e9 / read_bytes;
    double prefill_gops = prefill_tps * layer_ops_per_token / 1e9;
    const double file_mb = static_cast<double>(std::filesystem::file_size(path)) / 1048576.0;
    std::printf("%s\n  {\"threads\":%d,\"stream_read_gb_per_s\":%.2f,\"stream_read_method\":\"%s\","
                "\"onednn_int8_gemm_gops\":%.1f,"
                "\"load_seconds\":%.2f,\"prefill_tokens\":%d,\"prefill_tokens_per_s\":%.1f,\"prefill_gops\":%.1f,"
                "\"prefill_vs_onednn\":%.3f,\"decode_tokens\":%d,\"decode_tokens_per_s\":%.2f,"
                "\"bytes_per_token\":%ju,\"read_bytes_per_decoded_token\":%.0f,"
                "\"decode_bound_tokens_per_s\":%.2f,\"decode_vs_bound\":%.3f,\"kv\":\"%s\",\"kv_cache_mb\":%.1f,"
                "\"memory\":{\"file_mb\":%.1f,\"rss_before_load_mb\":%.1f,\"rss_after_load_mb\":%.1f,"
                "\"peak_rss_load_mb\":%.1f,\"rss_after_decode_mb\":%.1f,\"peak_rss_mb\":%.1f,"
                "\"steady_vs_file_plus_kv\":%.3f,\"peak_vs_file_plus_kv\":%.3f,"
                "\"target\":\"steady <= 1.15, peak <= 1.3\"}}",
                first ? "" : ",", threads, bw, stream_method().c_str(), onednn_gops, run.load_s, prompt_len, prefill_tps,
                prefill_gops, prefill_gops / onednn_gops, decode_len, decode_tps,
                static_cast<uintmax_t>(run.bytes_per_token), read_bytes, bound_tps, decode_tps / bound_tps, run.kv,
                run.kv_mb, file_mb, run.rss_before_mb, run.rss_loaded_mb, run.peak_load_mb,
                run.rss_after_mb, run.peak_mb, run.rss_after_mb / (file_mb + run.kv_mb),
                run.peak_mb / (file_mb + run.kv_mb));
    std::fflush(stdout);
    first = false;
    bandwidth[threads] = bw;
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
  // chunks (as generation does), then decode at that depth, against the
  // bound of reading every weight and the cache so far once per token.
  std::printf("\n],\n \"long_context\":[");
  first = true;
  {
    const int threads = thread_counts.back();
    omp_set_num_threads(threads);
    auto model = Model::open(path, {WeightMode::Int8, threads, kv_type});
    double bw = bandwidth[threads];
    for (int ctx : contexts) {
      std::mt19937 rng(9);
      std::vector<int32_t> prompt(static_cast<size_t>(ctx));
      for (auto& x : prompt) x = static_cast<int32_t>(rng() % 150000);
      const int decode = 32;
      reset_peak_rss();
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
      Rss rss = read_rss();
      // Measured again after each row (its prefill takes long enough for
      // the machine's load to change): the bound uses the best this run has
      // seen on these threads, so decode_vs_bound stays an upper estimate.
      bw = std::max(bw, stream_bandwidth(threads));
      const double read_bytes = decode_read_bytes(model->bytes_per_token(), s.kv_bytes_per_token(), ctx, decode);
      const double kv_read = read_bytes - static_cast<double>(model->bytes_per_token());
      const double bound_tps = bw * 1e9 / read_bytes, decode_tps = decode / decode_s;
      std::printf("%s\n  {\"threads\":%d,\"context\":%d,\"prefill_seconds\":%.2f,\"prefill_tokens_per_s\":%.1f,"
                  "\"decode_tokens\":%d,\"decode_tokens_per_s\":%.2f,\"kv\":\"%s\",\"kv_cache_mb\":%.1f,"
                  "\"kv_read_mb_per_token\":%.1f,\"weights_read_mb_per_token\":%.1f,\"stream_read_gb_per_s\":%.2f,"
                  "\"decode_bound_tokens_per_s\":%.2f,\"decode_vs_bound\":%.3f,\"rss_mb\":%.1f,\"peak_rss_mb\":%.1f,"
                  "\"attention\":\"%s\"}",
                  first ? "" : ",", threads, ctx, prefill_s, ctx / prefill_s, decode, decode_tps,
                  kv_type_name(s.kv_type()), s.kv_bytes() / 1048576.0, kv_read / 1048576.0, model->bytes_per_token() / 1048576.0, bw, bound_tps,
                  decode_tps / bound_tps, rss.now_mb, rss.peak_mb,
                  attention_kernels_in_use(s.kv_type(), spec.hp.head_dim, default_attention_kernels()).c_str());
      std::fflush(stdout);
      first = false;
    }
  }
  std::printf("\n]}\n");
  return 0;
}
