#include "engine/ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace astfill::engine::ops {

void rms_norm(const float* x, const float* w, int64_t rows, int64_t n, float eps, float* out) {
#pragma omp parallel for if (rows * n > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* o = out + r * n;
    double ss = 0;  // accumulate in double: rows of thousands of values
#pragma omp simd reduction(+ : ss)
    for (int64_t i = 0; i < n; ++i) ss += double(xr[i]) * xr[i];
    const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
    for (int64_t i = 0; i < n; ++i) o[i] = xr[i] * scale * w[i];
  }
}

void rope_neox(float* x, int64_t heads, int64_t d, double pos, const float* inv_freq, float mscale) {
  const int64_t half = d / 2;
  // Angles in double: at 32K positions a float angle loses several digits.
  thread_local std::vector<float> cs, sn;
  cs.resize(static_cast<size_t>(half));
  sn.resize(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    double a = pos * inv_freq[i];
    cs[i] = static_cast<float>(std::cos(a) * mscale);
    sn[i] = static_cast<float>(std::sin(a) * mscale);
  }
  for (int64_t h = 0; h < heads; ++h) {
    float* v = x + h * d;
    for (int64_t i = 0; i < half; ++i) {
      const float a = v[i], b = v[i + half];
      v[i] = a * cs[i] - b * sn[i];
      v[i + half] = b * cs[i] + a * sn[i];
    }
  }
}

void rope_multi(float* x, int64_t heads, int64_t d, const double pos[3], const int32_t sections[3],
                const float* inv_freq, float mscale) {
  const int64_t half = d / 2;
  thread_local std::vector<float> cs, sn;
  cs.resize(static_cast<size_t>(half));
  sn.resize(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    const int s = i < sections[0] ? 0 : i < sections[0] + sections[1] ? 1 : 2;
    double a = pos[s] * inv_freq[i];
    cs[i] = static_cast<float>(std::cos(a) * mscale);
    sn[i] = static_cast<float>(std::sin(a) * mscale);
  }
  for (int64_t h = 0; h < heads; ++h) {
    float* v = x + h * d;
    for (int64_t i = 0; i < half; ++i) {
      const float a = v[i], b = v[i + half];
      v[i] = a * cs[i] - b * sn[i];
      v[i + half] = b * cs[i] + a * sn[i];
    }
  }
}

void swiglu(const float* gate_up, int64_t rows, int64_t f, float* out) {
#pragma omp parallel for if (rows * f > 32768) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* g = gate_up + r * 2 * f;
    const float* u = g + f;
    float* o = out + r * f;
    // This file is built with -ffast-math so that the loop vectorises through
    // glibc's vector expf; silu saturates cleanly (exp(-g) -> inf gives 0).
#pragma omp simd
    for (int64_t i = 0; i < f; ++i) o[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  }
}

void add(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace astfill::engine::ops
