// The smallest valid model the fixtures write (a few KB), for the harnesses'
// seed inputs and for the Hugging Face checkpoint directory the config.json
// harness completes: tokenizer.json and model.safetensors written from the
// same random GGUF model, with Hugging Face's names and [out, in] shapes.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "engine/gguf.h"
#include "engine/tokenizer.h"
#include "tests/fixtures/random_model.h"

namespace astfill::fuzz {

using namespace astfill::engine;
namespace json = boost::json;

inline RandomModelSpec seed_spec() {
  RandomModelSpec s = tiny_spec("qwen2");
  auto& hp = s.hp;
  hp.context_length = 256;
  hp.embedding_length = 8;
  hp.block_count = 1;
  hp.feed_forward_length = 16;
  hp.head_count = 2;
  hp.head_count_kv = 1;
  hp.head_dim = 4;
  hp.vocab_size = 320;
  return s;
}

// GGUF tensor name -> Hugging Face name (qwen2's tensors).
inline std::string hf_tensor_name(const std::string& g) {
  if (g == "token_embd.weight") return "model.embed_tokens.weight";
  if (g == "output_norm.weight") return "model.norm.weight";
  if (g == "output.weight") return "lm_head.weight";
  static const std::pair<const char*, const char*> layer[] = {
      {"attn_norm.weight", "input_layernorm.weight"}, {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},   {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},   {"attn_q.bias", "self_attn.q_proj.bias"},
      {"attn_k.bias", "self_attn.k_proj.bias"},       {"attn_v.bias", "self_attn.v_proj.bias"},
      {"attn_output.weight", "self_attn.o_proj.weight"}, {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},        {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  auto dot = g.find('.', 4);
  std::string idx = g.substr(4, dot - 4), rest = g.substr(dot + 1);
  for (auto& [a, b] : layer)
    if (rest == a) return "model.layers." + idx + "." + b;
  throw std::runtime_error("no Hugging Face name for " + g);
}

inline std::string safetensors_bytes(const GgufFile& g) {
  json::object header;
  size_t offset = 0;
  for (const auto& t : g.tensors()) {
    json::array shape;
    for (auto it = t.ne.rbegin(); it != t.ne.rend(); ++it) shape.push_back(*it);
    header[hf_tensor_name(t.name)] =
        json::object{{"dtype", "F32"}, {"shape", shape}, {"data_offsets", json::array{offset, offset + t.bytes}}};
    offset += t.bytes;
  }
  std::string h = json::serialize(header);
  std::string out(8, '\0');
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += h;
  for (const auto& t : g.tensors()) out.append(reinterpret_cast<const char*>(t.data), t.bytes);
  return out;
}

inline std::string tokenizer_json_text(const TokenizerData& t) {
  json::object vocab;
  json::array added;
  for (size_t id = 0; id < t.tokens.size(); ++id) {
    if (t.token_types[id] == TokenType::Control)
      added.push_back(json::object{{"id", id}, {"content", t.tokens[id]}, {"special", true}});
    else
      vocab[t.tokens[id]] = id;
  }
  json::array merges;
  for (auto& m : t.merges) merges.push_back(json::value(m));
  const char* regex =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  json::object pre{{"type", "Sequence"},
                   {"pretokenizers",
                    json::array{json::object{{"type", "Split"}, {"pattern", json::object{{"Regex", regex}}},
                                             {"behavior", "Isolated"}, {"invert", false}},
                                json::object{{"type", "ByteLevel"}, {"add_prefix_space", false},
                                             {"trim_offsets", false}, {"use_regex", false}}}}};
  json::object doc{{"version", "1.0"},
                   {"added_tokens", added},
                   {"normalizer", json::object{{"type", "NFC"}}},
                   {"pre_tokenizer", pre},
                   {"model", json::object{{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
  return json::serialize(doc);
}

inline std::string config_json_text(const HyperParams& hp) {
  json::object config{{"model_type", hp.arch},
                      {"hidden_size", hp.embedding_length},
                      {"num_hidden_layers", hp.block_count},
                      {"intermediate_size", hp.feed_forward_length},
                      {"num_attention_heads", hp.head_count},
                      {"num_key_value_heads", hp.head_count_kv},
                      {"head_dim", hp.head_dim},
                      {"max_position_embeddings", hp.context_length},
                      {"rms_norm_eps", hp.rms_norm_eps},
                      {"rope_theta", hp.rope_freq_base},
                      {"vocab_size", hp.vocab_size},
                      {"tie_word_embeddings", true}};
  return json::serialize(config);
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace astfill::fuzz
