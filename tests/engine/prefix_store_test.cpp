// Persisted prompt prefixes (engine/prefix_store.h): written once a prefix is
// used twice, restored on the next start with logits bit-identical to a fresh
// prefill, and never trusted when the file is corrupt or another model's.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstring>
#include <fstream>

#include "engine/generate.h"
#include "engine/prefix_store.h"
#include "temp_dir.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::engine;
using astfill::testing::TempDir;

namespace {

std::vector<int32_t> tokens(size_t n, uint32_t seed, int32_t vocab) {
  std::vector<int32_t> t(n);
  uint32_t x = seed;
  for (auto& v : t) {
    x = x * 1664525u + 1013904223u;
    v = static_cast<int32_t>((x >> 8) % static_cast<uint32_t>(vocab - 300));  // ordinary tokens
  }
  return t;
}

std::vector<std::filesystem::path> kv_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  if (!std::filesystem::exists(dir)) return out;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".kv") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// A fresh "process": a model loaded from `path`, a store over `dir`, one prompt.
struct Run {
  PrefillResult result;
  PrefixStoreStats stats;
};
Run prefill_with_store(const std::string& path, const std::filesystem::path& dir, const std::vector<int32_t>& prompt,
                       WeightMode mode, int uses = 1) {
  auto model = Model::open(path, {mode, 1});
  PrefixStoreOptions o;
  o.dir = dir;
  o.block_tokens = 32;
  o.min_tokens = 64;
  PrefixStore store(*model, path, o);
  Run run;
  for (int i = 0; i < uses; ++i) {
    Session session(*model, 512);  // a new session each time: nothing reused in memory
    std::vector<int32_t> history;
    run.result = prefill(session, history, prompt, 48, {}, &store);
    CHECK(history == prompt);
    CHECK(session.length() == prompt.size());
  }
  run.stats = store.stats();
  return run;
}

// The logits a fresh session gives for `prompt` when it computes the first
// `held` tokens exactly as prefill_with_store's sessions do (chunks of 48 from
// the start) and then prefills the rest as they do: what a session that
// still held those tokens in memory would compute. (The kernels' results
// depend a little on how many rows a batch has, so a prompt prefilled in one
// batch differs from it in the last bits; a restore must not add to that.)
std::vector<float> fresh_logits(const Model& model, const std::vector<int32_t>& prompt, size_t held) {
  Session s(model, 512);
  std::vector<int32_t> history;
  const std::vector<int32_t> first(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(std::min(prompt.size(), (held + 47) / 48 * 48)));
  if (held > 0) prefill(s, history, first, 48);
  s.truncate(held);
  history.resize(held);
  return prefill(s, history, prompt, 48).logits;
}

}  // namespace

TEST_CASE("a prefix used twice is persisted and restores bit-identical logits", "[prefix_store]") {
  TempDir dir;
  const auto kv = dir.path() / "kv";
  for (auto [arch, mode] : {std::pair{"qwen2", WeightMode::Int8}, std::pair{"qwen3", WeightMode::F32}}) {
    INFO(arch);
    std::filesystem::remove_all(kv);
    const auto path = dir.file(std::string(arch) + ".gguf");
    write_random_model(path, tiny_spec(arch));
    auto spec = tiny_spec(arch);
    const auto prompt = tokens(150, 7, static_cast<int32_t>(spec.hp.vocab_size));

    auto model = Model::open(path, {mode, 1});
    std::vector<float> want;
    {
      Session fresh(*model, 512);
      std::vector<int32_t> history;
      want = prefill(fresh, history, prompt, 48).logits;  // no store: what a first request computes
    }

    // Once: counted, nothing written. Twice: the 4 full blocks (128 tokens) written.
    auto once = prefill_with_store(path, kv, prompt, mode);
    CHECK(once.stats.written_blocks == 0);
    CHECK(kv_files(kv).empty());
    CHECK(once.result.logits == want);
    auto twice = prefill_with_store(path, kv, prompt, mode, 2);
    CHECK(twice.stats.written_blocks == 4);
    REQUIRE(kv_files(kv).size() == 4);
    for (const auto& f : kv_files(kv)) {
      struct stat st {};
      REQUIRE(::stat(f.c_str(), &st) == 0);
      CHECK((st.st_mode & 0777) == 0600);
    }

    // The next start: 128 tokens mapped in, 22 prefilled, the same logits bit for bit.
    auto restored = prefill_with_store(path, kv, prompt, mode);
    CHECK(restored.result.restored_tokens == 128);
    CHECK(restored.result.reused_tokens == 128);
    CHECK(restored.stats.restores == 1);
    CHECK(restored.stats.rejected_files == 0);
    const std::vector<float> want_restored = fresh_logits(*model, prompt, 128);
    REQUIRE(restored.result.logits.size() == want_restored.size());
    CHECK(std::memcmp(restored.result.logits.data(), want_restored.data(), want.size() * sizeof(float)) == 0);

    // A prompt that shares only the first 70 tokens restores the two blocks it shares.
    auto other = prompt;
    for (size_t i = 70; i < other.size(); ++i) other[i] = (other[i] + 1) % 200;
    const std::vector<float> want_other = fresh_logits(*model, other, 64);
    auto partial = prefill_with_store(path, kv, other, mode);
    CHECK(partial.result.restored_tokens == 64);
    CHECK(partial.result.logits == want_other);
  }
}

TEST_CASE("a corrupt prefix file or another model's is removed, never used", "[prefix_store]") {
  TempDir dir;
  const auto kv = dir.path() / "kv";
  const auto path = dir.file("a.gguf");
  auto spec = tiny_spec("qwen3");
  write_random_model(path, spec);
  const auto prompt = tokens(100, 3, static_cast<int32_t>(spec.hp.vocab_size));
  auto model = Model::open(path, {WeightMode::Int8, 1});

  prefill_with_store(path, kv, prompt, WeightMode::Int8, 2);
  auto files = kv_files(kv);
  REQUIRE(files.size() == 3);  // 96 of 100 tokens

  // One flipped byte in the second block's KV: the first block is restored,
  // the second file is removed, the rest prefilled; logits exact.
  {
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(200);
    f.write(&c, 1);
  }
  // (Which block files[0] holds is not known; the restore stops at it either way.)
  auto r = prefill_with_store(path, kv, prompt, WeightMode::Int8);
  CHECK(r.stats.rejected_files == 1);
  CHECK_FALSE(std::filesystem::exists(files[0]));
  CHECK(r.result.restored_tokens < 96);
  CHECK(r.result.logits == fresh_logits(*model, prompt, r.result.restored_tokens));

  // A cut file is removed too.
  std::filesystem::remove_all(kv);  // written again, from a prefill from the start
  prefill_with_store(path, kv, prompt, WeightMode::Int8, 2);
  files = kv_files(kv);
  REQUIRE(files.size() == 3);
  std::filesystem::resize_file(files[1], std::filesystem::file_size(files[1]) / 2);
  r = prefill_with_store(path, kv, prompt, WeightMode::Int8);
  CHECK(r.stats.rejected_files == 1);
  CHECK(r.result.restored_tokens < 96);
  CHECK(r.result.logits == fresh_logits(*model, prompt, r.result.restored_tokens));

  // Another model with the same shapes, written to the same path: its blocks
  // key differently (the file's identity seeds them); same for another KV type.
  prefill_with_store(path, kv, prompt, WeightMode::Int8, 2);
  REQUIRE(kv_files(kv).size() == 3);
  auto other_spec = spec;
  other_spec.seed = 99;
  const auto other_path = dir.file("b.gguf");
  write_random_model(other_path, other_spec);
  auto other_model = Model::open(other_path, {WeightMode::Int8, 1});
  auto o = prefill_with_store(other_path, kv, prompt, WeightMode::Int8);
  CHECK(o.result.restored_tokens == 0);
  CHECK(o.stats.rejected_files == 0);
  CHECK(o.result.logits == fresh_logits(*other_model, prompt, 0));

  // A file of another model renamed to the key this model looks for: its
  // header names another seed, so it is removed.
  auto before = kv_files(kv);
  prefill_with_store(other_path, kv, prompt, WeightMode::Int8, 2);
  std::vector<std::filesystem::path> theirs;
  for (const auto& f : kv_files(kv))
    if (std::find(before.begin(), before.end(), f) == before.end()) theirs.push_back(f);
  REQUIRE(theirs.size() == 3);
  // Put one of theirs in place of each of ours.
  for (size_t i = 0; i < 3; ++i) std::filesystem::copy_file(theirs[i], before[i], std::filesystem::copy_options::overwrite_existing);
  r = prefill_with_store(path, kv, prompt, WeightMode::Int8);
  CHECK(r.result.restored_tokens == 0);
  CHECK(r.stats.rejected_files == 1);  // the first block's file: nothing after it is read
  CHECK(r.result.logits == fresh_logits(*model, prompt, 0));
}

TEST_CASE("prefixes are keyed by the adapter", "[prefix_store]") {
  TempDir dir;
  const auto path = dir.file("m.gguf");
  auto spec = tiny_spec("qwen2");
  write_random_model(path, spec);
  auto model = Model::open(path, {WeightMode::Int8, 1});
  const auto prompt = tokens(70, 5, static_cast<int32_t>(spec.hp.vocab_size));
  auto run = [&](const std::string& adapter, int uses) {
    PrefixStoreOptions o;
    o.dir = dir.path() / "kv";
    o.block_tokens = 32;
    o.min_tokens = 32;
    o.adapter = adapter;
    PrefixStore store(*model, path, o);
    PrefillResult r;
    for (int i = 0; i < uses; ++i) {
      Session s(*model, 128);
      std::vector<int32_t> history;
      r = prefill(s, history, prompt, 64, {}, &store);
    }
    return r;
  };
  run("", 2);
  CHECK(run("", 1).restored_tokens == 64);
  CHECK(run("adapter-a", 1).restored_tokens == 0);  // another adapter: other keys, nothing found
  run("adapter-a", 2);
  CHECK(run("adapter-a", 1).restored_tokens == 64);
  CHECK(kv_files(dir.path() / "kv").size() == 4);
}

TEST_CASE("the prefix directory is capped, least recently used first", "[prefix_store]") {
  TempDir dir;
  const auto path = dir.file("m.gguf");
  auto spec = tiny_spec("qwen2");
  write_random_model(path, spec);
  auto model = Model::open(path, {WeightMode::Int8, 1});
  PrefixStoreOptions o;
  o.dir = dir.path() / "kv";
  o.block_tokens = 16;
  o.min_tokens = 16;
  KvCache probe(model->kv_type(), spec.hp.block_count, spec.hp.head_count_kv, spec.hp.head_dim);
  const uint64_t block_bytes = probe.bytes_per_slot() * 16;
  o.max_bytes = block_bytes * 5 + block_bytes / 2;  // room for 5 blocks' files (with their headers: fewer)
  PrefixStore store(*model, path, o);
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    auto prompt = tokens(33, seed, static_cast<int32_t>(spec.hp.vocab_size));
    for (int use = 0; use < 2; ++use) {
      Session s(*model, 128);
      std::vector<int32_t> history;
      prefill(s, history, prompt, 64, {}, &store);
    }
  }
  uint64_t total = 0;
  for (const auto& f : kv_files(o.dir)) total += std::filesystem::file_size(f);
  CHECK(store.stats().written_blocks == 8);
  CHECK(store.stats().evicted_files >= 3);
  CHECK(total <= o.max_bytes);
  // The newest prompt's blocks are the ones kept.
  auto last = tokens(33, 4, static_cast<int32_t>(spec.hp.vocab_size));
  Session s(*model, 128);
  std::vector<int32_t> history;
  auto r = prefill(s, history, last, 64, {}, &store);
  CHECK(r.restored_tokens == 32);
}
