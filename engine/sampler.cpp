#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

namespace astfill::engine {

Sampler::Sampler(SamplingParams params) : params_(params), rng_(params.seed) {}

Sampler::Choice Sampler::sample(std::span<float> logits, std::span<const int32_t> history) {
  if (mask_) mask_(logits);
  const float p = params_.repetition_penalty;
  if (p != 1.0f && !history.empty()) {
    // Each token in the window is penalised once, however often it appears
    // (the CTRL / llama.cpp rule: divide positive logits, multiply negative).
    std::unordered_set<int32_t> seen;
    size_t start = history.size() > static_cast<size_t>(params_.repetition_window)
                       ? history.size() - static_cast<size_t>(params_.repetition_window)
                       : 0;
    for (size_t i = start; i < history.size(); ++i) {
      int32_t t = history[i];
      if (t < 0 || static_cast<size_t>(t) >= logits.size() || !seen.insert(t).second) continue;
      logits[t] = logits[t] > 0 ? logits[t] / p : logits[t] * p;
    }
  }
  const size_t n = logits.size();
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = i;
  if (n == 0 || logits[best] == -std::numeric_limits<float>::infinity()) return {};

  auto softmax_prob = [&](float logit, float max, double z) { return static_cast<float>(std::exp(double(logit - max)) / z); };
  if (params_.temperature <= 0.0f) {
    double z = 0;
    for (size_t i = 0; i < n; ++i) z += std::exp(double(logits[i] - logits[best]));
    return {static_cast<int32_t>(best), softmax_prob(logits[best], logits[best], z)};
  }

  // Candidates sorted by logit, cut by top-k.
  candidates_.clear();
  for (size_t i = 0; i < n; ++i)
    if (logits[i] != -std::numeric_limits<float>::infinity())
      candidates_.emplace_back(logits[i] / params_.temperature, static_cast<int32_t>(i));
  size_t keep = candidates_.size();
  if (params_.top_k > 0) keep = std::min(keep, static_cast<size_t>(params_.top_k));
  std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(keep), candidates_.end(),
                    [](auto& a, auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  candidates_.resize(keep);

  const float max = candidates_.front().first;
  std::vector<double> probs(candidates_.size());
  double z = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) z += probs[i] = std::exp(double(candidates_[i].first - max));
  for (auto& q : probs) q /= z;

  // top-p: the smallest prefix whose mass reaches p.
  if (params_.top_p < 1.0f) {
    double mass = 0;
    size_t cut = probs.size();
    for (size_t i = 0; i < probs.size(); ++i) {
      mass += probs[i];
      if (mass >= params_.top_p) {
        cut = i + 1;
        break;
      }
    }
    probs.resize(cut);
  }
  // min-p: drop candidates below min_p times the best one's probability.
  if (params_.min_p > 0.0f) {
    const double floor = params_.min_p * probs.front();
    size_t cut = 1;
    while (cut < probs.size() && probs[cut] >= floor) ++cut;
    probs.resize(cut);
  }
  double total = 0;
  for (double q : probs) total += q;
  std::uniform_real_distribution<double> u(0.0, total);
  double r = u(rng_);
  size_t pick = 0;
  for (double acc = probs[0]; pick + 1 < probs.size() && acc < r; acc += probs[++pick]) {
  }
  return {candidates_[pick].second, static_cast<float>(probs[pick] / total)};
}

}  // namespace astfill::engine
