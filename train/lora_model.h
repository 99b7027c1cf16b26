// LoRA training on a frozen base model: the training forward pass and its
// hand-written backward pass.
//
// The base weights are the engine's own (engine/arch builds each layer as the
// engine does, int8 or f32), frozen and never copied whole into f32: the
// forward pass runs them through Linear::forward exactly as inference does,
// and the backward pass (dL/dx = dL/dy W) dequantises a block of rows at a
// time from the model file into a small f32 tile (the file's values, which
// the int8 layers were quantised from). Only the adapters' A and B learn.
//
// Memory stays near inference memory: the forward pass keeps one row block
// per layer (its input, [n][E]); the backward pass recomputes each layer's
// intermediates from that input just before it differentiates the layer,
// so one layer's activations are alive at a time.
//
// Everything is templated on the scalar: float is what training runs, double
// is the path the tests check gradients on against finite differences.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "engine/linear.h"
#include "engine/lora.h"
#include "engine/model.h"
#include "engine/model_file.h"
#include "engine/tokenizer.h"

namespace astfill::train {

// The projections an adapter may target (engine/lora.h: q, k, v, o, gate, up,
// down); parse_lora_targets reads a list of them.
using Target = engine::LoraTarget;

// One adapted projection: y += scale * (x A^T) B^T.
template <class T>
struct LoraPair {
  uint32_t layer = 0;
  Target target = Target::Q;
  int64_t in = 0, out = 0;
  std::vector<T> a;  // [rank][in]
  std::vector<T> b;  // [out][rank]
  // A mixture-of-experts layer's expert (gate, up, down only), as in
  // engine::LoraPair; -1: the layer's attention or dense MLP projection.
  int32_t expert = -1;
};

template <class T>
struct Adapter {
  int64_t rank = 16;
  double alpha = 32;
  std::vector<LoraPair<T>> pairs;
  T scale() const { return static_cast<T>(alpha / static_cast<double>(rank)); }
  // The same shapes, all zero (a gradient accumulator).
  Adapter zeros_like() const;
  size_t parameter_count() const;
};

// A training sample: a token sequence (one FIM prompt and its middle) and the
// span whose tokens are predicted: the loss is the cross-entropy of
// tokens[i] given tokens[0, i) for i in [target_begin, target_end).
struct Sample {
  std::vector<int32_t> tokens;
  size_t target_begin = 0, target_end = 0;
  // Each target's weight in the loss, target_end - target_begin of them, or
  // none (every target weighs 1). The loss is then the weighted mean,
  // sum w_i CE_i / sum w_i (`astfill tune` weighs the end token less).
  std::vector<float> weights;
  // The targets' total weight (their count without weights).
  double target_weight() const;
};

// Distillation (`astfill tune --teacher`): for each of a sample's target rows
// (the rows that predict tokens[target_begin, target_end)), the teacher's k
// most likely next tokens and their log-probabilities (the log-softmax of its
// logits over its whole vocabulary, temperature 1), most likely first.
struct TeacherTopK {
  int32_t k = 0;
  std::vector<int32_t> ids;     // [rows][k]
  std::vector<float> logprobs;  // [rows][k]
  size_t rows() const { return k > 0 ? ids.size() / static_cast<size_t>(k) : 0; }
};

// The loss with a teacher: (1 - weight) CE + weight T^2 KL(p || q), where p is
// the teacher's top-k renormalised at temperature T (p_i = softmax over the k
// of logprob_i / T) and q = softmax(logits / T) is the student's over its
// whole vocabulary. The tail: p puts no mass outside its k tokens, so the KL
// sums over them only; the student's mass on the tail still counts through
// q's normalisation, and the gradient at a logit is weight T (q_j - p_j),
// with p_j = 0 off the k: training pushes the tail's mass onto the k.
struct Distillation {
  const TeacherTopK* teacher = nullptr;
  double weight = 0.5;       // lambda, in [0, 1]
  double temperature = 1.0;  // T > 0
};

// The parts of a sample's loss (weighted means over its target rows): the
// cross-entropy of the targets, and with a teacher KL(p || q) (without T^2).
struct LossTerms {
  double cross_entropy = 0;
  double kl = 0;
};

// The base model, frozen: the engine's layer weights plus the embedding, the
// final norm and the LM head.
class FrozenModel {
 public:
  // Throws engine::ModelError for a model file the engine cannot run.
  // Mixture-of-experts models (qwen3moe) train too: the router and the
  // experts stay frozen like every base weight, the chosen experts' outputs
  // and the router's weights are differentiated (the choice of experts is
  // piecewise constant and has no gradient), and MLP targets on a MoE layer
  // are one pair per expert.
  static std::unique_ptr<FrozenModel> open(const std::string& path, engine::WeightMode mode);

  const engine::HyperParams& hparams() const { return hp_; }
  const engine::Tokenizer& tokenizer() const { return *tokenizer_; }
  engine::WeightMode weight_mode() const { return mode_; }
  // in and out of a target's projection (a dense MLP's for gate, up, down;
  // 0 in a model whose every layer is MoE).
  int64_t target_in(Target t) const;
  int64_t target_out(Target t) const;
  // in and out of one expert's gate, up or down projection (0 without experts).
  int64_t expert_in(Target t) const;
  int64_t expert_out(Target t) const;
  // Whether layer `l` is a mixture-of-experts layer.
  bool is_moe_layer(uint32_t l) const;

  // A new adapter on `targets` of every layer: A random (Kaiming-uniform as
  // PEFT initialises it, from `seed`), B zero, so it starts as the base model.
  // On a MoE layer, gate, up and down give one pair for each expert.
  Adapter<float> new_adapter(const std::vector<Target>& targets, int64_t rank, double alpha, uint64_t seed) const;

  // Mean cross-entropy over the sample's targets; when `grads` is given
  // (shaped like the adapter, e.g. zeros_like), adds dLoss/dA and dLoss/dB to
  // it. `weight` multiplies both (a batch's 1/samples). With `distill`, the
  // loss (and gradient) is Distillation's mix of cross-entropy and KL; at a
  // distill weight of 0 it is bit for bit the cross-entropy alone. `terms`,
  // when given, receives both parts. Throws std::invalid_argument for a
  // teacher whose rows or ids do not fit the sample and the vocabulary.
  template <class T>
  double loss(const Adapter<T>& adapter, const Sample& sample, std::type_identity_t<Adapter<T>>* grads,
              double weight = 1.0, const Distillation* distill = nullptr, LossTerms* terms = nullptr) const;

  // The logits of every position ([n][vocab]) with the adapter applied: the
  // training forward pass, which at B = 0 must equal the engine's.
  std::vector<float> logits(const Adapter<float>& adapter, const std::vector<int32_t>& tokens) const;

  // Implementation types (lora_model.cpp).
  struct Layer;
  struct FileRows;
  ~FrozenModel();

 private:
  FrozenModel();
  template <class T>
  friend struct Pass;

  // The model's file stays mapped: the backward pass dequantises tiles of
  // rows from it in the file's own type (fast, block by block) and lets the
  // pages go after each tile, so they never stay resident.
  std::shared_ptr<const engine::ModelFile> file_;
  engine::HyperParams hp_;
  engine::WeightMode mode_ = engine::WeightMode::Int8;
  std::unique_ptr<engine::Tokenizer> tokenizer_;
  engine::GgmlType embd_type_ = engine::GgmlType::F32;
  std::vector<uint8_t> token_embd_;  // untied only; tied: the head's rows
  std::vector<Layer> layers_;
  std::vector<float> output_norm_;
  engine::Linear lm_head_;
  std::unique_ptr<FileRows> lm_head_rows_;
  std::vector<float> inv_freq_;
  float rope_mscale_ = 1.0f;
};

}  // namespace astfill::train
