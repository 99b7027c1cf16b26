// Qwen3 (dense): no projection biases; instead each head's q and k are
// RMS-normalised (one weight vector of head_dim shared by all heads) after the
// projection and before RoPE.
#include "engine/arch/blocks.h"
#include "engine/arch/layers.h"

namespace astfill::engine::arch {

LayerWeights load_qwen3_layer(const ModelFile& f, uint32_t layer, WeightMode mode) {
  const std::string p = "blk." + std::to_string(layer) + ".";
  LayerWeights l;
  l.qkv = fused(f, {p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"}, {}, mode);
  l.q_norm = vector_f32(f, p + "attn_q_norm.weight");
  l.k_norm = vector_f32(f, p + "attn_k_norm.weight");
  load_common(f, p, mode, l);
  return l;
}

void qwen3_attention(const LayerWeights& w, LayerPass& p) {
  norm(p, w.attn_norm, "attn_norm");
  self_attention(p, w.qkv, w.attn_output, {w.q_norm.data(), w.k_norm.data()}, {&w.gate_up, &w.down});
  residual(p, "ffn_inp");
}

void forward_qwen3_layer(const LayerWeights& w, LayerPass& p) {
  qwen3_attention(w, p);
  norm(p, w.ffn_norm, "ffn_norm");
  dense_ffn(p, w.gate_up, w.down);
  residual(p, "l_out");
}

}  // namespace astfill::engine::arch
