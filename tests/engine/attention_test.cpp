// Both attention paths (decode loop, blocked prefill) against a plain
// softmax(QK^T)V written the obvious way, over several blocks of keys.
#include "engine/attention.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

using namespace astfill::engine;

namespace {

void naive(const std::vector<float>& q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& c,
           int64_t first_slot, std::vector<float>& out) {
  const int64_t group = heads / kv_heads;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t slots = first_slot + i + 1;
      std::vector<double> p(static_cast<size_t>(slots));
      double max = -1e300, z = 0;
      for (int64_t s = 0; s < slots; ++s) {
        double dot = 0;
        for (int64_t j = 0; j < d; ++j) dot += double(q[(i * heads + h) * d + j]) * c.k[((h / group) * c.capacity + s) * d + j];
        p[s] = dot / std::sqrt(double(d));
        max = std::max(max, p[s]);
      }
      for (auto& x : p) z += x = std::exp(x - max);
      for (int64_t j = 0; j < d; ++j) {
        double o = 0;
        for (int64_t s = 0; s < slots; ++s) o += p[s] / z * c.v[((h / group) * c.capacity + s) * d + j];
        out[(i * heads + h) * d + j] = static_cast<float>(o);
      }
    }
}

}  // namespace

TEST_CASE("blocked and loop attention agree with the naive definition", "[attention]") {
  const int64_t heads = 6, kv_heads = 2, d = 32, capacity = 900;
  std::mt19937 rng(4);
  std::normal_distribution<float> dist(0, 1);
  std::vector<float> k(static_cast<size_t>(kv_heads * capacity * d)), v(k.size());
  for (auto& x : k) x = dist(rng);
  for (auto& x : v) x = dist(rng);
  KvView cache{k.data(), v.data(), capacity};
  for (auto [n, first] : {std::pair<int64_t, int64_t>{1, 0}, {1, 700}, {3, 500}, {8, 0}, {40, 300}, {300, 550}}) {
    std::vector<float> q(static_cast<size_t>(n * heads * d));
    for (auto& x : q) x = dist(rng) * 2.0f;
    std::vector<float> want(q.size()), got(q.size());
    naive(q, n, heads, kv_heads, d, cache, first, want);
    attention(q.data(), n, heads, kv_heads, d, cache, first, got.data());
    double worst = 0;
    for (size_t i = 0; i < q.size(); ++i) worst = std::max(worst, std::fabs(double(want[i]) - got[i]));
    INFO(n << " queries after " << first << " cached slots: worst error " << worst);
    CHECK(worst < 1e-4);
  }
}
