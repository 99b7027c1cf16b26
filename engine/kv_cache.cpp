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

void store_row(const KvView& c, int64_t d, void* base, float* scales, int64_t at, const float* x) {
  switch (c.type) {
    case KvType::Auto:
    case KvType::F32: std::memcpy(static_cast<float*>(base) + at * d, x, sizeof(float) * static_cast<size_t>(d)); break;
    case KvType::Bf16: {
      uint16_t* o = static_cast<uint16_t*>(base) + at * d;
      for (int64_t j = 0; j < d; ++j) o[j] = to_bf16(x[j]);
      break;
    }
    case KvType::Int8: {
      const int64_t block = kv_int8_block(d);
      int8_t* o = static_cast<int8_t*>(base) + at * d;
      for (int64_t b = 0; b < d / block; ++b) {
        float amax = 0;
        for (int64_t j = 0; j < block; ++j) amax = std::max(amax, std::fabs(x[b * block + j]));
        const float scale = amax / 127.0f, inv = amax > 0 ? 127.0f / amax : 0.0f;
        scales[at * (d / block) + b] = scale;
        for (int64_t j = 0; j < block; ++j)
          o[b * block + j] = static_cast<int8_t>(std::lrintf(std::clamp(x[b * block + j] * inv, -127.0f, 127.0f)));
      }
      break;
    }
  }
}

}  // namespace

void kv_store(const KvView& c, int64_t d, int64_t kv_head, int64_t slot, const float* k, const float* v) {
  const int64_t at = kv_head * c.capacity + slot;
  store_row(c, d, c.k, c.k_scale, at, k);
  store_row(c, d, c.v, c.v_scale, at, v);
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
      const int64_t block = kv_int8_block(d), blocks = d / block;
      const int8_t* p = static_cast<const int8_t*>(base) + at * d;
      const float* s = (keys ? c.k_scale : c.v_scale) + at * blocks;
      for (int64_t j = 0; j < count * d; ++j) out[j] = static_cast<float>(p[j]) * s[j / block];
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
  const size_t eb = element_bytes(type_), row = d_ * eb;
  const size_t blocks = type_ == KvType::Int8 ? d_ / static_cast<size_t>(kv_int8_block(static_cast<int64_t>(d_))) : 0;
  // Each part 64-byte aligned, for the kernels' whole-line loads.
  auto aligned = [](size_t n) { return (n + 63) / 64 * 64; };
  const size_t rows_bytes = aligned(heads_ * slots * row), scale_bytes = aligned(heads_ * slots * blocks * sizeof(float));
  const size_t per_layer = 2 * rows_bytes + (blocks ? 2 * scale_bytes : 0);
  std::shared_ptr<uint8_t> bigger = allocate_streamed_alone(std::max<size_t>(1, per_layer * layers_.size()));
  // Layout [kv_head][slot][...]: growing moves each head's slots to its new place.
  auto move_rows = [&](const uint8_t* from, uint8_t* to, size_t unit) {
    if (keep == 0 || !from) return;
    for (size_t h = 0; h < heads_; ++h) std::memcpy(to + h * slots * unit, from + h * allocated_ * unit, keep * unit);
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
}

namespace {
// Calls f(pointer, bytes) for every run of bytes slots [first, first + count)
// occupy, in the order copy_out writes them.
template <typename Layers, typename F>
void for_each_run(Layers& layers, size_t heads, size_t allocated, size_t row, size_t blocks, size_t first,
                  size_t count, F&& f) {
  for (auto& l : layers) {
    for (uint8_t* buf : {l.k, l.v})
      for (size_t h = 0; h < heads; ++h) f(buf + (h * allocated + first) * row, count * row);
    if (blocks)
      for (float* buf : {l.k_scale, l.v_scale})
        for (size_t h = 0; h < heads; ++h)
          f(reinterpret_cast<uint8_t*>(buf + (h * allocated + first) * blocks), count * blocks * sizeof(float));
  }
}
}  // namespace

void KvCache::copy_out(size_t first, size_t count, std::vector<uint8_t>& out) const {
  if (first > allocated_ || count > allocated_ - first)
    throw std::out_of_range("KV slots " + std::to_string(first) + "+" + std::to_string(count) + " past the " +
                            std::to_string(allocated_) + " allocated");
  const size_t row = d_ * element_bytes(type_);
  const size_t blocks = type_ == KvType::Int8 ? d_ / static_cast<size_t>(kv_int8_block(static_cast<int64_t>(d_))) : 0;
  out.reserve(out.size() + count * bytes_per_slot());
  if (count == 0) return;
  for_each_run(layers_, heads_, allocated_, row, blocks, first, count,
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
  const size_t row = d_ * element_bytes(type_);
  const size_t blocks = type_ == KvType::Int8 ? d_ / static_cast<size_t>(kv_int8_block(static_cast<int64_t>(d_))) : 0;
  size_t at = 0;
  for_each_run(layers_, heads_, allocated_, row, blocks, first, count, [&](uint8_t* p, size_t n) {
    std::memcpy(p, bytes.data() + at, n);
    at += n;
  });
}

KvView KvCache::layer(size_t l) {
  Layer& y = layers_[l];
  return KvView{y.k, y.v, static_cast<int64_t>(allocated_), type_, y.k_scale, y.v_scale};
}

}  // namespace astfill::engine
