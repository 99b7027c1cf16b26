// Single-row (decode) int8 products without oneDNN's per-call cost. A decode
// step calls every layer once with M = 1 (four layers x 24 blocks plus the
// 151936-row head for the 0.5B shapes); each call reads its weights once and
// is bound by memory, so what oneDNN spends around the kernel (argument maps,
// memory objects, its own parallel region, the separate dequantisation and
// bias passes) is time the weights are not streaming.
//
// The kernel reads the weights in the layout oneDNN's VNNI matmul chose for
// them (BA16a64b4a: blocks of 64 output channels, each holding every input
// channel as 16-lane x 4-byte groups, which is vpdpbusd's operand order) and
// accumulates u8 x s8 in 32 bits, so its sums are the exact integers
// oneDNN's VNNI kernel computes. Only where the CPU has AVX-512 VNNI (checked
// at run time) and the layout is that one; everything else stays on oneDNN.
#pragma once

#include <cstdint>

namespace astfill::engine {

// Whether this CPU runs the kernel (AVX-512 F/BW and VNNI).
bool gemv_int8_cpu_supported();

// The most rows one call takes (decode, short speculation verifies).
inline constexpr int64_t kGemvMaxRows = 4;

// One block of 64 output channels: acc[r][j] = sum over k < 4 * quads of
// x[r][k] * w[k][j] (u8 x s8 -> s32), for r < rows (1..kGemvMaxRows).
// `block` is the block's 64 * 4 * quads bytes in BA16a64b4a order; row r's
// activations start at x + r * x_stride (4 * quads bytes each, x_stride a
// multiple of 4). prefetch_bytes > 0: each step also prefetches the lines
// that far ahead into L2 (past the block: the next one; a prefetch never
// faults). The sums do not depend on it.
void gemv_int8_block(const int8_t* block, const uint8_t* x, int64_t x_stride, int64_t rows, int64_t quads,
                     int32_t* acc /* rows x 64 */, int64_t prefetch_bytes = 0);

}  // namespace astfill::engine
