#include "engine/logprobs.h"

#include <algorithm>
#include <cmath>

namespace astfill::engine {

double log_probability(std::span<const float> logits, int32_t token) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float x : logits) sum += std::exp(static_cast<double>(x - max));
  return static_cast<double>(logits[static_cast<size_t>(token)] - max) - std::log(sum);
}

}  // namespace astfill::engine
