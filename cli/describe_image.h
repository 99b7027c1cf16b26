// Running a Qwen2(.5)-VL model on an image from the command line: shared by
// `astfill describe-image` (chat template around the prompt) and `astfill
// generate --image` (the image, then the prompt as a plain continuation).
#pragma once

#include <optional>
#include <string>

#include "cli/model_options.h"
#include "engine/sampler.h"

namespace astfill::cli {

struct ImageRun {
  const char* command = "astfill describe-image";  // for messages
  std::string image, prompt;
  std::optional<std::string> mmproj;  // nullopt: the --model checkpoint's own visual.* tensors
  bool chat = true;
  int max_tokens = 256;
  long long max_image_tokens = 256;
  std::optional<engine::WeightMode> vision_weights;  // nullopt: as the LM's --weights
  engine::SamplingParams sampling;
  bool json = false;
};

// Loads both models, runs, streams the text to stdout; returns the exit code
// (1 with a message naming the file for a bad image or model).
int run_image(const ModelOptions& mo, const ImageRun& run);

}  // namespace astfill::cli
