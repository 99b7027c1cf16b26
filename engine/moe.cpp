#include "engine/moe.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/ops.h"
#include "engine/thread_team.h"

namespace astfill::engine {

Routing route(const float* logits, int64_t n_experts, uint32_t k, bool normalize) {
  double max = logits[0];
  for (int64_t x = 1; x < n_experts; ++x) max = std::max(max, double(logits[x]));
  std::vector<double> p(static_cast<size_t>(n_experts));
  double z = 0;
  for (int64_t x = 0; x < n_experts; ++x) z += p[x] = std::exp(double(logits[x]) - max);
  std::vector<int32_t> order(static_cast<size_t>(n_experts));
  std::iota(order.begin(), order.end(), 0);
  const size_t top = std::min<size_t>(k, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                    [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
  Routing r;
  double sum = 0;
  for (size_t i = 0; i < top; ++i) sum += p[order[i]] / z;
  for (size_t i = 0; i < top; ++i) {
    r.experts.push_back(order[i]);
    double w = p[order[i]] / z;
    r.weights.push_back(static_cast<float>(normalize ? w / sum : w));
  }
  return r;
}

void moe_forward(const ExpertWeights& m, const float* h, int64_t n, int64_t E, float* out,
                 std::vector<uint64_t>& counts) {
  moe_forward(m, h, n, E, out, std::vector<std::vector<uint64_t>*>(static_cast<size_t>(n), &counts));
}

void moe_forward(const ExpertWeights& m, const float* h, int64_t n, int64_t E, float* out,
                 const std::vector<std::vector<uint64_t>*>& row_counts, uint32_t layer,
                 const std::vector<const LoraStack*>& row_lora) {
  // The row's adapters, when they adapt some expert of this layer.
  auto lora_of = [&](int64_t row) -> const LoraStack* {
    if (row_lora.empty()) return nullptr;
    const LoraStack* s = row_lora[static_cast<size_t>(row)];
    return s && s->has_experts(layer) ? s : nullptr;
  };
  auto count = [&](int64_t row, int64_t x) {
    std::vector<uint64_t>& c = *row_counts[static_cast<size_t>(row)];
    if (static_cast<size_t>(x) < c.size()) c[static_cast<size_t>(x)] += 1;
  };
  const int64_t X = static_cast<int64_t>(m.gate_up.size());
  // Router logits: n x X dot products of length E, too small to be worth a
  // library call per token.
  std::vector<float> logits(static_cast<size_t>(n * X));
#pragma omp parallel for collapse(2) if (n * X * E > 262144)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t x = 0; x < X; ++x) {
      const float* w = m.router.data() + x * E;
      const float* hi = h + i * E;
      float dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t e = 0; e < E; ++e) dot += hi[e] * w[e];
      logits[i * X + x] = dot;
    }
  // Tokens per expert, with the weight each gives that expert.
  std::vector<std::vector<std::pair<int64_t, float>>> routed(static_cast<size_t>(X));
  for (int64_t i = 0; i < n; ++i) {
    Routing r = route(logits.data() + i * X, X, m.used, m.normalize);
    for (size_t j = 0; j < r.experts.size(); ++j) routed[r.experts[j]].emplace_back(i, r.weights[j]);
  }
  std::fill(out, out + n * E, 0.0f);
  std::vector<int64_t> active;
  for (int64_t x = 0; x < X; ++x)
    if (!routed[x].empty()) active.push_back(x);  // an expert nobody chose is never touched
  if (n == 1) {
    // Decode: k small products, side by side, each on one thread (running
    // each across all threads costs a join per product). Where every one
    // runs on the int8 GEMV (engine/gemv_int8.h) and no adapter applies, on
    // the engine's team, one expert a chunk: the team is busy then, so each
    // product's own loop runs alone on its thread. Else as OpenMP loops,
    // whose fork and join cost a sleeping thread's wake-up (10-50 us) per
    // layer and token.
    std::vector<std::vector<float>> ys(active.size(), std::vector<float>(static_cast<size_t>(E)));
    const LoraStack* lora = lora_of(0);
    auto run_expert = [&](size_t a) {
      const int64_t x = active[a];
      const int64_t F = m.down[x].in();
      std::vector<float> gu(static_cast<size_t>(2 * F)), act(static_cast<size_t>(F));
      m.gate_up[x].forward(h, 1, gu.data());
      if (lora) lora->apply_expert(layer, static_cast<int32_t>(x), LoraStack::Site::GateUp, h, 1, gu.data());
      ops::swiglu(gu.data(), 1, F, act.data());
      m.down[x].forward(act.data(), 1, ys[a].data());
      if (lora) lora->apply_expert(layer, static_cast<int32_t>(x), LoraStack::Site::Down, act.data(), 1, ys[a].data());
    };
    const bool on_team = !lora && std::all_of(active.begin(), active.end(), [&](int64_t x) {
      return m.gate_up[x].uses_gemv() && m.down[x].uses_gemv();
    });
    if (on_team) {
      ThreadTeam::shared().run(static_cast<int64_t>(active.size()), engine_threads(),
                               [&](int64_t a, int) { run_expert(static_cast<size_t>(a)); });
    } else {
#pragma omp parallel for schedule(dynamic)
      for (size_t a = 0; a < active.size(); ++a) run_expert(a);
    }
    for (size_t a = 0; a < active.size(); ++a) {
      const float w = routed[active[a]][0].second;
      for (int64_t e = 0; e < E; ++e) out[e] += w * ys[a][e];
      count(0, active[a]);
    }
    return;
  }
  std::vector<float> rows, gu, act, y;
  for (int64_t x : active) {
    const auto& tokens = routed[x];
    const int64_t M = static_cast<int64_t>(tokens.size());
    const int64_t F = m.down[x].in();
    rows.resize(static_cast<size_t>(M * E));
    for (int64_t j = 0; j < M; ++j) std::copy_n(h + tokens[j].first * E, E, rows.data() + j * E);
    gu.resize(static_cast<size_t>(M * 2 * F));
    act.resize(static_cast<size_t>(M * F));
    y.resize(static_cast<size_t>(M * E));
    // Runs of routed rows that share their adapters (a session's rows are
    // contiguous, and so in order here).
    auto each_lora_run = [&](const auto& f) {
      if (row_lora.empty()) return;
      for (int64_t j = 0; j < M;) {
        const LoraStack* s = lora_of(tokens[j].first);
        int64_t k = j + 1;
        while (k < M && lora_of(tokens[k].first) == s) ++k;
        if (s) f(*s, j, k - j);
        j = k;
      }
    };
    m.gate_up[x].forward(rows.data(), M, gu.data());
    each_lora_run([&](const LoraStack& s, int64_t j, int64_t count) {
      s.apply_expert(layer, static_cast<int32_t>(x), LoraStack::Site::GateUp, rows.data() + j * E, count,
                     gu.data() + j * 2 * F);
    });
    ops::swiglu(gu.data(), M, F, act.data());
    m.down[x].forward(act.data(), M, y.data());
    each_lora_run([&](const LoraStack& s, int64_t j, int64_t count) {
      s.apply_expert(layer, static_cast<int32_t>(x), LoraStack::Site::Down, act.data() + j * F, count, y.data() + j * E);
    });
    for (int64_t j = 0; j < M; ++j) {
      float* o = out + tokens[j].first * E;
      const float w = tokens[j].second;
      const float* yj = y.data() + j * E;
      for (int64_t e = 0; e < E; ++e) o[e] += w * yj[e];
      count(tokens[j].first, x);
    }
  }
}

}  // namespace astfill::engine
