#include "engine/model_export.h"

#include <stdexcept>

#include "engine/errors.h"

namespace astfill::engine {

uint32_t file_type_for(GgmlType type) {
  switch (type) {
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: return 2;
    case GgmlType::Q8_0: return 7;
    case GgmlType::Q4_K: return 15;  // Q4_K_M
    case GgmlType::Q6_K: return 18;
    case GgmlType::BF16: return 32;
  }
  return 0;
}

void add_model_metadata(GgufWriter& w, const HyperParams& hp, const TokenizerData& tok) {
  // A model with M-RoPE sections is Qwen2(.5)-VL's LM: llama.cpp's qwen2vl.
  const std::string arch = hp.rope_sections.empty() ? hp.arch : std::string("qwen2vl");
  const std::string a = arch + ".";
  w.set_string("general.architecture", arch);
  if (!hp.rope_sections.empty()) {
    std::vector<int32_t> sections = hp.rope_sections;
    sections.resize(4, 0);  // llama.cpp writes four (t, h, w, unused)
    w.set_i32s(a + "rope.dimension_sections", sections);
  }
  if (!hp.name.empty()) w.set_string("general.name", hp.name);
  w.set_u32(a + "context_length", hp.context_length);
  w.set_u32(a + "embedding_length", hp.embedding_length);
  w.set_u32(a + "block_count", hp.block_count);
  if (hp.feed_forward_length) w.set_u32(a + "feed_forward_length", hp.feed_forward_length);
  w.set_u32(a + "attention.head_count", hp.head_count);
  w.set_u32(a + "attention.head_count_kv", hp.head_count_kv);
  w.set_u32(a + "attention.key_length", hp.head_dim);
  w.set_u32(a + "attention.value_length", hp.head_dim);
  w.set_f32(a + "attention.layer_norm_rms_epsilon", hp.rms_norm_eps);
  w.set_f32(a + "rope.freq_base", static_cast<float>(hp.rope_freq_base));
  if (hp.rope_scaling.type != "none") {
    w.set_string(a + "rope.scaling.type", hp.rope_scaling.type);
    w.set_f32(a + "rope.scaling.factor", static_cast<float>(hp.rope_scaling.factor));
    if (hp.rope_scaling.original_context_length)
      w.set_u32(a + "rope.scaling.original_context_length", hp.rope_scaling.original_context_length);
  }
  if (hp.arch == "qwen3moe") {
    w.set_u32(a + "expert_count", hp.expert_count);
    w.set_u32(a + "expert_used_count", hp.expert_used_count);
    w.set_u32(a + "expert_feed_forward_length", hp.expert_feed_forward_length);
  }
  w.set_string("tokenizer.ggml.model", tok.model);
  w.set_string("tokenizer.ggml.pre", tok.pre);
  w.set_strings("tokenizer.ggml.tokens", tok.tokens);
  if (!tok.token_types.empty()) {
    std::vector<int32_t> types;
    for (auto t : tok.token_types) types.push_back(static_cast<int32_t>(t));
    w.set_i32s("tokenizer.ggml.token_type", types);
  }
  w.set_strings("tokenizer.ggml.merges", tok.merges);
  if (tok.bos_id) w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(*tok.bos_id));
  if (tok.eos_id) w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(*tok.eos_id));
  if (tok.pad_id) w.set_u32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(*tok.pad_id));
  w.set_bool("tokenizer.ggml.add_bos_token", tok.add_bos);
}

QuantizeStats quantize_model(const ModelFile& model, const std::string& out_path, GgmlType type,
                             const std::function<void(const ModelTensor&, GgmlType)>& on_tensor) {
  if (type != GgmlType::F32 && type != GgmlType::F16 && type != GgmlType::BF16 && type != GgmlType::Q8_0)
    throw std::invalid_argument(std::string("quantize: unsupported target type ") + type_info(type).name);
  GgufWriter w;
  if (const GgufFile* g = model.gguf()) {
    // Keep everything the source says (chat templates, licences, ...).
    for (const auto& [key, value] : g->metadata())
      if (key != "general.alignment") w.set(key, value);
  } else {
    add_model_metadata(w, model.hparams(), model.tokenizer());
  }
  w.set_u32("general.file_type", file_type_for(type));
  w.set_u32("general.quantization_version", 2);

  QuantizeStats stats;
  for (const ModelTensor& t : model.tensors()) {
    GgmlType target = type;
    if (t.ne.size() < 2) target = GgmlType::F32;
    else if (t.ne[0] % static_cast<int64_t>(type_info(type).block_values) != 0) target = GgmlType::F16;
    stats.tensors++;
    stats.bytes_in += t.bytes;
    stats.bytes_out += t.elements() / static_cast<int64_t>(type_info(target).block_values) *
                       type_info(target).block_bytes;
    if (target != t.type) stats.converted++;
    const ModelTensor* src = &t;
    w.add_tensor_lazy(t.name, target, t.ne, [src, target, &on_tensor](std::vector<uint8_t>& out) {
      if (src->type == target) {
        out.assign(src->data, src->data + src->bytes);
      } else {
        const size_t row = static_cast<size_t>(src->ne[0]);
        const size_t rows = static_cast<size_t>(src->elements()) / row;
        const size_t in_row = row_bytes(src->type, row), out_row = row_bytes(target, row);
        out.resize(rows * out_row);
        std::vector<float> buf(row);
        for (size_t r = 0; r < rows; ++r) {
          dequantize_row(src->type, src->data + r * in_row, buf.data(), row);
          quantize_row(target, buf.data(), out.data() + r * out_row, row);
        }
      }
      if (on_tensor) on_tensor(*src, target);
    });
  }
  w.write(out_path);
  return stats;
}

}  // namespace astfill::engine
