// Random-weight models of any Qwen shape, written as GGUF by our own writer:
// the fixtures of the engine's tests and the subjects of its benchmarks. They
// have real structure (every tensor an architecture needs, a byte-level BPE
// tokenizer with Qwen's special tokens) but random weights.
#pragma once

#include <cstdint>
#include <string>

#include "engine/model_file.h"
#include "engine/tensor_types.h"

namespace astfill::engine {

// A byte-level BPE tokenizer: the 256 byte tokens, `merges` merges learnt
// from a built-in sample of code, Qwen's special tokens (<|endoftext|>,
// <|fim_prefix|>, <|file_sep|>, ...) and unused padding up to `vocab_size`.
TokenizerData tiny_tokenizer(uint32_t vocab_size, uint32_t merges = 200);

struct RandomModelSpec {
  HyperParams hp;                        // arch and shapes; vocab_size sets the tokenizer
  GgmlType weight_type = GgmlType::F32;  // for 2-D weights; norms and biases stay F32
  uint32_t seed = 1;
  float weight_scale = 0.02f;
  bool tied_embeddings = true;
};

// A small spec of the given architecture (qwen2, qwen3, qwen3moe).
RandomModelSpec tiny_spec(const std::string& arch);

// Throws ModelError when the file cannot be written.
void write_random_model(const std::string& path, const RandomModelSpec& spec);

}  // namespace astfill::engine
