#include "train/optimizer.h"

#include <algorithm>
#include <cmath>

namespace astfill::train {

AdamW::AdamW(const Adapter<float>& shape, AdamWOptions options) : options_(options) {
  for (const auto& p : shape.pairs) {
    for (const auto* w : {&p.a, &p.b}) {
      m_.emplace_back(w->size(), 0.0f);
      v_.emplace_back(w->size(), 0.0f);
    }
  }
}

void AdamW::step(Adapter<float>& params, const Adapter<float>& grads, double lr) {
  ++t_;
  const double b1 = options_.beta1, b2 = options_.beta2;
  const double c1 = 1 - std::pow(b1, static_cast<double>(t_)), c2 = 1 - std::pow(b2, static_cast<double>(t_));
  const double decay = 1 - lr * options_.weight_decay;
  for (size_t i = 0; i < params.pairs.size(); ++i) {
    for (int which = 0; which < 2; ++which) {
      std::vector<float>& w = which ? params.pairs[i].b : params.pairs[i].a;
      const std::vector<float>& g = which ? grads.pairs[i].b : grads.pairs[i].a;
      std::vector<float>& m = m_[i * 2 + which];
      std::vector<float>& v = v_[i * 2 + which];
      for (size_t j = 0; j < w.size(); ++j) {
        const double gj = g[j];
        m[j] = static_cast<float>(b1 * m[j] + (1 - b1) * gj);
        v[j] = static_cast<float>(b2 * v[j] + (1 - b2) * gj * gj);
        const double update = (m[j] / c1) / (std::sqrt(v[j] / c2) + options_.eps);
        w[j] = static_cast<float>(w[j] * decay - lr * update);
      }
    }
  }
}

double clip_gradients(Adapter<float>& grads, double max_norm) {
  double ss = 0;
  for (const auto& p : grads.pairs) {
    for (float v : p.a) ss += double(v) * v;
    for (float v : p.b) ss += double(v) * v;
  }
  const double norm = std::sqrt(ss);
  if (max_norm > 0 && norm > max_norm) {
    const float k = static_cast<float>(max_norm / norm);
    for (auto& p : grads.pairs) {
      for (float& v : p.a) v *= k;
      for (float& v : p.b) v *= k;
    }
  }
  return norm;
}

double learning_rate(double progress, double total, double warmup, double peak, double floor) {
  if (warmup > 0 && progress < warmup) return peak * (progress + 1) / (warmup + 1);
  if (total <= warmup) return peak;
  const double t = std::clamp((progress - warmup) / (total - warmup), 0.0, 1.0);
  return peak * (floor + (1 - floor) * 0.5 * (1 + std::cos(M_PI * t)));
}

}  // namespace astfill::train
