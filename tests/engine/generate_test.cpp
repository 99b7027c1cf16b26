// Prefill with prefix reuse (engine/generate.h), the path generation and
// API-suggestion scoring share, and log-probabilities (engine/logprobs.h).
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "engine/generate.h"
#include "engine/logprobs.h"
#include "temp_dir.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::engine;
using astfill::testing::TempDir;

TEST_CASE("log_probability is log softmax at the token", "[logprobs]") {
  std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  CHECK(log_probability(logits, 0) == Approx(1.0 - std::log(z)).epsilon(1e-12));
  CHECK(log_probability(logits, 2) == Approx(3.0 - std::log(z)).epsilon(1e-12));
  // Shifting every logit changes nothing; huge logits do not overflow.
  std::vector<float> shifted = {1001.0f, 1002.0f, 1003.0f};
  CHECK(log_probability(shifted, 1) == Approx(log_probability(logits, 1)).epsilon(1e-6));
  // A masked token has probability 0; the others share all of it.
  std::vector<float> masked = {0.0f, -std::numeric_limits<float>::infinity(), 0.0f};
  CHECK(log_probability(masked, 1) == -std::numeric_limits<double>::infinity());
  CHECK(log_probability(masked, 0) == Approx(std::log(0.5)));
  // The probabilities sum to one.
  std::vector<float> row = {0.3f, -2.0f, 5.5f, 0.0f, 1.25f};
  double total = 0;
  for (int32_t t = 0; t < 5; ++t) total += std::exp(log_probability(row, t));
  CHECK(total == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("prefill reuses the shared prefix and gives the logits a fresh session gives", "[generate]") {
  TempDir dir;
  write_random_model(dir.file("m.gguf"), tiny_spec("qwen3"));
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 2});
  std::vector<int32_t> a = {5, 77, 300, 12, 9, 41, 100};
  std::vector<int32_t> b = {5, 77, 300, 12, 60, 61};

  Session fresh(*model);
  auto want_b = fresh.evaluate({b, {}, {}});

  Session s(*model);
  std::vector<int32_t> history;
  auto first = prefill(s, history, a, 3);  // three chunks of at most 3
  CHECK_FALSE(first.cancelled);
  CHECK(first.reused_tokens == 0);
  CHECK(history == a);
  CHECK(s.length() == a.size());
  auto second = prefill(s, history, b, 512);
  CHECK(second.reused_tokens == 4);  // 5 77 300 12
  CHECK(history == b);
  CHECK(s.length() == b.size());
  CHECK(second.logits == want_b);
  // The same prompt again: all but its last token reused, that one evaluated
  // again for its logits.
  auto again = prefill(s, history, b, 512);
  CHECK(again.reused_tokens == b.size() - 1);
  CHECK(again.logits == want_b);

  // Cancelled: no logits, and the cache holds what history says.
  astfill::CancellationSource cancel;
  cancel.cancel(astfill::CancelReason::ClientRequest);
  auto stopped = prefill(s, history, a, 512, cancel.token());
  CHECK(stopped.cancelled);
  CHECK(stopped.logits.empty());
  CHECK(history == std::vector<int32_t>(a.begin(), a.begin() + 4));
  CHECK(s.length() == history.size());
}

TEST_CASE("a prefill cut by its deadline ends within one chunk, keeps what ran, and the next call resumes there",
          "[generate][deadline]") {
  TempDir dir;
  RandomModelSpec spec = tiny_spec("qwen2");
  spec.weight_scale = 0.2f;
  write_random_model(dir.file("m.gguf"), spec);
  // int8: each row's activations are quantised alone, so chunking changes no logit.
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::Int8, 1});
  std::vector<int32_t> prompt(160);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>((i * 37 + 11) % 500);
  constexpr size_t kChunk = 8;

  // Every pass takes at least 25 ms (a hook that sleeps), so the 20 passes of
  // the whole prompt take at least 500 ms; the deadline is 100 ms away. Each
  // pass's start is noted: none may start after the deadline, which bounds
  // the answer's time by the deadline plus one pass.
  using clock = std::chrono::steady_clock;
  std::vector<clock::time_point> pass_starts;
  Session s(*model, 1024);
  s.set_tensor_hook([&](const TensorDump& t) {
    if (t.name != "inp_embd") return;
    pass_starts.push_back(clock::now());
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  });
  std::vector<int32_t> history;
  Sampler greedy;
  GenerateOptions options;
  options.max_tokens = 4;
  options.prefill_chunk = kChunk;
  options.deadline = clock::now() + std::chrono::milliseconds(100);
  std::vector<int32_t> written;
  auto collect = [&](int32_t token, float) {
    written.push_back(token);
    return true;
  };
  GenerateStats cut = generate(s, history, prompt, options, greedy, collect);
  const auto returned = clock::now();
  CHECK(cut.timed_out);
  CHECK_FALSE(cut.cancelled);
  CHECK(cut.generated_tokens == 0);
  CHECK(written.empty());
  REQUIRE(!pass_starts.empty());
  for (auto start : pass_starts) CHECK(start < options.deadline);
  CHECK(returned - pass_starts.back() >= std::chrono::milliseconds(25));  // it ended with the pass that ran
  // The passes that ran are kept, in whole chunks, and history says so.
  CHECK(cut.prefilled_tokens == pass_starts.size() * kChunk);
  CHECK(cut.prefilled_tokens < prompt.size());
  CHECK(history == std::vector<int32_t>(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(cut.prefilled_tokens)));
  CHECK(s.length() == history.size());

  // The same prompt again, in time: only the rest is prefilled, and the
  // tokens are those of a fresh session's run.
  s.set_tensor_hook({});
  options.deadline = {};
  written.clear();
  GenerateStats resumed = generate(s, history, prompt, options, greedy, collect);
  CHECK_FALSE(resumed.timed_out);
  CHECK(resumed.reused_tokens == cut.prefilled_tokens);
  CHECK(resumed.prefilled_tokens == prompt.size() - cut.prefilled_tokens);
  CHECK(resumed.generated_tokens == 4);

  Session fresh(*model, 1024);
  std::vector<int32_t> fresh_history, fresh_written;
  generate(fresh, fresh_history, prompt, options, greedy, [&](int32_t token, float) {
    fresh_written.push_back(token);
    return true;
  });
  CHECK(written == fresh_written);

  // A deadline already past: nothing runs, nothing is lost.
  const size_t held = s.length();
  options.deadline = clock::now() - std::chrono::milliseconds(1);
  std::vector<int32_t> longer = prompt;
  longer.insert(longer.end(), {1, 2, 3, 4, 5, 6, 7, 8, 9});
  GenerateStats late = generate(s, history, longer, options, greedy, collect);
  CHECK(late.timed_out);
  CHECK(late.prefilled_tokens == 0);
  CHECK(late.generated_tokens == 0);
  CHECK(s.length() >= prompt.size());  // the prompt it shares stays; the rest never ran
  CHECK(s.length() <= held);
  CHECK(history.size() == s.length());
}
