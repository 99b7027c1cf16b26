// A model ready to run, and sessions that run it.
//
// Model holds the runtime weights (shared, read-only, used by any number of
// sessions). Session owns one sequence's KV cache: the caller evaluates
// batches of tokens at positions, asks for logits only where it needs them,
// and may truncate the cache back to a prefix to reuse it (the prompt of the
// next request usually shares most of the previous one).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/kv_cache.h"
#include "engine/linear.h"
#include "engine/model_file.h"
#include "engine/tokenizer.h"
#include "support/cancel.h"

namespace astfill::engine {

struct LoadOptions {
  WeightMode weights = WeightMode::Int8;
  // Threads the model's sessions run their kernels on (OpenMP and oneDNN),
  // applied on the evaluating thread for the length of each evaluate; 0: the
  // calling thread's OpenMP setting (all cores unless the caller changed it).
  // Loading never changes the process's or the loading thread's setting.
  int threads = 0;
  // The sessions' KV cache type (engine/kv_cache.h). Auto: bf16 with int8
  // weights (half the memory and KV traffic of f32), f32 with f32 weights,
  // which stay exact against the reference.
  KvType kv = KvType::Auto;
};

// A mixture-of-experts feed-forward block (qwen3moe): a router picks the
// top-k experts per token; only those run.
struct ExpertWeights {
  std::vector<float> router;     // [n_experts][E], f32: a few dot products per token, done in place
  std::vector<Linear> gate_up;   // per expert: gate and up fused, out = 2 F_exp
  std::vector<Linear> down;      // per expert: F_exp -> E
  uint32_t used = 0;             // experts per token (top-k)
  bool normalize = true;         // renormalise the k chosen weights to sum to 1
};

// The weights of one transformer layer. Which parts are present depends on
// the architecture (engine/arch/*.cpp builds them).
struct LayerWeights {
  std::vector<float> attn_norm;
  Linear qkv;                     // q, k and v projections fused: out = (H + 2 KV) * D
  std::vector<float> q_norm;      // qwen3: per-head RMSNorm of q and k (length D)
  std::vector<float> k_norm;
  Linear attn_output;
  std::vector<float> ffn_norm;
  Linear gate_up;                 // dense FFN: gate and up fused, out = 2 F
  Linear down;
  std::unique_ptr<ExpertWeights> experts;  // instead of the dense FFN (qwen3moe)
};

namespace arch {
struct Architecture;
struct LayerPass;
using LayerForward = void (*)(const LayerWeights&, LayerPass&);
}  // namespace arch

class Model {
 public:
  // Builds the runtime weights. Throws ModelError naming the file for
  // unsupported models, a NaN or infinite block scale in a quantised tensor
  // or value in a norm weight, and a tokenizer that does not cover the
  // embedding's rows.
  // The model keeps nothing of the file: once it returns, the caller's
  // ModelFile (and its memory map) may go.
  static std::unique_ptr<Model> load(std::shared_ptr<const ModelFile> file, const LoadOptions& options);
  static std::unique_ptr<Model> open(const std::string& path, const LoadOptions& options);

  const HyperParams& hparams() const { return hp_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  WeightMode weight_mode() const { return mode_; }
  // The KV cache type sessions get unless they ask for another (never Auto).
  KvType kv_type() const { return kv_; }
  // The thread count an evaluate on the calling thread uses.
  int threads() const;
  // Bytes of weights one decode step reads (the bandwidth bound's divisor).
  uint64_t bytes_per_token() const;

 private:
  friend class Session;
  Model() = default;
  static std::unique_ptr<Model> build(const std::shared_ptr<const ModelFile>& file,
                                      const arch::Architecture& architecture, const LoadOptions& options);

  HyperParams hp_;
  WeightMode mode_ = WeightMode::Int8;
  int threads_ = 0;
  KvType kv_ = KvType::F32;
  arch::LayerForward forward_ = nullptr;  // the architecture's layer, chosen at load
  std::unique_ptr<Tokenizer> tokenizer_;
  // The token embedding in the file's own type, copied at load: its rows are
  // dequantised on demand, and nothing else reads the file after load, so the
  // mapping is dropped (no file-backed RSS, and a file truncated or rewritten
  // under a serving daemon cannot raise SIGBUS in it).
  GgmlType token_embd_type_ = GgmlType::F32;
  std::vector<uint8_t> token_embd_;
  std::vector<LayerWeights> layers_;
  std::vector<float> output_norm_;
  Linear lm_head_;
  std::vector<float> inv_freq_;  // RoPE inverse frequencies, D/2
  float rope_mscale_ = 1.0f;     // YaRN's attention scale, on cos and sin
};

// RoPE inverse frequencies for the model's rotary scaling (none, linear or
// YaRN as Qwen configures it); *mscale receives the factor cos and sin take.
std::vector<float> rope_inverse_frequencies(const HyperParams& hp, float* mscale);

// One intermediate tensor of a forward pass, for comparing the engine with a
// reference layer by layer. Names follow llama.cpp's, with the layer after a
// dash: inp_embd, attn_norm-N, q-N and k-N (after RoPE, q/k norm included),
// v-N, attn_out-N (the output projection), ffn_inp-N (the residual after
// attention), ffn_norm-N, ffn_out-N, l_out-N (the layer's output),
// result_norm and result_output (the rows that asked for logits).
struct TensorDump {
  std::string_view name;
  int64_t rows = 0, cols = 0;
  const float* data = nullptr;  // rows x cols, row-major; valid during the call only
};
using TensorHook = std::function<void(const TensorDump&)>;

class Session {
 public:
  // `capacity` is the largest number of tokens the session will hold
  // (0: the model's context length). Memory grows as tokens arrive. `kv`:
  // the cache's type (Auto: the model's, LoadOptions::kv).
  explicit Session(const Model& model, size_t capacity = 0, KvType kv = KvType::Auto);

  struct Batch {
    std::vector<int32_t> tokens;
    std::vector<int32_t> positions;  // empty: consecutive from length()
    std::vector<bool> logits;        // which rows want logits; empty: only the last
  };

  // Appends the batch to the cache and returns the requested logits, rows in
  // batch order, each vocab_size floats. Throws std::out_of_range for a token
  // id outside the vocabulary, std::length_error past the capacity. When
  // `cancel` fires (checked between layers) it returns an empty vector and
  // the cache is unchanged.
  std::vector<float> evaluate(const Batch& batch, const CancellationToken& cancel = {});

  size_t length() const { return length_; }
  // Mixture of experts: how many times each (layer, expert) ran since the
  // session began; empty for dense models.
  const std::vector<std::vector<uint64_t>>& expert_counts() const { return expert_counts_; }
  size_t capacity() const { return capacity_; }
  // Forgets everything after the first `n` tokens.
  void truncate(size_t n);
  uint64_t kv_bytes() const;
  // Bytes one token's keys and values take (all layers): what a decode step
  // at depth n reads from the cache is n times this.
  uint64_t kv_bytes_per_token() const { return kv_.bytes_per_slot(); }
  KvType kv_type() const { return kv_.type(); }
  // Called with every named intermediate of every later evaluate, on the
  // evaluating thread; an empty hook (the default) costs nothing.
  void set_tensor_hook(TensorHook hook) { hook_ = std::move(hook); }

 private:
  void reserve(size_t slots);

  const Model& model_;
  size_t capacity_;
  size_t length_ = 0;
  KvCache kv_;  // every layer's keys and values, kv_.allocated() slots
  std::vector<std::vector<uint64_t>> expert_counts_;
  TensorHook hook_;
  struct Scratch {
    std::vector<float> h, qkv, q, attn, proj, gu, act;
  } scratch_;
};

}  // namespace astfill::engine
