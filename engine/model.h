// A model ready to run, and sessions that run it.
//
// Model holds the runtime weights (shared, read-only, used by any number of
// sessions). Session owns one sequence's KV cache: the caller evaluates
// batches of tokens at positions, asks for logits only where it needs them,
// and may truncate the cache back to a prefix to reuse it (the prompt of the
// next request usually shares most of the previous one).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/kv_cache.h"
#include "engine/linear.h"
#include "engine/lora.h"
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
  // The sessions' KV cache type (engine/kv_cache.h). Auto, with int8
  // weights: int8 where decode multiplies it in int8 in place (AVX512-VNNI
  // and VBMI, heads of 64 or 128: engine/attention.h int8_decode_in_place),
  // else bf16 (half the memory and KV traffic of f32); f32 with f32 weights,
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

class Batcher;
class Session;
struct TensorDump;
using TensorHook = std::function<void(const TensorDump&)>;

// Activations of a forward pass, kept between passes by whoever runs them (a
// session alone, or a batcher): fresh allocations for every pass cost page
// faults comparable to the work itself.
struct ForwardScratch {
  std::vector<float> x, h, qkv, q, attn, proj, gu, act;
};

// One session's rows in a forward pass that may carry several sessions'
// rows (Model::step; engine/batcher.h). The session has checked and reserved
// them (Session::prepare).
struct StepSegment {
  Session* session = nullptr;
  std::span<const int32_t> tokens;
  std::span<const int32_t> positions;  // empty: the session's next slots
  std::span<const float* const> embeddings;   // Session::Batch::embeddings, this segment's rows
  std::span<const int32_t> mrope_positions;   // Session::Batch::mrope_positions, 3 per row
  std::vector<int64_t> logit_rows;     // rows of the segment that want logits, ascending
  const CancellationToken* cancel = nullptr;
  std::vector<float> logits;           // out: logit_rows.size() rows of vocab_size floats
  bool cancelled = false;              // out: its cancel fired; the session's length is unchanged
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

  // One forward pass over several sessions' rows: every projection and FFN
  // runs once over all rows (the weights are read once), attention per
  // segment against its session's cache. Each segment's session grows by its
  // rows, unless its cancel fired (checked between layers): then its
  // `cancelled` is set, its length stays, and the others go on; when every
  // segment is cancelled the pass stops. A segment's logits are exactly what
  // its session would get evaluating the same rows alone. Runs on the
  // calling thread with the model's thread count. `hook` only for a pass of
  // one segment.
  void step(std::span<StepSegment> segments, ForwardScratch& scratch, const TensorHook* hook = nullptr) const;

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

class Session {
 public:
  // `capacity` is the largest number of tokens the session will hold
  // (0: the model's context length). Memory grows as tokens arrive. `kv`:
  // the cache's type (Auto: the model's, LoadOptions::kv).
  explicit Session(const Model& model, size_t capacity = 0, KvType kv = KvType::Auto);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  struct Batch {
    std::vector<int32_t> tokens;
    std::vector<int32_t> positions;  // empty: consecutive from length()
    std::vector<bool> logits;        // which rows want logits; empty: only the last
    // Images in the prompt (vision/prompt.h). Rows whose input is a given
    // embedding (an image's merged patches) instead of their token's: empty,
    // or one pointer per row, null for a token row; each holds
    // embedding_length floats and must stay valid during evaluate.
    std::vector<const float*> embeddings = {};
    // M-RoPE (models with hparams().rope_sections): empty, or 3 positions per
    // row (t, h, w) that the rotation uses instead of `positions`.
    std::vector<int32_t> mrope_positions = {};
    // A request's time cap, checked before a pass begins (with a batcher,
    // before each chunk's): past it, the batch is given up like a cancelled
    // one (evaluate returns empty, the cache is unchanged); a pass already
    // running finishes. The epoch: none.
    std::chrono::steady_clock::time_point deadline = {};
  };

  // Appends the batch to the cache and returns the requested logits, rows in
  // batch order, each vocab_size floats. Throws std::out_of_range for a token
  // id outside the vocabulary, std::length_error past the capacity. When
  // `cancel` fires (checked between layers) it returns an empty vector and
  // the cache is unchanged.
  // So it does when the batch's deadline passes before its pass begins.
  // With a batcher (set_batcher) the rows join a forward pass shared with
  // other sessions' (engine/batcher.h), in chunks of the batcher's
  // prefill_chunk rows; the result is the same as evaluating those chunks
  // one after another alone, and a cancel stops it within one pass. Any
  // number of sessions may evaluate at once from their own threads; one
  // session is used by one thread at a time.
  std::vector<float> evaluate(const Batch& batch, const CancellationToken& cancel = {});

  // Evaluates through `batcher` (null: alone) from now on. The batcher must
  // serve this session's model and outlive its use here.
  void set_batcher(Batcher* batcher) { batcher_ = batcher; }
  Batcher* batcher() const { return batcher_; }
  // The focused request (the newest inline completion): its rows go first
  // and other sessions' prefill waits while it runs. May change at any time,
  // from any thread.
  void set_focused(bool focused) { focused_.store(focused, std::memory_order_relaxed); }
  bool focused() const { return focused_.load(std::memory_order_relaxed); }

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
  // Persisted prefixes (engine/prefix_store.h): slots [first, first + count)
  // of the cache as bytes (KvCache::copy_out; first + count <= length()),
  // and the inverse: the cache becomes its first `first` tokens (first <=
  // length()) followed by `count` tokens whose keys and values are `bytes`.
  void save_kv(size_t first, size_t count, std::vector<uint8_t>& out) const;
  void load_kv(size_t first, size_t count, std::span<const uint8_t> bytes);
  // Called with every named intermediate of every later evaluate, on the
  // evaluating thread; an empty hook (the default) costs nothing.
  void set_tensor_hook(TensorHook hook) { hook_ = std::move(hook); }
  // LoRA adapters (engine/lora.h) that every later evaluate applies; empty:
  // none. The model stays shared: another session may run other adapters.
  // When the adapters change, the cache is emptied (its keys and values were
  // computed with the old ones). Throws ModelError for an adapter that does
  // not fit the model, leaving the session as it was.
  void set_adapters(const std::vector<AdapterChoice>& adapters);
  void set_adapters(std::shared_ptr<const LoraStack> stack);
  // Identifies the adapters and scales in use, "" for none: cached state
  // (prefixes, completions) must be keyed by it.
  const std::string& adapter_key() const;

 private:
  friend class Model;
  friend class Batcher;
  void reserve(size_t slots);
  // Checks the batch (what evaluate throws for) and reserves its slots;
  // returns the rows that want logits.
  std::vector<int64_t> prepare(const Batch& batch);

  const Model& model_;
  size_t capacity_;
  size_t length_ = 0;
  KvCache kv_;  // every layer's keys and values, kv_.allocated() slots
  std::vector<std::vector<uint64_t>> expert_counts_;
  TensorHook hook_;
  std::shared_ptr<const LoraStack> lora_;  // null: no adapters
  ForwardScratch scratch_;
  Batcher* batcher_ = nullptr;
  std::atomic<bool> focused_{false};
};

}  // namespace astfill::engine
