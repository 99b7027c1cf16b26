// What the tests against the numpy reference (tests/reference, run with
// Debian's /usr/bin/python3) share: the interpreter and whether it has numpy,
// random token ids, and the measures of agreement.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

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

}  // namespace astfill::testing
