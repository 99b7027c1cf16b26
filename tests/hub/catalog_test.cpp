// The known-model table and what `astfill pull` makes of its argument.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <set>

#include "hub/catalog.h"

using namespace astfill::hub;

TEST_CASE("every Qwen2.5-Coder base size is known in Q8_0 and Q4_K_M", "[hub]") {
  for (const char* size : {"0.5b", "1.5b", "3b", "7b"})
    for (const char* quant : {"q8_0", "q4_k_m"}) {
      std::string name = std::string("qwen2.5-coder-") + size + ":" + quant;
      INFO(name);
      const KnownModel* m = find_known_model(name);
      REQUIRE(m != nullptr);
      CHECK(std::string(m->file).ends_with(".gguf"));
    }
  std::set<std::string> files;
  for (const auto& m : known_models()) CHECK(files.insert(cached_file_name(m)).second);
}

TEST_CASE("known names are matched without regard to case", "[hub]") {
  const KnownModel* m = find_known_model("Qwen2.5-Coder-1.5B:Q8_0");
  REQUIRE(m != nullptr);
  CHECK(std::string(m->name) == "qwen2.5-coder-1.5b:q8_0");
  CHECK(cached_file_name(*m) == "qwen2.5-coder-1.5b-q8_0.gguf");
  CHECK(find_known_model("qwen2.5-coder-1.5b") == nullptr);
}

TEST_CASE("pull arguments become a URL and a file name", "[hub]") {
  std::string error;
  auto known = parse_pull_source("qwen2.5-coder-1.5b:q8_0", "http://mirror.test", error);
  REQUIRE(known);
  CHECK(known->url ==
        "http://mirror.test/ggml-org/Qwen2.5-Coder-1.5B-Q8_0-GGUF/resolve/main/qwen2.5-coder-1.5b-q8_0.gguf");
  CHECK(known->file_name == "qwen2.5-coder-1.5b-q8_0.gguf");
  CHECK(known->name == "qwen2.5-coder-1.5b:q8_0");

  auto hf = parse_pull_source("hf://org/repo/sub/model.gguf", "https://huggingface.co", error);
  REQUIRE(hf);
  CHECK(hf->url == "https://huggingface.co/org/repo/resolve/main/sub/model.gguf");
  CHECK(hf->file_name == "model.gguf");

  auto url = parse_pull_source("https://example.com/a/b/model.gguf?download=true", "", error);
  REQUIRE(url);
  CHECK(url->url == "https://example.com/a/b/model.gguf?download=true");
  CHECK(url->file_name == "model.gguf");

  CHECK_FALSE(parse_pull_source("hf://org/repo", "https://huggingface.co", error));
  CHECK(error.find("hf://ORG/REPO/FILE") != std::string::npos);
  CHECK_FALSE(parse_pull_source("https://example.com/", "", error));
  CHECK_FALSE(parse_pull_source("no-such-model", "", error));
  CHECK(error.find("no-such-model") != std::string::npos);
}

TEST_CASE("the endpoint comes from ASTFILL_HF_ENDPOINT, then HF_ENDPOINT", "[hub]") {
  ::unsetenv("ASTFILL_HF_ENDPOINT");
  ::unsetenv("HF_ENDPOINT");
  CHECK(hub_endpoint() == "https://huggingface.co");
  ::setenv("HF_ENDPOINT", "https://hf-mirror.test/", 1);
  CHECK(hub_endpoint() == "https://hf-mirror.test");
  ::setenv("ASTFILL_HF_ENDPOINT", "http://127.0.0.1:9", 1);
  CHECK(hub_endpoint() == "http://127.0.0.1:9");
  ::unsetenv("ASTFILL_HF_ENDPOINT");
  ::unsetenv("HF_ENDPOINT");
}

TEST_CASE("a vision-language model is pulled with its vision tower", "[hub][vision]") {
  std::string error;
  auto vl = parse_pull_source("qwen2.5-vl-3b:q4_k_m", "http://mirror.test", error);
  REQUIRE(vl);
  CHECK(vl->url ==
        "http://mirror.test/ggml-org/Qwen2.5-VL-3B-Instruct-GGUF/resolve/main/Qwen2.5-VL-3B-Instruct-Q4_K_M.gguf");
  CHECK(vl->file_name == "qwen2.5-vl-3b-q4_k_m.gguf");
  CHECK(vl->mmproj_url ==
        "http://mirror.test/ggml-org/Qwen2.5-VL-3B-Instruct-GGUF/resolve/main/mmproj-Qwen2.5-VL-3B-Instruct-f16.gguf");
  CHECK(vl->mmproj_file_name == "qwen2.5-vl-3b-q4_k_m.mmproj.gguf");
  // Text models have none.
  auto coder = parse_pull_source("qwen2.5-coder-0.5b:q8_0", "http://mirror.test", error);
  REQUIRE(coder);
  CHECK(coder->mmproj_url.empty());
  CHECK(coder->mmproj_file_name.empty());
}
