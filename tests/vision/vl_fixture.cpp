#include "tests/vision/vl_fixture.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "engine/gguf.h"
#include "engine/gguf_writer.h"
#include "tests/fixtures/random_model.h"

namespace astfill::testing {

using engine::GgmlType;

void write_random_mmproj(const std::string& path, const TinyTowerSpec& s) {
  std::mt19937 rng(s.seed);
  std::normal_distribution<float> nd;
  engine::GgufWriter w;
  auto tensor = [&](const std::string& name, std::vector<int64_t> ne, float scale, float offset = 0) {
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = offset + scale * nd(rng);
    w.add_tensor_f32(name, GgmlType::F32, std::move(ne), v);
  };
  const int64_t D = s.hidden, F = s.ffn, M = 4 * D;
  w.set_string("general.architecture", "clip");
  w.set_string("clip.projector_type", s.qwen25 ? "qwen2.5vl_merger" : "qwen2vl_merger");
  w.set_u32("clip.vision.attention.head_count", static_cast<uint32_t>(s.heads));
  w.set_f32("clip.vision.attention.layer_norm_epsilon", 1e-6f);
  if (s.qwen25) w.set_u32("clip.vision.n_wa_pattern", 2);
  tensor("v.patch_embd.weight", {14, 14, 3, D}, 0.05f);
  tensor("v.patch_embd.weight.1", {14, 14, 3, D}, 0.05f);
  for (int64_t b = 0; b < s.depth; ++b) {
    const std::string p = "v.blk." + std::to_string(b) + ".";
    for (const char* ln : {"ln1", "ln2"}) {
      tensor(p + ln + ".weight", {D}, 0.1f, 1.0f);
      if (!s.qwen25) tensor(p + ln + ".bias", {D}, 0.05f);
    }
    for (const char* a : {"attn_q", "attn_k", "attn_v", "attn_out"}) {
      tensor(p + a + ".weight", {D, D}, 0.2f);
      tensor(p + a + ".bias", {D}, 0.05f);
    }
    std::vector<const char*> up = {"ffn_up"};
    if (s.qwen25) up.push_back("ffn_gate");
    for (const char* f : up) {
      tensor(p + f + ".weight", {D, F}, 0.2f);
      tensor(p + f + ".bias", {F}, 0.05f);
    }
    tensor(p + "ffn_down.weight", {F, D}, 0.2f);
    tensor(p + "ffn_down.bias", {D}, 0.05f);
  }
  tensor("v.post_ln.weight", {D}, 0.1f, 1.0f);
  if (!s.qwen25) tensor("v.post_ln.bias", {D}, 0.05f);
  tensor("mm.0.weight", {M, M}, 0.1f);
  tensor("mm.0.bias", {M}, 0.05f);
  tensor("mm.2.weight", {M, s.out_dim}, 0.1f);
  tensor("mm.2.bias", {s.out_dim}, 0.05f);
  w.write(path);
}

void write_random_vl_lm(const std::string& path, uint32_t seed, float weight_scale) {
  auto spec = engine::tiny_spec("qwen2");
  spec.seed = seed;
  spec.weight_scale = weight_scale;
  spec.hp.rope_sections = {2, 3, 3};
  const std::string plain = path + ".plain";
  engine::write_random_model(plain, spec);
  // Copy it with the vision tokens in the vocabulary's padding.
  {
    const auto g = engine::GgufFile::open(plain);
    engine::GgufWriter w(g.alignment());
    for (auto [key, value] : g.metadata()) {
      if (key == "tokenizer.ggml.tokens") {
        const size_t n = value.strings.size();
        value.strings[n - 3] = "<|vision_start|>";
        value.strings[n - 2] = "<|vision_end|>";
        value.strings[n - 1] = "<|image_pad|>";
      } else if (key == "tokenizer.ggml.token_type") {
        const size_t n = value.ints.size();
        for (size_t i = n - 3; i < n; ++i) value.ints[i] = 3;  // control
      }
      w.set(key, value);
    }
    for (const auto& t : g.tensors()) w.add_tensor(t.name, t.type, t.ne, std::vector<uint8_t>(t.data, t.data + t.bytes));
    w.write(path);
  }
  std::remove(plain.c_str());
}

void write_vl_lm_with_tokens_swapped(const std::string& from, const std::string& to, int32_t a, int32_t b) {
  const auto g = engine::GgufFile::open(from);
  engine::GgufWriter w(g.alignment());
  for (auto [key, value] : g.metadata()) w.set(key, value);
  for (const auto& t : g.tensors()) {
    std::vector<uint8_t> data(t.data, t.data + t.bytes);
    if (t.name == "token_embd.weight" || t.name == "output.weight") {
      const size_t row = t.bytes / static_cast<size_t>(t.rows());
      std::swap_ranges(data.begin() + static_cast<ptrdiff_t>(row * static_cast<size_t>(a)),
                       data.begin() + static_cast<ptrdiff_t>(row * static_cast<size_t>(a + 1)),
                       data.begin() + static_cast<ptrdiff_t>(row * static_cast<size_t>(b)));
    }
    w.add_tensor(t.name, t.type, t.ne, std::move(data));
  }
  w.write(to);
}

}  // namespace astfill::testing
