#include "engine/attention.h"

#include <algorithm>
#include <cmath>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

namespace astfill::engine {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpu() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// C[m][n] = A[m][k] B[k][n] in f32, B given with `b_tag` (ab: [k][n] rows,
// ba: stored as [n][k]). oneDNN's primitive cache makes repeated shapes cheap.
void matmul_f32(const float* a, const float* b, tag b_tag, float* c, int64_t m, int64_t k, int64_t n) {
  thread_local dnnl::stream s(cpu());
  memory::desc a_md({m, k}, dt::f32, tag::ab), b_md({k, n}, dt::f32, b_tag), c_md({m, n}, dt::f32, tag::ab);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), cpu());
  dnnl::matmul(pd).execute(s, {{DNNL_ARG_SRC, memory(a_md, cpu(), const_cast<float*>(a))},
                               {DNNL_ARG_WEIGHTS, memory(b_md, cpu(), const_cast<float*>(b))},
                               {DNNL_ARG_DST, memory(c_md, cpu(), c)}});
  s.wait();
}

void attention_loop(const float* q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& cache,
                    int64_t first_slot, float* out) {
  const int64_t group = heads / kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
#pragma omp parallel
  {
    std::vector<float> scores;
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t slots = first_slot + i + 1;
        const float* kh = cache.k + (h / group) * cache.capacity * d;
        const float* vh = cache.v + (h / group) * cache.capacity * d;
        const float* qh = q + (i * heads + h) * d;
        scores.resize(static_cast<size_t>(slots));
        float max = -INFINITY;
        for (int64_t s = 0; s < slots; ++s) {
          const float* k = kh + s * d;
          float dot = 0;
#pragma omp simd reduction(+ : dot)
          for (int64_t j = 0; j < d; ++j) dot += qh[j] * k[j];
          scores[s] = dot * scale;
          max = std::max(max, scores[s]);
        }
        float sum = 0;
        for (int64_t s = 0; s < slots; ++s) sum += scores[s] = std::exp(scores[s] - max);
        const float inv = 1.0f / sum;
        float* o = out + (i * heads + h) * d;
        std::fill(o, o + d, 0.0f);
        for (int64_t s = 0; s < slots; ++s) {
          const float p = scores[s] * inv;
          const float* v = vh + s * d;
#pragma omp simd
          for (int64_t j = 0; j < d; ++j) o[j] += p * v[j];
        }
      }
    }
  }
}

void attention_matmul(const float* q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& cache,
                      int64_t first_slot, float* out) {
  const int64_t group = heads / kv_heads;
  const int64_t rows = group * n, slots = first_slot + n;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  std::vector<float> qg(static_cast<size_t>(rows * d)), s(static_cast<size_t>(rows * slots)),
      o(static_cast<size_t>(rows * d));
  for (int64_t kvh = 0; kvh < kv_heads; ++kvh) {
    // Stack the group's queries: row g*n + i is query i of head kvh*group + g.
    for (int64_t g = 0; g < group; ++g)
      for (int64_t i = 0; i < n; ++i)
        std::copy_n(q + (i * heads + kvh * group + g) * d, d, qg.data() + (g * n + i) * d);
    const float* kh = cache.k + kvh * cache.capacity * d;
    const float* vh = cache.v + kvh * cache.capacity * d;
    matmul_f32(qg.data(), kh, tag::ba, s.data(), rows, d, slots);  // K_h stored [slot][d]
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      float* sr = s.data() + r * slots;
      const int64_t visible = first_slot + r % n + 1;
      float max = -INFINITY;
      for (int64_t j = 0; j < visible; ++j) max = std::max(max, sr[j] *= scale);
      float sum = 0;
      for (int64_t j = 0; j < visible; ++j) sum += sr[j] = std::exp(sr[j] - max);
      const float inv = 1.0f / sum;
      for (int64_t j = 0; j < visible; ++j) sr[j] *= inv;
      std::fill(sr + visible, sr + slots, 0.0f);
    }
    matmul_f32(s.data(), vh, tag::ab, o.data(), rows, slots, d);
    for (int64_t g = 0; g < group; ++g)
      for (int64_t i = 0; i < n; ++i)
        std::copy_n(o.data() + (g * n + i) * d, d, out + (i * heads + kvh * group + g) * d);
  }
}

}  // namespace

void attention(const float* q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& cache,
               int64_t first_slot, float* out) {
  // Below a handful of queries the matmuls' fixed costs outweigh their speed.
  if (n < 8) attention_loop(q, n, heads, kv_heads, d, cache, first_slot, out);
  else attention_matmul(q, n, heads, kv_heads, d, cache, first_slot, out);
}

}  // namespace astfill::engine
