// Prefill with prefix reuse (engine/generate.h), the path generation and
// API-suggestion scoring share, and log-probabilities (engine/logprobs.h).
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

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
