#include "engine/arch/layers.h"

#include "engine/errors.h"

namespace astfill::engine::arch {

Architecture architecture(const std::string& arch) {
  if (arch == "qwen2") return {&load_qwen2_layer, &forward_qwen2_layer};
  if (arch == "qwen3") return {&load_qwen3_layer, &forward_qwen3_layer};
  if (arch == "qwen3moe") return {&load_qwen3moe_layer, &forward_qwen3moe_layer};
  return {};
}

const ModelTensor& tensor(const ModelFile& f, const std::string& name) {
  const ModelTensor* t = f.find(name);
  if (!t) throw ModelError(f.path() + ": tensor '" + name + "' is missing");
  return *t;
}

std::vector<float> vector_f32(const ModelFile& f, const std::string& name) {
  return to_f32(tensor(f, name));
}

Linear fused(const ModelFile& f, const std::vector<std::string>& weights,
             const std::vector<std::string>& biases, WeightMode mode) {
  // Output rows of the fused layer map to (tensor, row) in order.
  std::vector<std::pair<const ModelTensor*, int64_t>> parts;  // tensor, first fused row
  std::vector<float> b;
  int64_t in = -1, out = 0;
  for (const auto& name : weights) {
    const ModelTensor& t = tensor(f, name);
    if (in >= 0 && t.ne[0] != in)
      throw ModelError(f.path() + ": tensor '" + name + "' has " + std::to_string(t.ne[0]) +
                       " inputs, unlike the tensors it is fused with");
    in = t.ne[0];
    parts.emplace_back(&t, out);
    out += t.ne[1];
  }
  for (const auto& name : biases) {
    auto v = vector_f32(f, name);
    b.insert(b.end(), v.begin(), v.end());
  }
  if (!b.empty() && static_cast<int64_t>(b.size()) != out)
    throw ModelError(f.path() + ": biases of '" + weights.front() + "' do not match its outputs");
  auto row = [&](int64_t n, float* dst) {
    size_t p = parts.size() - 1;
    while (parts[p].second > n) --p;
    const ModelTensor& t = *parts[p].first;
    const size_t rb = row_bytes(t.type, static_cast<size_t>(in));
    dequantize_row(t.type, t.data + static_cast<size_t>(n - parts[p].second) * rb, dst, static_cast<size_t>(in));
  };
  return Linear::from_rows(row, in, out, b.empty() ? nullptr : b.data(), mode);
}

void load_common(const ModelFile& f, const std::string& p, WeightMode mode, LayerWeights& l) {
  l.attn_norm = vector_f32(f, p + "attn_norm.weight");
  l.attn_output = Linear::load(tensor(f, p + "attn_output.weight"), nullptr, mode);
  l.ffn_norm = vector_f32(f, p + "ffn_norm.weight");
  l.gate_up = fused(f, {p + "ffn_gate.weight", p + "ffn_up.weight"}, {}, mode);
  l.down = Linear::load(tensor(f, p + "ffn_down.weight"), nullptr, mode);
}

}  // namespace astfill::engine::arch
