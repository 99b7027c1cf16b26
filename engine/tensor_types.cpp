#include "engine/tensor_types.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace astfill::engine {
namespace {

constexpr TypeInfo kTypes[] = {
    {GgmlType::F32, "F32", 1, 4},     {GgmlType::F16, "F16", 1, 2},
    {GgmlType::Q4_0, "Q4_0", 32, 18}, {GgmlType::Q8_0, "Q8_0", 32, 34},
    {GgmlType::Q4_K, "Q4_K", 256, 144}, {GgmlType::Q6_K, "Q6_K", 256, 210},
    {GgmlType::BF16, "BF16", 1, 2},
};

uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
void store_u16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

// f16 -> f32 through a table: loading a model converts hundreds of millions.
const std::array<float, 65536>& f16_table() {
  static const auto table = [] {
    std::array<float, 65536> t{};
    for (uint32_t h = 0; h < 65536; ++h) {
      uint32_t sign = (h & 0x8000u) << 16;
      uint32_t exp = (h >> 10) & 0x1F;
      uint32_t mant = h & 0x3FF;
      uint32_t bits;
      if (exp == 0) {
        if (mant == 0) {
          bits = sign;
        } else {  // subnormal: normalise
          int e = -1;
          do {
            ++e;
            mant <<= 1;
          } while (!(mant & 0x400));
          bits = sign | ((127 - 15 - e) << 23) | ((mant & 0x3FF) << 13);
        }
      } else if (exp == 31) {
        bits = sign | 0x7F800000u | (mant << 13);
      } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
      }
      float f;
      std::memcpy(&f, &bits, 4);
      t[h] = f;
    }
    return t;
  }();
  return table;
}

void dequantize_q8_0(const uint8_t* b, float* y, size_t blocks) {
  for (size_t i = 0; i < blocks; ++i, b += 34, y += 32) {
    float d = f16_to_f32(load_u16(b));
    const auto* q = reinterpret_cast<const int8_t*>(b + 2);
    for (int j = 0; j < 32; ++j) y[j] = q[j] * d;
  }
}

void dequantize_q4_0(const uint8_t* b, float* y, size_t blocks) {
  for (size_t i = 0; i < blocks; ++i, b += 18, y += 32) {
    float d = f16_to_f32(load_u16(b));
    const uint8_t* q = b + 2;
    for (int j = 0; j < 16; ++j) {
      y[j] = ((q[j] & 0x0F) - 8) * d;
      y[j + 16] = ((q[j] >> 4) - 8) * d;
    }
  }
}

// Q4_K packs eight 6-bit scales and eight 6-bit mins into 12 bytes: bytes
// 0-3 hold scales 0-3 (low 6 bits), bytes 4-7 mins 0-3; scales/mins 4-7 take
// their low 4 bits from bytes 8-11 and their high 2 bits from the top bits of
// bytes 0-7.
void q4k_scale_min(int j, const uint8_t* s, uint8_t& scale, uint8_t& min) {
  if (j < 4) {
    scale = s[j] & 63;
    min = s[j + 4] & 63;
  } else {
    scale = static_cast<uint8_t>((s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4));
    min = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

void dequantize_q4_k(const uint8_t* b, float* y, size_t blocks) {
  for (size_t i = 0; i < blocks; ++i, b += 144) {
    float d = f16_to_f32(load_u16(b));
    float dmin = f16_to_f32(load_u16(b + 2));
    const uint8_t* scales = b + 4;
    const uint8_t* q = b + 16;
    // Four chunks of 64 values; each chunk's 32 bytes give the low nibbles to
    // sub-block 2c and the high nibbles to sub-block 2c+1.
    for (int c = 0; c < 4; ++c, q += 32) {
      uint8_t s0, m0, s1, m1;
      q4k_scale_min(2 * c, scales, s0, m0);
      q4k_scale_min(2 * c + 1, scales, s1, m1);
      float d0 = d * s0, min0 = dmin * m0, d1 = d * s1, min1 = dmin * m1;
      for (int l = 0; l < 32; ++l) *y++ = d0 * (q[l] & 0x0F) - min0;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] >> 4) - min1;
    }
  }
}

void dequantize_q6_k(const uint8_t* b, float* y, size_t blocks) {
  for (size_t i = 0; i < blocks; ++i, b += 210) {
    const uint8_t* ql = b;
    const uint8_t* qh = b + 128;
    const auto* sc = reinterpret_cast<const int8_t*>(b + 192);
    float d = f16_to_f32(load_u16(b + 208));
    // Two halves of 128 values. In each, value l (0-31) of the four quarters
    // takes its low 4 bits from ql (low/high nibble of bytes l and l+32) and
    // its high 2 bits from bits 0-1, 2-3, 4-5, 6-7 of qh[l].
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, y += 128) {
      for (int l = 0; l < 32; ++l) {
        int s = l / 16;
        int q1 = ((ql[l] & 0x0F) | ((qh[l] & 0x03) << 4)) - 32;
        int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 0x03) << 4)) - 32;
        int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 0x03) << 4)) - 32;
        int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 0x03) << 4)) - 32;
        y[l] = d * sc[s] * q1;
        y[l + 32] = d * sc[s + 2] * q2;
        y[l + 64] = d * sc[s + 4] * q3;
        y[l + 96] = d * sc[s + 6] * q4;
      }
    }
  }
}

void quantize_q8_0(const float* x, uint8_t* b, size_t blocks) {
  for (size_t i = 0; i < blocks; ++i, b += 34, x += 32) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    uint16_t dh = f32_to_f16(amax / 127.0f);
    store_u16(b, dh);
    // Quantise against the f16-rounded scale the reader will use.
    float d = f16_to_f32(dh);
    float inv = d != 0 ? 1.0f / d : 0.0f;
    auto* q = reinterpret_cast<int8_t*>(b + 2);
    for (int j = 0; j < 32; ++j)
      q[j] = static_cast<int8_t>(std::clamp(std::lround(x[j] * inv), -127L, 127L));
  }
}

void quantize_q4_0(const float* x, uint8_t* b, size_t blocks) {
  for (size_t i = 0; i < blocks; ++i, b += 18, x += 32) {
    // The value of largest magnitude maps to -8, so its sign sets d's sign
    // and the full range [-8, 7] is used.
    float max = 0, amax = 0;
    for (int j = 0; j < 32; ++j)
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    uint16_t dh = f32_to_f16(max / -8.0f);
    store_u16(b, dh);
    float d = f16_to_f32(dh);
    float inv = d != 0 ? 1.0f / d : 0.0f;
    uint8_t* q = b + 2;
    for (int j = 0; j < 16; ++j) {
      auto level = [&](float v) {
        return static_cast<uint8_t>(std::clamp(std::lround(v * inv) + 8, 0L, 15L));
      };
      q[j] = static_cast<uint8_t>(level(x[j]) | (level(x[j + 16]) << 4));
    }
  }
}

}  // namespace

std::optional<TypeInfo> type_info(uint32_t id) {
  for (const auto& t : kTypes)
    if (static_cast<uint32_t>(t.type) == id) return t;
  return std::nullopt;
}

const TypeInfo& type_info(GgmlType type) {
  for (const auto& t : kTypes)
    if (t.type == type) return t;
  throw std::logic_error("unknown GgmlType");
}

std::optional<GgmlType> parse_type(std::string_view name) {
  for (const auto& t : kTypes) {
    std::string_view n = t.name;
    if (n.size() == name.size() &&
        std::equal(n.begin(), n.end(), name.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
      return t.type;
  }
  return std::nullopt;
}

size_t row_bytes(GgmlType type, size_t n) {
  const auto& t = type_info(type);
  return n / t.block_values * t.block_bytes;
}

float f16_to_f32(uint16_t h) { return f16_table()[h]; }

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t abs = x & 0x7FFFFFFF;
  if (abs >= 0x7F800000) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7C00 | (abs > 0x7F800000 ? 0x200 : 0));
  }
  if (abs >= 0x477FF000) return static_cast<uint16_t>(sign | 0x7C00);  // rounds past 65504
  if (abs < 0x38800000) {  // below the smallest normal half: subnormal or zero
    if (abs < 0x33000000) return static_cast<uint16_t>(sign);  // rounds to zero
    uint32_t e = abs >> 23;  // biased exponent, 102..112 here
    uint32_t mant = (abs & 0x7FFFFF) | 0x800000;
    uint32_t shift = 126 - e;  // to units of 2^-24, the half subnormal step
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = ((abs - 0x38000000) >> 13);
  uint32_t rem = abs & 0x1FFF;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) ++half;
  return static_cast<uint16_t>(sign | half);
}

float bf16_to_f32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7FFFFFFF) > 0x7F800000) return static_cast<uint16_t>((x >> 16) | 0x40);  // quiet nan
  uint32_t rounding = 0x7FFF + ((x >> 16) & 1);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

void dequantize_row(GgmlType type, const void* src, float* dst, size_t n) {
  const auto* b = static_cast<const uint8_t*>(src);
  switch (type) {
    case GgmlType::F32: std::memcpy(dst, src, n * 4); return;
    case GgmlType::F16:
      for (size_t i = 0; i < n; ++i) dst[i] = f16_to_f32(load_u16(b + 2 * i));
      return;
    case GgmlType::BF16:
      for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(load_u16(b + 2 * i));
      return;
    case GgmlType::Q8_0: return dequantize_q8_0(b, dst, n / 32);
    case GgmlType::Q4_0: return dequantize_q4_0(b, dst, n / 32);
    case GgmlType::Q4_K: return dequantize_q4_k(b, dst, n / 256);
    case GgmlType::Q6_K: return dequantize_q6_k(b, dst, n / 256);
  }
}

bool can_quantize_to(GgmlType type) {
  return type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16 ||
         type == GgmlType::Q8_0 || type == GgmlType::Q4_0;
}

void quantize_row(GgmlType type, const float* src, void* dst, size_t n) {
  auto* b = static_cast<uint8_t*>(dst);
  switch (type) {
    case GgmlType::F32: std::memcpy(dst, src, n * 4); return;
    case GgmlType::F16:
      for (size_t i = 0; i < n; ++i) store_u16(b + 2 * i, f32_to_f16(src[i]));
      return;
    case GgmlType::BF16:
      for (size_t i = 0; i < n; ++i) store_u16(b + 2 * i, f32_to_bf16(src[i]));
      return;
    case GgmlType::Q8_0: return quantize_q8_0(src, b, n / 32);
    case GgmlType::Q4_0: return quantize_q4_0(src, b, n / 32);
    case GgmlType::Q4_K:
    case GgmlType::Q6_K: break;
  }
  throw std::invalid_argument(std::string("cannot quantize to ") + type_info(type).name);
}

std::optional<size_t> first_nonfinite_scale(GgmlType type, const void* src, size_t blocks) {
  // An f16 is NaN or infinite when its five exponent bits are all set.
  auto bad = [](const uint8_t* p) { return (load_u16(p) & 0x7C00) == 0x7C00; };
  const auto* b = static_cast<const uint8_t*>(src);
  size_t stride = 0, at = 0;
  bool with_min = false;
  switch (type) {
    case GgmlType::Q8_0: stride = 34; break;
    case GgmlType::Q4_0: stride = 18; break;
    case GgmlType::Q4_K: stride = 144, with_min = true; break;
    case GgmlType::Q6_K: stride = 210, at = 208; break;
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: return std::nullopt;
  }
  for (size_t i = 0; i < blocks; ++i, b += stride)
    if (bad(b + at) || (with_min && bad(b + 2))) return i;
  return std::nullopt;
}

float quantize_row_int8(const float* src, int8_t* dst, size_t n) {
  // A row holding NaN or infinity has no meaningful int8 form: its scale
  // becomes NaN, so whatever reads it yields NaN (and nothing is undefined).
  bool finite = true;
  for (size_t i = 0; i < n; ++i) finite &= std::isfinite(src[i]);
  if (!finite) {
    std::memset(dst, 0, n);
    return std::numeric_limits<float>::quiet_NaN();
  }
  float amax = 0;
#pragma omp simd reduction(max : amax)
  for (size_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(src[i]));
  if (amax == 0) {
    std::memset(dst, 0, n);
    return 0;
  }
  float scale = amax / 127.0f;
  float inv = 127.0f / amax;
#pragma omp simd
  for (size_t i = 0; i < n; ++i) dst[i] = static_cast<int8_t>(std::clamp(std::nearbyint(src[i] * inv), -127.0f, 127.0f));
  return scale;
}

}  // namespace astfill::engine
