// How each architecture's tensors become LayerWeights: one file per
// architecture, sharing the helpers declared here.
#pragma once

#include <string>
#include <vector>

#include "engine/model.h"

namespace astfill::engine::arch {

// Builders for the architectures the engine runs.
LayerWeights load_qwen2_layer(const ModelFile& f, uint32_t layer, WeightMode mode);
LayerWeights load_qwen3_layer(const ModelFile& f, uint32_t layer, WeightMode mode);
LayerWeights load_qwen3moe_layer(const ModelFile& f, uint32_t layer, WeightMode mode);

// Nullptr for an architecture the engine cannot run.
using LayerLoader = LayerWeights (*)(const ModelFile&, uint32_t, WeightMode);
LayerLoader layer_loader(const std::string& arch);

// Helpers shared by the builders.
const ModelTensor& tensor(const ModelFile& f, const std::string& name);
std::vector<float> vector_f32(const ModelFile& f, const std::string& name);
// Several [out_i, in] weights (and optional biases) stacked into one layer.
Linear fused(const ModelFile& f, const std::vector<std::string>& weights,
             const std::vector<std::string>& biases, WeightMode mode);
// The parts every Qwen layer has: norms, attention output, dense SwiGLU FFN.
void load_common(const ModelFile& f, const std::string& prefix, WeightMode mode, LayerWeights& l);

}  // namespace astfill::engine::arch
