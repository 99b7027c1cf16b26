// Running a Qwen2(.5)-VL model on an image: the vision tower encodes it, its
// rows enter a chat prompt in place of <|image_pad|> tokens (vision/prompt.h),
// and the LM (engine::Model with M-RoPE sections) writes the answer, token by
// token, through a callback. What `astfill describe-image`, `astfill generate
// --image` and the daemon's image commands share.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "engine/model.h"
#include "engine/sampler.h"
#include "support/cancel.h"
#include "vision/image.h"
#include "vision/prompt.h"
#include "vision/tower.h"

namespace astfill::vision {

struct DescribeOptions {
  std::string prompt = "Describe this image.";
  // The prompt around the image: "chat" wraps it in Qwen's chat template
  // (system, user turn with the image then the prompt, assistant turn);
  // "raw" is the image followed by the prompt text as is.
  bool chat = true;
  int max_tokens = 256;
  int64_t max_image_tokens = 256;  // the image's token budget (vision/preprocess.h)
  engine::SamplingParams sampling;
  // The vision token ids; nullopt: looked up in the LM's tokenizer.
  std::optional<VisionTokens> tokens;
  size_t prefill_chunk = 512;
};

struct DescribeStats {
  int64_t grid_h = 0, grid_w = 0;  // patches
  size_t image_tokens = 0;
  size_t prompt_tokens = 0;        // all rows, image rows included
  size_t generated_tokens = 0;
  double encode_seconds = 0;       // preprocessing and the tower
  double prefill_seconds = 0;
  double decode_seconds = 0;
  bool cancelled = false;
  int32_t stop_token = -1;         // the special token that ended the answer (not streamed); -1: none
};

// Checks that the tower's output width is the LM's embedding width and that
// the LM has M-RoPE sections (a Qwen2-VL LM); throws engine::ModelError
// naming both files otherwise.
void check_pair(const engine::Model& lm, const std::string& lm_path, const VisionTower& tower);

// `text` up to the first place where it spells a special token's text
// (the model wrote "<|im_end|>" in ordinary pieces): an answer never carries
// control-token text into an editor. Special tokens of one character are
// not looked for.
std::string cut_at_control_text(std::string text, const engine::Tokenizer& tokenizer);

// The vision tokens of the LM's tokenizer; engine::ModelError when missing.
VisionTokens vision_tokens(const engine::Tokenizer& tokenizer);

// Streams the answer's tokens to `on_token` (return false to stop); stops at
// any special token of the LM's tokenizer (Control or UserDefined:
// <|im_end|>, <|endoftext|>, <|im_start|>, <|fim_pad|>, ...; not streamed,
// DescribeStats::stop_token) or max_tokens.
DescribeStats describe_image(const engine::Model& lm, const VisionTower& tower, const Image& image,
                             const DescribeOptions& options, const std::function<bool(int32_t)>& on_token,
                             const CancellationToken& cancel = {});

}  // namespace astfill::vision
