// LoraStack (engine/lora.h): a session's adapters arranged per layer and
// fused projection, and the deltas they add while the session runs. Apart
// from the file formats (engine/lora.cpp), which need no kernels.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>
#include <stdexcept>

#include "engine/lora.h"

namespace astfill::engine {

namespace {
constexpr int kSites = 4;
// From this many rows on, a term runs as two f32 GEMMs; below (decode), as
// dot products, which cost no primitive call and read A and B once either way.
constexpr int64_t kGemmRows = 8;

LoraStack::Site site_of(LoraTarget t) {
  switch (t) {
    case LoraTarget::Q:
    case LoraTarget::K:
    case LoraTarget::V: return LoraStack::Site::Qkv;
    case LoraTarget::O: return LoraStack::Site::Output;
    case LoraTarget::Gate:
    case LoraTarget::Up: return LoraStack::Site::GateUp;
    case LoraTarget::Down: return LoraStack::Site::Down;
  }
  return LoraStack::Site::Qkv;
}

// Where the target's outputs start in its fused projection (engine/arch/layers.cpp
// fuses q|k|v and gate|up in that order; engine/arch/qwen3moe.cpp each
// expert's gate|up likewise).
int64_t column_of(const HyperParams& hp, const LoraPair& p) {
  const int64_t HD = int64_t{hp.head_count} * hp.head_dim, KVD = int64_t{hp.head_count_kv} * hp.head_dim;
  switch (p.target) {
    case LoraTarget::K: return HD;
    case LoraTarget::V: return HD + KVD;
    case LoraTarget::Up: return p.expert >= 0 ? int64_t{hp.expert_feed_forward_length} : int64_t{hp.feed_forward_length};
    default: return 0;
  }
}

std::string format_scale(float s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(s));
  return buf;
}
}  // namespace

std::shared_ptr<const LoraStack> LoraStack::build(const std::vector<AdapterChoice>& adapters, const HyperParams& hp) {
  auto stack = std::make_shared<LoraStack>();
  stack->sites_.resize(static_cast<size_t>(hp.block_count) * kSites);
  const int64_t E = hp.embedding_length, D = hp.head_dim;
  stack->width_ = {(int64_t{hp.head_count} + 2 * int64_t{hp.head_count_kv}) * D, E,
                   2 * int64_t{hp.feed_forward_length}, E};
  for (const AdapterChoice& choice : adapters) {
    if (!choice.adapter) throw std::invalid_argument("LoraStack::build: a null adapter");
    const LoraAdapter& a = *choice.adapter;
    a.check_against(hp);
    if (!std::isfinite(choice.scale)) throw std::invalid_argument("adapter scale is not finite");
    if (!stack->key_.empty()) stack->key_ += '|';
    stack->key_ += (choice.id.empty() ? a.source : choice.id) + '@' + format_scale(choice.scale);
    for (const LoraPair& p : a.pairs) {
      const float s = choice.scale * a.scale(p);
      if (s == 0.0f) continue;
      if (std::all_of(p.b.begin(), p.b.end(), [](float v) { return v == 0.0f; })) continue;  // adds exact zeros
      Term t;
      t.rank = p.rank, t.in = p.in, t.out = p.out, t.column = column_of(hp, p);
      t.a = p.a;
      t.b = p.b;
      for (float& v : t.b) v *= s;
      t.a_gemm = Linear::from_f32(t.a.data(), t.in, t.rank, nullptr, WeightMode::F32);
      t.b_gemm = Linear::from_f32(t.b.data(), t.rank, t.out, nullptr, WeightMode::F32);
      if (p.expert >= 0) {
        // check_against has checked the expert against hp.expert_count.
        if (stack->expert_sites_.empty()) {
          stack->experts_ = hp.expert_count;
          stack->expert_width_ = 2 * int64_t{hp.expert_feed_forward_length};
          stack->expert_sites_.resize(static_cast<size_t>(hp.block_count) * static_cast<size_t>(hp.expert_count) * 2);
          stack->expert_layers_.assign(hp.block_count, false);
        }
        const size_t index = (static_cast<size_t>(p.layer) * static_cast<size_t>(stack->experts_) +
                              static_cast<size_t>(p.expert)) * 2 + (p.target == LoraTarget::Down ? 1 : 0);
        stack->expert_sites_[index].push_back(std::move(t));
        stack->expert_layers_[p.layer] = true;
      } else {
        stack->sites_[static_cast<size_t>(p.layer) * kSites + static_cast<size_t>(site_of(p.target))].push_back(std::move(t));
      }
      stack->empty_ = false;
    }
  }
  return stack;
}

void LoraStack::apply(uint32_t layer, Site site, const float* x, int64_t rows, float* y) const {
  const size_t index = static_cast<size_t>(layer) * kSites + static_cast<size_t>(site);
  if (index >= sites_.size() || sites_[index].empty()) return;
  apply_terms(sites_[index], width_[static_cast<size_t>(site)], x, rows, y);
}

void LoraStack::apply_expert(uint32_t layer, int32_t expert, Site site, const float* x, int64_t rows, float* y) const {
  if (expert_sites_.empty() || expert < 0 || expert >= experts_ || (site != Site::GateUp && site != Site::Down)) return;
  const size_t index =
      (static_cast<size_t>(layer) * static_cast<size_t>(experts_) + static_cast<size_t>(expert)) * 2 +
      (site == Site::Down ? 1 : 0);
  if (index >= expert_sites_.size() || expert_sites_[index].empty()) return;
  apply_terms(expert_sites_[index], site == Site::Down ? width_[static_cast<size_t>(Site::Down)] : expert_width_, x,
              rows, y);
}

void LoraStack::apply_terms(const std::vector<Term>& terms, int64_t stride, const float* x, int64_t rows, float* y) {
  if (rows >= kGemmRows) {
    thread_local std::vector<float> u, v;
    for (const Term& t : terms) {
      if (u.size() < static_cast<size_t>(rows * t.rank)) u.resize(static_cast<size_t>(rows * t.rank));
      if (v.size() < static_cast<size_t>(rows * t.out)) v.resize(static_cast<size_t>(rows * t.out));
      t.a_gemm.forward(x, rows, u.data());
      t.b_gemm.forward(u.data(), rows, v.data());
      const float* vd = v.data();
      const int64_t out = t.out, column = t.column;
#pragma omp parallel for if (rows * out >= (int64_t{1} << 16)) schedule(static)
      for (int64_t i = 0; i < rows; ++i) {
        float* yi = y + i * stride + column;
        const float* vi = vd + i * out;
#pragma omp simd
        for (int64_t o = 0; o < out; ++o) yi[o] += vi[o];
      }
    }
    return;
  }
  for (const Term& t : terms) {
    // u = x Aᵀ ([rows][rank]), then y[:, column ..] += u (sB)ᵀ. Small: rank is
    // tens, so both are dot products over contiguous rows.
    thread_local std::vector<float> u;
    if (u.size() < static_cast<size_t>(rows * t.rank)) u.resize(static_cast<size_t>(rows * t.rank));
    float* ud = u.data();
    const float* A = t.a.data();
    const float* B = t.b.data();
    const int64_t in = t.in, rank = t.rank, out = t.out, column = t.column;
#pragma omp parallel for collapse(2) if (rows * rank * in >= (int64_t{1} << 18)) schedule(static)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t k = 0; k < rank; ++k) {
        const float* xi = x + i * in;
        const float* ak = A + k * in;
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < in; ++j) s += xi[j] * ak[j];
        ud[i * rank + k] = s;
      }
#pragma omp parallel for collapse(2) if (rows * rank * out >= (int64_t{1} << 18)) schedule(static)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t o = 0; o < out; ++o) {
        const float* ui = ud + i * rank;
        const float* bo = B + o * rank;
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int64_t k = 0; k < rank; ++k) s += ui[k] * bo[k];
        y[i * stride + column + o] += s;
      }
  }
}

}  // namespace astfill::engine
