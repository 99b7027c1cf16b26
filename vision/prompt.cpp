// See prompt.h.
#include "vision/prompt.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace astfill::vision {

namespace {
void push_text_row(MultimodalPrompt& p, int32_t token) {
  p.tokens.push_back(token);
  for (int i = 0; i < 3; ++i) p.positions.push_back(p.next_position);
  ++p.next_position;
}
}  // namespace

void MultimodalPrompt::add_text(const std::vector<int32_t>& text_tokens) {
  for (int32_t t : text_tokens) push_text_row(*this, t);
}

void MultimodalPrompt::add_image(const std::vector<float>& image_embeddings, int64_t grid_h, int64_t grid_w,
                                 int64_t merge_size) {
  if (merge_size < 1 || grid_h % merge_size || grid_w % merge_size || grid_h <= 0 || grid_w <= 0)
    throw std::invalid_argument("image grid " + std::to_string(grid_h) + "x" + std::to_string(grid_w) +
                                " is not a multiple of the merge size");
  const int64_t uh = grid_h / merge_size, uw = grid_w / merge_size;
  if (static_cast<int64_t>(image_embeddings.size()) != uh * uw * width)
    throw std::invalid_argument("image has " + std::to_string(image_embeddings.size()) +
                                " embedding values; a " + std::to_string(uh) + "x" + std::to_string(uw) +
                                " grid of units at width " + std::to_string(width) + " needs " +
                                std::to_string(uh * uw * width));
  push_text_row(*this, ids.start);
  const int32_t s = next_position;
  for (int64_t y = 0; y < uh; ++y)
    for (int64_t x = 0; x < uw; ++x) {
      embedding_rows.push_back(static_cast<int64_t>(tokens.size()));
      tokens.push_back(ids.pad);
      positions.push_back(s);
      positions.push_back(s + static_cast<int32_t>(y));
      positions.push_back(s + static_cast<int32_t>(x));
    }
  embeddings.insert(embeddings.end(), image_embeddings.begin(), image_embeddings.end());
  next_position = s + static_cast<int32_t>(std::max(uh, uw));
  push_text_row(*this, ids.end);
}

std::vector<const float*> MultimodalPrompt::row_embeddings() const {
  std::vector<const float*> rows_out(tokens.size(), nullptr);
  for (size_t k = 0; k < embedding_rows.size(); ++k)
    rows_out[static_cast<size_t>(embedding_rows[k])] = embeddings.data() + k * static_cast<size_t>(width);
  return rows_out;
}

}  // namespace astfill::vision
