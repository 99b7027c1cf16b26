// What the tests against the numpy reference (tests/reference, run with
// Debian's /usr/bin/python3) share: the interpreter and whether it has numpy,
// random token ids, and the measures of agreement; and the int8-against-f32
// fixture that model_reference_test (natively) and int8_isa_test (on each
// instruction set) both measure.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "engine/model.h"
#include "tests/fixtures/random_model.h"

namespace astfill::testing {

inline const char* const kPython = "/usr/bin/python3";

inline bool have_numpy() {
  static const bool ok = std::system((std::string(kPython) + " -c 'import numpy' 2>/dev/null").c_str()) == 0;
  return ok;
}

inline std::vector<int32_t> random_tokens(size_t n, uint32_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = static_cast<int32_t>(rng() % (vocab - 16));
  return t;
}

// max |a - b| relative to the largest reference magnitude of the row b.
inline double max_relative_error(const float* a, const float* b, size_t n) {
  double ref = 0, err = 0;
  for (size_t i = 0; i < n; ++i) {
    ref = std::max(ref, std::fabs(double(b[i])));
    err = std::max(err, std::fabs(double(a[i]) - b[i]));
  }
  return err / std::max(ref, 1e-30);
}

// Rows of logits against reference rows: how many agree on the top token, and
// the sum of KL(reference || got).
struct LogitAgreement {
  size_t rows = 0, top1 = 0;
  double kl_sum = 0;
  void add(const float* want, const float* got, size_t vocab) {
    const float* p = want;
    const float* q = got;
    ++rows;
    top1 += std::max_element(p, p + vocab) - p == std::max_element(q, q + vocab) - q;
    double mp = *std::max_element(p, p + vocab), mq = *std::max_element(q, q + vocab), zp = 0, zq = 0;
    for (size_t v = 0; v < vocab; ++v) {
      zp += std::exp(p[v] - mp);
      zq += std::exp(q[v] - mq);
    }
    for (size_t v = 0; v < vocab; ++v) {
      double lp = p[v] - mp - std::log(zp), lq = q[v] - mq - std::log(zq);
      kl_sum += std::exp(lp) * (lp - lq);
    }
  }
  double top1_rate() const { return double(top1) / double(rows); }
  double mean_kl() const { return kl_sum / double(rows); }
};

// Random weights large enough to move every layer also make a chaotic
// network, where any perturbation grows layer by layer; a trained model is far
// better conditioned. This fixture keeps a small random qwen2 model (written
// to `path`) in the stable regime, and measures its int8 logits against its
// f32 logits at every position of 4 random sequences of 128 tokens.
inline LogitAgreement int8_agreement_with_f32(const std::string& path) {
  using namespace astfill::engine;
  auto spec = tiny_spec("qwen2");
  spec.seed = 7;
  spec.weight_scale = 0.02f;
  spec.hp.embedding_length = 128;
  spec.hp.feed_forward_length = 256;
  spec.hp.head_count = 4;
  spec.hp.head_dim = 32;
  write_random_model(path, spec);
  auto f32 = Model::open(path, {WeightMode::F32, 2});
  auto i8 = Model::open(path, {WeightMode::Int8, 2});
  const size_t V = spec.hp.vocab_size;
  LogitAgreement agreement;
  for (uint32_t seq = 0; seq < 4; ++seq) {
    auto tokens = random_tokens(128, spec.hp.vocab_size, 1000 + seq);
    std::vector<bool> all(tokens.size(), true);
    Session a(*f32), b(*i8);
    auto la = a.evaluate({tokens, {}, all});
    auto lb = b.evaluate({tokens, {}, all});
    for (size_t i = 0; i < tokens.size(); ++i) agreement.add(la.data() + i * V, lb.data() + i * V, V);
  }
  return agreement;
}

}  // namespace astfill::testing
