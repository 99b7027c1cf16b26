// Writing models as GGUF: the metadata for an architecture and tokenizer, and
// whole-model conversion (`astfill quantize`).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "engine/gguf_writer.h"
#include "engine/model_file.h"

namespace astfill::engine {

// {arch}.* hyperparameters and tokenizer.ggml.* keys, as llama.cpp-compatible
// GGUF files carry them.
void add_model_metadata(GgufWriter& w, const HyperParams& hp, const TokenizerData& tok);

struct QuantizeStats {
  size_t tensors = 0;
  size_t converted = 0;    // tensors whose type changed
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
};

// Writes `model` to `out_path` with 2-D weights in `type` (F32, F16, BF16 or
// Q8_0); 1-D tensors (norms, biases) stay F32 as in real quantised files. A
// weight whose rows do not fit the block size falls back to F16.
// `on_tensor` is called after each tensor is written (for a progress line).
QuantizeStats quantize_model(const ModelFile& model, const std::string& out_path, GgmlType type,
                             const std::function<void(const ModelTensor&, GgmlType)>& on_tensor = {});

// general.file_type for a quantisation target (llama.cpp's numbering).
uint32_t file_type_for(GgmlType type);

}  // namespace astfill::engine
