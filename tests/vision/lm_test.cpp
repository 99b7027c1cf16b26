// The LM side of images in the prompt: a Qwen2-VL LM (qwen2 layers with
// M-RoPE sections) loads from GGUF, M-RoPE with t = h = w gives exactly the
// logits of plain RoPE, unequal positions change them, and embedding rows
// replace their tokens' embeddings.
#include <catch2/catch.hpp>
#include <cmath>
#include <thread>
#include <vector>

#include "../engine/temp_dir.h"
#include "engine/linear.h"
#include "engine/model.h"
#include "engine/model_file.h"
#include "tests/fixtures/random_model.h"
#include "vision/prompt.h"

using namespace astfill;
using engine::Session;

namespace {

std::string write_vl_model(const astfill::testing::TempDir& dir) {
  auto spec = engine::tiny_spec("qwen2");
  spec.hp.rope_sections = {2, 3, 3};  // head_dim 16: 8 frequencies
  spec.weight_scale = 0.2f;           // enough that positions visibly matter
  const std::string path = dir.file("vl.gguf");
  engine::write_random_model(path, spec);
  return path;
}

engine::LoadOptions f32() {
  engine::LoadOptions o;
  o.weights = engine::WeightMode::F32;
  return o;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(double(a[i]) - b[i]));
  return d;
}

}  // namespace

TEST_CASE("a Qwen2-VL LM's M-RoPE with equal t, h, w positions is RoPE", "[lm]") {
  astfill::testing::TempDir dir;
  const std::string path = write_vl_model(dir);
  const auto file = engine::ModelFile::open(path);
  CHECK(file.gguf()->get_string("general.architecture") == "qwen2vl");
  CHECK(file.hparams().rope_sections == std::vector<int32_t>{2, 3, 3});
  auto model = engine::Model::open(path, f32());

  const std::vector<int32_t> tokens = {5, 70, 300, 12, 99, 41};
  Session::Batch plain;
  plain.tokens = tokens;
  plain.logits.assign(tokens.size(), true);
  Session a(*model);
  const auto want = a.evaluate(plain);

  Session::Batch equal = plain;
  for (int32_t i = 0; i < static_cast<int32_t>(tokens.size()); ++i)
    for (int k = 0; k < 3; ++k) equal.mrope_positions.push_back(i);
  Session b(*model);
  CHECK(b.evaluate(equal) == want);

  // An image-like block of positions: (2, 2 + y, 2 + x) for a 2x2 grid.
  Session::Batch grid = plain;
  grid.mrope_positions = {0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 3, 2, 3, 2, 2, 3, 3};
  Session c(*model);
  CHECK(max_diff(c.evaluate(grid), want) > 1e-3);

  Session::Batch bad = plain;
  bad.mrope_positions = {0, 0, 0};
  Session d(*model);
  CHECK_THROWS_WITH(d.evaluate(bad), Catch::Contains("3 positions per token"));
}

TEST_CASE("embedding rows replace their tokens' embeddings", "[lm]") {
  astfill::testing::TempDir dir;
  const std::string path = write_vl_model(dir);
  const auto file = engine::ModelFile::open(path);
  const auto table = engine::to_f32(*file.find("token_embd.weight"));
  const int64_t E = file.hparams().embedding_length;
  auto model = engine::Model::open(path, f32());

  const std::vector<int32_t> tokens = {5, 70, 300, 12};
  Session::Batch plain;
  plain.tokens = tokens;
  plain.logits.assign(tokens.size(), true);
  Session a(*model);
  const auto want = a.evaluate(plain);

  // Row 2 given token 300's own embedding, with another token id in place.
  Session::Batch same = plain;
  same.tokens[2] = 1;
  same.embeddings.assign(tokens.size(), nullptr);
  same.embeddings[2] = table.data() + 300 * E;
  Session b(*model);
  CHECK(b.evaluate(same) == want);

  // Another embedding changes that row and the ones after it, not before.
  std::vector<float> image_row(static_cast<size_t>(E), 0.5f);
  Session::Batch other = same;
  other.embeddings[2] = image_row.data();
  Session c(*model);
  const auto got = c.evaluate(other);
  const size_t V = want.size() / tokens.size();
  CHECK(std::vector<float>(got.begin(), got.begin() + 2 * V) == std::vector<float>(want.begin(), want.begin() + 2 * V));
  CHECK(max_diff(got, want) > 1e-3);
}

TEST_CASE("a prompt with an image runs through a session", "[lm]") {
  astfill::testing::TempDir dir;
  const std::string path = write_vl_model(dir);
  auto model = engine::Model::open(path, f32());
  const int64_t E = model->hparams().embedding_length;
  // Tiny vocabulary: the vision tokens are stand-ins inside it.
  vision::MultimodalPrompt prompt(E, {400, 401, 402});
  prompt.add_text({5, 70});
  std::vector<float> image(static_cast<size_t>(4 * 2 * E));
  for (size_t i = 0; i < image.size(); ++i) image[i] = std::sin(0.1f * static_cast<float>(i));
  prompt.add_image(image, 8, 4);  // 4x2 units
  prompt.add_text({12});
  Session::Batch batch;
  batch.tokens = prompt.tokens;
  batch.mrope_positions = prompt.positions;
  batch.embeddings = prompt.row_embeddings();
  Session s(*model);
  const auto logits = s.evaluate(batch);
  REQUIRE(logits.size() == model->hparams().vocab_size);
  for (float v : logits) REQUIRE(std::isfinite(v));
  CHECK(s.length() == prompt.rows());
  // The next token continues at next_position on all three axes.
  CHECK(prompt.next_position == 2 + 1 + 4 + 1 + 1);
}

TEST_CASE("threads evaluating one model at once get the logits each gets alone", "[lm][threads]") {
  // The vision host may run its LM on the completion model (workspace/
  // images.h): sessions of one model on several threads at once, without a
  // batcher. Row counts 1 to 24: the decode kernel (up to 4 rows) and
  // oneDNN's primitives, more row counts than a layer keeps (8), so the
  // threads evict primitives the other one is running.
  astfill::testing::TempDir dir;
  const std::string path = write_vl_model(dir);
  for (auto mode : {engine::WeightMode::Int8, engine::WeightMode::F32}) {
    engine::LoadOptions o;
    o.weights = mode;
    auto model = engine::Model::open(path, o);
    auto run = [&](uint32_t seed) {
      std::vector<std::vector<float>> out;
      uint32_t x = seed;
      for (int pass = 0; pass < 2; ++pass) {
        Session s(*model, 400);
        for (int64_t rows = 1; rows <= 24; ++rows) {
          Session::Batch b;
          for (int64_t r = 0; r < rows; ++r) b.tokens.push_back(static_cast<int32_t>((x = x * 1103515245u + 12345u) % 480));
          b.logits.assign(static_cast<size_t>(rows), true);
          out.push_back(s.evaluate(b));
        }
      }
      return out;
    };
    const auto alone_a = run(1), alone_b = run(2);
    for (int round = 0; round < 3; ++round) {
      std::vector<std::vector<float>> a, b;
      std::thread ta([&] { a = run(1); });
      std::thread tb([&] { b = run(2); });
      ta.join();
      tb.join();
      CHECK(a == alone_a);
      CHECK(b == alone_b);
    }
  }
}
