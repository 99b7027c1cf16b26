// Choosing the next token from logits: a fixed chain of stages, each a no-op
// at its default, applied in the order llama.cpp and Hugging Face use:
//   logit mask (constrained decoding) -> repetition penalty -> temperature
//   -> top-k -> top-p -> min-p -> draw (seeded)
// Temperature 0 means greedy (argmax after mask and penalty).
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <vector>

namespace astfill::engine {

struct SamplingParams {
  float temperature = 0.0f;        // 0: greedy
  int top_k = 0;                   // 0: off
  float top_p = 1.0f;              // 1: off
  float min_p = 0.0f;              // 0: off
  float repetition_penalty = 1.0f; // 1: off; >1 discourages tokens seen in the window
  int repetition_window = 64;      // how many recent tokens the penalty looks at
  uint64_t seed = 0;
};

// Called with the raw logits before any other stage; set an entry to -inf to
// forbid that token. Constrained decoding plugs in here.
using LogitMask = std::function<void(std::span<float> logits)>;

class Sampler {
 public:
  explicit Sampler(SamplingParams params = {});
  void set_mask(LogitMask mask) { mask_ = std::move(mask); }

  struct Choice {
    int32_t token = -1;    // -1 when every token was masked out
    float probability = 0; // of the chosen token after all stages
  };
  // `logits` is modified in place. `history` is the tokens so far (for the
  // repetition penalty).
  Choice sample(std::span<float> logits, std::span<const int32_t> history);

  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  LogitMask mask_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

}  // namespace astfill::engine
