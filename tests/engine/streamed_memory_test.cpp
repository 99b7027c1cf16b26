// The allocator for what decode streams (engine/streamed_memory.h): aligned,
// zeroed, disjoint, and unmapped once nothing holds it; and the KV cache
// that lives in one such buffer keeping its slots as it grows.
#include "engine/streamed_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

#include "engine/kv_cache.h"

using namespace astfill::engine;

namespace {

// Whether [p, p + bytes) is mapped in this process: msync fails with ENOMEM
// on a range with an unmapped page.
[[maybe_unused]] bool mapped(const void* p, size_t bytes) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p) / page * page;
  return ::msync(reinterpret_cast<void*>(begin), bytes, MS_ASYNC) == 0 || errno != ENOMEM;
}

}  // namespace

TEST_CASE("streamed memory is aligned, zeroed and disjoint", "[streamed]") {
  std::vector<std::shared_ptr<uint8_t>> blocks;
  std::vector<size_t> sizes;
  std::mt19937 rng(5);
  // Small ones share slabs; 20 MB and more get mappings of their own.
  for (size_t bytes : {size_t{1}, size_t{4096}, size_t{5000}, size_t{1} << 20, size_t{9} << 20, size_t{20} << 20,
                       size_t{3} << 20, size_t{40} << 20, size_t{100}})
    for (int copy = 0; copy < 2; ++copy) {
      blocks.push_back(allocate_streamed(bytes));
      sizes.push_back(bytes);
    }
  for (size_t i = 0; i < blocks.size(); ++i) {
    uint8_t* p = blocks[i].get();
    REQUIRE(p != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(p) % 4096 == 0);
    CHECK(p[0] == 0);
    CHECK(p[sizes[i] - 1] == 0);
    std::memset(p, static_cast<int>(i + 1), sizes[i]);
  }
  // Every byte still holds what its own block wrote: no two overlap.
  for (size_t i = 0; i < blocks.size(); ++i) {
    const uint8_t* p = blocks[i].get();
    INFO("block " << i << " of " << sizes[i] << " bytes");
    CHECK(p[0] == static_cast<uint8_t>(i + 1));
    CHECK(p[sizes[i] / 2] == static_cast<uint8_t>(i + 1));
    CHECK(p[sizes[i] - 1] == static_cast<uint8_t>(i + 1));
  }
}

// Under AddressSanitizer streamed memory comes from the heap (which it
// checks), so there is no mapping of ours to see go.
#if !defined(__SANITIZE_ADDRESS__)
TEST_CASE("streamed memory is unmapped when the last block in it is freed", "[streamed]") {
  // A slab's blocks: the slab stays while any of them is held. Blocks of
  // 16 MB, four to a 64 MB slab: find where a fresh slab began (a block not
  // right after the one before), so no block from elsewhere shares it.
  const size_t quarter = size_t{16} << 20;
  std::vector<std::shared_ptr<uint8_t>> blocks;
  for (int i = 0; i < 9; ++i) blocks.push_back(allocate_streamed(quarter));
  size_t s = 1;
  while (s < 5 && blocks[s].get() == blocks[s - 1].get() + quarter) ++s;
  REQUIRE(s < 5);
  REQUIRE(blocks[s + 1].get() == blocks[s].get() + quarter);
  std::vector<std::shared_ptr<uint8_t>> slab(blocks.begin() + static_cast<long>(s), blocks.begin() + static_cast<long>(s) + 4);
  blocks.clear();
  const uint8_t* at = slab[0].get();
  slab[0].reset();
  CHECK(mapped(at, 4096));  // the others hold the slab
  slab.clear();
  CHECK_FALSE(mapped(at, 4096));
  // A block of its own.
  auto big = allocate_streamed_alone(size_t{5} << 20);
  const uint8_t* big_at = big.get();
  CHECK(mapped(big_at, size_t{5} << 20));
  big.reset();
  CHECK_FALSE(mapped(big_at, 4096));
}
#endif

TEST_CASE("a KV cache keeps its slots, bit for bit, as it grows", "[kv][streamed]") {
  const size_t layers = 3, heads = 2, d = 64;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  for (KvType type : {KvType::F32, KvType::Bf16, KvType::Int8}) {
    INFO(kv_type_name(type));
    KvCache cache(type, layers, heads, d);
    cache.grow(5, 0);
    std::vector<float> k(d), v(d);
    for (size_t l = 0; l < layers; ++l)
      for (size_t h = 0; h < heads; ++h)
        for (int64_t slot = 0; slot < 5; ++slot) {
          for (size_t j = 0; j < d; ++j) k[j] = normal(rng), v[j] = normal(rng);
          kv_store(cache.layer(l), static_cast<int64_t>(d), static_cast<int64_t>(h), slot, k.data(), v.data());
        }
    std::vector<uint8_t> before, after;
    cache.copy_out(0, 4, before);
    REQUIRE(before.size() == 4 * cache.bytes_per_slot());
    cache.grow(3000, 4);  // past 2 MB for f32: a new mapping
    CHECK(cache.allocated() == 3000);
    cache.copy_out(0, 4, after);
    CHECK(after == before);
    // The slot not kept, and those past it, are zero.
    std::vector<uint8_t> rest;
    cache.copy_out(4, 2996, rest);
    CHECK(std::all_of(rest.begin(), rest.end(), [](uint8_t x) { return x == 0; }));
    // What copy_in puts in a new place reads back the same.
    cache.copy_in(2990, 4, before);
    std::vector<uint8_t> moved;
    cache.copy_out(2990, 4, moved);
    CHECK(moved == before);
    std::vector<float> row(d);
    kv_load(cache.layer(2), static_cast<int64_t>(d), 1, true, 2990, 1, row.data());
    std::vector<float> row0(d);
    kv_load(cache.layer(2), static_cast<int64_t>(d), 1, true, 0, 1, row0.data());
    CHECK(row == row0);
  }
}
