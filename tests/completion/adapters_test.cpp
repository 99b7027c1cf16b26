// LoRA adapters in completion (completion/adapters.h, the runner's slots and
// the typed-through cache): files read once and again when rewritten, slots
// and cached completions never shared between adapters.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "../engine/temp_dir.h"
#include "completion/adapters.h"
#include "completion/completion_cache.h"
#include "completion/model_runner.h"
#include "engine/errors.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::completion;
using namespace astfill::engine;
using astfill::CancellationSource;
using astfill::testing::TempDir;

namespace {

// q and v of every layer, random.
void write_adapter(const std::string& path, const HyperParams& hp, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-0.2f, 0.2f);
  LoraAdapter a;
  a.architecture = hp.arch;
  for (uint32_t l = 0; l < hp.block_count; ++l)
    for (LoraTarget t : {LoraTarget::Q, LoraTarget::V}) {
      LoraPair p;
      p.layer = l, p.target = t, p.rank = 4, p.alpha = 8;
      const LoraShape s = lora_target_shape(hp, t);
      p.in = s.in, p.out = s.out;
      p.a.resize(static_cast<size_t>(p.rank * p.in));
      p.b.resize(static_cast<size_t>(p.out * p.rank));
      for (float& v : p.a) v = u(rng);
      for (float& v : p.b) v = u(rng);
      a.pairs.push_back(std::move(p));
    }
  write_gguf_adapter(a, path);
}

}  // namespace

TEST_CASE("adapter files are read once, again when rewritten, and refused clearly", "[adapters]") {
  TempDir dir;
  const RandomModelSpec spec = tiny_spec("qwen3");
  write_adapter(dir.file("a.gguf"), spec.hp, 1);
  AdapterCache cache;
  CHECK(cache.stack({}, spec.hp) == nullptr);
  auto first = cache.stack({dir.file("a.gguf")}, spec.hp);
  REQUIRE(first);
  CHECK(cache.stack({dir.file("a.gguf")}, spec.hp) == first);
  auto scaled = cache.stack({dir.file("a.gguf") + ":0.5"}, spec.hp);
  CHECK(scaled->key() != first->key());
  // Rewritten (as `astfill tune` does at the end of a run): another adapter.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a distinct modification time
  write_adapter(dir.file("a.gguf"), spec.hp, 2);
  std::filesystem::last_write_time(dir.file("a.gguf"),
                                   std::filesystem::last_write_time(dir.file("a.gguf")) + std::chrono::seconds(1));
  auto second = cache.stack({dir.file("a.gguf")}, spec.hp);
  CHECK(second->key() != first->key());
  CHECK_THROWS_WITH(cache.stack({dir.file("missing.gguf")}, spec.hp), Catch::Contains("missing.gguf"));
  CHECK_THROWS_AS(cache.stack({":2"}, spec.hp), std::invalid_argument);
  HyperParams other = spec.hp;
  other.arch = "qwen2";
  CHECK_THROWS_AS(cache.stack({dir.file("a.gguf")}, other), ModelError);
}

TEST_CASE("cached completions are served only under the adapters they were made with", "[adapters]") {
  CompletionCache cache(8);
  cache.put("a.py", "x = ", "", "compute()", "A@1");
  CHECK(cache.lookup("a.py", "x = comp", "", "A@1"));
  CHECK_FALSE(cache.lookup("a.py", "x = comp", "", "B@1"));
  CHECK_FALSE(cache.lookup("a.py", "x = comp", ""));
  cache.put("a.py", "x = ", "", "other()");  // no adapters: its own entry
  CHECK(cache.lookup("a.py", "x = ot", ""));
  CHECK(cache.lookup("a.py", "x = co", "", "A@1"));
}

TEST_CASE("a slot's cache is never reused under other adapters", "[adapters][runner]") {
  TempDir dir;
  RandomModelSpec spec = tiny_spec("qwen3");
  write_random_model(dir.file("m.gguf"), spec);
  write_adapter(dir.file("a.gguf"), spec.hp, 1);
  write_adapter(dir.file("b.gguf"), spec.hp, 2);
  RunnerOptions options;
  options.model_path = dir.file("m.gguf");
  options.load.threads = 1;
  options.slots = 1;
  options.context_tokens = 128;
  ModelRunner runner(options);
  const auto a = runner.adapters({dir.file("a.gguf")});
  const auto b = runner.adapters({dir.file("b.gguf")});
  const std::vector<int32_t> prompt = {5, 6, 7, 8, 9};
  CancellationSource never;
  std::vector<float> under_a;
  {
    auto lease = runner.acquire("doc", never.token(), a);
    REQUIRE(lease);
    under_a = lease->session().evaluate({prompt, {}, {}});
    lease->history() = prompt;
  }
  {
    auto lease = runner.acquire("doc", never.token(), b);
    REQUIRE(lease);
    CHECK(lease->session().length() == 0);  // A's keys and values are gone
    CHECK(lease->history().empty());
    CHECK(lease->session().adapter_key() == b->key());
    auto under_b = lease->session().evaluate({prompt, {}, {}});
    CHECK(under_b != under_a);
    lease->history() = prompt;
  }
  {
    auto lease = runner.acquire("doc", never.token(), a);
    REQUIRE(lease);
    CHECK(lease->history().empty());
    CHECK(lease->session().evaluate({prompt, {}, {}}) == under_a);
    lease->history() = prompt;
  }
  {
    // The same adapters again: the document's cache is kept.
    auto lease = runner.acquire("doc", never.token(), a);
    REQUIRE(lease);
    CHECK(lease->history() == prompt);
    CHECK(lease->session().length() == prompt.size());
  }
  {
    auto lease = runner.acquire("doc", never.token());
    REQUIRE(lease);
    CHECK(lease->session().length() == 0);
    CHECK(lease->session().adapter_key().empty());
  }
}
