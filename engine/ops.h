// The elementwise and attention kernels of the transformer. Plain loops that
// GCC vectorises (-O2 -ftree-vectorize via CMake's Release -O3), parallel over
// rows or heads with OpenMP where the work is large enough to pay for it.
#pragma once

#include <cstdint>

namespace astfill::engine::ops {

// out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w, for `rows` rows of `n`.
void rms_norm(const float* x, const float* w, int64_t rows, int64_t n, float eps, float* out);

// Rotary position embedding, NEOX / rotate_half pairing (i, i + d/2), in
// place on `heads` heads of `d` values at position `pos`. `inv_freq` holds
// d/2 inverse frequencies; cos and sin are multiplied by `mscale` (YaRN).
void rope_neox(float* x, int64_t heads, int64_t d, double pos, const float* inv_freq, float mscale = 1.0f);

// M-RoPE (Qwen2-VL's multimodal rotary positions): rope_neox where
// frequency i < d/2 takes the position of its section: the first sections[0]
// frequencies pos[0] (time), the next sections[1] pos[1] (height), the rest
// pos[2] (width). With three equal positions it is rope_neox.
void rope_multi(float* x, int64_t heads, int64_t d, const double pos[3], const int32_t sections[3],
                const float* inv_freq, float mscale = 1.0f);

// SwiGLU over `rows` rows of a fused gate|up projection (each row 2f values:
// f of gate, then f of up): out[r][i] = silu(gate[r][i]) * up[r][i].
void swiglu(const float* gate_up, int64_t rows, int64_t f, float* out);

// x[i] += y[i]
void add(float* x, const float* y, int64_t n);

}  // namespace astfill::engine::ops
