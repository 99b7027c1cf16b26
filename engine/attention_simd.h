// AVX-512 pieces the attention kernels share (engine/attention.cpp,
// engine/attention_int8.cpp): exp, horizontal sums, a 16x16 transpose, the
// softmax of a chunk of scores, prefetches and a work item's partials.
// Internal to the engine.
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstdint>

#define ASTFILL_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

namespace astfill::engine::simd {

struct Partial {  // one work item's softmax partials, per group head
  float* max;     // [group]
  float* sum;     // [group]
  float* acc;     // [group][d], unnormalised
};

// e^x for x <= 0 (softmax arguments): Cody-Waite reduction to r in
// [-ln2/2, ln2/2], a degree-7 Taylor polynomial (relative error < 1e-8 before
// rounding), scaled by 2^k. Below -87 the result is ~1e-38, not 0.
ASTFILL_AVX512 inline __m512 exp512(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.428606765330187e-06f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, k);
}

// The 16 horizontal sums of v[0..15], in order, in one vector: a transpose
// and add tree (15 adds, 30 shuffles) instead of 16 separate reductions.
ASTFILL_AVX512 inline __m512 hsum16(const __m512* v) {
  __m512 a[8], b[4], c[2];
  for (int i = 0; i < 8; ++i)
    a[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
  for (int i = 0; i < 4; ++i) {
    const __m512d x = _mm512_castps_pd(a[2 * i]), y = _mm512_castps_pd(a[2 * i + 1]);
    b[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)), _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
  }
  for (int i = 0; i < 2; ++i)
    c[i] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0x88),
                         _mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0xdd));
  return _mm512_add_ps(_mm512_shuffle_f32x4(c[0], c[1], 0x88), _mm512_shuffle_f32x4(c[0], c[1], 0xdd));
}

inline __mmask16 tail_mask(int64_t count) {
  return count >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << count) - 1);
}

// Prefetches `bytes` at `offset` bytes from `base` (into L1 by default;
// `Hint` _MM_HINT_T1: into L2); the address may lie past the cache's end (a
// prefetch never faults), so it is formed as an integer.
template <int Hint = _MM_HINT_T0>
inline void prefetch_row(const void* base, int64_t offset, int64_t bytes) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(base) + static_cast<uintptr_t>(offset);
  for (int64_t line = 0; line < bytes; line += 64)
    _mm_prefetch(reinterpret_cast<const char*>(at + static_cast<uintptr_t>(line)), static_cast<_mm_hint>(Hint));
}

// Transposes 16 vectors of 16 32-bit lanes: t[i] lane j = r[j] lane i.
ASTFILL_AVX512 inline void transpose16(const __m512i* r, __m512i* t) {
  __m512i a[16], b[16];
  for (int k = 0; k < 8; ++k) {
    a[2 * k] = _mm512_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
    a[2 * k + 1] = _mm512_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
  }
  for (int k = 0; k < 4; ++k) {  // b[4k + m], 128-bit lane L: rows 4k..4k+3 of lane 4L + m
    b[4 * k] = _mm512_unpacklo_epi64(a[4 * k], a[4 * k + 2]);
    b[4 * k + 1] = _mm512_unpackhi_epi64(a[4 * k], a[4 * k + 2]);
    b[4 * k + 2] = _mm512_unpacklo_epi64(a[4 * k + 1], a[4 * k + 3]);
    b[4 * k + 3] = _mm512_unpackhi_epi64(a[4 * k + 1], a[4 * k + 3]);
  }
  for (int m = 0; m < 4; ++m) {
    const __m512i x0 = _mm512_shuffle_i32x4(b[m], b[4 + m], 0x44), x1 = _mm512_shuffle_i32x4(b[m], b[4 + m], 0xee);
    const __m512i y0 = _mm512_shuffle_i32x4(b[8 + m], b[12 + m], 0x44),
                  y1 = _mm512_shuffle_i32x4(b[8 + m], b[12 + m], 0xee);
    t[m] = _mm512_shuffle_i32x4(x0, y0, 0x88);
    t[4 + m] = _mm512_shuffle_i32x4(x0, y0, 0xdd);
    t[8 + m] = _mm512_shuffle_i32x4(x1, y1, 0x88);
    t[12 + m] = _mm512_shuffle_i32x4(x1, y1, 0xdd);
  }
}

// In place: scores -> exp(scores - max); returns the max, adds the sum.
ASTFILL_AVX512 inline float softmax_chunk(float* s, int64_t count, float* sum_out) {
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int64_t j = 0; j < count; j += 16)
    mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail_mask(count - j), s + j));
  const float m = _mm512_reduce_max_ps(mx);
  const __m512 mv = _mm512_set1_ps(m);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < count; j += 16) {
    const __mmask16 k = tail_mask(count - j);
    const __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + j), mv));
    sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(k, e));
    _mm512_mask_storeu_ps(s + j, k, e);
  }
  *sum_out = _mm512_reduce_add_ps(sum);
  return m;
}

}  // namespace astfill::engine::simd
