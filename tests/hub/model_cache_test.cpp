// The models directory: listing what pull left there, and finding a model by
// the name `--model` was given.
#include <catch2/catch.hpp>

#include <fstream>

#include "../engine/temp_dir.h"
#include "hub/model_cache.h"

using namespace astfill::hub;
using astfill::testing::TempDir;

namespace {

void touch(const std::filesystem::path& p, const std::string& bytes = "GGUF") { std::ofstream(p) << bytes; }

}  // namespace

TEST_CASE("the models directory lists finished .gguf files by name", "[hub]") {
  TempDir dir;
  touch(dir.path() / "qwen2.5-coder-0.5b-q8_0.gguf", "12345");
  touch(dir.path() / "mine.gguf");
  touch(dir.path() / "half.gguf.part");
  touch(dir.path() / "notes.txt");
  auto models = list_cached_models(dir.path());
  REQUIRE(models.size() == 2);
  CHECK(models[0].name == "mine");
  CHECK(models[1].name == "qwen2.5-coder-0.5b:q8_0");
  CHECK(models[1].bytes == 5);
  CHECK(list_cached_models(dir.path() / "absent").empty());
}

TEST_CASE("a pulled model is found by its known name or its file name", "[hub]") {
  TempDir dir;
  touch(dir.path() / "qwen2.5-coder-1.5b-q8_0.gguf");
  touch(dir.path() / "custom.gguf");
  touch(dir.path() / "partial.gguf.part");
  CHECK(find_cached_model(dir.path(), "qwen2.5-coder-1.5b:q8_0") == dir.path() / "qwen2.5-coder-1.5b-q8_0.gguf");
  CHECK(find_cached_model(dir.path(), "custom") == dir.path() / "custom.gguf");
  CHECK(find_cached_model(dir.path(), "custom.gguf") == dir.path() / "custom.gguf");
  CHECK_FALSE(find_cached_model(dir.path(), "qwen2.5-coder-7b:q8_0"));  // known, not pulled
  CHECK_FALSE(find_cached_model(dir.path(), "partial"));
  CHECK_FALSE(find_cached_model(dir.path(), "partial.gguf.part"));
  CHECK_FALSE(find_cached_model(dir.path(), "../custom"));
  CHECK_FALSE(find_cached_model(dir.path(), ""));
}

TEST_CASE("a vision tower pulled beside its model belongs to it and is no model of its own", "[hub][vision]") {
  TempDir dir;
  touch(dir.path() / "qwen2.5-vl-3b-q4_k_m.gguf");
  touch(dir.path() / "qwen2.5-vl-3b-q4_k_m.mmproj.gguf");
  touch(dir.path() / "text.gguf");
  auto models = list_cached_models(dir.path());
  REQUIRE(models.size() == 2);
  CHECK(models[0].name == "qwen2.5-vl-3b:q4_k_m");
  CHECK(models[0].mmproj == dir.path() / "qwen2.5-vl-3b-q4_k_m.mmproj.gguf");
  CHECK(models[1].name == "text");
  CHECK_FALSE(models[1].mmproj);
  CHECK(projector_file_for(dir.path() / "qwen2.5-vl-3b-q4_k_m.gguf") == dir.path() / "qwen2.5-vl-3b-q4_k_m.mmproj.gguf");
  CHECK_FALSE(projector_file_for(dir.path() / "text.gguf"));
  CHECK_FALSE(projector_file_for(dir.path() / "qwen2.5-vl-3b-q4_k_m.mmproj.gguf"));  // a tower has no tower
}
