// Hugging Face checkpoint directories written from a GGUF random model, for
// the engine's tests: config.json, tokenizer.json and (sharded) safetensors
// with HF tensor names.
#pragma once

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/gguf.h"
#include "engine/tokenizer.h"
#include "tests/fixtures/random_model.h"

namespace astfill::testing {

using namespace astfill::engine;
namespace json = boost::json;

// GGUF name -> Hugging Face name, the inverse of the loader's map.
inline std::string hf_name(const std::string& g) {
  if (g == "token_embd.weight") return "model.embed_tokens.weight";
  if (g == "output_norm.weight") return "model.norm.weight";
  if (g == "output.weight") return "lm_head.weight";
  static const std::vector<std::pair<std::string, std::string>> layer = {
      {"attn_norm.weight", "input_layernorm.weight"}, {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},  {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},  {"attn_q.bias", "self_attn.q_proj.bias"},
      {"attn_k.bias", "self_attn.k_proj.bias"},      {"attn_v.bias", "self_attn.v_proj.bias"},
      {"attn_output.weight", "self_attn.o_proj.weight"}, {"attn_q_norm.weight", "self_attn.q_norm.weight"},
      {"attn_k_norm.weight", "self_attn.k_norm.weight"}, {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},       {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  auto dot = g.find('.', 4);
  std::string idx = g.substr(4, dot - 4), rest = g.substr(dot + 1);
  for (auto& [a, b] : layer)
    if (rest == a) return "model.layers." + idx + "." + b;
  FAIL("no HF name for " << g);
  return "";
}

inline void write_safetensors(const std::string& path, const std::vector<const GgufTensor*>& tensors) {
  json::object header;
  header["__metadata__"] = json::object{{"format", "pt"}};
  size_t offset = 0;
  for (auto* t : tensors) {
    json::array shape;
    for (auto it = t->ne.rbegin(); it != t->ne.rend(); ++it) shape.push_back(*it);
    header[hf_name(t->name)] = json::object{{"dtype", "F32"}, {"shape", shape},
                                            {"data_offsets", json::array{offset, offset + t->bytes}}};
    offset += t->bytes;
  }
  std::string h = json::serialize(header);
  std::ofstream out(path, std::ios::binary);
  uint64_t n = h.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << h;
  for (auto* t : tensors) out.write(reinterpret_cast<const char*>(t->data), static_cast<std::streamsize>(t->bytes));
}

// `leave_out_unused`: the GGUF's padding rows are not in the vocabulary, as in
// real Qwen checkpoints (151,665 tokens for 151,936 embedding rows).
inline void write_tokenizer_json(const std::string& path, const TokenizerData& t, bool leave_out_unused = false) {
  json::object vocab;
  json::array added;
  for (size_t id = 0; id < t.tokens.size(); ++id) {
    if (leave_out_unused && t.token_types[id] == TokenType::Unused) continue;
    bool special = t.token_types[id] == TokenType::Control;
    if (special) added.push_back(json::object{{"id", id}, {"content", t.tokens[id]}, {"special", true},
                                              {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                                              {"normalized", false}});
    else vocab[t.tokens[id]] = id;
  }
  json::array merges;
  for (auto& m : t.merges) merges.push_back(json::value(m));
  // Qwen's pipeline: NFC, a Split on its regex, then byte-level.
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
  std::ofstream(path) << json::serialize(doc);
}

// Writes a Hugging Face checkpoint directory holding the same weights as a
// GGUF random model (f32), split into `shards` files; its tokenizer.json from
// `tokenizer` (default: the random model's), see write_tokenizer_json.
inline void write_hf_checkpoint(const std::string& dir, const std::string& gguf_path, const RandomModelSpec& spec,
                                int shards = 1, const TokenizerData* tokenizer = nullptr,
                                bool leave_out_unused = false) {
  auto g = GgufFile::open(gguf_path);
  std::filesystem::create_directories(dir);
  const auto& hp = spec.hp;
  json::object config{{"model_type", hp.arch == "qwen3moe" ? "qwen3_moe" : hp.arch},
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
  std::ofstream(dir + "/config.json") << json::serialize(config);
  write_tokenizer_json(dir + "/tokenizer.json", tokenizer ? *tokenizer : tiny_tokenizer(hp.vocab_size),
                       leave_out_unused);
  std::vector<std::vector<const GgufTensor*>> parts(static_cast<size_t>(shards));
  for (size_t i = 0; i < g.tensors().size(); ++i) parts[i % parts.size()].push_back(&g.tensors()[i]);
  if (shards == 1) {
    write_safetensors(dir + "/model.safetensors", parts[0]);
    return;
  }
  json::object weight_map;
  for (int s = 0; s < shards; ++s) {
    std::string file = "model-0000" + std::to_string(s + 1) + "-of-0000" + std::to_string(shards) + ".safetensors";
    write_safetensors(dir + "/" + file, parts[static_cast<size_t>(s)]);
    for (auto* t : parts[static_cast<size_t>(s)]) weight_map[hf_name(t->name)] = file;
  }
  std::ofstream(dir + "/model.safetensors.index.json") << json::serialize(json::object{{"weight_map", weight_map}});
}

}  // namespace astfill::testing
