// Qwen2-VL / Qwen2.5-VL image preprocessing, as Hugging Face's
// Qwen2VLImageProcessor does it: smart_resize to multiples of 28 within a
// pixel budget, bicubic resize (PIL's, to the same uint8 values), /255, CLIP
// mean/std, then 14x14 patches of a two-frame still image flattened in 2x2
// merge order: rows of C*T*14*14 = 1176 values, ordered (block row, block
// column, row in block, column in block), each row (channel, frame, y, x).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "vision/image.h"

namespace astfill::vision {

struct PreprocessOptions {
  int patch_size = 14;
  int merge_size = 2;
  int temporal_patch_size = 2;
  // The image's token budget (merged 28x28 units): Qwen's default maximum is
  // 16384 tokens; 256 suits two cores (a 448x448 image is 256 tokens).
  int64_t min_tokens = 4;
  int64_t max_tokens = 256;
  float mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
  float std[3] = {0.26862954f, 0.26130258f, 0.27577711f};

  int factor() const { return patch_size * merge_size; }
};

// Height and width, multiples of `factor`, closest to (h, w) with the aspect
// ratio kept and the pixel count within [min_pixels, max_pixels] (Qwen's
// smart_resize, Python's round-half-to-even included). ImageError for an
// aspect ratio over 200.
std::pair<int64_t, int64_t> smart_resize(int64_t height, int64_t width, int64_t factor, int64_t min_pixels,
                                         int64_t max_pixels);

// PIL's Image.resize(..., BICUBIC) on 8-bit RGB: a separable cubic (a = -0.5)
// filter widened by the scale when shrinking, horizontal pass then vertical,
// coefficients in 22-bit fixed point and each pass rounded to uint8.
Image resize_bicubic(const Image& src, uint32_t width, uint32_t height);

struct VisionInput {
  int64_t grid_h = 0, grid_w = 0;  // in 14-pixel patches (even)
  int64_t row_size = 0;            // C * T * patch * patch
  std::vector<float> patches;      // [grid_h * grid_w][row_size], merge order

  int64_t patch_count() const { return grid_h * grid_w; }
};

VisionInput preprocess(const Image& image, const PreprocessOptions& options = {});

}  // namespace astfill::vision
