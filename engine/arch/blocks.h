// The building blocks of a layer's forward pass, shared by the architectures
// (engine/arch/<arch>.cpp), which call them in their own order as llama.cpp's
// src/models/<arch>.cpp call build_norm, build_attn and build_ffn. Each block
// reads and writes the buffers of a LayerPass and dumps what it produced under
// its llama.cpp name when the session has a tensor hook.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/kv_cache.h"
#include "engine/model.h"

namespace astfill::engine::arch {

// One batch on its way through the layers. Session::evaluate fills it once
// per batch, and the per-layer fields (layer, KV cache, expert counts) before
// each layer.
struct LayerPass {
  const HyperParams* hp = nullptr;
  int64_t n = 0;          // tokens in the batch
  float* x = nullptr;     // the residual stream, [n][E]
  // Scratch, sized for the batch: normed input, fused q|k|v, q, attention
  // output, block output, fused gate|up, SwiGLU activations.
  float *h = nullptr, *qkv = nullptr, *q = nullptr, *attn = nullptr, *proj = nullptr, *gu = nullptr,
        *act = nullptr;
  const int32_t* positions = nullptr;  // n explicit positions; null: the slots themselves
  const float* inv_freq = nullptr;     // RoPE, head_dim / 2 values
  float rope_mscale = 1.0f;
  // This layer's KV cache (engine/kv_cache.h), [kv_head][slots][head_dim];
  // the batch goes to slots first_slot .. first_slot + n - 1.
  KvView kv;
  size_t first_slot = 0;
  std::vector<uint64_t>* expert_counts = nullptr;  // this layer's, for a MoE block
  uint32_t layer = 0;
  const TensorHook* hook = nullptr;  // null: nothing is dumped
};

// Hands `rows` rows of `cols` floats (`stride` apart; 0: contiguous) to the
// hook as name-<layer>, or as `name` when per_layer is false.
void dump_tensor(const LayerPass& p, const char* name, const float* data, int64_t rows, int64_t cols,
                 int64_t stride = 0, bool per_layer = true);
inline void dump(const LayerPass& p, const char* name, const float* data, int64_t cols, int64_t stride = 0) {
  if (p.hook) dump_tensor(p, name, data, p.n, cols, stride);
}

// h = RMSNorm(x) * weight; dumped as `name`.
void norm(LayerPass& p, const std::vector<float>& weight, const char* name);
// Per-head RMSNorm of q and k between projection and RoPE, one weight of
// head_dim for all heads (Qwen3); empty for none (Qwen2).
struct QkNorm {
  const float* q = nullptr;
  const float* k = nullptr;
};
// The attention block: q, k, v = h Wqkv (+ b); the q/k norm; RoPE; k and v
// written into the layer's KV cache; causal attention over the cache; then
// proj = attn Wo.
void self_attention(LayerPass& p, const Linear& qkv, const Linear& output, QkNorm qk_norm = {});
// x += proj; dumped as `name` (ffn_inp after attention, l_out after the FFN).
void residual(LayerPass& p, const char* name);
// proj = down(silu(gate h) * up h), gate and up fused.
void dense_ffn(LayerPass& p, const Linear& gate_up, const Linear& down);
// proj = the routed experts' weighted sum (engine/moe.h).
void moe_ffn(LayerPass& p, const ExpertWeights& experts);

}  // namespace astfill::engine::arch
