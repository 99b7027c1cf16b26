// Qwen2 / Qwen2.5-Coder: biases on the q, k and v projections (none on the
// output projection); otherwise a plain pre-norm SwiGLU transformer.
#include "engine/arch/blocks.h"
#include "engine/arch/layers.h"

namespace astfill::engine::arch {

LayerWeights load_qwen2_layer(const ModelFile& f, uint32_t layer, WeightMode mode) {
  const std::string p = "blk." + std::to_string(layer) + ".";
  LayerWeights l;
  l.qkv = fused(f, {p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"},
                {p + "attn_q.bias", p + "attn_k.bias", p + "attn_v.bias"}, mode);
  load_common(f, p, mode, l);
  return l;
}

void forward_qwen2_layer(const LayerWeights& w, LayerPass& p) {
  norm(p, w.attn_norm, "attn_norm");
  self_attention(p, w.qkv, w.attn_output, {}, {&w.gate_up, &w.down});
  residual(p, "ffn_inp");
  norm(p, w.ffn_norm, "ffn_norm");
  dense_ffn(p, w.gate_up, w.down);
  residual(p, "l_out");
}

}  // namespace astfill::engine::arch
