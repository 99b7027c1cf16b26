#include "engine/gemv_int8.h"

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace astfill::engine {
namespace {

inline int32_t load_quad(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);  // x need not be 4-byte aligned for the compiler's sake
  return v;
}

// R rows at once, four 16-lane accumulators per row (the block's 64
// outputs). With PF, each 256-byte step prefetches the 4 lines `ahead`
// bytes on into L2 (prefetcht1). On this machine (Zen 4, KVM) the hardware's
// stream prefetcher alone keeps up while the VM's bandwidth is ~35 GB/s but
// not when it is ~60: a decode's sequence of products then read at 50 GB/s
// with none, 51 with prefetcht0 1 KB ahead, 55-58 with prefetcht1 2-4 KB
// ahead, 48-51 with prefetcht2 16 KB ahead (the probe 57-63). Into L1
// (prefetcht0) at 1-8 KB it was 25-35% slower in an earlier measurement.
// A second set of accumulators for one row did not help (the loop is bound
// by memory, not by vpdpbusd's latency).
template <int R, bool PF>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void block_rows(const int8_t* w, const uint8_t* x,
                                                                        int64_t x_stride, int64_t quads,
                                                                        int32_t* acc, int64_t ahead) {
  __m512i a[R][4];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 4; ++j) a[r][j] = _mm512_setzero_si512();
  for (int64_t q = 0; q < quads; ++q) {
    const int8_t* p = w + q * 256;  // input channels 4q .. 4q + 3 of the block's 64 outputs
    if constexpr (PF) {
      // An address, never dereferenced: formed as an integer, since it may
      // lie past the weights' end.
      const uintptr_t at = reinterpret_cast<uintptr_t>(p) + static_cast<uintptr_t>(ahead);
      for (int line = 0; line < 4; ++line) _mm_prefetch(reinterpret_cast<const char*>(at + 64 * line), _MM_HINT_T1);
    }
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

namespace {

template <bool PF>
void by_rows(const int8_t* block, const uint8_t* x, int64_t x_stride, int64_t rows, int64_t quads, int32_t* acc,
             int64_t ahead) {
  switch (rows) {
    case 1: return block_rows<1, PF>(block, x, x_stride, quads, acc, ahead);
    case 2: return block_rows<2, PF>(block, x, x_stride, quads, acc, ahead);
    case 3: return block_rows<3, PF>(block, x, x_stride, quads, acc, ahead);
    default: return block_rows<4, PF>(block, x, x_stride, quads, acc, ahead);
  }
}

}  // namespace

void gemv_int8_block(const int8_t* block, const uint8_t* x, int64_t x_stride, int64_t rows, int64_t quads,
                     int32_t* acc, int64_t prefetch_bytes) {
  if (prefetch_bytes > 0) return by_rows<true>(block, x, x_stride, rows, quads, acc, prefetch_bytes);
  by_rows<false>(block, x, x_stride, rows, quads, acc, 0);
}

}  // namespace astfill::engine
