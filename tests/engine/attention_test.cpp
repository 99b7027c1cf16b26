// Both attention paths (decode chunks, tiled prefill) against a plain
// softmax(QK^T)V written the obvious way in double, over many blocks of keys:
// every kernel choice (the CPU's best, f32 matmuls, the portable loops), the
// three cache types, GQA ratios, tiles and blocks cut at odd places, and a
// prefill of more than 8K positions.
#include "engine/attention.h"

#include <stdlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace astfill::engine;

namespace {

// A cache of `type` holding random keys and values, and the same values as
// f32 after the cache's rounding (what the naive definition reads).
// An int8 cache's layout is whole tiles of slots: the slots past `capacity`
// in its last tile hold random bytes and NaN scales, which the kernels must
// never let into a result.
struct TestCache {
  int64_t kv_heads, d, capacity, layout;
  KvType type;
  std::vector<uint8_t> k, v;
  std::vector<float> k_scale, v_scale, k_exact, v_exact;

  TestCache(KvType t, int64_t kv_heads_, int64_t d_, int64_t capacity_, uint32_t seed)
      : kv_heads(kv_heads_),
        d(d_),
        capacity(capacity_),
        layout(t == KvType::Int8 ? kv_int8_capacity(capacity_) : capacity_),
        type(t) {
    const size_t values = static_cast<size_t>(kv_heads * capacity * d);
    const size_t row_bytes = t == KvType::F32 ? 4 * d : t == KvType::Bf16 ? 2 * d : kv_int8_row(d);
    k.resize(static_cast<size_t>(kv_heads * layout) * row_bytes);
    v.resize(k.size());
    k_scale.resize(static_cast<size_t>(kv_heads * layout * (d / kv_int8_block(d))), NAN);
    v_scale.resize(k_scale.size(), NAN);
    std::mt19937 rng(seed);
    for (auto& b : k) b = static_cast<uint8_t>(rng());
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    std::normal_distribution<float> dist(0, 1);
    std::vector<float> kr(static_cast<size_t>(d)), vr(kr.size());
    for (int64_t h = 0; h < kv_heads; ++h)
      for (int64_t s = 0; s < capacity; ++s) {
        for (auto& x : kr) x = dist(rng);
        for (auto& x : vr) x = dist(rng);
        kv_store(view(), d, h, s, kr.data(), vr.data());
      }
    k_exact.resize(values);
    v_exact.resize(values);
    for (int64_t h = 0; h < kv_heads; ++h) {
      kv_load(view(), d, h, true, 0, capacity, k_exact.data() + h * capacity * d);
      kv_load(view(), d, h, false, 0, capacity, v_exact.data() + h * capacity * d);
    }
  }
  KvView view() { return KvView{k.data(), v.data(), layout, type, k_scale.data(), v_scale.data()}; }
};

// Output rows [row0, row1) of the naive definition, in double.
void naive(const std::vector<float>& q, int64_t heads, const TestCache& c, int64_t first_slot, int64_t row0,
           int64_t row1, std::vector<float>& out) {
  const int64_t d = c.d, group = heads / c.kv_heads;
  for (int64_t i = row0; i < row1; ++i)
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t slots = first_slot + i + 1;
      const float* kh = c.k_exact.data() + (h / group) * c.capacity * d;
      const float* vh = c.v_exact.data() + (h / group) * c.capacity * d;
      std::vector<double> p(static_cast<size_t>(slots));
      double max = -1e300, z = 0;
      for (int64_t s = 0; s < slots; ++s) {
        double dot = 0;
        for (int64_t j = 0; j < d; ++j) dot += double(q[(i * heads + h) * d + j]) * kh[s * d + j];
        p[s] = dot / std::sqrt(double(d));
        max = std::max(max, p[s]);
      }
      for (auto& x : p) z += x = std::exp(x - max);
      for (int64_t j = 0; j < d; ++j) {
        double o = 0;
        for (int64_t s = 0; s < slots; ++s) o += p[s] / z * vh[s * d + j];
        out[(i * heads + h) * d + j] = static_cast<float>(o);
      }
    }
}

std::vector<float> random_queries(int64_t n, int64_t heads, int64_t d, uint32_t seed, float sd = 2.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0, sd);
  std::vector<float> q(static_cast<size_t>(n * heads * d));
  for (auto& x : q) x = dist(rng);
  return q;
}

// The largest difference over output rows [row0, row1).
double worst(const std::vector<float>& a, const std::vector<float>& b, int64_t heads, int64_t d, int64_t row0,
             int64_t row1) {
  double w = 0;
  for (int64_t i = row0 * heads * d; i < row1 * heads * d; ++i)
    w = std::max(w, std::fabs(double(a[static_cast<size_t>(i)]) - b[static_cast<size_t>(i)]));
  return w;
}

const char* name(AttentionKernels k) {
  return k == AttentionKernels::Auto ? "auto" : k == AttentionKernels::F32 ? "f32" : "portable";
}

}  // namespace

TEST_CASE("every kernel agrees with the naive definition for every cache type", "[attention]") {
  struct Shape {
    int64_t heads, kv_heads, d;
  };
  // GQA ratios 1, 3, 7 (Qwen2.5-0.5B) and 8; head sizes of one, four and
  // eight AVX-512 vectors and one the AVX-512 loops do not take (24).
  for (Shape sh : {Shape{6, 2, 32}, Shape{14, 2, 64}, Shape{2, 2, 128}, Shape{8, 1, 16}, Shape{4, 2, 24}}) {
    for (KvType type : {KvType::F32, KvType::Bf16, KvType::Int8}) {
      TestCache cache(type, sh.kv_heads, sh.d, 900, 4);
      for (auto [n, first] : {std::pair<int64_t, int64_t>{1, 0}, {1, 700}, {3, 500}, {8, 0}, {40, 300}, {300, 550}}) {
        auto q = random_queries(n, sh.heads, sh.d, static_cast<uint32_t>(n + first));
        std::vector<float> want(q.size()), got(q.size());
        naive(q, sh.heads, cache, first, 0, n, want);
        for (AttentionKernels k : {AttentionKernels::Auto, AttentionKernels::F32, AttentionKernels::Portable}) {
          attention(q.data(), n, sh.heads, sh.kv_heads, sh.d, cache.view(), first, got.data(), k);
          const double err = worst(want, got, sh.heads, sh.d, 0, n);
          // bf16 matmuls (auto, a bf16 or int8 cache, n >= 8) round q and the
          // probabilities to 8 bits of mantissa (relative 2^-9): with these
          // sharp queries (scores of sd 2) outputs move by up to ~2e-2.
          // Everything else is f32.
          const bool bf16 = k == AttentionKernels::Auto && type != KvType::F32 && n >= 8 &&
                            attention_kernels_in_use(type, sh.d, k).find("bf16 matmuls") != std::string::npos;
          // Decode over an int8 cache with VNNI rounds q and the weights to
          // 8 bits (engine/attention_int8.h): the same order of error.
          const bool int8_dots = k == AttentionKernels::Auto && type == KvType::Int8 && n < 8 &&
                                 attention_kernels_in_use(type, sh.d, k).find("int8 rows") != std::string::npos &&
                                 sh.d % 64 == 0;
          INFO(sh.heads << "/" << sh.kv_heads << " heads, d " << sh.d << ", " << kv_type_name(type) << " cache, "
                        << name(k) << " kernels, " << n << " queries after " << first << " slots: worst error "
                        << err);
          CHECK(err < (bf16 || int8_dots ? 4e-2 : 1e-4));
        }
      }
    }
  }
}

TEST_CASE("prefill of more than 8K positions matches the naive definition", "[attention]") {
  // 8,250 queries from slot 0 (tiles and 256-key blocks cut at odd places:
  // 8250 = 32 * 256 + 58), then 300 more after them; the naive definition
  // checks the first rows, rows at block edges and the last rows.
  const int64_t heads = 4, kv_heads = 2, d = 32, n = 8250, more = 300;
  TestCache cache(KvType::F32, kv_heads, d, n + more, 9);
  for (AttentionKernels k : {AttentionKernels::Auto, AttentionKernels::Portable}) {
    INFO(name(k) << " kernels");
    auto q = random_queries(n, heads, d, 5);
    std::vector<float> want(q.size()), got(q.size());
    attention(q.data(), n, heads, kv_heads, d, cache.view(), 0, got.data(), k);
    for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, 3}, {255, 258}, {4095, 4098}, {n - 60, n}}) {
      naive(q, heads, cache, 0, r0, r1, want);
      INFO("rows " << r0 << ".." << r1);
      CHECK(worst(want, got, heads, d, r0, r1) < 1e-4);
    }
    auto q2 = random_queries(more, heads, d, 6);
    std::vector<float> want2(q2.size()), got2(q2.size());
    attention(q2.data(), more, heads, kv_heads, d, cache.view(), n, got2.data(), k);
    naive(q2, heads, cache, n, 0, more, want2);
    CHECK(worst(want2, got2, heads, d, 0, more) < 1e-4);
  }
}

TEST_CASE("bf16 matmuls stay within bf16 rounding of the f32 matmuls", "[attention]") {
  if (attention_kernels_in_use(KvType::Bf16, 64, AttentionKernels::Auto).find("bf16 matmuls") == std::string::npos) {
    WARN("skipped: this CPU (or ONEDNN_MAX_CPU_ISA) has no bf16 matmuls");
    return;
  }
  const int64_t heads = 14, kv_heads = 2, d = 64, n = 1000;
  for (KvType type : {KvType::Bf16, KvType::Int8}) {
    TestCache cache(type, kv_heads, d, n, 3);
    auto q = random_queries(n, heads, d, 8, 1.0f);
    std::vector<float> f32(q.size()), bf16(q.size());
    attention(q.data(), n, heads, kv_heads, d, cache.view(), 0, f32.data(), AttentionKernels::F32);
    attention(q.data(), n, heads, kv_heads, d, cache.view(), 0, bf16.data(), AttentionKernels::Auto);
    double err = 0, size = 0;
    for (size_t i = 0; i < q.size(); ++i) {
      err = std::max(err, std::fabs(double(f32[i]) - bf16[i]));
      size = std::max(size, std::fabs(double(f32[i])));
    }
    // Queries of sd 1: q and p rounded to bf16 move outputs by ~1e-2 at most.
    INFO(kv_type_name(type) << ": worst difference " << err << " on outputs up to " << size);
    CHECK(err > 0);  // the bf16 path really ran
    CHECK(err < 2e-2);
  }
}

TEST_CASE("decode reads a bf16 cache in place as exactly as the f32 rows", "[attention]") {
  // Decode (n < 8) over a bf16 cache reads it in place on AVX-512 (values
  // widened exactly in registers, key blocks transposed): against the f32
  // kernels on the same cache it differs by f32 summation order only. Head
  // sizes of one to four 32-value vectors, GQA 7, 1 and 4 (strips of heads),
  // one to three queries, depths past several 16-row blocks, chunks and tails.
  if (attention_kernels_in_use(KvType::Bf16, 64, AttentionKernels::Auto).find("bf16 rows in place") ==
      std::string::npos) {
    WARN("skipped: this CPU has no AVX-512");
    return;
  }
  CHECK(attention_kernels_in_use(KvType::Bf16, 48, AttentionKernels::Auto).find("bf16 rows in place") ==
        std::string::npos);  // d not a multiple of 32: the f32 rows
  CHECK(attention_kernels_in_use(KvType::Int8, 64, AttentionKernels::Auto).find("bf16 rows in place") ==
        std::string::npos);
  CHECK(attention_kernels_in_use(KvType::Bf16, 64, AttentionKernels::F32).find("bf16 rows in place") ==
        std::string::npos);
  struct Shape {
    int64_t heads, kv_heads, d;
  };
  double largest = 0;
  for (Shape sh : {Shape{14, 2, 64}, Shape{7, 1, 32}, Shape{4, 4, 96}, Shape{8, 2, 128}, Shape{16, 1, 64}}) {
    TestCache cache(KvType::Bf16, sh.kv_heads, sh.d, 2600, 11);
    for (auto [n, first] : {std::pair<int64_t, int64_t>{1, 0}, {1, 14}, {1, 2598}, {2, 1000}, {3, 1533}}) {
      auto q = random_queries(n, sh.heads, sh.d, static_cast<uint32_t>(7 * n + first));
      std::vector<float> want(q.size()), f32(q.size()), got(q.size());
      naive(q, sh.heads, cache, first, 0, n, want);
      attention(q.data(), n, sh.heads, sh.kv_heads, sh.d, cache.view(), first, f32.data(), AttentionKernels::F32);
      attention(q.data(), n, sh.heads, sh.kv_heads, sh.d, cache.view(), first, got.data(), AttentionKernels::Auto);
      INFO(sh.heads << "/" << sh.kv_heads << " heads, d " << sh.d << ", " << n << " queries after " << first
                    << " slots: auto vs f32 " << worst(f32, got, sh.heads, sh.d, 0, n) << ", auto vs naive "
                    << worst(want, got, sh.heads, sh.d, 0, n));
      const double apart = worst(f32, got, sh.heads, sh.d, 0, n);
      largest = std::max(largest, apart);
      CHECK(apart < 1e-5);
      CHECK(worst(want, got, sh.heads, sh.d, 0, n) < 1e-4);
    }
  }
  CHECK(largest > 0);  // the in-place kernel really ran (it sums in another order)
}

TEST_CASE("decode reads an int8 cache in place with VNNI, within 8-bit rounding of the f32 kernels", "[attention]") {
  // With AVX512-VNNI, decode over an int8 cache multiplies u8 x s8 in int32
  // (engine/attention_int8.h): q is rounded to 8 bits per 32 values and the
  // weights to 8 bits per 64 slots, on top of the cache's own rounding, which
  // the f32 kernels read exactly. Head sizes 64 and 128, GQA 7, 16, 4 and 1,
  // depths inside the first tile, at tile and 64-slot edges and past several
  // work items; the cache's last tile ends in random bytes and NaN scales.
  if (attention_kernels_in_use(KvType::Int8, 64, AttentionKernels::Auto).find("int8 rows") == std::string::npos) {
    WARN("skipped: this CPU has no AVX512-VNNI and VBMI");
    return;
  }
  CHECK(attention_kernels_in_use(KvType::Int8, 96, AttentionKernels::Auto).find("int8 rows") ==
        std::string::npos);  // d not a multiple of 64: the f32 rows
  CHECK(attention_kernels_in_use(KvType::Int8, 64, AttentionKernels::F32).find("int8 rows") == std::string::npos);
  struct Shape {
    int64_t heads, kv_heads, d;
  };
  double largest = 0, worst_mild = 0, worst_sharp = 0;
  for (Shape sh : {Shape{14, 2, 64}, Shape{7, 1, 128}, Shape{16, 1, 64}, Shape{8, 2, 128}, Shape{3, 3, 64}}) {
    TestCache cache(KvType::Int8, sh.kv_heads, sh.d, 2600, 13);
    for (auto [n, first] : {std::pair<int64_t, int64_t>{1, 0}, {1, 14}, {1, 15}, {1, 63}, {1, 64}, {2, 1000},
                            {3, 1533}, {1, 2599}}) {
      for (float sd : {0.5f, 2.0f}) {
        auto q = random_queries(n, sh.heads, sh.d, static_cast<uint32_t>(5 * n + first), sd);
        std::vector<float> f32(q.size()), got(q.size());
        attention(q.data(), n, sh.heads, sh.kv_heads, sh.d, cache.view(), first, f32.data(), AttentionKernels::F32);
        attention(q.data(), n, sh.heads, sh.kv_heads, sh.d, cache.view(), first, got.data(), AttentionKernels::Auto);
        const double apart = worst(f32, got, sh.heads, sh.d, 0, n);
        INFO(sh.heads << "/" << sh.kv_heads << " heads, d " << sh.d << ", " << n << " queries after " << first
                      << " slots, queries of sd " << sd << ": VNNI vs f32 " << apart);
        CHECK(std::all_of(got.begin(), got.end(), [](float x) { return std::isfinite(x); }));
        // Scores of sd ~0.5 (a model's usual) and ~2 (sharp); seen at most 5.0e-3 and 2.3e-2.
        CHECK(apart < (sd < 1 ? 8e-3 : 4e-2));
        largest = std::max(largest, apart);
        (sd < 1 ? worst_mild : worst_sharp) = std::max(sd < 1 ? worst_mild : worst_sharp, apart);
      }
    }
  }
  INFO("worst VNNI vs f32: " << worst_mild << " (sd 0.5), " << worst_sharp << " (sd 2)");
  CHECK(largest > 1e-6);  // the VNNI kernel really ran: it rounds q and the weights
}

TEST_CASE("an int8 view that is not whole tiles is refused before any kernel runs", "[attention]") {
  TestCache cache(KvType::Int8, 2, 64, 900, 3);
  KvView bad = cache.view();
  bad.capacity = 900;  // the layout is 912 slots a head
  auto q = random_queries(8, 14, 64, 1);
  std::vector<float> out(q.size());
  for (int64_t n : {1, 8})
    for (AttentionKernels k : {AttentionKernels::Auto, AttentionKernels::F32, AttentionKernels::Portable})
      CHECK_THROWS_WITH(attention(q.data(), n, 14, 2, 64, bad, 100, out.data(), k), Catch::Contains("not whole tiles"));
}

TEST_CASE("decode's read-ahead of the next weights leaves every output bit as it was", "[attention]") {
  // The ranges are only pulled toward the caches: outputs with them, at any
  // rate, equal those without, bit for bit, for every kernel choice, one to
  // three queries and ranges of odd sizes (empty, under a line, unaligned).
  const int saved = attention_read_ahead();
  std::vector<uint8_t> weights(3 * 1048576 + 77, 1), small(40, 2);
  const ReadAhead ahead[4] = {{weights.data() + 3, weights.size() - 3}, {small.data(), small.size()}, {nullptr, 0},
                              {weights.data(), 0}};
  TestCache cache(KvType::Bf16, 2, 64, 3000, 5);
  for (AttentionKernels k : {AttentionKernels::Auto, AttentionKernels::F32, AttentionKernels::Portable})
    for (auto [n, first] : {std::pair<int64_t, int64_t>{1, 0}, {1, 2999}, {3, 1700}}) {
      auto q = random_queries(n, 14, 64, static_cast<uint32_t>(n + first));
      std::vector<float> plain(q.size()), pulled(q.size());
      set_attention_read_ahead(0);
      attention(q.data(), n, 14, 2, 64, cache.view(), first, plain.data(), k);
      for (int lines : {1, 2, 8}) {
        set_attention_read_ahead(lines);
        attention(q.data(), n, 14, 2, 64, cache.view(), first, pulled.data(), k, ahead);
        INFO(name(k) << ", " << n << " queries after " << first << " slots, " << lines << " lines per row");
        CHECK(std::memcmp(plain.data(), pulled.data(), sizeof(float) * plain.size()) == 0);
      }
    }
  set_attention_read_ahead(saved);
  CHECK(attention_read_ahead() == saved);
}

TEST_CASE("ASTFILL_ATTENTION forces the f32 or portable kernels", "[attention]") {
  ::setenv("ASTFILL_ATTENTION", "portable", 1);
  CHECK(default_attention_kernels() == AttentionKernels::Portable);
  CHECK(attention_kernels_in_use(KvType::Bf16, 64, default_attention_kernels()) == "portable, f32 matmuls");
  ::setenv("ASTFILL_ATTENTION", "f32", 1);
  CHECK(default_attention_kernels() == AttentionKernels::F32);
  CHECK(attention_kernels_in_use(KvType::Bf16, 64, default_attention_kernels()).find("f32 matmuls") !=
        std::string::npos);
  ::unsetenv("ASTFILL_ATTENTION");
  CHECK(default_attention_kernels() == AttentionKernels::Auto);
  // The f32 cache never multiplies in bf16, whatever the CPU.
  CHECK(attention_kernels_in_use(KvType::F32, 64, AttentionKernels::Auto).find("f32 matmuls") != std::string::npos);
}
