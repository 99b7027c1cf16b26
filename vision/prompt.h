// A prompt with images in it, laid out as Qwen2-VL's LM expects:
//   ... text ... <|vision_start|> <|image_pad|> x (H/28)(W/28) <|vision_end|> ... text ...
// where each <|image_pad|> row takes one merged image embedding (the vision
// tower's output) instead of its token's embedding, and every row has three
// rotary positions (t, h, w) for M-RoPE: text rows count up with t = h = w;
// an image's rows sit at (s, s + row, s + column) from the position s after
// <|vision_start|>, and the text after it resumes at the largest position
// used plus one (Hugging Face's get_rope_index).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace astfill::vision {

// Qwen2-VL's special tokens (the same ids in every Qwen2/2.5 vocabulary).
inline constexpr int32_t kVisionStartToken = 151652;
inline constexpr int32_t kVisionEndToken = 151653;
inline constexpr int32_t kImagePadToken = 151655;

struct VisionTokens {
  int32_t start = kVisionStartToken, end = kVisionEndToken, pad = kImagePadToken;
};

struct MultimodalPrompt {
  std::vector<int32_t> tokens;
  std::vector<int32_t> positions;       // [rows][3]: t, h, w
  std::vector<int64_t> embedding_rows;  // rows whose input is an image embedding, ascending
  std::vector<float> embeddings;        // [embedding_rows.size()][width]
  int64_t width = 0;                    // the LM's embedding width
  int32_t next_position = 0;            // where the text after the prompt goes on (t = h = w)

  VisionTokens ids;

  explicit MultimodalPrompt(int64_t lm_width, VisionTokens vision_tokens = {})
      : width(lm_width), ids(vision_tokens) {}

  void add_text(const std::vector<int32_t>& text_tokens);
  // One image: `embeddings` is the tower's output, [units][width] in merge
  // order for a grid of grid_h x grid_w patches (units = grid_h * grid_w / 4).
  // Throws std::invalid_argument when the sizes do not agree.
  void add_image(const std::vector<float>& image_embeddings, int64_t grid_h, int64_t grid_w, int64_t merge_size = 2);

  size_t rows() const { return tokens.size(); }
  // Session::Batch::embeddings for these rows: a pointer into `embeddings`
  // for each image row, null for text (valid while this prompt lives).
  std::vector<const float*> row_embeddings() const;
};

}  // namespace astfill::vision
