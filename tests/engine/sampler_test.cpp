#include "engine/sampler.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>

using namespace astfill::engine;

namespace {
std::vector<float> logits() { return {1.0f, 3.0f, 2.0f, 0.5f, 2.9f}; }
const float kNegInf = -std::numeric_limits<float>::infinity();
}  // namespace

TEST_CASE("greedy picks the argmax, with its probability", "[sampler]") {
  Sampler s;
  auto l = logits();
  auto c = s.sample(l, {});
  CHECK(c.token == 1);
  double z = 0;
  for (float x : logits()) z += std::exp(x - 3.0);
  CHECK(c.probability == Approx(1.0 / z));
}

TEST_CASE("the logit mask runs first and can forbid anything", "[sampler]") {
  Sampler s;
  s.set_mask([](std::span<float> l) { l[1] = kNegInf; });
  auto l = logits();
  CHECK(s.sample(l, {}).token == 4);
  s.set_mask([](std::span<float> l) { std::fill(l.begin(), l.end(), kNegInf); });
  auto m = logits();
  CHECK(s.sample(m, {}).token == -1);
}

TEST_CASE("the repetition penalty demotes recent tokens once each", "[sampler]") {
  Sampler s({.repetition_penalty = 1.1f});
  auto l = logits();
  std::vector<int32_t> history = {1, 1, 1};
  CHECK(s.sample(l, history).token == 4);  // 3.0 / 1.1 < 2.9
  CHECK(l[1] == Approx(3.0f / 1.1f));      // penalised once, not three times
}

TEST_CASE("top-k 1 and a tiny top-p are greedy, sampling is seeded", "[sampler]") {
  for (SamplingParams p : {SamplingParams{.temperature = 1.0f, .top_k = 1},
                           SamplingParams{.temperature = 1.0f, .top_p = 0.01f},
                           SamplingParams{.temperature = 1.0f, .min_p = 0.99f}}) {
    Sampler s(p);
    for (int i = 0; i < 20; ++i) {
      auto l = logits();
      CHECK(s.sample(l, {}).token == 1);
    }
  }
  auto run = [](uint64_t seed) {
    Sampler s({.temperature = 1.0f, .seed = seed});
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) {
      auto l = logits();
      out.push_back(s.sample(l, {}).token);
    }
    return out;
  };
  CHECK(run(7) == run(7));
  CHECK(run(7) != run(8));
}

TEST_CASE("temperature sampling follows the softmax", "[sampler]") {
  Sampler s({.temperature = 1.0f, .seed = 1});
  std::map<int32_t, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    auto l = logits();
    counts[s.sample(l, {}).token]++;
  }
  double z = 0;
  for (float x : logits()) z += std::exp(x);
  auto l = logits();
  for (int32_t t = 0; t < 5; ++t) CHECK(counts[t] / double(n) == Approx(std::exp(l[t]) / z).margin(0.015));
  // top-k 2 leaves only tokens 1 and 4, renormalised.
  Sampler k2({.temperature = 1.0f, .top_k = 2, .seed = 2});
  std::map<int32_t, int> c2;
  for (int i = 0; i < n; ++i) {
    auto m = logits();
    c2[k2.sample(m, {}).token]++;
  }
  CHECK(c2[1] + c2[4] == n);
  CHECK(c2[1] / double(n) == Approx(std::exp(3.0) / (std::exp(3.0) + std::exp(2.9))).margin(0.015));
}
