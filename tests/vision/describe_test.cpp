// describe_image: a tiny random VL pair runs end to end; mismatched pairs and
// cancellation.
#include <algorithm>
#include <catch2/catch.hpp>

#include "../engine/temp_dir.h"
#include "engine/errors.h"
#include "engine/model.h"
#include "tests/fixtures/random_model.h"
#include "tests/vision/vl_fixture.h"
#include "vision/describe.h"

using namespace astfill;

namespace {

vision::Image picture() {
  vision::Image img;
  img.width = 90;
  img.height = 70;
  img.rgb.resize(90 * 70 * 3);
  for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<uint8_t>(i * 7 % 251);
  return img;
}

engine::LoadOptions f32() {
  engine::LoadOptions o;
  o.weights = engine::WeightMode::F32;
  return o;
}

}  // namespace

TEST_CASE("a VL pair describes an image, the same way twice", "[describe]") {
  astfill::testing::TempDir dir;
  astfill::testing::write_random_vl_lm(dir.file("lm.gguf"));
  astfill::testing::write_random_mmproj(dir.file("mm.gguf"));
  auto lm = engine::Model::open(dir.file("lm.gguf"), f32());
  const auto tower = vision::VisionTower::load(dir.file("mm.gguf"));
  REQUIRE_NOTHROW(vision::check_pair(*lm, dir.file("lm.gguf"), tower));
  const auto ids = vision::vision_tokens(lm->tokenizer());
  CHECK(ids.pad == 511);

  vision::DescribeOptions o;
  o.max_tokens = 6;
  o.max_image_tokens = 16;
  std::vector<int32_t> first, second;
  const auto stats = vision::describe_image(*lm, tower, picture(), o, [&](int32_t t) { first.push_back(t); return true; });
  vision::describe_image(*lm, tower, picture(), o, [&](int32_t t) { second.push_back(t); return true; });
  CHECK(first == second);
  CHECK(stats.generated_tokens == first.size());
  CHECK(first.size() <= 6);
  CHECK(stats.image_tokens == static_cast<size_t>(stats.grid_h * stats.grid_w / 4));
  CHECK(stats.image_tokens <= 16);
  CHECK(stats.prompt_tokens > stats.image_tokens + 2);

  CancellationSource source;
  source.cancel(CancelReason::ClientRequest);
  const auto cancelled = vision::describe_image(*lm, tower, picture(), o, [](int32_t) { return true; }, source.token());
  CHECK(cancelled.cancelled);
}

TEST_CASE("a tower and an LM that do not belong together are refused by name", "[describe]") {
  astfill::testing::TempDir dir;
  astfill::testing::write_random_vl_lm(dir.file("lm.gguf"));
  astfill::testing::TinyTowerSpec narrow;
  narrow.out_dim = 48;
  astfill::testing::write_random_mmproj(dir.file("mm.gguf"), narrow);
  auto lm = engine::Model::open(dir.file("lm.gguf"), f32());
  const auto tower = vision::VisionTower::load(dir.file("mm.gguf"));
  CHECK_THROWS_WITH(vision::check_pair(*lm, dir.file("lm.gguf"), tower),
                    Catch::Contains("mm.gguf") && Catch::Contains("lm.gguf") && Catch::Contains("48"));

  engine::write_random_model(dir.file("coder.gguf"), engine::tiny_spec("qwen2"));
  auto coder = engine::Model::open(dir.file("coder.gguf"), f32());
  CHECK_THROWS_WITH(vision::check_pair(*coder, dir.file("coder.gguf"), tower),
                    Catch::Contains("coder.gguf") && Catch::Contains("M-RoPE"));
  CHECK_THROWS_WITH(vision::vision_tokens(coder->tokenizer()), Catch::Contains("<|vision_start|>"));
}

TEST_CASE("an mmproj of another projector type is refused by name", "[describe]") {
  astfill::testing::TempDir dir;
  engine::write_random_model(dir.file("coder.gguf"), engine::tiny_spec("qwen2"));
  CHECK_THROWS_WITH(vision::VisionTower::load(dir.file("coder.gguf")), Catch::Contains("coder.gguf"));
  CHECK_THROWS_WITH(vision::VisionTower::load(dir.file("none.gguf")), Catch::Contains("none.gguf"));
}

TEST_CASE("an answer is cut where it spells a special token's text", "[describe]") {
  astfill::testing::TempDir dir;
  astfill::testing::write_random_vl_lm(dir.file("lm.gguf"));
  auto lm = engine::Model::open(dir.file("lm.gguf"), engine::LoadOptions{});
  const auto& tok = lm->tokenizer();
  using vision::cut_at_control_text;
  CHECK(cut_at_control_text("x = 1\n<|im_end|>\ny = 2\n", tok) == "x = 1\n");
  CHECK(cut_at_control_text("a()\n<|fim_pad|><|endoftext|>", tok) == "a()\n");
  CHECK(cut_at_control_text("<|im_start|>assistant\nx", tok).empty());
  // The earliest one wins, whichever token it is.
  CHECK(cut_at_control_text("b<|endoftext|>c<|im_end|>", tok) == "b");
  // Text that only looks alike stays: Haskell's <|>, an unclosed <|, a
  // name no token has.
  for (const char* kept : {"f <|> g\n", "x <| y\n", "<|not_a_token|>\n", "plain code\n", ""})
    CHECK(cut_at_control_text(kept, tok) == kept);
}

TEST_CASE("describe_image stops at any special token, not only the end of a turn", "[describe]") {
  // The fixture LM with a token it writes and <|fim_pad|> swapped (their
  // embedding rows, which the tied head reads too): the same model with two
  // ids relabelled, so where it wrote that token it now writes <|fim_pad|>,
  // a control token that is neither <|im_end|> nor <|endoftext|>.
  astfill::testing::TempDir dir;
  astfill::testing::write_random_vl_lm(dir.file("lm.gguf"), 1, 0.1f);
  astfill::testing::write_random_mmproj(dir.file("mm.gguf"));
  const auto tower = vision::VisionTower::load(dir.file("mm.gguf"));
  vision::DescribeOptions o;
  o.max_tokens = 24;
  o.max_image_tokens = 16;
  auto lm0 = engine::Model::open(dir.file("lm.gguf"), engine::LoadOptions{});
  const auto& tok = lm0->tokenizer();
  std::vector<int32_t> plain;
  vision::describe_image(*lm0, tower, picture(), o, [&](int32_t t) { plain.push_back(t); return true; });
  // The first token written after another one, that was neither written
  // before nor is in the prompt (the relabelling would change the prompt).
  std::vector<int32_t> prompt = tok.encode("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n");
  for (auto t : tok.encode(o.prompt, false)) prompt.push_back(t);
  for (auto t : tok.encode("<|im_end|>\n<|im_start|>assistant\n")) prompt.push_back(t);
  auto in = [](const std::vector<int32_t>& v, size_t n, int32_t t) {
    return std::find(v.begin(), v.begin() + static_cast<ptrdiff_t>(n), t) != v.begin() + static_cast<ptrdiff_t>(n);
  };
  size_t k = 1;
  while (k < plain.size() && (in(plain, k, plain[k]) || in(prompt, prompt.size(), plain[k]))) ++k;
  INFO("written: " << tok.decode(plain));
  REQUIRE(k < plain.size());
  const int32_t pad = *tok.find_token("<|fim_pad|>");
  astfill::testing::write_vl_lm_with_tokens_swapped(dir.file("lm.gguf"), dir.file("swapped.gguf"), plain[k], pad);
  auto lm = engine::Model::open(dir.file("swapped.gguf"), engine::LoadOptions{});
  std::vector<int32_t> got;
  const auto stats = vision::describe_image(*lm, tower, picture(), o, [&](int32_t t) { got.push_back(t); return true; });
  // The same tokens up to it; <|fim_pad|> is not streamed and ends the answer.
  CHECK(got == std::vector<int32_t>(plain.begin(), plain.begin() + static_cast<ptrdiff_t>(k)));
  CHECK(stats.stop_token == pad);
  CHECK(stats.generated_tokens == k);
}
