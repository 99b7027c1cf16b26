// Log-probabilities from logits: how likely a model finds a given token, for
// scoring candidates (API suggestions) rather than sampling one.
#pragma once

#include <cstdint>
#include <span>

namespace astfill::engine {

// log softmax(logits)[token], the sum taken in double after subtracting the
// largest logit (no overflow, exact for -inf entries). `token` must index
// `logits`, which must not be empty.
double log_probability(std::span<const float> logits, int32_t token);

}  // namespace astfill::engine
