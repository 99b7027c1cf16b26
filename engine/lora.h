// LoRA adapters: low-rank updates W' = W + s·B·A of a model's projections,
// read from and written to the two formats people have (PEFT directories and
// llama.cpp GGUF adapters), and applied unmerged while a session runs:
//
//   y = x Wᵀ (+ b)  +  Σ_adapters s · (x Aᵀ) Bᵀ
//
// in f32 from the unquantised x, so int8 base weights keep their accuracy and
// the same model serves sessions with different adapters (or none).
//
// Formats.
//   PEFT:  DIR/adapter_config.json (r, lora_alpha, target_modules, use_rslora,
//          rank_pattern, alpha_pattern) + DIR/adapter_model.safetensors with
//          base_model.model.model.layers.N.{self_attn,mlp}.X_proj.lora_{A,B}.weight,
//          A [r, in], B [out, r].  Scale α/r, or α/√r with use_rslora.
//          Mixture-of-experts layers (Qwen3-MoE): one pair per expert,
//          ...layers.N.mlp.experts.J.{gate,up,down}_proj.lora_{A,B}.weight.
//   GGUF:  general.type = "adapter", adapter.type = "lora", adapter.lora.alpha,
//          general.architecture; tensors blk.N.attn_q.weight.lora_a ne {in, r}
//          and .lora_b ne {r, out} (the same bytes as PEFT's A and B).
//          Scale α/r; α = 0 (or absent) means 1, as llama.cpp does.
//          Experts, as llama.cpp's build_lora_mm_id reads them: one stacked
//          pair per layer and projection, blk.N.ffn_{gate,up,down}_exps.weight
//          .lora_a ne {in, r, experts} and .lora_b ne {r, out, experts}.
// Refused with a ModelError naming the file and the reason: DoRA, modules_to_save,
// LoRA biases, targets other than the projections below (embeddings, the head),
// a pair whose A and B disagree, the MoE router, and (when applied) an adapter
// made for another architecture or other shapes, or one whose MLP pairs do
// not match the layer's kind (dense pairs on a MoE layer, expert pairs on a
// dense one).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/linear.h"
#include "engine/model_file.h"

namespace astfill::engine {

// The projections an adapter may target, named as PEFT and Hugging Face name
// them (q_proj .. down_proj).
enum class LoraTarget { Q, K, V, O, Gate, Up, Down };
inline constexpr LoraTarget kLoraTargets[] = {LoraTarget::Q,    LoraTarget::K,  LoraTarget::V,   LoraTarget::O,
                                              LoraTarget::Gate, LoraTarget::Up, LoraTarget::Down};

// "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj".
const char* lora_target_name(LoraTarget t);
// The GGUF tensor of the base weight: "attn_q", .., "attn_output", "ffn_gate", "ffn_up", "ffn_down".
const char* lora_target_gguf_name(LoraTarget t);
// Accepts the PEFT name ("q_proj"), the short form ("q", "o", "gate", ...) and
// the GGUF base name ("attn_q"); nullopt for anything else.
std::optional<LoraTarget> parse_lora_target(std::string_view name);
// "q,k,v,o" or "q_proj,v_proj" or "all" (every target) -> targets, in the
// order of kLoraTargets, without duplicates. Throws std::invalid_argument
// naming the unknown entry.
std::vector<LoraTarget> parse_lora_targets(std::string_view list);

// The input and output widths of a target's projection in a model.
struct LoraShape {
  int64_t in = 0, out = 0;
};
LoraShape lora_target_shape(const HyperParams& hp, LoraTarget t);
// The same for one expert's gate, up or down projection in a MoE layer.
LoraShape lora_expert_shape(const HyperParams& hp, LoraTarget t);

// One adapted projection of one layer.
struct LoraPair {
  uint32_t layer = 0;
  LoraTarget target = LoraTarget::Q;
  int32_t expert = -1;  // a MoE layer's expert (gate, up, down only); -1: the dense projection
  int64_t rank = 0, in = 0, out = 0;
  std::vector<float> a;  // [rank][in]  (PEFT lora_A.weight)
  std::vector<float> b;  // [out][rank] (PEFT lora_B.weight)
  float alpha = 0;       // this pair's α (alpha_pattern / rank_pattern resolved)
};

struct LoraAdapter {
  std::string architecture;  // "qwen2", "qwen3", ... (the base model's hp.arch)
  bool rslora = false;       // scale α/√r instead of α/r
  // Experts per MoE layer of the base model, where known (0: not): a GGUF
  // adapter's stacked expert pairs are written this deep at least, since
  // llama.cpp indexes them by the router's expert ids.
  uint32_t expert_count = 0;
  std::vector<LoraPair> pairs;
  std::string source;        // the path it was read from (messages); empty if built in memory

  // α/r, or α/√r with rsLoRA; 0 for a pair of rank 0.
  float scale(const LoraPair& p) const;
  // Throws ModelError (naming `source`) when the adapter cannot run on a
  // model with these hyperparameters: another architecture, a layer past the
  // model's, a pair whose widths differ from the projection's, vectors whose
  // sizes disagree with rank/in/out, a duplicate (layer, target, expert), an
  // expert past the layer's, or MLP pairs of the wrong kind for the layer.
  void check_against(const HyperParams& hp) const;
};

// Reads a PEFT directory (or its adapter_config.json / adapter_model.safetensors)
// or a GGUF adapter file. Throws ModelError naming the file and what is wrong.
LoraAdapter read_lora_adapter(const std::string& path);

// Writes a PEFT directory (created if missing): adapter_config.json with the
// keys PEFT writes (peft_type LORA, r, lora_alpha, target_modules, use_rslora,
// rank_pattern/alpha_pattern where pairs differ from the most common, ...),
// and adapter_model.safetensors (F32). `base_model_name` goes to
// base_model_name_or_path. Throws ModelError when the files cannot be written.
void write_peft_adapter(const LoraAdapter& adapter, const std::string& dir, const std::string& base_model_name);
// Writes a GGUF adapter as llama.cpp's --lora loads it (F32 tensors). GGUF has
// one α for the file: pairs whose scale differs from the file's (rsLoRA,
// rank/alpha patterns) have it folded into B, so every pair's s·B is kept.
void write_gguf_adapter(const LoraAdapter& adapter, const std::string& path);

// An adapter a session applies, with the user's scale on top of the
// adapter's own (`--adapter PATH:SCALE`).
struct AdapterChoice {
  std::shared_ptr<const LoraAdapter> adapter;
  float scale = 1.0f;
  std::string id;  // what identifies it in cache keys (the path, as given); empty: source
};

// "PATH" or "PATH:SCALE" (the last ':' followed by a number). Throws
// std::invalid_argument for an empty path or a scale that is not finite.
struct AdapterSpec {
  std::string path;
  float scale = 1.0f;
};
AdapterSpec parse_adapter_spec(std::string_view text);
// The spec with a relative PATH taken against `base` (normalised; the
// ":SCALE" as written). An absolute PATH, or a spec that does not parse
// (left for the reader to refuse with its own message), comes back as is.
// `--adapter` resolves against the current directory, astfill.adapter
// against the workspace root.
std::string resolve_adapter_spec(const std::string& spec, const std::string& base);

// The adapters of one session, arranged for the forward pass: per layer and
// fused projection, the pairs to add, with their total scale folded in.
// Built once per set_adapters, read-only while it runs; shareable between
// sessions of the same model.
class LoraStack {
 public:
  // The fused projections of engine/model.h's LayerWeights.
  enum class Site { Qkv, Output, GateUp, Down };

  // Checks every adapter against `hp` (LoraAdapter::check_against) and
  // arranges them. Pairs with a zero total scale are left out.
  static std::shared_ptr<const LoraStack> build(const std::vector<AdapterChoice>& adapters, const HyperParams& hp);

  // y[rows][width] += Σ s·(x Aᵀ) Bᵀ for the pairs of (layer, site), each into
  // its column range of the fused output (q|k|v, gate|up). x is [rows][in].
  void apply(uint32_t layer, Site site, const float* x, int64_t rows, float* y) const;
  // The same for one expert of a MoE layer: site GateUp (y is the expert's
  // gate|up, 2 F_exp wide) or Down (y is E wide).
  void apply_expert(uint32_t layer, int32_t expert, Site site, const float* x, int64_t rows, float* y) const;
  // Whether any pair adapts an expert of `layer`.
  bool has_experts(uint32_t layer) const {
    return layer < expert_layers_.size() && expert_layers_[layer];
  }
  bool empty() const { return empty_; }
  // Identifies the adapters and scales, for cache keys: "" for none.
  const std::string& key() const { return key_; }

 private:
  struct Term {
    int64_t rank = 0, in = 0, out = 0, column = 0;
    std::vector<float> a;  // [rank][in]
    std::vector<float> b;  // [out][rank], scale folded in
    // The same as f32 GEMMs (oneDNN) for batches of rows (prefill): plain
    // dot products cannot keep up with the int8 GEMM beside them there.
    Linear a_gemm, b_gemm;
  };
  static void apply_terms(const std::vector<Term>& terms, int64_t stride, const float* x, int64_t rows, float* y);

  std::vector<std::vector<Term>> sites_;  // [layer * 4 + site]
  std::array<int64_t, 4> width_{};        // each site's fused output width (row stride of y)
  // MoE experts: [(layer * experts + expert) * 2 + (0: gate|up, 1: down)],
  // empty when no pair adapts an expert.
  std::vector<std::vector<Term>> expert_sites_;
  std::vector<bool> expert_layers_;  // [layer]: some expert of it is adapted
  int64_t experts_ = 0, expert_width_ = 0;  // experts per layer; an expert's gate|up width
  std::string key_;
  bool empty_ = true;
};

}  // namespace astfill::engine
