// Qwen3-MoE: Qwen3's attention (per-head q/k RMSNorm, no biases) with a
// mixture-of-experts FFN in every layer. Experts come stacked, as GGUF stores
// them (ffn_{gate,up}_exps {E, F, X}, ffn_down_exps {F, E, X}), or one tensor
// per expert as Hugging Face checkpoints store them; each expert becomes its
// own pair of layers so that only the chosen ones are ever read.
#include "engine/arch/blocks.h"
#include "engine/arch/layers.h"
#include "engine/errors.h"

namespace astfill::engine::arch {
namespace {

// Row r of expert x of a stacked tensor whose rows are `in` values long and
// whose experts hold `rows` rows each.
void stacked_row(const ModelTensor& t, int64_t x, int64_t rows, int64_t r, int64_t in, float* dst) {
  const size_t rb = row_bytes(t.type, static_cast<size_t>(in));
  dequantize_row(t.type, t.data + static_cast<size_t>(x * rows + r) * rb, dst, static_cast<size_t>(in));
}

}  // namespace

LayerWeights load_qwen3moe_layer(const ModelFile& f, uint32_t layer, WeightMode mode) {
  const HyperParams& hp = f.hparams();
  const std::string p = "blk." + std::to_string(layer) + ".";
  LayerWeights l;
  l.qkv = fused(f, {p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"}, {}, mode);
  l.q_norm = vector_f32(f, p + "attn_q_norm.weight");
  l.k_norm = vector_f32(f, p + "attn_k_norm.weight");
  l.attn_norm = vector_f32(f, p + "attn_norm.weight");
  l.attn_output = Linear::load(tensor(f, p + "attn_output.weight"), nullptr, mode);
  l.ffn_norm = vector_f32(f, p + "ffn_norm.weight");
  if (!hp.is_moe_layer(layer)) {  // a dense layer inside a MoE model
    l.gate_up = fused(f, {p + "ffn_gate.weight", p + "ffn_up.weight"}, {}, mode);
    l.down = Linear::load(tensor(f, p + "ffn_down.weight"), nullptr, mode);
    return l;
  }

  auto moe = std::make_unique<ExpertWeights>();
  // The router stays f32: its softmax decides which weights run at all.
  moe->router = vector_f32(f, p + "ffn_gate_inp.weight");
  moe->used = hp.expert_used_count;
  moe->normalize = hp.norm_topk_prob;
  const int64_t E = hp.embedding_length, F = hp.expert_feed_forward_length, X = hp.expert_count;
  const ModelTensor* gate = f.find(p + "ffn_gate_exps.weight");
  for (int64_t x = 0; x < X; ++x) {
    if (gate) {
      const ModelTensor& up = tensor(f, p + "ffn_up_exps.weight");
      const ModelTensor& down = tensor(f, p + "ffn_down_exps.weight");
      moe->gate_up.push_back(Linear::from_rows(
          [&](int64_t r, float* dst) {
            if (r < F) stacked_row(*gate, x, F, r, E, dst);
            else stacked_row(up, x, F, r - F, E, dst);
          },
          E, 2 * F, nullptr, mode));
      moe->down.push_back(Linear::from_rows([&](int64_t r, float* dst) { stacked_row(down, x, E, r, F, dst); },
                                            F, E, nullptr, mode));
    } else {
      const std::string e = "_exp." + std::to_string(x) + ".weight";
      moe->gate_up.push_back(fused(f, {p + "ffn_gate" + e, p + "ffn_up" + e}, {}, mode));
      moe->down.push_back(Linear::load(tensor(f, p + "ffn_down" + e), nullptr, mode));
    }
  }
  l.experts = std::move(moe);
  return l;
}

void forward_qwen3moe_layer(const LayerWeights& w, LayerPass& p) {
  qwen3_attention(w, p);
  norm(p, w.ffn_norm, "ffn_norm");
  if (p.hp->is_moe_layer(p.layer)) moe_ffn(p, *w.experts);
  else dense_ffn(p, w.gate_up, w.down);  // mlp_only_layers: a dense layer inside a MoE model
  residual(p, "l_out");
}

}  // namespace astfill::engine::arch
