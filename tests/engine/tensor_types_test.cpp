// Block formats checked against values worked out by hand from each format's
// definition (see engine/tensor_types.h), plus conversion round trips.
#include "engine/tensor_types.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace astfill::engine;

namespace {
void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v);
  b[at + 1] = static_cast<uint8_t>(v >> 8);
}
std::vector<float> dequant(GgmlType t, const std::vector<uint8_t>& b, size_t n) {
  std::vector<float> out(n);
  dequantize_row(t, b.data(), out.data(), n);
  return out;
}
}  // namespace

TEST_CASE("f16 conversions hit the known bit patterns", "[types]") {
  CHECK(f32_to_f16(1.0f) == 0x3C00);
  CHECK(f32_to_f16(-2.0f) == 0xC000);
  CHECK(f32_to_f16(0.5f) == 0x3800);
  CHECK(f32_to_f16(65504.0f) == 0x7BFF);
  CHECK(f32_to_f16(65520.0f) == 0x7C00);         // rounds up to infinity
  CHECK(f32_to_f16(std::ldexp(1.0f, -24)) == 0x0001);  // smallest subnormal
  CHECK(f32_to_f16(std::ldexp(1.0f, -25)) == 0x0000);  // a tie: to even (zero)
  CHECK(f32_to_f16(std::ldexp(1.5f, -25)) == 0x0001);
  CHECK(f32_to_f16(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);  // tie: to even
  CHECK(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);
  CHECK(f16_to_f32(0x3555) == Approx(0.33325195f));
  CHECK(std::isinf(f16_to_f32(0x7C00)));
  CHECK(std::isnan(f16_to_f32(f32_to_f16(std::nanf("")))));
  CHECK(f16_to_f32(0x0001) == std::ldexp(1.0f, -24));
}

TEST_CASE("every finite f16 survives f16 -> f32 -> f16", "[types]") {
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    REQUIRE(f32_to_f16(f) == h);
  }
}

TEST_CASE("bf16 keeps the top half of an f32, rounding to nearest even", "[types]") {
  CHECK(f32_to_bf16(1.0f) == 0x3F80);
  CHECK(bf16_to_f32(0x3F80) == 1.0f);
  CHECK(bf16_to_f32(0xC040) == -3.0f);
  uint32_t bits = 0x3F808000;  // exactly halfway between 0x3F80 and 0x3F81
  float f;
  std::memcpy(&f, &bits, 4);
  CHECK(f32_to_bf16(f) == 0x3F80);
  bits = 0x3F818000;
  std::memcpy(&f, &bits, 4);
  CHECK(f32_to_bf16(f) == 0x3F82);
}

TEST_CASE("Q8_0: x = q * d", "[types]") {
  std::vector<uint8_t> b(34);
  put16(b, 0, 0x3800);  // d = 0.5
  for (int j = 0; j < 32; ++j) b[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 16));
  auto x = dequant(GgmlType::Q8_0, b, 32);
  CHECK(x[0] == -8.0f);   // -16 * 0.5
  CHECK(x[16] == 0.0f);
  CHECK(x[31] == 7.5f);   // 15 * 0.5
}

TEST_CASE("Q4_0: low nibbles are values 0-15, high nibbles 16-31, offset by 8", "[types]") {
  std::vector<uint8_t> b(18);
  put16(b, 0, 0x4000);  // d = 2
  for (int j = 0; j < 16; ++j) b[2 + j] = static_cast<uint8_t>((j & 0x0F) | ((15 - j) << 4));
  auto x = dequant(GgmlType::Q4_0, b, 32);
  CHECK(x[0] == -16.0f);   // (0 - 8) * 2
  CHECK(x[15] == 14.0f);   // (15 - 8) * 2
  CHECK(x[16] == 14.0f);   // high nibble of byte 0 is 15
  CHECK(x[31] == -16.0f);  // high nibble of byte 15 is 0
}

TEST_CASE("Q4_K: 6-bit scales and mins, packed in 12 bytes", "[types]") {
  std::vector<uint8_t> b(144, 0);
  put16(b, 0, 0x3C00);  // d = 1
  put16(b, 2, 0x3800);  // dmin = 0.5
  // Sub-block scales 1..4 and mins 10..13 for j < 4 (low 6 bits of bytes 0-7);
  // for j = 4..7, scale 17+j and min 33+j: low 4 bits in bytes 8-11, high 2
  // bits in the top of bytes 0-3 (scales) and 4-7 (mins).
  uint8_t* s = b.data() + 4;
  for (int j = 0; j < 4; ++j) {
    int sc_hi = 17 + (j + 4), m_hi = 33 + (j + 4);
    s[j] = static_cast<uint8_t>((1 + j) | ((sc_hi >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>((10 + j) | ((m_hi >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((sc_hi & 0x0F) | ((m_hi & 0x0F) << 4));
  }
  uint8_t* q = b.data() + 16;
  for (int k = 0; k < 128; ++k) q[k] = static_cast<uint8_t>((k % 16) | ((15 - k % 16) << 4));
  auto x = dequant(GgmlType::Q4_K, b, 256);
  // Value 0: chunk 0, low nibble of q[0] = 0, sub-block 0: 1*1*0 - 0.5*10.
  CHECK(x[0] == -5.0f);
  // Value 33: chunk 0, second half (high nibbles), q[1] high = 14, sub-block 1:
  // 1*2*14 - 0.5*11 = 22.5.
  CHECK(x[33] == 22.5f);
  // Value 130: chunk 2, low nibble of q[64 + 2] = 2, sub-block 4: scale 21,
  // min 37: 21*2 - 18.5 = 23.5.
  CHECK(x[130] == 23.5f);
  // Value 255: chunk 3, high nibble of q[96 + 31] = 15 - 15 = 0, sub-block 7:
  // scale 24, min 40: 0 - 20 = -20.
  CHECK(x[255] == -20.0f);
}

TEST_CASE("Q6_K: 4 low bits in ql, 2 high bits in qh, signed 8-bit scales", "[types]") {
  std::vector<uint8_t> b(210, 0);
  uint8_t* ql = b.data();
  uint8_t* qh = b.data() + 128;
  auto* sc = reinterpret_cast<int8_t*>(b.data() + 192);
  put16(b, 208, 0x3800);  // d = 0.5
  for (int k = 0; k < 16; ++k) sc[k] = static_cast<int8_t>(k - 8);
  ql[0] = 0x5A;   // value 0 low bits 0xA; value 64 low bits 0x5
  qh[0] = 0xE4;   // bits 0-1 = 0 (value 0), 2-3 = 1 (value 32), 4-5 = 2 (value 64), 6-7 = 3 (value 96)
  ql[32] = 0x3C;  // value 32 low bits 0xC; value 96 low bits 0x3
  ql[64 + 5] = 0x0F;  // second half, value 128 + 5: low bits 0xF
  qh[32 + 5] = 0x03;  // its high bits 3
  auto x = dequant(GgmlType::Q6_K, b, 256);
  // value 0: q = 0x0A - 32 = -22, scale sc[0] = -8: 0.5 * -8 * -22 = 88.
  CHECK(x[0] == 88.0f);
  // value 32: q = (0x0C | 1<<4) - 32 = -4, scale sc[2] = -6: 0.5 * -6 * -4 = 12.
  CHECK(x[32] == 12.0f);
  // value 64: q = (0x05 | 2<<4) - 32 = 5, scale sc[4] = -4: -10.
  CHECK(x[64] == -10.0f);
  // value 96: q = (0x03 | 3<<4) - 32 = 19, scale sc[6] = -2: -19.
  CHECK(x[96] == -19.0f);
  // value 133: second half, q = (0x0F | 3<<4) - 32 = 31, scale sc[8] = 0: 0.
  CHECK(x[133] == 0.0f);
  // value 1 (all zero bits): q = -32, scale sc[0]: 0.5 * -8 * -32 = 128.
  CHECK(x[1] == 128.0f);
}

// Q8_0 rounds to the nearest step. Q4_0 maps the extreme value to -8, so the
// opposite extreme can only reach +7: its error is bounded by one step.
TEST_CASE("quantising to Q8_0 and Q4_0 stays within the format's error bound", "[types]") {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0, 1);
  std::vector<float> x(256);
  for (auto& v : x) v = dist(rng);
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_0}) {
    std::vector<uint8_t> q(row_bytes(t, x.size()));
    quantize_row(t, x.data(), q.data(), x.size());
    auto y = dequant(t, q, x.size());
    for (size_t blk = 0; blk < x.size(); blk += 32) {
      float amax = 0;
      for (size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[blk + j]));
      float bound = t == GgmlType::Q8_0 ? amax / 127 * 0.5f : amax / 8;
      for (size_t j = 0; j < 32; ++j) REQUIRE(std::fabs(x[blk + j] - y[blk + j]) <= bound + 2e-3f * amax);
    }
  }
}

TEST_CASE("F16 and BF16 rows round trip through quantize/dequantize", "[types]") {
  std::vector<float> x = {0.0f, 1.0f, -1.5f, 3.140625f, 1024.0f, -0.0078125f};
  for (GgmlType t : {GgmlType::F16, GgmlType::BF16, GgmlType::F32}) {
    std::vector<uint8_t> q(row_bytes(t, x.size()));
    quantize_row(t, x.data(), q.data(), x.size());
    CHECK(dequant(t, q, x.size()) == x);
  }
}

TEST_CASE("int8 rows use one symmetric scale", "[types]") {
  std::vector<float> x = {0.0f, 1.27f, -2.54f, 0.01f};
  std::vector<int8_t> q(4);
  float scale = quantize_row_int8(x.data(), q.data(), x.size());
  CHECK(scale == Approx(2.54f / 127));
  CHECK(q[2] == -127);
  CHECK(q[1] == 64);  // 1.27 / 0.02 = 63.5 -> 64
  CHECK(q[0] == 0);
  std::vector<float> zeros(8, 0.0f);
  std::vector<int8_t> qz(8, 5);
  CHECK(quantize_row_int8(zeros.data(), qz.data(), 8) == 0.0f);
  CHECK(qz[3] == 0);
}

TEST_CASE("type names and ids", "[types]") {
  CHECK(parse_type("q8_0") == GgmlType::Q8_0);
  CHECK(parse_type("BF16") == GgmlType::BF16);
  CHECK_FALSE(parse_type("q5_1"));
  CHECK(type_info(14u)->block_bytes == 210);
  CHECK_FALSE(type_info(3u));  // Q4_1: not supported
  CHECK(row_bytes(GgmlType::Q4_K, 512) == 288);
}

TEST_CASE("first_nonfinite_scale finds a NaN or infinite block scale of each quantised type", "[types][robustness]") {
  struct Case {
    GgmlType type;
    size_t stride;
    std::vector<size_t> scale_at;  // where each f16 scale of a block lies
  };
  const Case cases[] = {{GgmlType::Q8_0, 34, {0}}, {GgmlType::Q4_0, 18, {0}},
                        {GgmlType::Q4_K, 144, {0, 2}}, {GgmlType::Q6_K, 210, {208}}};
  for (const auto& c : cases) {
    INFO(type_info(c.type).name);
    // Five blocks of random bytes with finite scales (1.0), then one bad one.
    std::mt19937 rng(7);
    std::vector<uint8_t> b(5 * c.stride);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    for (size_t k = 0; k < 5; ++k)
      for (size_t at : c.scale_at) {
        b[k * c.stride + at] = 0x00;
        b[k * c.stride + at + 1] = 0x3C;
      }
    CHECK_FALSE(first_nonfinite_scale(c.type, b.data(), 5));
    for (size_t at : c.scale_at)
      for (uint16_t bad : {uint16_t{0x7C00}, uint16_t{0xFC00}, uint16_t{0x7E01}}) {
        auto copy = b;
        copy[3 * c.stride + at] = static_cast<uint8_t>(bad);
        copy[3 * c.stride + at + 1] = static_cast<uint8_t>(bad >> 8);
        CHECK(first_nonfinite_scale(c.type, copy.data(), 5) == std::optional<size_t>(3));
        CHECK_FALSE(first_nonfinite_scale(c.type, copy.data(), 3));  // blocks before it only
      }
  }
  // Plain types have no block scales: NaN values there are not scales.
  const uint16_t nan16 = 0x7E00;
  CHECK_FALSE(first_nonfinite_scale(GgmlType::F16, &nan16, 1));
}
