// The building blocks of a layer's forward pass, shared by the architectures
// (engine/arch/<arch>.cpp), which call them in their own order as llama.cpp's
// src/models/<arch>.cpp call build_norm, build_attn and build_ffn. Each block
// reads and writes the buffers of a LayerPass and dumps what it produced under
// its llama.cpp name when the session has a tensor hook.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "engine/kv_cache.h"
#include "engine/model.h"

namespace astfill::engine::arch {

// One forward pass on its way through the layers. Its rows may belong to
// several sessions (engine/batcher.h): each Segment is one session's run of
// consecutive rows, with that session's KV cache, positions and expert
// counts. Per-row work (norms, RoPE, SwiGLU, the residual) runs over all rows
// at once, and so do the projections with int8 weights, whose activations
// are quantised per row: a row's result does not depend on its neighbours,
// and the weights are read once per pass, which is batching's whole gain.
// Attention runs per segment against the segment's own cache. With f32
// weights oneDNN's GEMM may sum a row differently depending on how many rows
// it is given, so the projections then run per segment too (`per_segment`)
// and a session's results stay exactly those it gets alone.
// Model::step (engine/model.cpp) fills it once per pass, and the per-layer
// fields (layer, each segment's KV view and expert counts) before each layer.
struct LayerPass {
  const HyperParams* hp = nullptr;
  int64_t n = 0;          // rows in the pass, all segments together
  float* x = nullptr;     // the residual stream, [n][E]
  // Scratch, sized for the pass: normed input, fused q|k|v, q, attention
  // output, block output, fused gate|up, SwiGLU activations.
  float *h = nullptr, *qkv = nullptr, *q = nullptr, *attn = nullptr, *proj = nullptr, *gu = nullptr,
        *act = nullptr;
  const float* inv_freq = nullptr;     // RoPE, head_dim / 2 values
  float rope_mscale = 1.0f;
  struct Segment {
    int64_t begin = 0, end = 0;  // rows [begin, end) of the pass
    // This layer's KV cache of the segment's session (engine/kv_cache.h),
    // [kv_head][slots][head_dim]; the rows go to slots first_slot .. first_slot + (end - begin) - 1.
    KvView kv;
    size_t first_slot = 0;
    const int32_t* positions = nullptr;              // end - begin explicit positions; null: the slots themselves
    const int32_t* mrope_positions = nullptr;        // M-RoPE: 3 per row (t, h, w), used instead; null: none
    std::vector<uint64_t>* expert_counts = nullptr;  // this layer's, for a MoE block
    const LoraStack* lora = nullptr;                 // the session's LoRA adapters (engine/lora.h); null: none
  };
  std::vector<Segment> segments;  // in row order, covering [0, n)
  bool per_segment = false;       // projections run segment by segment (f32 weights)
  uint32_t layer = 0;
  const TensorHook* hook = nullptr;  // null: nothing is dumped
};

// y = x W^T over the pass's rows: at once, or segment by segment when
// p.per_segment. `x` and `y` are [p.n][in] and [p.n][out].
void project(const LayerPass& p, const Linear& layer, const float* x, float* y);

// y += each segment's LoRA deltas at `site` (engine/lora.h), every session's
// rows with its own adapters. `x` and `y` are [p.n][in] and [p.n][out].
void add_lora(const LayerPass& p, LoraStack::Site site, const float* x, int64_t in, float* y, int64_t out);

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
// `then`: the layers that run after it (the FFN's), whose weights decode
// attention may pull toward the caches while it runs, after the output
// projection's (attention.h ReadAhead; off by default).
void self_attention(LayerPass& p, const Linear& qkv, const Linear& output, QkNorm qk_norm = {},
                    std::initializer_list<const Linear*> then = {});
// x += proj; dumped as `name` (ffn_inp after attention, l_out after the FFN).
void residual(LayerPass& p, const char* name);
// proj = down(silu(gate h) * up h), gate and up fused.
void dense_ffn(LayerPass& p, const Linear& gate_up, const Linear& down);
// proj = the routed experts' weighted sum (engine/moe.h).
void moe_ffn(LayerPass& p, const ExpertWeights& experts);

}  // namespace astfill::engine::arch
