#include "engine/gemv_int8.h"

#include <immintrin.h>

#include <cstring>

namespace astfill::engine {
namespace {

inline int32_t load_quad(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);  // x need not be 4-byte aligned for the compiler's sake
  return v;
}

// R rows at once, four 16-lane accumulators per row (the block's 64
// outputs). No software prefetch: the hardware's stream prefetcher follows
// the block's sequential reads, and prefetches 1-8 KB ahead measured 25-35%
// slower from DRAM on this machine (Zen 4); a second set of accumulators for
// one row did not help either (the loop is bound by memory, not by
// vpdpbusd's latency).
template <int R>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void block_rows(const int8_t* w, const uint8_t* x,
                                                                        int64_t x_stride, int64_t quads,
                                                                        int32_t* acc) {
  __m512i a[R][4];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 4; ++j) a[r][j] = _mm512_setzero_si512();
  for (int64_t q = 0; q < quads; ++q) {
    const int8_t* p = w + q * 256;  // input channels 4q .. 4q + 3 of the block's 64 outputs
    const __m512i w0 = _mm512_loadu_si512(p), w1 = _mm512_loadu_si512(p + 64),
                  w2 = _mm512_loadu_si512(p + 128), w3 = _mm512_loadu_si512(p + 192);
    for (int r = 0; r < R; ++r) {
      const __m512i xq = _mm512_set1_epi32(load_quad(x + r * x_stride + 4 * q));
      a[r][0] = _mm512_dpbusd_epi32(a[r][0], xq, w0);
      a[r][1] = _mm512_dpbusd_epi32(a[r][1], xq, w1);
      a[r][2] = _mm512_dpbusd_epi32(a[r][2], xq, w2);
      a[r][3] = _mm512_dpbusd_epi32(a[r][3], xq, w3);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 4; ++j) _mm512_storeu_si512(acc + r * 64 + 16 * j, a[r][j]);
}

}  // namespace

bool gemv_int8_cpu_supported() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                         __builtin_cpu_supports("avx512vnni");
  return ok;
}

void gemv_int8_block(const int8_t* block, const uint8_t* x, int64_t x_stride, int64_t rows, int64_t quads,
                     int32_t* acc) {
  switch (rows) {
    case 1: return block_rows<1>(block, x, x_stride, quads, acc);
    case 2: return block_rows<2>(block, x, x_stride, quads, acc);
    case 3: return block_rows<3>(block, x, x_stride, quads, acc);
    default: return block_rows<4>(block, x, x_stride, quads, acc);
  }
}

}  // namespace astfill::engine
