#include "engine/random_model.h"

#include <algorithm>
#include <map>
#include <random>

#include "engine/gguf_writer.h"
#include "engine/model_export.h"

namespace astfill::engine {
namespace {

// Merges are learnt from this text the way BPE training does it: repeatedly
// join the most frequent adjacent pair.
constexpr const char* kSample =
    "def add(a, b):\n    return a + b\n\n"
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n"
    "    def push(self, item):\n        self.items.append(item)\n\n"
    "    def pop(self):\n        return self.items.pop()\n\n"
    "for i in range(10):\n    print(i, add(i, i))\n"
    "int main(int argc, char** argv) {\n  return 0;\n}\n"
    "function greet(name) { return `hello ${name}`; }\n"
    "import os\nimport sys\nfrom typing import List, Dict\n";

const char* kSpecials[] = {
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|fim_prefix|>", "<|fim_middle|>",
    "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>",
};

}  // namespace

TokenizerData tiny_tokenizer(uint32_t vocab_size, uint32_t merge_count) {
  TokenizerData t;
  t.model = "gpt2";
  t.pre = "qwen2";
  for (int b = 0; b < 256; ++b) t.tokens.push_back(to_byte_level(std::string(1, static_cast<char>(b))));
  // Learn merges over the sample's byte-level symbols, within words split at
  // spaces and newlines (a stand-in for the pre-tokenizer, good enough here).
  std::vector<std::vector<std::string>> words;
  std::string text = kSample;
  std::string word;
  for (char c : text) {
    if ((c == ' ' || c == '\n') && !word.empty()) {
      words.push_back({});
      for (char w : word) words.back().push_back(to_byte_level(std::string(1, w)));
      word.clear();
    }
    word += c;
  }
  std::map<std::string, bool> known;
  for (auto& tok : t.tokens) known[tok] = true;
  const uint32_t budget = vocab_size > 256 + std::size(kSpecials) ? vocab_size - 256 - static_cast<uint32_t>(std::size(kSpecials)) : 0;
  for (uint32_t m = 0; m < std::min(merge_count, budget); ++m) {
    std::map<std::pair<std::string, std::string>, int> counts;
    for (auto& w : words)
      for (size_t i = 0; i + 1 < w.size(); ++i) counts[{w[i], w[i + 1]}]++;
    if (counts.empty()) break;
    auto best = std::max_element(counts.begin(), counts.end(),
                                 [](auto& a, auto& b) { return a.second < b.second; });
    if (best->second < 2) break;
    auto [a, b] = best->first;
    t.merges.push_back(a + " " + b);
    if (!known[a + b]) {
      t.tokens.push_back(a + b);
      known[a + b] = true;
    }
    for (auto& w : words) {
      std::vector<std::string> merged;
      for (size_t i = 0; i < w.size(); ++i) {
        if (i + 1 < w.size() && w[i] == a && w[i + 1] == b) {
          merged.push_back(a + b);
          ++i;
        } else {
          merged.push_back(w[i]);
        }
      }
      w = std::move(merged);
    }
  }
  t.token_types.assign(t.tokens.size(), TokenType::Normal);
  for (const char* s : kSpecials) {
    t.tokens.push_back(s);
    t.token_types.push_back(TokenType::Control);
  }
  t.eos_id = static_cast<int32_t>(t.tokens.size() - std::size(kSpecials));  // <|endoftext|>
  t.pad_id = t.eos_id;
  for (uint32_t pad = 0; t.tokens.size() < vocab_size; ++pad) {
    t.tokens.push_back("[PAD" + std::to_string(t.tokens.size()) + "]");
    t.token_types.push_back(TokenType::Unused);
  }
  return t;
}

RandomModelSpec tiny_spec(const std::string& arch) {
  RandomModelSpec s;
  auto& hp = s.hp;
  hp.arch = arch;
  hp.name = "astfill-random-" + arch;
  hp.context_length = 4096;
  hp.embedding_length = 64;
  hp.block_count = 2;
  hp.feed_forward_length = 128;
  hp.head_count = 4;
  hp.head_count_kv = 2;
  hp.head_dim = 16;
  hp.rms_norm_eps = 1e-6f;
  hp.rope_freq_base = 1e6;
  hp.vocab_size = 512;
  if (arch == "qwen3moe") {
    hp.feed_forward_length = 0;
    hp.expert_count = 8;
    hp.expert_used_count = 2;
    hp.expert_feed_forward_length = 32;
  }
  return s;
}

void write_random_model(const std::string& path, const RandomModelSpec& spec) {
  const HyperParams& hp = spec.hp;
  GgufWriter w;
  add_model_metadata(w, hp, tiny_tokenizer(hp.vocab_size));
  w.set_u32("general.file_type", file_type_for(spec.weight_type));

  std::mt19937 rng(spec.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto matrix = [&](const std::string& name, std::vector<int64_t> ne, float scale) {
    int64_t n = 1;
    for (auto d : ne) n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = normal(rng) * scale;
    GgmlType type = spec.weight_type;
    if (ne[0] % static_cast<int64_t>(type_info(type).block_values) != 0) type = GgmlType::F32;
    w.add_tensor_f32(name, type, std::move(ne), v);
  };
  auto vector = [&](const std::string& name, int64_t n, float mean, float scale) {
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = mean + normal(rng) * scale;
    w.add_tensor_f32(name, GgmlType::F32, {n}, v);
  };
  const int64_t E = hp.embedding_length, V = hp.vocab_size, D = hp.head_dim;
  const int64_t Q = int64_t(hp.head_count) * D, KV = int64_t(hp.head_count_kv) * D;
  const float s = spec.weight_scale;
  matrix("token_embd.weight", {E, V}, s * 50);  // embeddings of unit-ish scale
  for (uint32_t i = 0; i < hp.block_count; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    vector(b + "attn_norm.weight", E, 1.0f, 0.1f);
    matrix(b + "attn_q.weight", {E, Q}, s * 5);
    matrix(b + "attn_k.weight", {E, KV}, s * 5);
    matrix(b + "attn_v.weight", {E, KV}, s * 5);
    matrix(b + "attn_output.weight", {Q, E}, s * 5);
    if (hp.arch == "qwen2") {
      vector(b + "attn_q.bias", Q, 0.0f, 0.1f);
      vector(b + "attn_k.bias", KV, 0.0f, 0.1f);
      vector(b + "attn_v.bias", KV, 0.0f, 0.1f);
    } else {
      vector(b + "attn_q_norm.weight", D, 1.0f, 0.1f);
      vector(b + "attn_k_norm.weight", D, 1.0f, 0.1f);
    }
    vector(b + "ffn_norm.weight", E, 1.0f, 0.1f);
    if (hp.arch == "qwen3moe") {
      const int64_t X = hp.expert_count, F = hp.expert_feed_forward_length;
      matrix(b + "ffn_gate_inp.weight", {E, X}, s * 5);
      matrix(b + "ffn_gate_exps.weight", {E, F, X}, s * 5);
      matrix(b + "ffn_up_exps.weight", {E, F, X}, s * 5);
      matrix(b + "ffn_down_exps.weight", {F, E, X}, s * 5);
    } else {
      const int64_t F = hp.feed_forward_length;
      matrix(b + "ffn_gate.weight", {E, F}, s * 5);
      matrix(b + "ffn_up.weight", {E, F}, s * 5);
      matrix(b + "ffn_down.weight", {F, E}, s * 5);
    }
  }
  vector("output_norm.weight", E, 1.0f, 0.1f);
  if (!spec.tied_embeddings) matrix("output.weight", {E, V}, s * 5);
  w.write(path);
}

}  // namespace astfill::engine
