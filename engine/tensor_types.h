// Tensor element types as GGUF (ggml) stores them, and conversions between
// them: block layouts, dequantisation to f32, quantisation from f32, and the
// int8 + per-row scale form the int8 matmul path uses.
//
// Block formats (little-endian, from ggml's published layout):
//   Q8_0  34 B / 32 values : f16 d; i8 q[32]               x = q*d
//   Q4_0  18 B / 32 values : f16 d; u8 q[16]               x = (nibble-8)*d,
//                            low nibbles are values 0-15, high nibbles 16-31
//   Q4_K 144 B / 256 values: f16 d; f16 dmin; u8 scales[12]; u8 qs[128]
//                            8 sub-blocks of 32 with 6-bit scale and min
//   Q6_K 210 B / 256 values: u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d
//                            16 sub-blocks of 16, 6-bit values offset by 32
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace astfill::engine {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q8_0 = 8,
  Q4_K = 12,
  Q6_K = 14,
  BF16 = 30,
};

struct TypeInfo {
  GgmlType type;
  const char* name;
  size_t block_values;  // values per block
  size_t block_bytes;   // bytes per block
};

// Nullopt for type ids astfill cannot read.
std::optional<TypeInfo> type_info(uint32_t id);
const TypeInfo& type_info(GgmlType type);
std::optional<GgmlType> parse_type(std::string_view name);  // "q8_0", "F16", ...

// Bytes of a row of `n` values; n must be a multiple of the block size.
size_t row_bytes(GgmlType type, size_t n);

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);  // round to nearest even
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);  // round to nearest even

// Converts `n` values (a multiple of the block size) of `type` at `src`.
void dequantize_row(GgmlType type, const void* src, float* dst, size_t n);
// Quantises `n` f32 values into `type`. Supported targets: F32, F16, BF16,
// Q8_0, Q4_0 (K-quants are read, not written).
void quantize_row(GgmlType type, const float* src, void* dst, size_t n);
bool can_quantize_to(GgmlType type);

// The first of `blocks` blocks at `src` whose f16 scale (d, and dmin for
// Q4_K) is NaN or infinite, which would make all its values NaN; nullopt when
// every scale is finite or the type has no block scales (F32, F16, BF16).
// Reads two or four bytes a block.
std::optional<size_t> first_nonfinite_scale(GgmlType type, const void* src, size_t blocks);

// Symmetric int8 with one scale for the row: x ~= q * scale, |q| <= 127.
// Returns the scale (0 for an all-zero row).
float quantize_row_int8(const float* src, int8_t* dst, size_t n);

}  // namespace astfill::engine
