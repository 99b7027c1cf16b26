#include "engine/arch/blocks.h"

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

void self_attention(LayerPass& p, const Linear& qkv, const Linear& output, QkNorm qk_norm) {
  const HyperParams& hp = *p.hp;
  const int64_t H = hp.head_count, KV = hp.head_count_kv, D = hp.head_dim, width = (H + 2 * KV) * D;
  qkv.forward(p.h, p.n, p.qkv);
#pragma omp parallel for if (p.n >= 16) schedule(static)
  for (int64_t i = 0; i < p.n; ++i) {
    const float* row = p.qkv + i * width;
    float* qi = p.q + i * H * D;
    float* ki = p.qkv + i * width + H * D;
    const float* vi = ki + KV * D;
    std::memcpy(qi, row, sizeof(float) * static_cast<size_t>(H * D));
    if (qk_norm.q) {
      ops::rms_norm(qi, qk_norm.q, H, D, hp.rms_norm_eps, qi);
      ops::rms_norm(ki, qk_norm.k, KV, D, hp.rms_norm_eps, ki);
    }
    const size_t slot = p.first_slot + static_cast<size_t>(i);
    const double pos = p.positions ? static_cast<double>(p.positions[i]) : static_cast<double>(slot);
    ops::rope_neox(qi, H, D, pos, p.inv_freq, p.rope_mscale);
    ops::rope_neox(ki, KV, D, pos, p.inv_freq, p.rope_mscale);
    for (int64_t kvh = 0; kvh < KV; ++kvh)
      kv_store(p.kv, D, kvh, static_cast<int64_t>(slot), ki + kvh * D, vi + kvh * D);
  }
  dump(p, "q", p.q, H * D);
  dump(p, "k", p.qkv + H * D, KV * D, width);
  dump(p, "v", p.qkv + (H + KV) * D, KV * D, width);
  attention(p.q, p.n, H, KV, D, p.kv, static_cast<int64_t>(p.first_slot), p.attn);
  output.forward(p.attn, p.n, p.proj);
  dump(p, "attn_out", p.proj, hp.embedding_length);
}

void residual(LayerPass& p, const char* name) {
  const int64_t E = p.hp->embedding_length;
  ops::add(p.x, p.proj, p.n * E);
  dump(p, name, p.x, E);
}

void dense_ffn(LayerPass& p, const Linear& gate_up, const Linear& down) {
  gate_up.forward(p.h, p.n, p.gu);
  ops::swiglu(p.gu, p.n, gate_up.out() / 2, p.act);
  down.forward(p.act, p.n, p.proj);
  dump(p, "ffn_out", p.proj, p.hp->embedding_length);
}

void moe_ffn(LayerPass& p, const ExpertWeights& experts) {
  const int64_t E = p.hp->embedding_length;
  moe_forward(experts, p.h, p.n, E, p.proj, *p.expert_counts);
  dump(p, "ffn_out", p.proj, E);
}

}  // namespace astfill::engine::arch
