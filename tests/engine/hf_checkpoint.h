// Hugging Face checkpoint directories written from a GGUF random model, for
// the engine's tests: config.json, tokenizer.json and (sharded) safetensors
// with HF tensor names (their text: tests/fixtures/hf_files.h).
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
#include "tests/fixtures/hf_files.h"
#include "tests/fixtures/random_model.h"

namespace astfill::testing {

using namespace astfill::engine;
namespace json = boost::json;

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

inline void write_safetensors(const std::string& path, const std::vector<const GgufTensor*>& tensors) {
  write_text(path, safetensors_bytes(tensors));
}

// tokenizer.json (tests/fixtures/hf_files.h, tokenizer_json_text).
inline void write_tokenizer_json(const std::string& path, const TokenizerData& t, bool leave_out_unused = false) {
  write_text(path, tokenizer_json_text(t, leave_out_unused));
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
  write_text(dir + "/config.json", config_json_text(hp));
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
