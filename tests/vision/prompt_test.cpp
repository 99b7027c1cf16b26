// Images in the prompt: the token layout, M-RoPE positions, and M-RoPE's
// rotation (equal positions: exactly RoPE).
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "engine/ops.h"
#include "vision/prompt.h"

using namespace astfill;
using namespace astfill::vision;

TEST_CASE("an image's rows take grid positions and the text resumes after the largest", "[prompt]") {
  MultimodalPrompt p(2);
  p.add_text({10, 11, 12});
  // A 4x6-patch grid: 2x3 merged units, 6 rows of 2 values.
  std::vector<float> emb(12);
  for (size_t i = 0; i < emb.size(); ++i) emb[i] = static_cast<float>(i);
  p.add_image(emb, 4, 6);
  p.add_text({13});
  CHECK(p.tokens == std::vector<int32_t>{10, 11, 12, kVisionStartToken, kImagePadToken, kImagePadToken,
                                         kImagePadToken, kImagePadToken, kImagePadToken, kImagePadToken,
                                         kVisionEndToken, 13});
  CHECK(p.positions == std::vector<int32_t>{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3,  // text, vision_start
                                            4, 4, 4, 4, 4, 5, 4, 4, 6,           // unit row 0
                                            4, 5, 4, 4, 5, 5, 4, 5, 6,           // unit row 1
                                            7, 7, 7, 8, 8, 8});                  // vision_end, text
  CHECK(p.embedding_rows == std::vector<int64_t>{4, 5, 6, 7, 8, 9});
  CHECK(p.embeddings == emb);
  CHECK(p.next_position == 9);
  CHECK_THROWS_WITH(p.add_image(emb, 4, 4), Catch::Contains("needs 8"));
  CHECK_THROWS_WITH(p.add_image(emb, 3, 6), Catch::Contains("merge size"));
}

TEST_CASE("M-RoPE with equal t, h, w positions is RoPE, unequal ones rotate by section", "[prompt]") {
  const int64_t heads = 3, d = 128, half = d / 2;
  std::vector<float> inv_freq(half);
  for (int64_t i = 0; i < half; ++i) inv_freq[i] = static_cast<float>(std::pow(1e6, -2.0 * i / d));
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  std::vector<float> x(heads * d);
  for (auto& v : x) v = nd(rng);
  const int32_t sections[3] = {16, 24, 24};
  for (double pos : {0.0, 1.0, 37.0, 4095.0}) {
    std::vector<float> a = x, b = x;
    engine::ops::rope_neox(a.data(), heads, d, pos, inv_freq.data());
    const double p3[3] = {pos, pos, pos};
    engine::ops::rope_multi(b.data(), heads, d, p3, sections, inv_freq.data());
    CHECK(a == b);
  }
  // (t, h, w) = (5, 9, 2): frequency i rotates by its section's position.
  const double p3[3] = {5, 9, 2};
  std::vector<float> b = x;
  engine::ops::rope_multi(b.data(), heads, d, p3, sections, inv_freq.data());
  double worst = 0;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i) {
      const double pos = i < 16 ? 5 : i < 40 ? 9 : 2;
      const double ang = pos * inv_freq[i];
      const double x0 = x[h * d + i], x1 = x[h * d + i + half];
      worst = std::max(worst, std::fabs(b[h * d + i] - (x0 * std::cos(ang) - x1 * std::sin(ang))));
      worst = std::max(worst, std::fabs(b[h * d + i + half] - (x1 * std::cos(ang) + x0 * std::sin(ang))));
    }
  CHECK(worst < 1e-5);
}
