// The KV cache: how a session holds the keys and values of the tokens it has
// seen, in one of three element types.
//   f32   exact; 4 bytes per value.
//   bf16  2 bytes per value: f32 rounded to nearest even in its top 16 bits.
//   int8  1 byte per value plus one f32 scale per block of 32 values of a
//         head's row (the whole row when head_dim is not a multiple of 32):
//         symmetric, scale = max |x| / 127, as llama.cpp's q8_0 cache.
// Layout per layer: f32 and bf16 [kv_head][slot][head_dim] for keys and for
// values (each KV head's keys are one dense matrix). int8 holds each KV
// head's slots in tiles of 16, laid out for the VNNI decode kernel
// (engine/attention_int8.h), which then reads them with plain loads:
//   keys    [d/4][16 slots][4 values]: 32-bit lane j of vector i holds values
//           4i .. 4i + 3 of slot j;
//   values  [4 groups of 4 slots][d][4 slots]: lane e of a vector holds value
//           e of 4 consecutive slots;
//   scales  [blocks][16 slots] per tile.
// (d rounded up to a multiple of 4 for the tiles, kv_int8_row(d).) An int8
// view's capacity is a multiple of 16. copy_out/copy_in and kv_load speak
// plain rows whatever the layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace astfill::engine {

// Auto: bf16 when the weights are int8, f32 when they are f32 (the exact
// mode stays exact); see LoadOptions::kv.
enum class KvType { Auto, F32, Bf16, Int8 };

const char* kv_type_name(KvType type);  // "auto", "f32", "bf16", "int8"
std::optional<KvType> parse_kv_type(std::string_view name);

// Values per int8 scale for a head of `d` values.
inline int64_t kv_int8_block(int64_t d) { return d % 32 == 0 ? 32 : d; }

// The int8 layout's tiles (above): slots per tile, bytes per slot and row,
// a capacity rounded up to whole tiles, and where value e of a slot and a
// block's scale lie (offsets from the keys', values' and scales' bases).
constexpr int64_t kKvTile = 16;
inline int64_t kv_int8_row(int64_t d) { return (d + 3) / 4 * 4; }
inline int64_t kv_int8_capacity(int64_t slots) { return (slots + kKvTile - 1) / kKvTile * kKvTile; }
inline int64_t kv_int8_key_at(int64_t capacity, int64_t d, int64_t kv_head, int64_t slot, int64_t e) {
  return (kv_head * capacity + (slot & ~(kKvTile - 1))) * kv_int8_row(d) + (e >> 2) * (4 * kKvTile) +
         (slot & (kKvTile - 1)) * 4 + (e & 3);
}
inline int64_t kv_int8_value_at(int64_t capacity, int64_t d, int64_t kv_head, int64_t slot, int64_t e) {
  const int64_t j = slot & (kKvTile - 1);
  return (kv_head * capacity + (slot & ~(kKvTile - 1))) * kv_int8_row(d) + (j >> 2) * 4 * kv_int8_row(d) + e * 4 +
         (j & 3);
}
inline int64_t kv_int8_scale_at(int64_t capacity, int64_t d, int64_t kv_head, int64_t slot, int64_t block) {
  return (kv_head * capacity + (slot & ~(kKvTile - 1))) * (d / kv_int8_block(d)) + block * kKvTile +
         (slot & (kKvTile - 1));
}

// One layer's cache as the attention kernels see it. `k`/`v` hold elements of
// `type` (never Auto); the scales are for int8 only.
struct KvView {
  void* k = nullptr;  // [kv_heads][capacity][d], int8 in tiles (above)
  void* v = nullptr;
  int64_t capacity = 0;  // slots per head in the layout (int8: a multiple of kKvTile)
  KvType type = KvType::F32;
  float* k_scale = nullptr;  // int8: [kv_heads][capacity / kKvTile][d / kv_int8_block(d)][kKvTile]
  float* v_scale = nullptr;
};

// Writes one token's key and value rows (d floats each) of one KV head into
// slot `slot`, converted to the cache's type (std::invalid_argument for an
// int8 view whose capacity is not whole tiles).
void kv_store(const KvView& cache, int64_t d, int64_t kv_head, int64_t slot, const float* k, const float* v);
// Reads slots [first, first + count) of one KV head back as f32, [count][d]
// (`keys`: the keys, else the values).
void kv_load(const KvView& cache, int64_t d, int64_t kv_head, bool keys, int64_t first, int64_t count, float* out);

// bf16 <-> f32, round to nearest even (NaN stays NaN).
uint16_t to_bf16(float x);
inline float from_bf16(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}

// A session's cache: every layer's keys and values, grown on demand.
class KvCache {
 public:
  KvCache() = default;
  KvCache(KvType type, size_t layers, size_t kv_heads, size_t head_dim);
  KvCache(const KvCache&) = delete;  // the layers point into one buffer
  KvCache& operator=(const KvCache&) = delete;
  KvCache(KvCache&&) = default;
  KvCache& operator=(KvCache&&) = default;

  KvType type() const { return type_; }
  size_t allocated() const { return allocated_; }
  // Bytes one token takes over all layers, keys, values and scales.
  uint64_t bytes_per_slot() const;
  uint64_t bytes() const { return bytes_per_slot() * allocated_; }
  // Reallocates every layer for `slots` slots, keeping the first `keep`.
  void grow(size_t slots, size_t keep);
  KvView layer(size_t l);

  // Slots [first, first + count) of every layer as bytes, appended to `out`
  // (count * bytes_per_slot(): per layer the keys of each head, the values,
  // then int8's key and value scales), exactly as held: what copy_in puts
  // back is bit for bit what was computed. Both require first + count <=
  // allocated() (std::out_of_range), and copy_in exactly that many bytes
  // (std::invalid_argument).
  void copy_out(size_t first, size_t count, std::vector<uint8_t>& out) const;
  void copy_in(size_t first, size_t count, std::span<const uint8_t> bytes);

 private:
  // Pointers into storage_: decode reads the whole cache every token, so it
  // is one allocation on huge pages where the kernel gives them
  // (engine/streamed_memory.h), not 2-4 small vectors per layer.
  struct Layer {
    uint8_t* k = nullptr;
    uint8_t* v = nullptr;
    float* k_scale = nullptr;  // int8 only
    float* v_scale = nullptr;
  };
  KvType type_ = KvType::F32;
  size_t heads_ = 0, d_ = 0, allocated_ = 0;
  size_t capacity_ = 0;  // slots per head in the layout: allocated_, int8 rounded up to whole tiles
  std::vector<Layer> layers_;
  std::shared_ptr<uint8_t> storage_;
};

}  // namespace astfill::engine
