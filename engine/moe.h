// The mixture-of-experts feed-forward block: route each token to its top-k
// experts, then run each chosen expert once over all the tokens routed to it
// (one matmul per expert in prefill, instead of one per token).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/lora.h"
#include "engine/model.h"

namespace astfill::engine {

// The experts chosen for one token and their weights.
struct Routing {
  std::vector<int32_t> experts;
  std::vector<float> weights;
};

// Softmax over all router logits (in double), the top-k by probability (ties
// to the lower index), renormalised to sum to 1 when `normalize`.
Routing route(const float* logits, int64_t n_experts, uint32_t k, bool normalize);

// out[n][E] = sum over each token's chosen experts of weight * expert(h).
// counts[x] grows by the number of tokens expert x ran on.
void moe_forward(const ExpertWeights& m, const float* h, int64_t n, int64_t E, float* out,
                 std::vector<uint64_t>& counts);
// The same, with each row's choices counted in its own session's counts
// (row_counts[i] for row i; a batched pass carries several sessions' rows).
// A row's output does not depend on the other rows with int8 weights.
// With `row_lora` (empty, or one entry per row, null for none), each chosen
// expert's gate|up and down also get the LoRA deltas of that row's
// adapters for (layer, expert) (LoraStack::apply_expert).
void moe_forward(const ExpertWeights& m, const float* h, int64_t n, int64_t E, float* out,
                 const std::vector<std::vector<uint64_t>*>& row_counts, uint32_t layer = 0,
                 const std::vector<const LoraStack*>& row_lora = {});

}  // namespace astfill::engine
