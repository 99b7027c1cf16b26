// A model as the engine sees it, whatever file it came from: architecture
// and hyperparameters, a tensor table in GGUF naming and layout, and the
// tokenizer. Opened from a GGUF file or a Hugging Face checkpoint directory
// (config.json + *.safetensors, sharded or not + tokenizer.json).
//
// Hugging Face tensors are renamed to GGUF names (model.layers.3.self_attn.
// q_proj.weight -> blk.3.attn_q.weight) and their [out, in] shapes are
// reversed into ne = {in, out}; the bytes are the same, so nothing is copied.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/gguf.h"
#include "engine/tensor_types.h"
#include "engine/tokenizer.h"

namespace astfill::engine {

class SafetensorsFile;

struct RopeScaling {
  std::string type = "none";  // none, linear, yarn
  double factor = 1.0;
  uint32_t original_context_length = 0;
  double yarn_beta_fast = 32.0;
  double yarn_beta_slow = 1.0;
};

struct HyperParams {
  std::string arch;  // qwen2, qwen3, qwen3moe
  std::string name;  // general.name, if any
  uint32_t context_length = 0;
  uint32_t embedding_length = 0;
  uint32_t block_count = 0;
  uint32_t feed_forward_length = 0;
  uint32_t head_count = 0;
  uint32_t head_count_kv = 0;
  uint32_t head_dim = 0;
  float rms_norm_eps = 1e-6f;
  double rope_freq_base = 10000.0;
  RopeScaling rope_scaling;
  // M-RoPE (Qwen2-VL / Qwen2.5-VL's LM, GGUF arch qwen2vl, run as qwen2): how
  // many of the head_dim/2 rotary frequencies follow the t, h and w
  // positions ({16, 24, 24}); empty: plain RoPE.
  std::vector<int32_t> rope_sections;
  uint32_t vocab_size = 0;
  bool tied_embeddings = false;  // no output.weight: the head reuses token_embd
  // Mixture of experts (qwen3moe).
  uint32_t expert_count = 0;
  uint32_t expert_used_count = 0;
  uint32_t expert_feed_forward_length = 0;
  bool norm_topk_prob = true;
  // Layers of a MoE model that keep a dense FFN (Hugging Face's
  // mlp_only_layers and decoder_sparse_step); feed_forward_length sizes them.
  std::vector<uint32_t> dense_layers;
  bool is_moe_layer(uint32_t layer) const;
};

struct ModelTensor {
  std::string name;         // GGUF name
  GgmlType type;
  std::vector<int64_t> ne;  // ne[0] contiguous
  const uint8_t* data = nullptr;
  size_t bytes = 0;
  std::string source_name;  // the name in the file it came from

  int64_t elements() const;
};

class ModelFile {
 public:
  // Throws ModelError naming the file and what is wrong with it.
  static ModelFile open(const std::string& path);

  const std::string& path() const { return path_; }
  const std::string& format() const { return format_; }  // "gguf" or "safetensors"
  const HyperParams& hparams() const { return hparams_; }
  const std::vector<ModelTensor>& tensors() const { return tensors_; }
  const ModelTensor* find(const std::string& name) const;
  const TokenizerData& tokenizer() const { return tokenizer_; }
  // The GGUF file's own metadata, when the model came from one.
  const GgufFile* gguf() const { return gguf_.get(); }
  uint64_t tensor_bytes() const;
  // Throws ModelError naming the file if it (or a shard) was truncated or
  // changed on disk since it was opened: what was read from it is not used.
  void check_intact() const;

 private:
  std::string path_, format_;
  HyperParams hparams_;
  std::vector<ModelTensor> tensors_;
  std::map<std::string, size_t> index_;
  TokenizerData tokenizer_;
  std::shared_ptr<GgufFile> gguf_;
  std::vector<std::shared_ptr<SafetensorsFile>> shards_;  // safetensors maps
};

// The architectures the engine runs.
bool supported_architecture(const std::string& arch);

// Checks that every tensor the architecture needs is present with the shape
// the hyperparameters imply. Throws ModelError naming the first that is not.
void validate_tensors(const std::string& path, const HyperParams& hp,
                      const std::vector<ModelTensor>& tensors);

// The tokenizer of a model path (GGUF file, checkpoint directory, or a
// tokenizer.json file), without loading the weights' tensor table.
TokenizerData load_tokenizer_data(const std::string& path);

// Reads tokenizer.* metadata from a GGUF file.
TokenizerData tokenizer_from_gguf(const GgufFile& gguf);

}  // namespace astfill::engine
