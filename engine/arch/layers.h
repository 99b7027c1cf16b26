// The architectures the engine runs, one file each (engine/arch/<arch>.cpp):
// how the file's tensors become LayerWeights, and the layer's forward pass,
// built from the blocks in engine/arch/blocks.h.
#pragma once

#include <string>
#include <vector>

#include "engine/model.h"

namespace astfill::engine::arch {

// Builders for the architectures the engine runs.
LayerWeights load_qwen2_layer(const ModelFile& f, uint32_t layer, WeightMode mode);
LayerWeights load_qwen3_layer(const ModelFile& f, uint32_t layer, WeightMode mode);
LayerWeights load_qwen3moe_layer(const ModelFile& f, uint32_t layer, WeightMode mode);

// Their layers' forward passes: the residual stream p.x through one layer.
void forward_qwen2_layer(const LayerWeights& w, LayerPass& p);
void forward_qwen3_layer(const LayerWeights& w, LayerPass& p);
void forward_qwen3moe_layer(const LayerWeights& w, LayerPass& p);
// Qwen3's attention half (attn_norm through the residual), which qwen3moe shares.
void qwen3_attention(const LayerWeights& w, LayerPass& p);

using LayerLoader = LayerWeights (*)(const ModelFile&, uint32_t, WeightMode);
struct Architecture {
  LayerLoader load = nullptr;
  LayerForward forward = nullptr;
};
// Nulls for an architecture the engine cannot run.
Architecture architecture(const std::string& arch);

// Helpers shared by the builders.
const ModelTensor& tensor(const ModelFile& f, const std::string& name);
std::vector<float> vector_f32(const ModelFile& f, const std::string& name);
// Several [out_i, in] weights (and optional biases) stacked into one layer.
Linear fused(const ModelFile& f, const std::vector<std::string>& weights,
             const std::vector<std::string>& biases, WeightMode mode);
// The parts every Qwen layer has: norms, attention output, dense SwiGLU FFN.
void load_common(const ModelFile& f, const std::string& prefix, WeightMode mode, LayerWeights& l);

}  // namespace astfill::engine::arch
