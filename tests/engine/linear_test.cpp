// Linear layers against a plain loop, on both weight paths and several batch
// sizes (decode M=1 and prefill-sized M share one weight layout).
#include "engine/linear.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

using namespace astfill::engine;

namespace {
std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}
}  // namespace

TEST_CASE("linear layers compute x W^T + b on both paths", "[linear]") {
  const int64_t in = 96, out = 80;
  auto w = randn(static_cast<size_t>(in * out), 1, 0.1f);
  auto b = randn(static_cast<size_t>(out), 2);
  for (WeightMode mode : {WeightMode::F32, WeightMode::Int8}) {
    Linear l = Linear::from_f32(w.data(), in, out, b.data(), mode);
    for (int64_t rows : {1, 3, 17, 64}) {
      auto x = randn(static_cast<size_t>(rows * in), 3 + static_cast<uint32_t>(rows));
      std::vector<float> y(static_cast<size_t>(rows * out));
      l.forward(x.data(), rows, y.data());
      double worst = 0, norm = 0;
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t n = 0; n < out; ++n) {
          double want = b[n];
          for (int64_t k = 0; k < in; ++k) want += double(x[r * in + k]) * w[n * in + k];
          worst = std::max(worst, std::fabs(want - y[r * out + n]));
          norm = std::max(norm, std::fabs(want));
        }
      }
      INFO((mode == WeightMode::F32 ? "f32" : "int8") << " rows " << rows << ": worst error " << worst
                                                      << " of max " << norm);
      // int8: two 8-bit roundings per product, errors largely cancelling.
      CHECK(worst <= (mode == WeightMode::F32 ? 1e-4 : 0.02) * norm);
    }
  }
}
