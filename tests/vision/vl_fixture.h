// Tiny random Qwen2-VL models for the tests: a vision tower written as an
// mmproj GGUF, and a qwen2vl LM (M-RoPE) whose tokenizer has the vision
// tokens, with matching widths.
#pragma once

#include <cstdint>
#include <string>

namespace astfill::testing {

struct TinyTowerSpec {
  bool qwen25 = true;  // false: Qwen2-VL (LayerNorm, fc1/fc2, no windows)
  int64_t hidden = 32, heads = 2, ffn = 48, depth = 2, out_dim = 64;
  uint32_t seed = 1;
};

void write_random_mmproj(const std::string& path, const TinyTowerSpec& spec = {});

// engine::tiny_spec("qwen2") with M-RoPE sections {2, 3, 3} (embedding 64),
// the vocabulary's last three padding tokens renamed <|vision_start|>,
// <|vision_end|>, <|image_pad|>. The defaults (seed 1, weight scale 0.02)
// give a model that writes line breaks only; a larger scale gives sharper
// logits and text (toCode's test needs an answer with code in it).
void write_random_vl_lm(const std::string& path, uint32_t seed = 1, float weight_scale = 0.02f);

// A copy of the LM at `from` with tokens `a` and `b` swapped in the token
// embedding (and the output head when it is not tied): the same model with
// two ids relabelled. The tokenizer is unchanged.
void write_vl_lm_with_tokens_swapped(const std::string& from, const std::string& to, int32_t a, int32_t b);

}  // namespace astfill::testing
