// describe_image: a tiny random VL pair runs end to end; mismatched pairs and
// cancellation.
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
