#include "engine/attention_int8.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <cstdlib>

#define ASTFILL_VNNI __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx512vbmi,fma")))

namespace astfill::engine::int8_attention {
namespace {

using namespace simd;

constexpr int64_t kBlock = 32;    // values per cache scale (kv_int8_block(d) when d % 32 == 0)
constexpr int64_t kSubKeys = 64;  // keys per quantisation of the weights in P V
// Rows prefetched ahead of the loops, into L2 (prefetcht1): at 16K slots
// the cache streams from DRAM while the products run, and 96 rows (6 KB at
// d = 64) cover the latency. Measured per token over 24 layers at 16K slots
// on 1 thread (Zen 4): 16 rows into L1 10.6 ms, 64-128 rows into L2
// 7.5-7.8 ms, into L1 at 64 or more slower than 16 (the prefetches evict
// the rows in use).
constexpr int64_t kAhead = 96;
constexpr int kMaxGroup = 16, kMaxD = 128, kMaxBlocks = kMaxD / kBlock;

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t x;
  std::memcpy(&x, p, 4);
  return x;
}

// ---------------------------------------------------------------------------
// Scores.

// u[g][e] = round(q[g][e] / qs[g][b]) as s8 (-127..127), qs[g][b] = max |q| /
// 127 over block b of 32 values; qoff[g][b] = 128 x the block's sum of u,
// what the keys' flipped top bit adds to each score's integer dot product.
ASTFILL_VNNI void quantize_queries(const float* q, int64_t group, int64_t d, uint8_t* u, float* qs,
                                   int32_t* qoff) {
  const int64_t nb = d / kBlock;
  for (int64_t g = 0; g < group; ++g)
    for (int64_t b = 0; b < nb; ++b) {
      const float* x = q + g * d + b * kBlock;
      const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
      const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
      const float s = amax / 127.0f;
      qs[g * nb + b] = s;
      const __m512 inv = _mm512_set1_ps(s > 0 ? 1.0f / s : 0.0f);
      const __m512i i0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, inv));
      const __m512i i1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, inv));
      qoff[g * nb + b] = 128 * _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
      uint8_t* o = u + g * d + b * kBlock;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm512_cvtsepi32_epi8(i0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 16), _mm512_cvtsepi32_epi8(i1));
    }
}

// scores[g][s] = scale * q_g . k_s for GS heads over `count` slots of k,
// from the start of a tile (engine/kv_cache.h: vector i of a tile holds
// values 4i .. 4i + 3 of its 16 slots, one per 32-bit lane; scales
// [blocks][16] per tile). Lanes past `count` are computed from whatever the
// tile holds there and never stored.
template <int NH, int GS>
ASTFILL_VNNI void qk_strip(const uint8_t* qu, const float* qs, const int32_t* qoff, const int8_t* k, const float* ks,
                           int64_t count, float scale, float* scores, int64_t stride) {
  constexpr int64_t d = NH * 64, nb = NH * 2;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t s0 = 0; s0 < count; s0 += kKvTile) {
    const __mmask16 tm = tail_mask(count - s0);
    const int8_t* tile = k + s0 * d;
    const float* tile_scales = ks + s0 * nb;
    __m512 sc[GS];
    for (int g = 0; g < GS; ++g) sc[g] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      __m512i t[8];
      for (int i = 0; i < 8; ++i) {
        prefetch_row<_MM_HINT_T1>(tile, kAhead * d + (b * 8 + i) * 64, 64);  // a tile's 16 * NH lines, kAhead slots on
        t[i] = _mm512_xor_si512(_mm512_loadu_si512(tile + (b * 8 + i) * 64), flip);
      }
      const __m512 kscale = _mm512_loadu_ps(tile_scales + b * kKvTile);
      for (int g = 0; g < GS; ++g) {
        const uint8_t* qb = qu + g * d + b * kBlock;
        __m512i a = _mm512_setzero_si512();
        for (int i = 0; i < 8; ++i)
          a = _mm512_dpbusd_epi32(a, t[i], _mm512_set1_epi32(static_cast<int>(load_u32(qb + 4 * i))));
        sc[g] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(a, _mm512_set1_epi32(qoff[g * nb + b]))),
                                _mm512_mul_ps(kscale, _mm512_set1_ps(qs[g * nb + b])), sc[g]);
      }
    }
    const __m512 sv = _mm512_set1_ps(scale);
    for (int g = 0; g < GS; ++g) _mm512_mask_storeu_ps(scores + g * stride + s0, tm, _mm512_mul_ps(sc[g], sv));
  }
}

template <int NH, int GS = 7>
ASTFILL_VNNI void qk(const uint8_t* qu, const float* qs, const int32_t* qoff, const int8_t* k, const float* ks,
                     int64_t count, float scale, float* scores, int64_t stride, int64_t heads) {
  if constexpr (GS >= 1) {
    while (heads >= GS) {
      qk_strip<NH, GS>(qu, qs, qoff, k, ks, count, scale, scores, stride);
      qu += GS * NH * 64;
      qs += GS * NH * 2;
      qoff += GS * NH * 2;
      scores += GS * stride;
      heads -= GS;
    }
    if (heads > 0) qk<NH, GS - 1>(qu, qs, qoff, k, ks, count, scale, scores, stride, heads);
  }
}

// ---------------------------------------------------------------------------
// P V.

// Each head's weights over `count` (<= 64) keys for each value block b:
// w = p[g][s] * vs[s][b], as u8 of w / wsc[g][b] with wsc = max w / 255.
// Stored in the order two saturating packs leave them: the 4 bytes at dword
// 4L + q are keys 16q + 4L .. 16q + 4L + 3.
// `vs` is the first of the 4 tiles' scales ([blocks][16] per tile).
template <int NB>
ASTFILL_VNNI void quantize_weights(const float* p, int64_t stride, int64_t group, int64_t count, const float* vs,
                                   uint8_t* wq, float* wsc) {
  __mmask16 mask[4];
  for (int q = 0; q < 4; ++q) mask[q] = count > 16 * q ? tail_mask(count - 16 * q) : 0;
  __m512 vsb[NB][4];  // zero past `count`: a tile's unused scales may be anything
  for (int b = 0; b < NB; ++b)
    for (int q = 0; q < 4; ++q) vsb[b][q] = _mm512_maskz_loadu_ps(mask[q], vs + (16 * q * NB + b * kKvTile));
  for (int64_t g = 0; g < group; ++g) {
    __m512 pq[4];
    for (int q = 0; q < 4; ++q) pq[q] = _mm512_maskz_loadu_ps(mask[q], p + g * stride + 16 * q);
    for (int b = 0; b < NB; ++b) {
      __m512 w[4];
      for (int q = 0; q < 4; ++q) w[q] = _mm512_mul_ps(pq[q], vsb[b][q]);
      const float wmax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(w[0], w[1]), _mm512_max_ps(w[2], w[3])));
      const __m512 f = _mm512_set1_ps(wmax > 0 ? 255.0f / wmax : 0.0f);
      __m512i x[4];
      for (int q = 0; q < 4; ++q) x[q] = _mm512_cvtps_epi32(_mm512_mul_ps(w[q], f));
      const __m512i bytes =
          _mm512_packus_epi16(_mm512_packus_epi32(x[0], x[1]), _mm512_packus_epi32(x[2], x[3]));
      _mm512_storeu_si512(wq + (g * NB + b) * 64, bytes);
      wsc[g * NB + b] = wmax / 255.0f;
    }
  }
}

// acc[g] += sum over `groups` groups of 4 slots of wq[g] x v, for GS heads;
// the int32 sums scaled by wsc into the f32 accumulators at the end. v: the
// tiles' values (engine/kv_cache.h: per group of 4 slots, vector c's lane e
// holds value 16c + e of the 4 slots), from a tile's start. One value block
// (two vectors, 32 dimensions) at a time, every head of the strip at once:
// 2 x GS sums and the block's two vectors fit the 32 registers for up to 14
// heads, so a 7-head group is one strip and nothing spills (head-major
// strips of 6 and 1 spilled, and the seventh head read v again: that P V
// took 2.2x the time with the cache in L2, 1.17x from DRAM at 16K slots).
// The blocks after the first find v in L1; the first strip of a piece
// prefetches the rows ahead.
template <int NH, int GS>
ASTFILL_VNNI void pv_strip(const int8_t* v, int64_t groups, const uint8_t* wq, const float* wsc, float* acc,
                           bool prefetch) {
  constexpr int64_t d = NH * 64, nc = NH * 4, nb = NH * 2;
  for (int64_t b = 0; b < nb; ++b) {
    __m512i a[GS][2];
    for (int g = 0; g < GS; ++g) a[g][0] = a[g][1] = _mm512_setzero_si512();
    for (int64_t i = 0; i < groups; ++i) {
      const int64_t at = 4 * (4 * (i & 3) + (i >> 2));  // keys 4i .. 4i + 3 in quantize_weights' order
      if (prefetch && b == 0) prefetch_row<_MM_HINT_T1>(v, (4 * i + kAhead) * d, 4 * d);
      const __m512i x0 = _mm512_loadu_si512(v + (i * nc + 2 * b) * 64);
      const __m512i x1 = _mm512_loadu_si512(v + (i * nc + 2 * b + 1) * 64);
      for (int g = 0; g < GS; ++g) {
        const __m512i w = _mm512_set1_epi32(static_cast<int>(load_u32(wq + (g * nb + b) * 64 + at)));
        a[g][0] = _mm512_dpbusd_epi32(a[g][0], w, x0);
        a[g][1] = _mm512_dpbusd_epi32(a[g][1], w, x1);
      }
    }
    for (int g = 0; g < GS; ++g) {
      const __m512 s = _mm512_set1_ps(wsc[g * nb + b]);
      for (int j = 0; j < 2; ++j) {
        float* o = acc + g * d + (2 * b + j) * 16;
        _mm512_storeu_ps(o, _mm512_fmadd_ps(_mm512_cvtepi32_ps(a[g][j]), s, _mm512_loadu_ps(o)));
      }
    }
  }
}

constexpr int kPvStrip = 14;

template <int NH, int GS = kPvStrip>
ASTFILL_VNNI void pv(const int8_t* v, int64_t groups, const uint8_t* wq, const float* wsc, float* acc,
                     int64_t heads, bool prefetch = true) {
  if constexpr (GS >= 1) {
    while (heads >= GS) {
      pv_strip<NH, GS>(v, groups, wq, wsc, acc, prefetch);
      prefetch = false;
      wq += GS * NH * 2 * 64;
      wsc += GS * NH * 2;
      acc += GS * NH * 64;
      heads -= GS;
    }
    if (heads > 0) pv<NH, GS - 1>(v, groups, wq, wsc, acc, heads, prefetch);
  }
}

template <int NH>
ASTFILL_VNNI void item(const float* qg, int64_t group, const KvView& c, int64_t kvh, int64_t s0, int64_t s1,
                       float scale, float* scores, Partial out) {
  constexpr int64_t d = NH * 64, nb = NH * 2;
  const int64_t len = s1 - s0;
  // s0 starts a tile (work items are whole 64-slot pieces), so the items'
  // data are the layout's own: tile rows of d bytes, tile scales of nb * 16.
  const int8_t* k = static_cast<const int8_t*>(c.k) + kv_int8_key_at(c.capacity, d, kvh, s0, 0);
  const int8_t* v = static_cast<const int8_t*>(c.v) + kv_int8_value_at(c.capacity, d, kvh, s0, 0);
  const float* ks = c.k_scale + kv_int8_scale_at(c.capacity, d, kvh, s0, 0);
  const float* vs = c.v_scale + kv_int8_scale_at(c.capacity, d, kvh, s0, 0);
  alignas(64) uint8_t qu[kMaxGroup * kMaxD];
  float qs[kMaxGroup * kMaxBlocks];
  int32_t qoff[kMaxGroup * kMaxBlocks];
  quantize_queries(qg, group, d, qu, qs, qoff);
  prefetch_row<_MM_HINT_T1>(k, 0, std::min(kAhead, len) * d);
  qk<NH>(qu, qs, qoff, k, ks, len, scale, scores, len, group);
  prefetch_row<_MM_HINT_T1>(v, 0, std::min(kAhead, len) * d);
  for (int64_t g = 0; g < group; ++g) out.max[g] = softmax_chunk(scores + g * len, len, &out.sum[g]);
  std::fill_n(out.acc, group * d, 0.0f);
  alignas(64) uint8_t wq[kMaxGroup * kMaxBlocks * kSubKeys];
  float wsc[kMaxGroup * kMaxBlocks];
  for (int64_t sb = 0; sb < len; sb += kSubKeys) {
    const int64_t count = std::min(kSubKeys, len - sb);
    quantize_weights<nb>(scores + sb, len, group, count, vs + sb * nb, wq, wsc);
    pv<NH>(v + sb * d, (count + 3) / 4, wq, wsc, out.acc, group);
  }
}

}  // namespace

bool cpu_supported() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vbmi");
  return yes;
}

void decode_item(const float* qg, int64_t group, int64_t d, const KvView& c, int64_t kvh, int64_t s0, int64_t s1,
                 float scale, float* scores, Partial out) {
  // attention() has checked the view is whole tiles, and work items start at
  // multiples of 64 slots, so s0 starts a tile.
  if (d == 64) item<1>(qg, group, c, kvh, s0, s1, scale, scores, out);
  else item<2>(qg, group, c, kvh, s0, s1, scale, scores, out);
}

}  // namespace astfill::engine::int8_attention
