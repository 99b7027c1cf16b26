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
// d/2 inverse frequencies.
void rope_neox(float* x, int64_t heads, int64_t d, double pos, const float* inv_freq);

// a[i] = silu(a[i]) * b[i]
void silu_mul(float* a, const float* b, int64_t n);

// x[i] += y[i]
void add(float* x, const float* y, int64_t n);

}  // namespace astfill::engine::ops
