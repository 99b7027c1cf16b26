#include "engine/attention.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <oneapi/dnnl/dnnl.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "engine/attention_int8.h"
#include "engine/attention_simd.h"
#include "engine/thread_team.h"

#define ASTFILL_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,fma")))

namespace astfill::engine {
namespace {

using namespace simd;
using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// ---------------------------------------------------------------------------
// Which kernels: the CPU's features and what the caller allows.

struct Plan {
  bool avx512 = false;       // AVX-512 loops (decode, softmax, conversions)
  bool bf16_matmul = false;  // prefill's two matmuls in bf16
  bool bf16_rows = false;    // decode reads a bf16 cache in place
  bool int8_rows = false;    // decode reads an int8 cache in place (engine/attention_int8.h)
};

bool cpu_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return yes;
}

// oneDNN's own view (it honours ONEDNN_MAX_CPU_ISA): bf16 matmuls run on
// AVX512_BF16 or AMX; the conversions here use AVX512_BF16 instructions.
bool cpu_bf16_matmul() {
  static const bool yes = [] {
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
    return (isa & bf16) == bf16 && __builtin_cpu_supports("avx512bf16");
  }();
  return yes;
}

Plan plan_for(KvType type, int64_t d, int64_t group, AttentionKernels kernels) {
  Plan p;
  if (kernels == AttentionKernels::Portable) return p;
  // The AVX-512 loops keep a row of up to 8 vectors and a group of up to 16
  // heads; other shapes take the portable loops.
  p.avx512 = cpu_avx512() && d % 16 == 0 && d <= 128 && group <= 16;
  p.bf16_matmul = kernels == AttentionKernels::Auto && type != KvType::F32 && cpu_bf16_matmul();
  p.bf16_rows = p.avx512 && kernels == AttentionKernels::Auto && type == KvType::Bf16 && d % 32 == 0;
  p.int8_rows = p.avx512 && kernels == AttentionKernels::Auto && type == KvType::Int8 &&
                int8_attention::shape_supported(d, group) && int8_attention::cpu_supported();
  return p;
}

// ---------------------------------------------------------------------------
// AVX-512 helpers.

// Rows [first, first + count) of one KV head of an int8 cache as f32,
// [count][d], from its tiles (engine/kv_cache.h): keys transposed back 16
// slots at a time, values' bytes picked out of their 4-slot lanes by shifts.
// Where first is not a tile's first slot or d not a multiple of 64, kv_load.
ASTFILL_AVX512 void int8_tiles_to_f32(const KvView& c, int64_t d, int64_t kvh, bool keys, int64_t first,
                                      int64_t count, float* out) {
  if (first % kKvTile != 0 || d % 64 != 0) return kv_load(c, d, kvh, keys, first, count, out);
  const int64_t nc = d / 16;  // 16-value pieces of a row; a scale covers two
  for (int64_t t0 = 0; t0 < count; t0 += kKvTile) {
    const int64_t slot = first + t0, rows = std::min(kKvTile, count - t0);
    const float* scales = (keys ? c.k_scale : c.v_scale) + kv_int8_scale_at(c.capacity, d, kvh, slot, 0);
    float* o = out + t0 * d;
    if (keys) {
      const int8_t* tile = static_cast<const int8_t*>(c.k) + kv_int8_key_at(c.capacity, d, kvh, slot, 0);
      for (int64_t h = 0; h < d / 64; ++h) {
        __m512i t[16], r[16];
        for (int i = 0; i < 16; ++i) t[i] = _mm512_loadu_si512(tile + (h * 16 + i) * 64);
        transpose16(t, r);  // r[j]: values 64h .. 64h + 63 of slot j
        for (int64_t j = 0; j < rows; ++j)
          for (int p = 0; p < 4; ++p) {
            const int64_t piece = h * 4 + p;
            __m128i bytes;
            switch (p) {
              case 0: bytes = _mm512_extracti32x4_epi32(r[j], 0); break;
              case 1: bytes = _mm512_extracti32x4_epi32(r[j], 1); break;
              case 2: bytes = _mm512_extracti32x4_epi32(r[j], 2); break;
              default: bytes = _mm512_extracti32x4_epi32(r[j], 3); break;
            }
            _mm512_storeu_ps(o + j * d + piece * 16,
                             _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(bytes)),
                                           _mm512_set1_ps(scales[(piece / 2) * kKvTile + j])));
          }
      }
    } else {
      const int8_t* tile = static_cast<const int8_t*>(c.v) + kv_int8_value_at(c.capacity, d, kvh, slot, 0);
      for (int64_t g = 0; g < 4; ++g)
        for (int64_t piece = 0; piece < nc; ++piece) {
          const __m512i x = _mm512_loadu_si512(tile + (g * nc + piece) * 64);
          for (int s4 = 0; s4 < 4; ++s4) {
            const int64_t j = 4 * g + s4;
            if (j >= rows) break;
            __m512i lanes;  // byte s4 of each lane, sign-extended
            switch (s4) {
              case 0: lanes = _mm512_srai_epi32(_mm512_slli_epi32(x, 24), 24); break;
              case 1: lanes = _mm512_srai_epi32(_mm512_slli_epi32(x, 16), 24); break;
              case 2: lanes = _mm512_srai_epi32(_mm512_slli_epi32(x, 8), 24); break;
              default: lanes = _mm512_srai_epi32(x, 24); break;
            }
            _mm512_storeu_ps(o + j * d + piece * 16, _mm512_mul_ps(_mm512_cvtepi32_ps(lanes),
                                                                   _mm512_set1_ps(scales[(piece / 2) * kKvTile + j])));
          }
        }
    }
  }
}

// Rows [first, first + count) of one KV head as f32, [count][d]; d % 16 == 0.
ASTFILL_AVX512 void rows_to_f32(const KvView& c, int64_t d, int64_t kvh, bool keys, int64_t first, int64_t count,
                                float* out) {
  const int64_t at = kvh * c.capacity + first;
  const void* base = keys ? c.k : c.v;
  if (c.type == KvType::Bf16) {
    const uint16_t* p = static_cast<const uint16_t*>(base) + at * d;
    for (int64_t j = 0; j < count * d; j += 16) {
      const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + j)));
      _mm512_storeu_ps(out + j, _mm512_castsi512_ps(_mm512_slli_epi32(w, 16)));
    }
  } else if (c.type == KvType::Int8) {
    int8_tiles_to_f32(c, d, kvh, keys, first, count, out);
  } else {
    std::memcpy(out, static_cast<const float*>(base) + at * d, sizeof(float) * static_cast<size_t>(count * d));
  }
}

// ---------------------------------------------------------------------------
// Decode: few queries, each (query, KV head, chunk of slots) a work item.

constexpr int64_t kSub = 64;  // slots converted and scored at a time (16 KB of f32 rows at d = 64)

// scores[g][s] = scale * q_g . k_s for `count` rows of kf ([count][NC*16]).
template <int NC>
ASTFILL_AVX512 void qk_scores(const float* qg, int64_t group, const float* kf, int64_t count, float scale,
                              float* scores, int64_t stride) {
  constexpr int64_t d = NC * 16;
  for (int64_t s0 = 0; s0 < count; s0 += 16) {
    const int64_t m = std::min<int64_t>(16, count - s0);
    for (int64_t g = 0; g < group; ++g) {
      __m512 qv[NC];
      for (int c = 0; c < NC; ++c) qv[c] = _mm512_loadu_ps(qg + g * d + c * 16);
      __m512 part[16];
      for (int64_t j = 0; j < 16; ++j) {
        if (j >= m) {
          part[j] = _mm512_setzero_ps();
          continue;
        }
        const float* k = kf + (s0 + j) * d;
        __m512 a = _mm512_mul_ps(qv[0], _mm512_loadu_ps(k));
        for (int c = 1; c < NC; ++c) a = _mm512_fmadd_ps(qv[c], _mm512_loadu_ps(k + c * 16), a);
        part[j] = a;
      }
      _mm512_mask_storeu_ps(scores + g * stride + s0, tail_mask(m),
                            _mm512_mul_ps(hsum16(part), _mm512_set1_ps(scale)));
    }
  }
}

// acc[g] += sum_s p[g][s] v_s for GS heads, accumulators in registers.
template <int NC, int GS>
ASTFILL_AVX512 void pv_strip(const float* vf, int64_t count, const float* p, int64_t stride, float* acc) {
  constexpr int64_t d = NC * 16;
  __m512 a[GS][NC];
  for (int g = 0; g < GS; ++g)
    for (int c = 0; c < NC; ++c) a[g][c] = _mm512_loadu_ps(acc + g * d + c * 16);
  for (int64_t s = 0; s < count; ++s) {
    __m512 v[NC];
    for (int c = 0; c < NC; ++c) v[c] = _mm512_loadu_ps(vf + s * d + c * 16);
    for (int g = 0; g < GS; ++g) {
      const __m512 w = _mm512_set1_ps(p[g * stride + s]);
      for (int c = 0; c < NC; ++c) a[g][c] = _mm512_fmadd_ps(w, v[c], a[g][c]);
    }
  }
  for (int g = 0; g < GS; ++g)
    for (int c = 0; c < NC; ++c) _mm512_storeu_ps(acc + g * d + c * 16, a[g][c]);
}

// The widest strip of heads whose accumulators and one row fit in the 32
// vector registers.
template <int NC>
constexpr int kStrip = NC >= 8 ? 3 : NC >= 4 ? 7 : 8;

template <int NC, int GS = kStrip<NC>>
ASTFILL_AVX512 void pv(const float* vf, int64_t count, const float* p, int64_t stride, float* acc, int64_t heads) {
  if constexpr (GS >= 1) {
    while (heads >= GS) {
      pv_strip<NC, GS>(vf, count, p, stride, acc);
      p += GS * stride;
      acc += GS * NC * 16;
      heads -= GS;
    }
    if (heads > 0) pv<NC, GS - 1>(vf, count, p, stride, acc, heads);
  }
}

template <int NC>
ASTFILL_AVX512 void decode_item_avx512(const float* qg, int64_t group, const KvView& c, int64_t kvh, int64_t s0,
                                       int64_t s1, float scale, float* scores, float* rows, Partial out) {
  constexpr int64_t d = NC * 16;
  const int64_t len = s1 - s0;
  const bool f32 = c.type == KvType::F32;
  auto row_ptr = [&](bool keys, int64_t s, int64_t count) -> const float* {
    if (f32) return static_cast<const float*>(keys ? c.k : c.v) + (kvh * c.capacity + s) * d;
    rows_to_f32(c, d, kvh, keys, s, count, rows);
    return rows;
  };
  for (int64_t s = s0; s < s1; s += kSub) {
    const int64_t count = std::min(kSub, s1 - s);
    qk_scores<NC>(qg, group, row_ptr(true, s, count), count, scale, scores + (s - s0), len);
  }
  for (int64_t g = 0; g < group; ++g) out.max[g] = softmax_chunk(scores + g * len, len, &out.sum[g]);
  std::fill_n(out.acc, group * d, 0.0f);
  for (int64_t s = s0; s < s1; s += kSub) {
    const int64_t count = std::min(kSub, s1 - s);
    pv<NC>(row_ptr(false, s, count), count, scores + (s - s0), len, out.acc, group);
  }
}

// A bf16 cache read in place: no f32 copy of the rows, only AVX-512F/BW.
//   A row's 32-bit lanes hold two bf16 values; the low one shifted up and the
//   high one masked are both exact f32 (the "even" and "odd" values), so the
//   scores and P V are f32 FMAs on exact values, as the f32 copy gave, summed
//   in another order. Scores: each block of 16 key rows is transposed in
//   registers, so a lane is a row and q's values are broadcast, and 16 scores
//   come out of plain FMAs with no horizontal sums (VDPBF16PS would need q in
//   bf16 parts and ran at half the FMAs' rate on this machine). P V: the
//   accumulators' lanes are in even/odd order, put back once per work item.
//   Rows are prefetched kPrefetchRows ahead: without it most of the time at
//   16K depth was stalls on the first touch of each row.
constexpr int64_t kPrefetchRows = 24;

// One thread's share of the caller's read-ahead ranges (ReadAhead), pulled
// into this core's L2 a few lines at a time from inside the score and P V
// loops, which are bound by the FMAs: the lines arrive while the FMAs run.
// Thread t of T takes the t-th of T equal parts of each range, the part a
// static split of the next products gives it.
struct Pull {
  static constexpr int kMaxRanges = 4;
  const char* at[kMaxRanges] = {};
  const char* end[kMaxRanges] = {};
  int count = 0, i = 0;
  void step(int lines) {
    while (lines > 0 && i < count) {
      if (at[i] >= end[i]) {
        ++i;
        continue;
      }
      _mm_prefetch(at[i], _MM_HINT_T1);
      at[i] += 64;
      --lines;
    }
  }
};

Pull pull_share(std::span<const ReadAhead> ahead, int thread, int threads) {
  Pull p;
  for (const ReadAhead& r : ahead) {
    if (p.count == Pull::kMaxRanges) break;
    if (!r.data || r.bytes == 0) continue;
    const uintptr_t base = reinterpret_cast<uintptr_t>(r.data);
    const uintptr_t b = (base + r.bytes * static_cast<size_t>(thread) / static_cast<size_t>(threads)) & ~uintptr_t{63};
    const uintptr_t e = base + r.bytes * static_cast<size_t>(thread + 1) / static_cast<size_t>(threads);
    p.at[p.count] = reinterpret_cast<const char*>(b);
    p.end[p.count] = reinterpret_cast<const char*>(e);
    ++p.count;
  }
  return p;
}

// Lines pulled per key row in each of the two passes (scores, P V); 2 is
// about 13 GB/s per thread at the FMA-bound rate of a 7-head group. Off by
// default until a quiet machine shows it pays: on the loaded shared one
// (load 3-4) bench_engine --decode-at's alternating rounds put it within the
// noise (16K: 49.7 vs 52.2 and 68.5 vs 71.4 ms per token, 4K: 46.7 vs 38.0
// and 38.9 vs 42.5). ASTFILL_READ_AHEAD=N sets it.
std::atomic<int>& pull_lines_setting() {
  static std::atomic<int> n{[] {
    const char* v = std::getenv("ASTFILL_READ_AHEAD");
    return v && *v ? std::max(0, std::atoi(v)) : 0;
  }()};
  return n;
}
int pull_lines_per_row() { return pull_lines_setting().load(std::memory_order_relaxed); }

// scores[g][s] = scale * q_g . k_s for GS heads over `count` bf16 rows.
template <int NP, int GS>
ASTFILL_AVX512 void qk_strip_bf16(const float* q, const uint16_t* k, int64_t count, float scale, float* scores,
                                  int64_t stride, Pull& pull, int pull_lines) {
  constexpr int64_t d = NP * 32;
  for (int64_t s0 = 0; s0 < count; s0 += 16) {
    const int64_t m = std::min<int64_t>(16, count - s0);
    const uint16_t* kb = k + s0 * d;
    __m512 acc[GS];
    for (int g = 0; g < GS; ++g) acc[g] = _mm512_setzero_ps();
    for (int c = 0; c < NP; ++c) {
      __m512i r[16], t[16];
      for (int64_t j = 0; j < 16; ++j)
        r[j] = j < m ? _mm512_loadu_si512(kb + j * d + c * 32) : _mm512_setzero_si512();
      transpose16(r, t);
      for (int i = 0; i < 16; ++i) {
        // One line per step, a block's lines in all: prefetches issued in a
        // burst (16 rows at once) left this loop a quarter slower at 16K.
        prefetch_row(kb, kPrefetchRows * d * 2 + (c * 16 + i) * 64, 64);
        if ((c * 16 + i) % NP == 0) pull.step(pull_lines);  // pull_lines per row
        const __m512 even = _mm512_castsi512_ps(_mm512_slli_epi32(t[i], 16));
        const __m512 odd = _mm512_castsi512_ps(_mm512_maskz_mov_epi16(0xaaaaaaaau, t[i]));
        for (int g = 0; g < GS; ++g) {
          acc[g] = _mm512_fmadd_ps(_mm512_set1_ps(q[g * d + c * 32 + 2 * i]), even, acc[g]);
          acc[g] = _mm512_fmadd_ps(_mm512_set1_ps(q[g * d + c * 32 + 2 * i + 1]), odd, acc[g]);
        }
      }
    }
    for (int g = 0; g < GS; ++g)
      _mm512_mask_storeu_ps(scores + g * stride + s0, tail_mask(m), _mm512_mul_ps(acc[g], _mm512_set1_ps(scale)));
  }
}

template <int NP, int GS = 7>
ASTFILL_AVX512 void qk_bf16(const float* q, const uint16_t* k, int64_t count, float scale, float* scores,
                            int64_t stride, int64_t heads, Pull& pull, int pull_lines) {
  if constexpr (GS >= 1) {
    while (heads >= GS) {
      qk_strip_bf16<NP, GS>(q, k, count, scale, scores, stride, pull, pull_lines);
      q += GS * NP * 32;
      scores += GS * stride;
      heads -= GS;
    }
    if (heads > 0) qk_bf16<NP, GS - 1>(q, k, count, scale, scores, stride, heads, pull, pull_lines);
  }
}

// acc[g] (even/odd lane order) += sum_s p[g][s] v_s for GS heads.
template <int NP, int GS>
ASTFILL_AVX512 void pv_strip_bf16(const uint16_t* v, int64_t count, const float* p, int64_t stride,
                                       float* acc, Pull& pull, int pull_lines) {
  constexpr int64_t d = NP * 32;
  __m512 a[GS][2 * NP];
  for (int g = 0; g < GS; ++g)
    for (int c = 0; c < 2 * NP; ++c) a[g][c] = _mm512_loadu_ps(acc + g * d + c * 16);
  for (int64_t s = 0; s < count; ++s) {
    prefetch_row(v, (s + kPrefetchRows) * d * 2, d * 2);
    pull.step(pull_lines);
    __m512 x[2 * NP];
    for (int c = 0; c < NP; ++c) {
      __m512i w;
      std::memcpy(&w, v + s * d + c * 32, sizeof w);
      x[2 * c] = _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));                              // even values
      x[2 * c + 1] = _mm512_castsi512_ps(_mm512_maskz_mov_epi16(0xaaaaaaaau, w));  // odd values
    }
    for (int g = 0; g < GS; ++g) {
      const __m512 w = _mm512_set1_ps(p[g * stride + s]);
      for (int c = 0; c < 2 * NP; ++c) a[g][c] = _mm512_fmadd_ps(w, x[c], a[g][c]);
    }
  }
  for (int g = 0; g < GS; ++g)
    for (int c = 0; c < 2 * NP; ++c) _mm512_storeu_ps(acc + g * d + c * 16, a[g][c]);
}

template <int NP, int GS = kStrip<2 * NP>>
ASTFILL_AVX512 void pv_bf16(const uint16_t* v, int64_t count, const float* p, int64_t stride, float* acc,
                                 int64_t heads, Pull& pull, int pull_lines) {
  if constexpr (GS >= 1) {
    while (heads >= GS) {
      pv_strip_bf16<NP, GS>(v, count, p, stride, acc, pull, pull_lines);
      p += GS * stride;
      acc += GS * NP * 32;
      heads -= GS;
    }
    if (heads > 0) pv_bf16<NP, GS - 1>(v, count, p, stride, acc, heads, pull, pull_lines);
  }
}

template <int NP>
ASTFILL_AVX512 void decode_item_bf16(const float* qg, int64_t group, const KvView& c, int64_t kvh, int64_t s0,
                                     int64_t s1, float scale, float* scores, float* acc, Partial out, Pull& pull) {
  constexpr int64_t d = NP * 32;
  const int64_t len = s1 - s0;
  const uint16_t* k = static_cast<const uint16_t*>(c.k) + (kvh * c.capacity + s0) * d;
  const uint16_t* v = static_cast<const uint16_t*>(c.v) + (kvh * c.capacity + s0) * d;
  // The first rows, which the loops' prefetches (kPrefetchRows ahead) miss;
  // the values' while the softmax runs.
  prefetch_row(k, 0, std::min(kPrefetchRows, len) * d * 2);
  const int pull_lines = pull_lines_per_row();
  qk_bf16<NP>(qg, k, len, scale, scores, len, group, pull, pull_lines);
  prefetch_row(v, 0, std::min(kPrefetchRows, len) * d * 2);
  for (int64_t g = 0; g < group; ++g) out.max[g] = softmax_chunk(scores + g * len, len, &out.sum[g]);
  std::fill_n(acc, group * d, 0.0f);
  pv_bf16<NP>(v, len, scores, len, acc, group, pull, pull_lines);
  for (int64_t g = 0; g < group; ++g)  // even/odd lanes back in order
    for (int64_t cc = 0; cc < NP; ++cc)
      for (int64_t i = 0; i < 16; ++i) {
        out.acc[g * d + cc * 32 + 2 * i] = acc[g * d + cc * 32 + i];
        out.acc[g * d + cc * 32 + 2 * i + 1] = acc[g * d + cc * 32 + 16 + i];
      }
}

void decode_item_portable(const float* qg, int64_t group, int64_t d, const KvView& c, int64_t kvh, int64_t s0,
                          int64_t s1, float scale, float* scores, float* rows, Partial out) {
  const int64_t len = s1 - s0;
  for (int64_t s = s0; s < s1; s += kSub) {
    const int64_t count = std::min(kSub, s1 - s);
    kv_load(c, d, kvh, true, s, count, rows);
    for (int64_t j = 0; j < count; ++j)
      for (int64_t g = 0; g < group; ++g) {
        float dot = 0;
        for (int64_t e = 0; e < d; ++e) dot += qg[g * d + e] * rows[j * d + e];
        scores[g * len + (s - s0) + j] = dot * scale;
      }
  }
  for (int64_t g = 0; g < group; ++g) {
    float* sg = scores + g * len;
    float m = -INFINITY, sum = 0;
    for (int64_t j = 0; j < len; ++j) m = std::max(m, sg[j]);
    for (int64_t j = 0; j < len; ++j) sum += sg[j] = std::exp(sg[j] - m);
    out.max[g] = m;
    out.sum[g] = sum;
  }
  std::fill_n(out.acc, group * d, 0.0f);
  for (int64_t s = s0; s < s1; s += kSub) {
    const int64_t count = std::min(kSub, s1 - s);
    kv_load(c, d, kvh, false, s, count, rows);
    for (int64_t j = 0; j < count; ++j)
      for (int64_t g = 0; g < group; ++g) {
        const float p = scores[g * len + (s - s0) + j];
        float* a = out.acc + g * d;
        for (int64_t e = 0; e < d; ++e) a[e] += p * rows[j * d + e];
      }
  }
}

void attention_decode(const float* q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& cache,
                      int64_t first_slot, float* out, const Plan& plan, std::span<const ReadAhead> ahead) {
  const int64_t group = heads / kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  // Chunks: enough work items to keep every thread busy, none under 256
  // slots. A query's chunks depend only on its own slot count and the thread
  // count, never on the other queries of the pass, so a row's output is bit
  // for bit the same whether it is decoded alone or verified with a draft
  // (speculation's equality rests on it).
  const int64_t threads = omp_get_max_threads();
  const int64_t per_head = std::max<int64_t>(1, (4 * threads + kv_heads - 1) / kv_heads);
  std::vector<int64_t> chunk(static_cast<size_t>(n)), chunks(static_cast<size_t>(n)),
      first_item(static_cast<size_t>(n) + 1, 0);
  int64_t widest = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t slots = first_slot + i + 1;
    chunk[i] = std::max<int64_t>(256, ((slots + per_head - 1) / per_head + kSub - 1) / kSub * kSub);
    chunks[i] = (slots + chunk[i] - 1) / chunk[i];  // per head
    first_item[i + 1] = first_item[i] + kv_heads * chunks[i];
    widest = std::max(widest, chunk[i]);
  }
  const int64_t items = first_item[n];
  std::vector<float> partials(static_cast<size_t>(items * group * (d + 2)));
  auto partial = [&](int64_t item) {
    float* base = partials.data() + item * group * (d + 2);
    return Partial{base, base + group, base + 2 * group};
  };
  // On the engine's team (engine/thread_team.h): decode runs this once a
  // layer a token, too short a loop for OpenMP's fork and join.
  const int threads_now = static_cast<int>(threads);
  const int64_t per_chunk = (items + ThreadTeam::kMaxChunks - 1) / ThreadTeam::kMaxChunks;
  ThreadTeam::shared().run((items + per_chunk - 1) / per_chunk, threads_now, [&](int64_t team_chunk, int member) {
    thread_local std::vector<float> scores, rows, acc;
    scores.resize(static_cast<size_t>(group * widest));
    rows.resize(static_cast<size_t>(kSub * d));
    acc.resize(plan.bf16_rows ? static_cast<size_t>(group * d) : 0);
    Pull pull = pull_share(ahead, member, threads_now);
    const int64_t first = team_chunk * per_chunk, last = std::min(items, first + per_chunk);
    for (int64_t item = first; item < last; ++item) {
      const int64_t i = std::upper_bound(first_item.begin(), first_item.end(), item) - first_item.begin() - 1;
      const int64_t local = item - first_item[i];
      const int64_t kvh = local / chunks[i], ch = local % chunks[i];
      const int64_t slots = first_slot + i + 1;
      const int64_t s0 = ch * chunk[i], s1 = std::min(slots, s0 + chunk[i]);
      Partial pt = partial(item);
      if (s0 >= s1) {  // past this query's last slot
        std::fill_n(pt.max, group, -INFINITY);
        std::fill_n(pt.sum, group, 0.0f);
        std::fill_n(pt.acc, group * d, 0.0f);
        continue;
      }
      const float* qg = q + (i * heads + kvh * group) * d;  // the group's heads are adjacent
      if (!plan.avx512) {
        decode_item_portable(qg, group, d, cache, kvh, s0, s1, scale, scores.data(), rows.data(), pt);
        continue;
      }
      if (plan.int8_rows) {
        int8_attention::decode_item(qg, group, d, cache, kvh, s0, s1, scale, scores.data(), pt);
        continue;
      }
      if (plan.bf16_rows) {
        switch (d / 32) {
#define ASTFILL_CASE(NP) \
  case NP: decode_item_bf16<NP>(qg, group, cache, kvh, s0, s1, scale, scores.data(), acc.data(), pt, pull); break;
          ASTFILL_CASE(1) ASTFILL_CASE(2) ASTFILL_CASE(3) ASTFILL_CASE(4)
#undef ASTFILL_CASE
        }
        continue;
      }
      switch (d / 16) {
#define ASTFILL_CASE(NC) \
  case NC: decode_item_avx512<NC>(qg, group, cache, kvh, s0, s1, scale, scores.data(), rows.data(), pt); break;
        ASTFILL_CASE(1) ASTFILL_CASE(2) ASTFILL_CASE(3) ASTFILL_CASE(4)
        ASTFILL_CASE(5) ASTFILL_CASE(6) ASTFILL_CASE(7) ASTFILL_CASE(8)
#undef ASTFILL_CASE
      }
    }
  });
  // Merge each (query, head)'s chunks: rescale to the largest max.
  for (int64_t i = 0; i < n; ++i)
    for (int64_t kvh = 0; kvh < kv_heads; ++kvh)
      for (int64_t g = 0; g < group; ++g) {
        const int64_t first = first_item[i] + kvh * chunks[i];
        float m = -INFINITY;
        for (int64_t ch = 0; ch < chunks[i]; ++ch) m = std::max(m, partial(first + ch).max[g]);
        float* o = out + (i * heads + kvh * group + g) * d;
        std::fill_n(o, d, 0.0f);
        float sum = 0;
        for (int64_t ch = 0; ch < chunks[i]; ++ch) {
          const Partial pt = partial(first + ch);
          if (pt.sum[g] == 0) continue;
          const float w = std::exp(pt.max[g] - m);
          sum += pt.sum[g] * w;
          for (int64_t e = 0; e < d; ++e) o[e] += pt.acc[g * d + e] * w;
        }
        const float inv = 1.0f / sum;
        for (int64_t e = 0; e < d; ++e) o[e] *= inv;
      }
}

// ---------------------------------------------------------------------------
// Prefill: flash attention in tiles of queries, one thread per tile.

constexpr int64_t kKeyBlock = 256;
constexpr int64_t kTileRows = 256;  // query rows (queries x group heads) per tile

dnnl::engine& cpu() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// C[m][n] (+)= A[m][k] B[k][n], f32 C; A and B f32 or bf16, B stored [k][n]
// (ab) or [n][k] (ba). Called inside a parallel region on a thread whose
// OpenMP thread count is 1, so oneDNN runs it single-threaded; primitives
// are kept per thread and shape.
void matmul(const void* a, const void* b, tag b_tag, float* c, int64_t m, int64_t k, int64_t n, bool bf16,
            bool accumulate) {
  thread_local dnnl::stream s(cpu());
  thread_local std::map<std::tuple<int64_t, int64_t, int64_t, int, bool, bool>, dnnl::matmul> cache;
  const dt in = bf16 ? dt::bf16 : dt::f32;
  memory::desc a_md({m, k}, in, tag::ab), b_md({k, n}, in, b_tag), c_md({m, n}, dt::f32, tag::ab);
  const auto key = std::make_tuple(m, k, n, static_cast<int>(b_tag), bf16, accumulate);
  auto it = cache.find(key);
  if (it == cache.end()) {
    dnnl::primitive_attr attr;
    if (accumulate) {
      dnnl::post_ops po;
      po.append_sum(1.0f);
      attr.set_post_ops(po);
    }
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), attr, cpu());
    it = cache.emplace(key, dnnl::matmul(pd)).first;
  }
  it->second.execute(s, {{DNNL_ARG_SRC, memory(a_md, cpu(), const_cast<void*>(a))},
                         {DNNL_ARG_WEIGHTS, memory(b_md, cpu(), const_cast<void*>(b))},
                         {DNNL_ARG_DST, memory(c_md, cpu(), c)}});
  s.wait();
}

ASTFILL_AVX512_BF16 void f32_to_bf16_avx512(const float* x, int64_t count, uint16_t* out) {
  int64_t j = 0;
  for (; j + 16 <= count; j += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + j), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + j)));
  for (; j < count; ++j) out[j] = to_bf16(x[j]);
}

void f32_to_bf16(const float* x, int64_t count, uint16_t* out, bool avx512_bf16) {
  if (avx512_bf16) return f32_to_bf16_avx512(x, count, out);
  for (int64_t j = 0; j < count; ++j) out[j] = to_bf16(x[j]);
}

// One row's online-softmax step over a block of scores: the first `visible`
// of `count` scores (times `scale`) count, the rest are masked. Writes P (f32
// or bf16, zero where masked), updates the row's max and sum and rescales its
// accumulator.
struct RowState {
  float* max;
  float* sum;
  float* acc;
  int64_t d;
};

ASTFILL_AVX512 float block_max_avx512(const float* s, int64_t visible, float scale) {
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int64_t j = 0; j < visible; j += 16)
    mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail_mask(visible - j), s + j));
  return _mm512_reduce_max_ps(mx) * scale;  // scale > 0 keeps the order
}

ASTFILL_AVX512 float block_exp_avx512(const float* s, int64_t visible, int64_t count, float scale, float m, float* p) {
  const __m512 sv = _mm512_set1_ps(scale), mv = _mm512_set1_ps(m);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < count; j += 16) {
    const __mmask16 k = visible - j > 0 ? tail_mask(visible - j) : 0;
    const __mmask16 all = tail_mask(count - j);
    const __m512 e = _mm512_maskz_mov_ps(k, exp512(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(k, s + j), sv, mv)));
    sum = _mm512_add_ps(sum, e);
    _mm512_mask_storeu_ps(p + j, all, e);
  }
  return _mm512_reduce_add_ps(sum);
}

ASTFILL_AVX512 void scale_row_avx512(float* a, int64_t d, float w) {
  const __m512 wv = _mm512_set1_ps(w);
  for (int64_t j = 0; j < d; j += 16) _mm512_storeu_ps(a + j, _mm512_mul_ps(_mm512_loadu_ps(a + j), wv));
}

void softmax_row(const float* s, int64_t visible, int64_t count, float scale, RowState st, int64_t r, float* p_f32,
                 uint16_t* p_bf16, bool avx512, bool avx512_bf16) {
  if (visible == 0) {  // nothing this row may see in this block
    if (p_bf16) std::fill_n(p_bf16, count, uint16_t{0});
    else std::fill_n(p_f32, count, 0.0f);
    return;
  }
  float* acc = st.acc + r * st.d;
  float m, sum;
  const float old = st.max[r];
  if (avx512) {
    m = std::max(old, block_max_avx512(s, visible, scale));
    sum = block_exp_avx512(s, visible, count, scale, m, p_f32);
  } else {
    m = old;
    for (int64_t j = 0; j < visible; ++j) m = std::max(m, s[j] * scale);
    sum = 0;
    for (int64_t j = 0; j < visible; ++j) sum += p_f32[j] = std::exp(s[j] * scale - m);
    std::fill(p_f32 + visible, p_f32 + count, 0.0f);
  }
  if (p_bf16) f32_to_bf16(p_f32, count, p_bf16, avx512_bf16);
  const float correction = std::exp(old - m);  // exp(-inf) = 0 at the first block
  st.sum[r] = st.sum[r] * correction + sum;
  st.max[r] = m;
  if (correction != 1.0f) {
    if (avx512 && st.d % 16 == 0) scale_row_avx512(acc, st.d, correction);
    else
      for (int64_t j = 0; j < st.d; ++j) acc[j] *= correction;
  }
}

void attention_prefill(const float* q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& cache,
                       int64_t first_slot, float* out, const Plan& plan) {
  const int64_t group = heads / kv_heads, slots = first_slot + n;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const bool bf16 = plan.bf16_matmul;
  const size_t elem = bf16 ? 2 : 4;
  // Each KV head's keys and values as matmul operands: the cache itself when
  // its type is the matmul's, else converted once for the whole batch.
  const bool direct = (cache.type == KvType::F32 && !bf16) || (cache.type == KvType::Bf16 && bf16);
  std::vector<uint8_t> converted;
  auto operand = [&](bool keys, int64_t kvh) -> const uint8_t* {
    if (direct)
      return static_cast<const uint8_t*>(keys ? cache.k : cache.v) + static_cast<size_t>(kvh * cache.capacity * d) * elem;
    return converted.data() + static_cast<size_t>(((keys ? 0 : kv_heads) + kvh) * slots * d) * elem;
  };
  if (!direct) {
    converted.resize(static_cast<size_t>(2 * kv_heads * slots * d) * elem);
    const int64_t pieces = 2 * kv_heads * ((slots + kSub - 1) / kSub);
#pragma omp parallel
    {
      std::vector<float> rows(static_cast<size_t>(kSub * d));
#pragma omp for schedule(static)
      for (int64_t piece = 0; piece < pieces; ++piece) {
        const int64_t per = (slots + kSub - 1) / kSub, which = piece / per, s = piece % per * kSub;
        const bool keys = which < kv_heads;
        const int64_t kvh = which % kv_heads, count = std::min(kSub, slots - s);
        uint8_t* dst = const_cast<uint8_t*>(operand(keys, kvh)) + static_cast<size_t>(s * d) * elem;
        float* f = bf16 ? rows.data() : reinterpret_cast<float*>(dst);
        if (plan.avx512) rows_to_f32(cache, d, kvh, keys, s, count, f);
        else kv_load(cache, d, kvh, keys, s, count, f);
        if (bf16) f32_to_bf16(f, count * d, reinterpret_cast<uint16_t*>(dst), true);
      }
    }
  }
  const int64_t tile = std::max<int64_t>(1, kTileRows / group), tiles = (n + tile - 1) / tile;
  const int64_t items = kv_heads * tiles;
#pragma omp parallel
  {
    omp_set_num_threads(1);  // this thread's oneDNN calls run on it alone
    const int64_t rows_max = tile * group;
    std::vector<float> qf(static_cast<size_t>(rows_max * d)), s(static_cast<size_t>(rows_max * kKeyBlock)),
        pf(static_cast<size_t>(kKeyBlock)), acc(static_cast<size_t>(rows_max * d)),
        row_max(static_cast<size_t>(rows_max)), row_sum(static_cast<size_t>(rows_max));
    std::vector<uint16_t> qb(bf16 ? qf.size() : 0), pb(bf16 ? s.size() : 0);
    if (!bf16) pf.resize(s.size());
#pragma omp for schedule(dynamic, 1)
    for (int64_t item = 0; item < items; ++item) {
      // The last tiles see the most keys: they go first.
      const int64_t t_index = tiles - 1 - item / kv_heads, kvh = item % kv_heads;
      const int64_t i0 = t_index * tile, tn = std::min(tile, n - i0), rows = tn * group;
      // Row t * group + g: query i0 + t of head kvh * group + g (adjacent in q).
      for (int64_t t = 0; t < tn; ++t) {
        const float* src = q + ((i0 + t) * heads + kvh * group) * d;
        if (bf16) f32_to_bf16(src, group * d, qb.data() + t * group * d, true);
        else std::copy_n(src, group * d, qf.data() + t * group * d);
      }
      const void* qa = bf16 ? static_cast<const void*>(qb.data()) : qf.data();
      std::fill_n(acc.data(), rows * d, 0.0f);
      std::fill_n(row_max.data(), rows, -INFINITY);
      std::fill_n(row_sum.data(), rows, 0.0f);
      const RowState st{row_max.data(), row_sum.data(), acc.data(), d};
      const int64_t end = first_slot + i0 + tn;  // the tile's last query sees slots below this
      const uint8_t* kh = operand(true, kvh);
      const uint8_t* vh = operand(false, kvh);
      for (int64_t b = 0; b < end; b += kKeyBlock) {
        const int64_t bs = std::min(kKeyBlock, end - b);
        matmul(qa, kh + static_cast<size_t>(b * d) * elem, tag::ba, s.data(), rows, d, bs, bf16, false);
        const bool masked = b + bs > first_slot + i0 + 1;  // some row does not see the whole block
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t visible = masked ? std::clamp<int64_t>(first_slot + i0 + r / group + 1 - b, 0, bs) : bs;
          softmax_row(s.data() + r * bs, visible, bs, scale, st, r, bf16 ? pf.data() : pf.data() + r * bs,
                      bf16 ? pb.data() + r * bs : nullptr, plan.avx512, bf16);
        }
        const void* pa = bf16 ? static_cast<const void*>(pb.data()) : pf.data();
        matmul(pa, vh + static_cast<size_t>(b * d) * elem, tag::ab, acc.data(), rows, bs, d, bf16, true);
      }
      for (int64_t t = 0; t < tn; ++t)
        for (int64_t g = 0; g < group; ++g) {
          const int64_t r = t * group + g;
          const float inv = 1.0f / row_sum[r];
          float* o = out + ((i0 + t) * heads + kvh * group + g) * d;
          for (int64_t j = 0; j < d; ++j) o[j] = acc[r * d + j] * inv;
        }
    }
  }
}

}  // namespace

void set_attention_read_ahead(int lines_per_row) { pull_lines_setting() = std::max(0, lines_per_row); }
int attention_read_ahead() { return pull_lines_per_row(); }

AttentionKernels default_attention_kernels() {
  const char* v = std::getenv("ASTFILL_ATTENTION");  // read on every call: tests change it
  const std::string_view s = v ? v : "";
  if (s == "f32") return AttentionKernels::F32;
  if (s == "portable") return AttentionKernels::Portable;
  return AttentionKernels::Auto;
}

void attention(const float* q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& cache,
               int64_t first_slot, float* out) {
  attention(q, n, heads, kv_heads, d, cache, first_slot, out, default_attention_kernels());
}

void attention(const float* q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& cache,
               int64_t first_slot, float* out, AttentionKernels kernels) {
  attention(q, n, heads, kv_heads, d, cache, first_slot, out, kernels, {});
}

void attention(const float* q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& cache,
               int64_t first_slot, float* out, AttentionKernels kernels, std::span<const ReadAhead> ahead) {
  if (cache.type == KvType::Int8 && cache.capacity % kKvTile != 0)  // before any thread runs a kernel
    throw std::invalid_argument("attention: an int8 KV view of " + std::to_string(cache.capacity) +
                                " slots is not whole tiles of " + std::to_string(kKvTile));
  const Plan plan = plan_for(cache.type, d, heads / kv_heads, kernels);
  // Below a handful of queries the matmuls' fixed costs outweigh their speed.
  if (n < 8) attention_decode(q, n, heads, kv_heads, d, cache, first_slot, out, plan, ahead);
  else attention_prefill(q, n, heads, kv_heads, d, cache, first_slot, out, plan);
}

bool int8_decode_in_place(int64_t d, int64_t group, AttentionKernels kernels) {
  return plan_for(KvType::Int8, d, group, kernels).int8_rows;
}

std::string attention_kernels_in_use(KvType type, int64_t d, AttentionKernels kernels) {
  const Plan p = plan_for(type, d, 1, kernels);
  return std::string(p.avx512 ? "avx512" : "portable") + (p.bf16_matmul ? ", bf16 matmuls" : ", f32 matmuls") +
         (p.bf16_rows ? ", bf16 rows in place" : "") + (p.int8_rows ? ", int8 rows in place (VNNI)" : "");
}

}  // namespace astfill::engine
