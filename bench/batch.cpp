// bench_batch: continuous batching (engine/batcher.h) on a random-weight
// model with Qwen2.5-Coder-0.5B's shapes in Q8_0. Prints one JSON object:
//   decode: tokens/s of N sequences decoding at once through one batcher,
//           each from its own thread, against one sequence alone (no
//           batcher) in the same run; the target is 4 sequences at
//           >= 2.5x the tokens/s of one.
//   focused: latency of the focused request (re-prefill the last tokens of
//           its context, as after a keystroke, then decode) alone and while
//           background fills (prefill + decode, in a loop) run beside it;
//           the target is a p95 no worse than 1.5x alone.
//
//           --ride-along N,N measures it under each cap on background prefill
//           rows per step beside the focused request (BatcherOptions::
//           ride_along_rows; 0: none), one after another.
//   prefill: tokens/s of one sequence's prefill of --context tokens through
//           a batcher alone (chunks of 128), cut into pieces of each of
//           --pieces rows (the best of 3 each): what smaller pieces cost.
//
//   bench_batch [--model-dir DIR] [--threads 2] [--sequences 1,2,4,8] [--decode 64]
//               [--context 512] [--keystroke 32] [--answer 32] [--repeats 12] [--background 3]
//               [--ride-along N,N] [--pieces N,N]
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <latch>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/args.h"
#include "bench/random_model.h"
#include "engine/batcher.h"
#include "engine/model.h"
#include "support/openmp_env.h"

using namespace astfill::engine;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

int32_t argmax(const std::vector<float>& logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

std::vector<int32_t> random_tokens(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = static_cast<int32_t>(rng() % 150000);
  return t;
}

// Prefill in chunks of 512 (as engine::prefill does), greedy decode `n`.
std::vector<float> fill(Session& s, const std::vector<int32_t>& prompt) {
  std::vector<float> logits;
  for (size_t at = 0; at < prompt.size(); at += 512)
    logits = s.evaluate({{prompt.begin() + static_cast<std::ptrdiff_t>(at),
                          prompt.begin() + static_cast<std::ptrdiff_t>(std::min(prompt.size(), at + 512))},
                         {},
                         {}});
  return logits;
}

void decode(Session& s, std::vector<float> logits, int n) {
  for (int i = 0; i < n; ++i) logits = s.evaluate({{argmax(logits)}, {}, {}});
}

// Runs `f` on a thread of its own, as every measured sequence runs (the
// batched ones on their threads): the same kind of thread for every figure.
template <typename F>
double on_thread(F f) {
  double r = 0;
  std::thread t([&] { r = f(); });
  t.join();
  return r;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  astfill::support::prefer_passive_openmp_wait(argv);  // as astfill itself runs
  std::string dir = (std::filesystem::temp_directory_path() / "astfill-bench").string();
  int threads = 2, decode_len = 64, context = 512, keystroke = 32, answer = 32, repeats = 12, background = 3;
  std::vector<int> sequences = {1, 2, 4, 8};
  std::vector<int> ride_alongs = {static_cast<int>(BatcherOptions{}.ride_along_rows)};
  std::vector<int> pieces = {static_cast<int>(BatcherOptions{}.piece_rows), 32};
  astfill::ArgParser args(
      "bench_batch",
      "Continuous batching on a random-weight model with Qwen2.5-Coder-0.5B's shapes in Q8_0:\n"
      "decode tokens/s of N sequences at once against one alone, and the focused request's\n"
      "latency alone and beside background fills. Prints one JSON object.");
  using astfill::bench::count_list_value;
  using astfill::bench::count_value;
  args.option("--model-dir", "DIR", "where the random model is kept (default: $TMPDIR/astfill-bench)",
              astfill::bench::text_value(dir));
  args.option("--threads", "N", "engine threads (default 2)", count_value(threads, "thread count", 1, 256));
  args.option("--sequences", "N,N", "concurrent sequences to measure (default 1,2,4,8)",
              count_list_value(sequences, "sequence count", 1, 64));
  args.option("--decode", "N", "tokens each sequence decodes (default 64)", count_value(decode_len, "token count", 1, 4096));
  args.option("--context", "N", "prompt tokens of every sequence (default 512)", count_value(context, "token count", 1, 8192));
  args.option("--keystroke", "N", "tokens the focused request re-prefills (default 32)",
              count_value(keystroke, "token count", 1, 8192));
  args.option("--answer", "N", "tokens the focused request decodes (default 32)", count_value(answer, "token count", 1, 4096));
  args.option("--repeats", "N", "focused requests per measurement (default 12)", count_value(repeats, "count", 1, 1000));
  args.option("--background", "N", "background fills beside the focused request (default 3)",
              count_value(background, "count", 0, 64));
  args.option("--ride-along", "N,N",
              "background prefill rows per step beside the focused request, in pieces of as many\n"
              "rows (0: none; default: the batcher's default), one measurement each",
              count_list_value(ride_alongs, "ride-along row count", 0, 512));
  args.option("--pieces", "N,N",
              "piece rows (BatcherOptions::piece_rows) to measure prefill with; the first is the\n"
              "focused measurement's (default: the batcher's default, whole chunks; then 32)",
              count_list_value(pieces, "piece rows", 1, 512));
  astfill::bench::parse_args_or_exit(args, "bench_batch", argc, argv);
  if (keystroke > context) keystroke = context;

  std::filesystem::create_directories(dir);
  const std::string path = dir + "/qwen2.5-0.5b-shapes.q8_0.gguf";
  if (!std::filesystem::exists(path)) write_random_model(path, astfill::bench::qwen_05b_shapes_spec());
  auto model = Model::open(path, {WeightMode::Int8, threads});
  const size_t capacity = static_cast<size_t>(context + decode_len + answer + 64);

  // Decode throughput. The machine may be shared: one sequence alone (no
  // batcher) is measured right before every batched row, and each row's
  // ratio is against that neighbour.
  Session single(*model, capacity);
  const std::vector<float> single_logits = fill(single, random_tokens(static_cast<size_t>(context), 1));
  auto alone_tps = [&] {
    return on_thread([&] {
      single.truncate(static_cast<size_t>(context));
      auto t = clock_type::now();
      decode(single, single_logits, decode_len);
      return decode_len / seconds_since(t);
    });
  };
  alone_tps();  // warm the primitives
  std::printf("{\"model\":\"%s\",\"threads\":%d,\"context\":%d,\n \"decode\":[", path.c_str(), threads, context);
  for (size_t i = 0; i < sequences.size(); ++i) {
    const int n = sequences[i];
    Batcher batcher(*model);
    std::vector<std::unique_ptr<Session>> sessions;
    std::vector<std::vector<float>> logits;
    for (int k = 0; k < n; ++k) {
      sessions.push_back(std::make_unique<Session>(*model, capacity));
      logits.push_back(fill(*sessions.back(), random_tokens(static_cast<size_t>(context), 10 + k)));
      sessions.back()->set_batcher(&batcher);
    }
    const double before = alone_tps();
    std::latch start(n + 1);
    std::vector<std::thread> workers;
    for (int k = 0; k < n; ++k)
      workers.emplace_back([&, k] {
        start.arrive_and_wait();
        decode(*sessions[k], logits[k], decode_len);
      });
    start.arrive_and_wait();
    auto t = clock_type::now();
    for (auto& w : workers) w.join();
    const double secs = seconds_since(t);
    const double tps = n * decode_len / secs;
    const Batcher::Stats st = batcher.stats();
    std::printf("%s\n  {\"sequences\":%d,\"tokens_per_s\":%.2f,\"alone_tokens_per_s\":%.2f,\"vs_alone\":%.2f,"
                "\"rows_per_step\":%.2f}",
                i ? "," : "", n, tps, before, tps / before, st.steps ? double(st.rows) / double(st.steps) : 0.0);
    std::fflush(stdout);
  }
  std::printf("],\n \"prefill\":[");
  {
    const std::vector<int32_t> prompt = random_tokens(static_cast<size_t>(context), 7);
    for (size_t pi = 0; pi < pieces.size(); ++pi) {
      BatcherOptions options;
      options.piece_rows = static_cast<size_t>(pieces[pi]);
      Batcher batcher(*model, options);
      Session s(*model, capacity);
      s.set_batcher(&batcher);
      double best = 1e30;
      for (int r = 0; r < 3; ++r) {
        s.truncate(0);
        const auto t = clock_type::now();
        on_thread([&] {
          fill(s, prompt);
          return 0.0;
        });
        best = std::min(best, seconds_since(t));
      }
      std::printf("%s\n  {\"piece_rows\":%zu,\"tokens_per_s\":%.1f}", pi ? "," : "", batcher.options().piece_rows,
                  context / best);
      std::fflush(stdout);
    }
  }
  std::printf("],\n");

  // The focused request: a keystroke's re-prefill plus the answer, alone and
  // beside `background` sessions that prefill and decode in a loop; once per
  // ride-along cap.
  const std::vector<int32_t> context_tokens = random_tokens(static_cast<size_t>(context), 99);
  std::printf(" \"focused\":[");
  for (size_t ri = 0; ri < ride_alongs.size(); ++ri) {
    BatcherOptions options;
    options.ride_along_rows = static_cast<size_t>(ride_alongs[ri]);
    options.piece_rows = static_cast<size_t>(pieces.front());
    Batcher batcher(*model, options);
    Session focused(*model, capacity);
    focused.set_batcher(&batcher);
    focused.set_focused(true);
    fill(focused, context_tokens);
    auto keystroke_request = [&] {
      return on_thread([&] {
        auto t = clock_type::now();
        focused.truncate(static_cast<size_t>(context - keystroke));
        std::vector<float> logits = focused.evaluate({{context_tokens.end() - keystroke, context_tokens.end()}, {}, {}});
        decode(focused, logits, answer);
        return seconds_since(t);
      });
    };
    std::vector<double> alone, beside;
    keystroke_request();  // warm
    for (int r = 0; r < repeats; ++r) alone.push_back(keystroke_request());
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> background_tokens{0};
    std::vector<std::thread> fills;
    for (int k = 0; k < background; ++k)
      fills.emplace_back([&, k] {
        Session s(*model, capacity);
        s.set_batcher(&batcher);
        for (uint32_t round = 0; !stop; ++round) {
          s.truncate(0);
          std::vector<float> logits = fill(s, random_tokens(static_cast<size_t>(context), 1000 + 97 * k + round));
          background_tokens += static_cast<uint64_t>(context);
          for (int i = 0; i < decode_len && !stop; ++i) {
            logits = s.evaluate({{argmax(logits)}, {}, {}});
            ++background_tokens;
          }
        }
        batcher.forget(&s);
      });
    const Batcher::Stats st0 = batcher.stats();
    auto bt = clock_type::now();
    for (int r = 0; r < repeats; ++r) beside.push_back(keystroke_request());
    const double beside_secs = seconds_since(bt);
    const Batcher::Stats st1 = batcher.stats();
    stop = true;
    for (auto& f : fills) f.join();
    for (int r = 0; r < repeats; ++r) alone.push_back(keystroke_request());  // alone again: the load may have changed
    const double p50a = percentile(alone, 0.5), p95a = percentile(alone, 0.95);
    const double p50b = percentile(beside, 0.5), p95b = percentile(beside, 0.95);
    std::printf("%s\n  {\"ride_along_rows\":%zu,\"piece_rows\":%zu,\"keystroke_tokens\":%d,\"answer_tokens\":%d,"
                "\"repeats\":%d,\"background_fills\":%d,"
                "\"alone_ms\":{\"p50\":%.1f,\"p95\":%.1f},\"beside_ms\":{\"p50\":%.1f,\"p95\":%.1f},"
                "\"p95_vs_alone\":%.2f,\"background_tokens_per_s\":%.1f,\"steps\":%llu,\"ride_along_chunks\":%llu,"
                "\"held_back_chunks\":%llu}",
                ri ? "," : "", batcher.options().ride_along_rows, batcher.options().piece_rows, keystroke, answer, repeats,
                background, p50a * 1e3, p95a * 1e3, p50b * 1e3, p95b * 1e3, p95b / p95a,
                double(background_tokens.load()) / beside_secs, static_cast<unsigned long long>(st1.steps - st0.steps),
                static_cast<unsigned long long>(st1.ride_alongs - st0.ride_alongs),
                static_cast<unsigned long long>(st1.held_back - st0.held_back));
    std::fflush(stdout);
  }
  std::printf("]}\n");
  return 0;
}
