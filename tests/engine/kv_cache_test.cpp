// The KV cache's element types: rounding of single rows, the sessions' memory,
// and next-token distributions of bf16 and int8 caches against the f32 cache
// on a random-weight model.
#include "engine/kv_cache.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/attention.h"
#include "engine/model.h"
#include "reference.h"
#include "temp_dir.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::engine;
using namespace astfill::testing;

TEST_CASE("kv types parse by name", "[kv]") {
  CHECK(parse_kv_type("bf16") == KvType::Bf16);
  CHECK(parse_kv_type("int8") == KvType::Int8);
  CHECK(parse_kv_type("f32") == KvType::F32);
  CHECK(parse_kv_type("auto") == KvType::Auto);
  CHECK_FALSE(parse_kv_type("q8_0"));
  CHECK(std::string(kv_type_name(KvType::Int8)) == "int8");
}

TEST_CASE("bf16 and int8 rows round within their precision", "[kv]") {
  const int64_t d = 64;
  std::vector<float> k(d), v(d), back(d);
  std::mt19937 rng(2);
  std::normal_distribution<float> dist(0, 1);
  for (auto& x : k) x = dist(rng);
  for (auto& x : v) x = dist(rng) * 0.01f;
  k[40] = 50;  // an outlier in the second block of 32 leaves the first block's scale alone
  SECTION("bf16") {
    std::vector<uint16_t> kb(2 * d), vb(2 * d);
    KvView c{kb.data(), vb.data(), 2, KvType::Bf16};
    kv_store(c, d, 0, 1, k.data(), v.data());
    kv_load(c, d, 0, true, 1, 1, back.data());
    for (int64_t j = 0; j < d; ++j) CHECK(std::fabs(back[j] - k[j]) <= std::fabs(k[j]) * (1.0f / 256));
    kv_load(c, d, 0, false, 1, 1, back.data());
    for (int64_t j = 0; j < d; ++j) CHECK(std::fabs(back[j] - v[j]) <= std::fabs(v[j]) * (1.0f / 256));
    CHECK(to_bf16(1.0f) == 0x3f80);
    CHECK(from_bf16(to_bf16(1.00390625f)) == 1.0f);  // a tie rounds to even
    CHECK(std::isnan(from_bf16(to_bf16(NAN))));
  }
  SECTION("int8") {
    std::vector<int8_t> kb(kKvTile * d), vb(kKvTile * d);
    std::vector<float> ks(kKvTile * d / 32), vs(ks.size());
    KvView c{kb.data(), vb.data(), kKvTile, KvType::Int8, ks.data(), vs.data()};
    KvView partial = c;
    partial.capacity = 2;  // int8 views are whole tiles of slots
    CHECK_THROWS_WITH(kv_store(partial, d, 0, 1, k.data(), v.data()), Catch::Contains("not whole tiles"));
    kv_store(c, d, 0, 1, k.data(), v.data());
    // The tiles: value 5 of slot 1 is lane 1's second byte of keys vector 1,
    // and byte 1 of values' lane 5.
    CHECK(kb[1 * 64 + 1 * 4 + 1] == static_cast<int8_t>(std::lrintf(k[5] / ks[0 * kKvTile + 1])));
    CHECK(vb[5 * 4 + 1] == static_cast<int8_t>(std::lrintf(v[5] / vs[0 * kKvTile + 1])));
    kv_load(c, d, 0, true, 1, 1, back.data());
    for (int64_t b = 0; b < 2; ++b) {
      float amax = 0;
      for (int64_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(k[b * 32 + j]));
      for (int64_t j = 0; j < 32; ++j) CHECK(std::fabs(back[b * 32 + j] - k[b * 32 + j]) <= amax / 254 * 1.0001f);
    }
    CHECK(back[40] == Approx(50));
    kv_load(c, d, 0, false, 1, 1, back.data());
    for (int64_t j = 0; j < d; ++j) CHECK(std::fabs(back[j] - v[j]) <= 0.01f * 4 / 254);
  }
}

TEST_CASE("an int8 cache copies out plain rows and scales, whatever its tiles", "[kv]") {
  // In memory an int8 cache is tiles of 16 slots laid out for the VNNI
  // kernel; copy_out (what the prefix store persists) is per layer each
  // head's key rows, value rows, key scales, value scales, as before tiles.
  const int64_t d = 64, heads = 2, slots = 37;
  KvCache cache(KvType::Int8, 2, heads, d);
  cache.grow(slots, 0);
  CHECK(cache.layer(0).capacity == 48);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  std::vector<float> k(d), v(d);
  for (size_t l = 0; l < 2; ++l)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t s = 0; s < slots; ++s) {
        for (int64_t j = 0; j < d; ++j) k[j] = normal(rng), v[j] = normal(rng);
        kv_store(cache.layer(l), d, h, s, k.data(), v.data());
      }
  const int64_t first = 15, count = 3;  // across a tile's edge
  std::vector<uint8_t> bytes;
  cache.copy_out(first, count, bytes);
  REQUIRE(bytes.size() == static_cast<size_t>(count) * cache.bytes_per_slot());
  const size_t rows = static_cast<size_t>(heads * count * d), scales = static_cast<size_t>(heads * count * 2) * 4;
  const size_t per_layer = 2 * rows + 2 * scales;
  std::vector<float> want(static_cast<size_t>(count * d));
  for (size_t l = 0; l < 2; ++l)
    for (bool keys : {true, false})
      for (int64_t h = 0; h < heads; ++h) {
        kv_load(cache.layer(l), d, h, keys, first, count, want.data());
        for (int64_t i = 0; i < count; ++i)
          for (int64_t e = 0; e < d; ++e) {
            const size_t at = l * per_layer + (keys ? 0 : rows) + static_cast<size_t>((h * count + i) * d + e);
            float scale;
            std::memcpy(&scale,
                        bytes.data() + l * per_layer + 2 * rows + (keys ? 0 : scales) +
                            static_cast<size_t>(((h * count + i) * 2 + e / 32) * 4),
                        4);
            INFO("layer " << l << (keys ? " keys" : " values") << ", head " << h << ", slot " << first + i
                          << ", value " << e);
            REQUIRE(static_cast<float>(static_cast<int8_t>(bytes[at])) * scale == want[static_cast<size_t>(i * d + e)]);
          }
      }
  // And they go back into another cache's tiles bit for bit.
  KvCache other(KvType::Int8, 2, heads, d);
  other.grow(100, 0);
  other.copy_in(60, count, bytes);
  std::vector<float> got(want.size());
  for (int64_t h = 0; h < heads; ++h) {
    kv_load(cache.layer(1), d, h, false, first, count, want.data());
    kv_load(other.layer(1), d, h, false, 60, count, got.data());
    CHECK(got == want);
  }
}

namespace {

// Qwen2.5-0.5B's attention shape (14 query heads on 2 KV heads of 64) in a
// small model.
RandomModelSpec kv_spec() {
  auto spec = tiny_spec("qwen2");
  spec.weight_scale = 0.02f;
  spec.hp.embedding_length = 128;
  spec.hp.feed_forward_length = 256;
  spec.hp.head_count = 14;
  spec.hp.head_count_kv = 2;
  spec.hp.head_dim = 64;
  spec.seed = 5;
  return spec;
}

}  // namespace

TEST_CASE("the model's kv type: auto follows the weights, sessions may choose", "[kv][model]") {
  TempDir dir;
  auto spec = kv_spec();
  write_random_model(dir.file("m.gguf"), spec);
  auto f32 = Model::open(dir.file("m.gguf"), {WeightMode::F32, 2});
  auto i8 = Model::open(dir.file("m.gguf"), {WeightMode::Int8, 2});
  auto i8_int8kv = Model::open(dir.file("m.gguf"), {WeightMode::Int8, 2, KvType::Int8});
  // Auto with int8 weights: int8 where decode multiplies it in place
  // (AVX512-VNNI; these heads are 64 wide, 7 to a KV head), else bf16.
  const KvType int8_auto = int8_decode_in_place(spec.hp.head_dim, spec.hp.head_count / spec.hp.head_count_kv,
                                                default_attention_kernels())
                               ? KvType::Int8
                               : KvType::Bf16;
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vbmi") &&
      default_attention_kernels() == AttentionKernels::Auto)
    CHECK(int8_auto == KvType::Int8);
  CHECK(f32->kv_type() == KvType::F32);
  CHECK(i8->kv_type() == int8_auto);
  CHECK(i8_int8kv->kv_type() == KvType::Int8);
  Session a(*f32), b(*f32, 0, KvType::Bf16), c(*f32, 0, KvType::Int8), d(*i8);
  CHECK(a.kv_type() == KvType::F32);
  CHECK(b.kv_type() == KvType::Bf16);
  CHECK(c.kv_type() == KvType::Int8);
  CHECK(d.kv_type() == int8_auto);
  const std::vector<int32_t> tokens = random_tokens(20, spec.hp.vocab_size, 3);
  for (Session* s : {&a, &b, &c}) s->evaluate({tokens, {}, {}});
  // 256 slots each: bf16 is half of f32, int8 a quarter plus a scale per 32.
  CHECK(b.kv_bytes() * 2 == a.kv_bytes());
  CHECK(c.kv_bytes() * 128 == a.kv_bytes() * 36);
  // Per token: 2 (k, v) x layers x KV heads x 64 values of 4 bytes for f32.
  CHECK(a.kv_bytes_per_token() == 2ull * spec.hp.block_count * 2 * 64 * 4);
  CHECK(c.kv_bytes_per_token() == 2ull * spec.hp.block_count * 2 * (64 + 2 * 4));
}

TEST_CASE("bf16 and int8 caches keep next-token distributions of the f32 cache", "[kv][model]") {
  TempDir dir;
  auto spec = kv_spec();
  write_random_model(dir.file("m.gguf"), spec);
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 2});
  const size_t V = spec.hp.vocab_size;
  for (KvType type : {KvType::Bf16, KvType::Int8}) {
    LogitAgreement prefill, decode;
    for (uint32_t seq = 0; seq < 3; ++seq) {
      auto tokens = random_tokens(160, spec.hp.vocab_size, 2000 + seq);
      std::vector<bool> all(tokens.size(), true);
      Session base(*model, 0, KvType::F32), s(*model, 0, type);
      auto want = base.evaluate({tokens, {}, all});
      auto got = s.evaluate({tokens, {}, all});
      for (size_t i = 0; i < tokens.size(); ++i) prefill.add(want.data() + i * V, got.data() + i * V, V);
      // Decode through the cache: one token at a time after the batch.
      auto more = random_tokens(24, spec.hp.vocab_size, 3000 + seq);
      for (int32_t t : more) {
        auto w = base.evaluate({{t}, {}, {}});
        auto g = s.evaluate({{t}, {}, {}});
        decode.add(w.data(), g.data(), V);
      }
    }
    INFO(kv_type_name(type) << ": prefill top-1 " << prefill.top1_rate() << ", mean KL " << prefill.mean_kl()
                            << "; decode top-1 " << decode.top1_rate() << ", mean KL " << decode.mean_kl());
    // Random weights give near-ties at the top (int8 here: 0.990 top-1, KL
    // 4e-4); a wrong scale or row is far off both.
    CHECK(prefill.top1_rate() >= 0.97);
    CHECK(prefill.mean_kl() <= 0.002);
    CHECK(decode.top1_rate() >= 0.95);
    CHECK(decode.mean_kl() <= 0.002);
  }
}

TEST_CASE("an int8 cache that grows keeps its scales", "[kv][model]") {
  // Same f32 arithmetic on both sides (ASTFILL_ATTENTION=f32): one batch of
  // 300 against 200 then 100 single tokens, which grows the cache from 256
  // to 512 slots (every row and scale moves).
  ::setenv("ASTFILL_ATTENTION", "f32", 1);
  TempDir dir;
  auto spec = kv_spec();
  write_random_model(dir.file("m.gguf"), spec);
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 2, KvType::Int8});
  const size_t V = spec.hp.vocab_size;
  auto tokens = random_tokens(300, spec.hp.vocab_size, 77);
  Session whole(*model), parts(*model);
  auto want = whole.evaluate({tokens, {}, std::vector<bool>(tokens.size(), true)});
  parts.evaluate({{tokens.begin(), tokens.begin() + 200}, {}, {}});
  double worst = 0;
  for (size_t i = 200; i < tokens.size(); ++i) {
    auto got = parts.evaluate({{tokens[i]}, {}, {}});
    worst = std::max(worst, max_relative_error(got.data(), want.data() + i * V, V));
  }
  ::unsetenv("ASTFILL_ATTENTION");
  INFO("worst relative logit difference " << worst);
  CHECK(worst < 1e-3);  // prefill and decode sum in different orders; a misplaced row is off by order one
}
