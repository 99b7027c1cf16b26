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
#include "tests/fixtures/hf_files.h"
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

// A checkpoint's files as text (tests/fixtures/hf_files.h).
using astfill::testing::config_json_text;
using astfill::testing::tokenizer_json_text;

inline std::string safetensors_bytes(const GgufFile& g) {
  std::vector<const GgufTensor*> tensors;
  for (const auto& t : g.tensors()) tensors.push_back(&t);
  return astfill::testing::safetensors_bytes(tensors);
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace astfill::fuzz
