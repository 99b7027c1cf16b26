// Decode attention over an int8 KV cache read in place with AVX512-VNNI
// (engine/attention.cpp picks it; internal to the engine).
//
// At depth decode attention is bound by arithmetic, not memory: at 16K slots
// a 0.5B-shaped model does 704M multiply-adds a token, which f32 FMAs over a
// bf16 cache cannot finish in the time the weights take to stream. Here both
// products are u8 x s8 dot products (VPDPBUSD, 64 multiply-adds an
// instruction against 16 for an f32 FMA), summed exactly in int32:
//   Scores: each query head is quantised per 32-value block as the cache's
//   keys are (symmetric, max |q| / 127) and is VPDPBUSD's signed operand;
//   the keys, read as stored (16 slots interleaved so a lane is a key), are
//   made its unsigned one by flipping their top bit (k + 128), and the
//   offset is taken back once per head and block (128 x the sum of q's
//   block), not per key. Score =
//   q scale x k scale x exact integer dot product.
//   P V: per 64 keys, each head's probabilities times the values' scales are
//   quantised to u8 against their largest (0..255); 4 value rows are
//   interleaved bytewise (VPERMT2B) so a lane is one dimension of 4 keys; the
//   int32 sums are scaled back into f32 accumulators every 64 keys.
// What it rounds beyond the cache itself: q to 8 bits per block (as
// llama.cpp's q8_0 cache does) and the weights to 8 bits per 64 keys.
#pragma once

#include <cstdint>

#include "engine/attention_simd.h"
#include "engine/kv_cache.h"

namespace astfill::engine::int8_attention {

// AVX-512 F/BW/DQ/VL with VNNI and VBMI (Ice Lake, Zen 4 and later).
bool cpu_supported();
// Heads this kernel takes: d a multiple of 64 up to 128, groups up to 16.
inline bool shape_supported(int64_t d, int64_t group) { return d % 64 == 0 && d <= 128 && group <= 16; }

// One work item: the `group` query heads at qg ([group][d]) over slots
// [s0, s1) of KV head `kvh`; softmax partials into `out` (as the f32 loops).
void decode_item(const float* qg, int64_t group, int64_t d, const KvView& c, int64_t kvh, int64_t s0, int64_t s1,
                 float scale, float* scores, simd::Partial out);

}  // namespace astfill::engine::int8_attention
