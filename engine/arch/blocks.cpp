#include "engine/arch/blocks.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "engine/attention.h"
#include "engine/moe.h"
#include "engine/ops.h"

namespace astfill::engine::arch {

void dump_tensor(const LayerPass& p, const char* name, const float* data, int64_t rows, int64_t cols,
                 int64_t stride, bool per_layer) {
  const std::string full = per_layer ? std::string(name) + "-" + std::to_string(p.layer) : std::string(name);
  if (stride == 0 || stride == cols) {
    (*p.hook)(TensorDump{full, rows, cols, data});
    return;
  }
  std::vector<float> packed(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(packed.data() + r * cols, data + r * stride, sizeof(float) * static_cast<size_t>(cols));
  (*p.hook)(TensorDump{full, rows, cols, packed.data()});
}

void norm(LayerPass& p, const std::vector<float>& weight, const char* name) {
  const int64_t E = p.hp->embedding_length;
  ops::rms_norm(p.x, weight.data(), p.n, E, p.hp->rms_norm_eps, p.h);
  dump(p, name, p.h, E);
}

void project(const LayerPass& p, const Linear& layer, const float* x, float* y) {
  if (!p.per_segment || p.segments.size() <= 1) {
    layer.forward(x, p.n, y);
    return;
  }
  for (const LayerPass::Segment& s : p.segments)
    layer.forward(x + s.begin * layer.in(), s.end - s.begin, y + s.begin * layer.out());
}

void add_lora(const LayerPass& p, LoraStack::Site site, const float* x, int64_t in, float* y, int64_t out) {
  for (const LayerPass::Segment& s : p.segments)
    if (s.lora) s.lora->apply(p.layer, site, x + s.begin * in, s.end - s.begin, y + s.begin * out);
}

void self_attention(LayerPass& p, const Linear& qkv, const Linear& output, QkNorm qk_norm,
                    std::initializer_list<const Linear*> then) {
  const HyperParams& hp = *p.hp;
  const int64_t H = hp.head_count, KV = hp.head_count_kv, D = hp.head_dim, width = (H + 2 * KV) * D;
  project(p, qkv, p.h, p.qkv);
  add_lora(p, LoraStack::Site::Qkv, p.h, qkv.in(), p.qkv, width);
  for (const LayerPass::Segment& s : p.segments) {
#pragma omp parallel for if (s.end - s.begin >= 16) schedule(static)
    for (int64_t i = s.begin; i < s.end; ++i) {
      const float* row = p.qkv + i * width;
      float* qi = p.q + i * H * D;
      float* ki = p.qkv + i * width + H * D;
      const float* vi = ki + KV * D;
      std::memcpy(qi, row, sizeof(float) * static_cast<size_t>(H * D));
      if (qk_norm.q) {
        ops::rms_norm(qi, qk_norm.q, H, D, hp.rms_norm_eps, qi);
        ops::rms_norm(ki, qk_norm.k, KV, D, hp.rms_norm_eps, ki);
      }
      const size_t slot = s.first_slot + static_cast<size_t>(i - s.begin);
      const double pos = s.positions ? static_cast<double>(s.positions[i - s.begin]) : static_cast<double>(slot);
      if (s.mrope_positions) {  // Qwen2-VL: t, h, w positions by frequency section
        const int32_t* m = s.mrope_positions + 3 * (i - s.begin);
        const double p3[3] = {static_cast<double>(m[0]), static_cast<double>(m[1]), static_cast<double>(m[2])};
        ops::rope_multi(qi, H, D, p3, hp.rope_sections.data(), p.inv_freq, p.rope_mscale);
        ops::rope_multi(ki, KV, D, p3, hp.rope_sections.data(), p.inv_freq, p.rope_mscale);
      } else {
        ops::rope_neox(qi, H, D, pos, p.inv_freq, p.rope_mscale);
        ops::rope_neox(ki, KV, D, pos, p.inv_freq, p.rope_mscale);
      }
      for (int64_t kvh = 0; kvh < KV; ++kvh)
        kv_store(s.kv, D, kvh, static_cast<int64_t>(slot), ki + kvh * D, vi + kvh * D);
    }
  }
  dump(p, "q", p.q, H * D);
  dump(p, "k", p.qkv + H * D, KV * D, width);
  dump(p, "v", p.qkv + (H + KV) * D, KV * D, width);
  // Each segment attends to its own session's cache only. One session's
  // decode may pull the weights read next toward the caches as it runs
  // (attention.h ReadAhead; off unless ASTFILL_READ_AHEAD sets it).
  ReadAhead ahead[4];
  size_t aheads = 0;
  if (p.segments.size() == 1) {
    ahead[aheads++] = {output.weight_data(), output.weight_bytes()};
    for (const Linear* l : then)
      if (aheads < 4) ahead[aheads++] = {l->weight_data(), l->weight_bytes()};
  }
  for (const LayerPass::Segment& s : p.segments)
    attention(p.q + s.begin * H * D, s.end - s.begin, H, KV, D, s.kv, static_cast<int64_t>(s.first_slot),
              p.attn + s.begin * H * D, default_attention_kernels(), std::span<const ReadAhead>(ahead, aheads));
  project(p, output, p.attn, p.proj);
  add_lora(p, LoraStack::Site::Output, p.attn, output.in(), p.proj, output.out());
  dump(p, "attn_out", p.proj, hp.embedding_length);
}

void residual(LayerPass& p, const char* name) {
  const int64_t E = p.hp->embedding_length;
  ops::add(p.x, p.proj, p.n * E);
  dump(p, name, p.x, E);
}

void dense_ffn(LayerPass& p, const Linear& gate_up, const Linear& down) {
  gate_up.forward(p.h, p.n, p.gu);
  add_lora(p, LoraStack::Site::GateUp, p.h, gate_up.in(), p.gu, gate_up.out());
  ops::swiglu(p.gu, p.n, gate_up.out() / 2, p.act);
  down.forward(p.act, p.n, p.proj);
  add_lora(p, LoraStack::Site::Down, p.act, down.in(), p.proj, down.out());
  dump(p, "ffn_out", p.proj, p.hp->embedding_length);
}

void moe_ffn(LayerPass& p, const ExpertWeights& experts) {
  const int64_t E = p.hp->embedding_length;
  if (p.per_segment) {  // f32: each session's rows alone (see LayerPass)
    for (const LayerPass::Segment& s : p.segments) {
      const int64_t rows = s.end - s.begin;
      moe_forward(experts, p.h + s.begin * E, rows, E, p.proj + s.begin * E,
                  std::vector<std::vector<uint64_t>*>(static_cast<size_t>(rows), s.expert_counts), p.layer,
                  s.lora ? std::vector<const LoraStack*>(static_cast<size_t>(rows), s.lora)
                         : std::vector<const LoraStack*>{});
    }
  } else {
    // Routing is per row; each row's choices count for its own session, and
    // its experts get its own session's adapters.
    std::vector<std::vector<uint64_t>*> counts(static_cast<size_t>(p.n));
    std::vector<const LoraStack*> lora;
    for (const LayerPass::Segment& s : p.segments) {
      std::fill(counts.begin() + s.begin, counts.begin() + s.end, s.expert_counts);
      if (s.lora && lora.empty()) lora.assign(static_cast<size_t>(p.n), nullptr);
      if (s.lora) std::fill(lora.begin() + s.begin, lora.begin() + s.end, s.lora);
    }
    moe_forward(experts, p.h, p.n, E, p.proj, counts, p.layer, lora);
  }
  dump(p, "ffn_out", p.proj, E);
}

}  // namespace astfill::engine::arch
