// The optimiser of `astfill tune`: AdamW on the adapter's A and B, the
// learning-rate schedule (linear warmup, then cosine decay) and gradient
// clipping by global norm.
#pragma once

#include <cstdint>
#include <vector>

#include "train/lora_model.h"

namespace astfill::train {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.0;  // decoupled (Loshchilov & Hutter); PEFT's usual LoRA runs use 0
};

class AdamW {
 public:
  AdamW() = default;
  AdamW(const Adapter<float>& shape, AdamWOptions options);

  // One update of `params` from `grads` at learning rate `lr`.
  void step(Adapter<float>& params, const Adapter<float>& grads, double lr);

  const AdamWOptions& options() const { return options_; }
  int64_t steps() const { return t_; }
  // The moments, one vector per pair and matrix (a then b), for checkpoints.
  std::vector<std::vector<float>>& first_moments() { return m_; }
  std::vector<std::vector<float>>& second_moments() { return v_; }
  void set_steps(int64_t t) { t_ = t; }

 private:
  AdamWOptions options_;
  int64_t t_ = 0;
  std::vector<std::vector<float>> m_, v_;  // [pair * 2 + (0: a, 1: b)]
};

// The global L2 norm of the gradients; when it exceeds max_norm (> 0) they
// are scaled down to it. Returns the norm before clipping.
double clip_gradients(Adapter<float>& grads, double max_norm);

// Linear warmup from 0 over `warmup` steps, then cosine decay from `peak`
// to peak * floor at `total`. `progress` is the step (or, with a time budget,
// the elapsed fraction times total).
double learning_rate(double progress, double total, double warmup, double peak, double floor = 0.1);

}  // namespace astfill::train
