#include "engine/kv_cache.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "engine/streamed_memory.h"

namespace astfill::engine {

const char* kv_type_name(KvType type) {
  switch (type) {
    case KvType::Auto: return "auto";
    case KvType::F32: return "f32";
    case KvType::Bf16: return "bf16";
    case KvType::Int8: return "int8";
  }
  return "?";
}

std::optional<KvType> parse_kv_type(std::string_view name) {
  for (KvType t : {KvType::Auto, KvType::F32, KvType::Bf16, KvType::Int8})
    if (name == kv_type_name(t)) return t;
  return std::nullopt;
}

uint16_t to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

namespace {

size_t element_bytes(KvType t) { return t == KvType::F32 ? 4 : t == KvType::Bf16 ? 2 : 1; }

void store_row(const KvView& c, int64_t d, void* base, int64_t at, const float* x) {
  switch (c.type) {
    case KvType::Auto:
    case KvType::F32: std::memcpy(static_cast<float*>(base) + at * d, x, sizeof(float) * static_cast<size_t>(d)); break;
    case KvType::Bf16: {
      uint16_t* o = static_cast<uint16_t*>(base) + at * d;
      for (int64_t j = 0; j < d; ++j) o[j] = to_bf16(x[j]);
      break;
    }
    case KvType::Int8: break;  // store_int8
  }
}

// One slot's row of an int8 cache, quantised per block into the tiles.
void store_int8(const KvView& c, int64_t d, int64_t kv_head, int64_t slot, bool keys, const float* x) {
  const int64_t block = kv_int8_block(d);
  int8_t* base = static_cast<int8_t*>(keys ? c.k : c.v);
  float* scales = keys ? c.k_scale : c.v_scale;
  for (int64_t b = 0; b < d / block; ++b) {
    float amax = 0;
    for (int64_t j = 0; j < block; ++j) amax = std::max(amax, std::fabs(x[b * block + j]));
    const float scale = amax / 127.0f, inv = amax > 0 ? 127.0f / amax : 0.0f;
    scales[kv_int8_scale_at(c.capacity, d, kv_head, slot, b)] = scale;
    for (int64_t j = b * block; j < (b + 1) * block; ++j) {
      const int64_t at = keys ? kv_int8_key_at(c.capacity, d, kv_head, slot, j)
                              : kv_int8_value_at(c.capacity, d, kv_head, slot, j);
      base[at] = static_cast<int8_t>(std::lrintf(std::clamp(x[j] * inv, -127.0f, 127.0f)));
    }
  }
}

void require_tiles(const KvView& c) {
  if (c.type == KvType::Int8 && c.capacity % kKvTile != 0)
    throw std::invalid_argument("int8 KV view of " + std::to_string(c.capacity) + " slots: not whole tiles of " +
                                std::to_string(kKvTile));
}

}  // namespace

void kv_store(const KvView& c, int64_t d, int64_t kv_head, int64_t slot, const float* k, const float* v) {
  if (c.type == KvType::Int8) {
    require_tiles(c);
    store_int8(c, d, kv_head, slot, true, k);
    store_int8(c, d, kv_head, slot, false, v);
    return;
  }
  const int64_t at = kv_head * c.capacity + slot;
  store_row(c, d, c.k, at, k);
  store_row(c, d, c.v, at, v);
}

void kv_load(const KvView& c, int64_t d, int64_t kv_head, bool keys, int64_t first, int64_t count, float* out) {
  const void* base = keys ? c.k : c.v;
  const int64_t at = kv_head * c.capacity + first;
  switch (c.type) {
    case KvType::Auto:
    case KvType::F32:
      std::memcpy(out, static_cast<const float*>(base) + at * d, sizeof(float) * static_cast<size_t>(count * d));
      break;
    case KvType::Bf16: {
      const uint16_t* p = static_cast<const uint16_t*>(base) + at * d;
      for (int64_t j = 0; j < count * d; ++j) out[j] = from_bf16(p[j]);
      break;
    }
    case KvType::Int8: {
      require_tiles(c);
      const int64_t block = kv_int8_block(d);
      const int8_t* p = static_cast<const int8_t*>(base);
      const float* s = keys ? c.k_scale : c.v_scale;
      for (int64_t i = 0; i < count; ++i)
        for (int64_t e = 0; e < d; ++e) {
          const int64_t slot = first + i;
          const int64_t a = keys ? kv_int8_key_at(c.capacity, d, kv_head, slot, e)
                                 : kv_int8_value_at(c.capacity, d, kv_head, slot, e);
          out[i * d + e] = static_cast<float>(p[a]) * s[kv_int8_scale_at(c.capacity, d, kv_head, slot, e / block)];
        }
      break;
    }
  }
}

KvCache::KvCache(KvType type, size_t layers, size_t kv_heads, size_t head_dim)
    : type_(type == KvType::Auto ? KvType::F32 : type), heads_(kv_heads), d_(head_dim), layers_(layers) {}

uint64_t KvCache::bytes_per_slot() const {
  uint64_t row = d_ * element_bytes(type_);
  if (type_ == KvType::Int8) row += sizeof(float) * (d_ / static_cast<size_t>(kv_int8_block(static_cast<int64_t>(d_))));
  return 2 * row * heads_ * layers_.size();
}

void KvCache::grow(size_t slots, size_t keep) {
  keep = std::min(keep, allocated_);
  const bool int8 = type_ == KvType::Int8;
  const int64_t d = static_cast<int64_t>(d_);
  const size_t capacity = int8 ? static_cast<size_t>(kv_int8_capacity(static_cast<int64_t>(slots))) : slots;
  const size_t row = int8 ? static_cast<size_t>(kv_int8_row(d)) : d_ * element_bytes(type_);
  const size_t blocks = int8 ? d_ / static_cast<size_t>(kv_int8_block(d)) : 0;
  // Each part 64-byte aligned, for the kernels' whole-line loads.
  auto aligned = [](size_t n) { return (n + 63) / 64 * 64; };
  const size_t rows_bytes = aligned(heads_ * capacity * row),
               scale_bytes = aligned(heads_ * capacity * blocks * sizeof(float));
  const size_t per_layer = 2 * rows_bytes + (blocks ? 2 * scale_bytes : 0);
  std::shared_ptr<uint8_t> bigger = allocate_streamed_alone(std::max<size_t>(1, per_layer * layers_.size()));
  // [kv_head][slot][...] (int8: whole tiles of slots): growing moves each
  // head's first slots to its new place.
  const size_t moved = int8 ? static_cast<size_t>(kv_int8_capacity(static_cast<int64_t>(keep))) : keep;
  auto move_rows = [&](const uint8_t* from, uint8_t* to, size_t unit) {
    if (moved == 0 || !from) return;
    for (size_t h = 0; h < heads_; ++h) std::memcpy(to + h * capacity * unit, from + h * capacity_ * unit, moved * unit);
  };
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = layers_[i];
    uint8_t* base = bigger.get() + i * per_layer;
    Layer n{base, base + rows_bytes, nullptr, nullptr};
    if (blocks) {
      n.k_scale = reinterpret_cast<float*>(base + 2 * rows_bytes);
      n.v_scale = reinterpret_cast<float*>(base + 2 * rows_bytes + scale_bytes);
    }
    move_rows(l.k, n.k, row);
    move_rows(l.v, n.v, row);
    if (blocks) {
      move_rows(reinterpret_cast<const uint8_t*>(l.k_scale), reinterpret_cast<uint8_t*>(n.k_scale), blocks * sizeof(float));
      move_rows(reinterpret_cast<const uint8_t*>(l.v_scale), reinterpret_cast<uint8_t*>(n.v_scale), blocks * sizeof(float));
    }
    l = n;
  }
  storage_ = std::move(bigger);
  allocated_ = slots;
  capacity_ = capacity;
  // Whole tiles moved: the slots past `keep` in the last one read as zero
  // again, as every slot not kept does.
  const size_t cleared = std::min(moved, allocated_);
  if (int8 && cleared > keep) copy_in(keep, cleared - keep, std::vector<uint8_t>(bytes_per_slot() * (cleared - keep), 0));
}

namespace {
// Calls f(pointer, bytes) for every run of bytes slots [first, first + count)
// occupy, in the order copy_out writes them (f32 and bf16 caches).
template <typename Layers, typename F>
void for_each_run(Layers& layers, size_t heads, size_t capacity, size_t row, size_t first, size_t count, F&& f) {
  for (auto& l : layers)
    for (uint8_t* buf : {l.k, l.v})
      for (size_t h = 0; h < heads; ++h) f(buf + (h * capacity + first) * row, count * row);
}

// Calls f(cache byte, serialised byte) for every byte of an int8 cache's
// slots [first, first + count), the serialised bytes in copy_out's order:
// per layer each head's key rows, value rows, key scales, value scales.
template <typename Layers, typename F>
void for_each_int8_byte(Layers& layers, size_t heads, size_t capacity, size_t d, size_t first, size_t count, F&& f) {
  const int64_t cap = static_cast<int64_t>(capacity), dd = static_cast<int64_t>(d);
  const size_t blocks = d / static_cast<size_t>(kv_int8_block(dd));
  size_t at = 0;
  for (auto& l : layers) {
    for (bool keys : {true, false})
      for (size_t h = 0; h < heads; ++h)
        for (size_t s = first; s < first + count; ++s)
          for (size_t e = 0; e < d; ++e) {
            const int64_t hh = static_cast<int64_t>(h), ss = static_cast<int64_t>(s), ee = static_cast<int64_t>(e);
            f((keys ? l.k : l.v) + (keys ? kv_int8_key_at(cap, dd, hh, ss, ee) : kv_int8_value_at(cap, dd, hh, ss, ee)),
              at++);
          }
    for (auto* scales : {l.k_scale, l.v_scale})
      for (size_t h = 0; h < heads; ++h)
        for (size_t s = first; s < first + count; ++s)
          for (size_t b = 0; b < blocks; ++b) {
            auto* p = reinterpret_cast<decltype(l.k)>(
                scales + kv_int8_scale_at(cap, dd, static_cast<int64_t>(h), static_cast<int64_t>(s), static_cast<int64_t>(b)));
            for (size_t i = 0; i < sizeof(float); ++i) f(p + i, at++);
          }
  }
}
}  // namespace

void KvCache::copy_out(size_t first, size_t count, std::vector<uint8_t>& out) const {
  if (first > allocated_ || count > allocated_ - first)
    throw std::out_of_range("KV slots " + std::to_string(first) + "+" + std::to_string(count) + " past the " +
                            std::to_string(allocated_) + " allocated");
  const size_t start = out.size();
  out.reserve(start + count * bytes_per_slot());
  if (count == 0) return;
  if (type_ == KvType::Int8) {
    out.resize(start + count * bytes_per_slot());
    for_each_int8_byte(layers_, heads_, capacity_, d_, first, count,
                       [&](const uint8_t* p, size_t i) { out[start + i] = *p; });
    return;
  }
  for_each_run(layers_, heads_, capacity_, d_ * element_bytes(type_), first, count,
               [&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); });
}

void KvCache::copy_in(size_t first, size_t count, std::span<const uint8_t> bytes) {
  if (first > allocated_ || count > allocated_ - first)
    throw std::out_of_range("KV slots " + std::to_string(first) + "+" + std::to_string(count) + " past the " +
                            std::to_string(allocated_) + " allocated");
  if (bytes.size() != count * bytes_per_slot())
    throw std::invalid_argument("KV bytes: " + std::to_string(bytes.size()) + " for " + std::to_string(count) +
                                " slots of " + std::to_string(bytes_per_slot()));
  if (count == 0) return;
  if (type_ == KvType::Int8) {
    for_each_int8_byte(layers_, heads_, capacity_, d_, first, count, [&](uint8_t* p, size_t i) { *p = bytes[i]; });
    return;
  }
  size_t at = 0;
  for_each_run(layers_, heads_, capacity_, d_ * element_bytes(type_), first, count, [&](uint8_t* p, size_t n) {
    std::memcpy(p, bytes.data() + at, n);
    at += n;
  });
}

KvView KvCache::layer(size_t l) {
  Layer& y = layers_[l];
  return KvView{y.k, y.v, static_cast<int64_t>(capacity_), type_, y.k_scale, y.v_scale};
}

}  // namespace astfill::engine
