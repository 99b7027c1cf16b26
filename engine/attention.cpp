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

// Decode: few queries. For each KV head, every group head's query is scored
// in the same pass over the keys and accumulated in the same pass over the
// values, so the cache is read once per token, not once per query head.
void attention_loop(const float* q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& cache,
                    int64_t first_slot, float* out) {
  const int64_t group = heads / kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
#pragma omp parallel
  {
    std::vector<float> scores;
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t kvh = 0; kvh < kv_heads; ++kvh) {
        const int64_t slots = first_slot + i + 1;
        const float* kh = cache.k + kvh * cache.capacity * d;
        const float* vh = cache.v + kvh * cache.capacity * d;
        const float* qg = q + (i * heads + kvh * group) * d;  // the group's heads are adjacent
        scores.resize(static_cast<size_t>(slots * group));
        for (int64_t s = 0; s < slots; ++s) {
          const float* k = kh + s * d;
          for (int64_t g = 0; g < group; ++g) {
            const float* qh = qg + g * d;
            float dot = 0;
#pragma omp simd reduction(+ : dot)
            for (int64_t j = 0; j < d; ++j) dot += qh[j] * k[j];
            scores[g * slots + s] = dot * scale;
          }
        }
        for (int64_t g = 0; g < group; ++g) {
          float* sg = scores.data() + g * slots;
          float max = sg[0];
          for (int64_t s = 1; s < slots; ++s) max = std::max(max, sg[s]);
          float sum = 0;
          for (int64_t s = 0; s < slots; ++s) sum += sg[s] = std::exp(sg[s] - max);
          const float inv = 1.0f / sum;
          for (int64_t s = 0; s < slots; ++s) sg[s] *= inv;
          std::fill_n(out + (i * heads + kvh * group + g) * d, d, 0.0f);
        }
        for (int64_t s = 0; s < slots; ++s) {
          const float* v = vh + s * d;
          for (int64_t g = 0; g < group; ++g) {
            const float p = scores[g * slots + s];
            float* o = out + (i * heads + kvh * group + g) * d;
#pragma omp simd
            for (int64_t j = 0; j < d; ++j) o[j] += p * v[j];
          }
        }
      }
    }
  }
}

// Prefill: many queries. Keys are visited in blocks with an online softmax
// (running max and sum per query row, the partial output rescaled as the max
// grows), so memory holds one block of scores at a time, never n x n.
void attention_matmul(const float* q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& cache,
                      int64_t first_slot, float* out) {
  constexpr int64_t kBlock = 256;
  const int64_t group = heads / kv_heads;
  const int64_t rows = group * n, slots = first_slot + n;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  std::vector<float> qg(static_cast<size_t>(rows * d)), s(static_cast<size_t>(rows * kBlock)),
      acc(static_cast<size_t>(rows * d)), pv(static_cast<size_t>(rows * d)), row_max(static_cast<size_t>(rows)),
      row_sum(static_cast<size_t>(rows));
  for (int64_t kvh = 0; kvh < kv_heads; ++kvh) {
    // Stack the group's queries: row g*n + i is query i of head kvh*group + g.
    for (int64_t g = 0; g < group; ++g)
      for (int64_t i = 0; i < n; ++i)
        std::copy_n(q + (i * heads + kvh * group + g) * d, d, qg.data() + (g * n + i) * d);
    std::fill(acc.begin(), acc.end(), 0.0f);
    std::fill(row_max.begin(), row_max.end(), -INFINITY);
    std::fill(row_sum.begin(), row_sum.end(), 0.0f);
    const float* kh = cache.k + kvh * cache.capacity * d;
    const float* vh = cache.v + kvh * cache.capacity * d;
    for (int64_t b = 0; b < slots; b += kBlock) {
      const int64_t bs = std::min(kBlock, slots - b);
      matmul_f32(qg.data(), kh + b * d, tag::ba, s.data(), rows, d, bs);  // keys stored [slot][d]
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < rows; ++r) {
        float* sr = s.data() + r * bs;
        // Query i sees slots up to first_slot + i.
        const int64_t visible = std::clamp<int64_t>(first_slot + r % n + 1 - b, 0, bs);
        float m = row_max[r];
        for (int64_t j = 0; j < visible; ++j) m = std::max(m, sr[j] *= scale);
        float sum = 0;
        for (int64_t j = 0; j < visible; ++j) sum += sr[j] = std::exp(sr[j] - m);
        std::fill(sr + visible, sr + bs, 0.0f);
        const float correction = visible ? std::exp(row_max[r] - m) : 1.0f;  // exp(-inf) = 0 at the start
        if (visible) {
          row_sum[r] = row_sum[r] * correction + sum;
          row_max[r] = m;
          float* a = acc.data() + r * d;
          for (int64_t j = 0; j < d; ++j) a[j] *= correction;
        }
      }
      matmul_f32(s.data(), vh + b * d, tag::ab, pv.data(), rows, bs, d);
      float* ap = acc.data();
      const float* pp = pv.data();
      const int64_t total = rows * d;
#pragma omp parallel for simd if (total > 65536) schedule(static)
      for (int64_t k = 0; k < total; ++k) ap[k] += pp[k];
    }
    for (int64_t g = 0; g < group; ++g)
      for (int64_t i = 0; i < n; ++i) {
        const int64_t r = g * n + i;
        const float inv = 1.0f / row_sum[r];
        float* o = out + (i * heads + kvh * group + g) * d;
        for (int64_t j = 0; j < d; ++j) o[j] = acc[r * d + j] * inv;
      }
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
