// GGUF reader/writer round trips, and files that are wrong in every way we
// can think of: each must give a ModelError that says what is wrong, never a
// crash or a huge allocation (the sanitizer build runs these too).
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <random>

#include "engine/errors.h"
#include "engine/gguf.h"
#include "engine/gguf_writer.h"
#include "temp_dir.h"

using namespace astfill::engine;
using astfill::testing::TempDir;

namespace {

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void write_all(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// A small file with every metadata type and every tensor type.
void write_everything(const std::string& path, size_t alignment = 32) {
  GgufWriter w(alignment);
  auto scalar = [&](const char* key, GgufType t, int64_t n) {
    GgufValue v;
    v.type = t;
    v.i = n;
    v.u = static_cast<uint64_t>(n);
    w.set(key, v);
  };
  scalar("t.u8", GgufType::U8, 200);
  scalar("t.i8", GgufType::I8, -100);
  scalar("t.u16", GgufType::U16, 60000);
  scalar("t.i16", GgufType::I16, -30000);
  scalar("t.u32", GgufType::U32, 4000000000);
  scalar("t.i32", GgufType::I32, -2000000000);
  scalar("t.u64", GgufType::U64, 1ll << 40);
  scalar("t.i64", GgufType::I64, -(1ll << 40));
  w.set_f32("t.f32", 0.25f);
  GgufValue f64;
  f64.type = GgufType::F64;
  f64.f = 1e-300;
  w.set("t.f64", f64);
  w.set_bool("t.bool", true);
  w.set_string("t.string", "h\xC3\xA9llo");
  w.set_strings("t.strings", {"a", "", "\xE6\xBC\xA2"});
  w.set_i32s("t.ints", {1, -2, 3});
  GgufValue floats;
  floats.type = GgufType::Array;
  floats.elem_type = GgufType::F32;
  floats.floats = {1.5, -2.0};
  w.set("t.floats", floats);
  GgufValue nested;
  nested.type = GgufType::Array;
  nested.elem_type = GgufType::Array;
  GgufValue inner;
  inner.type = GgufType::Array;
  inner.elem_type = GgufType::U8;
  inner.ints = {7, 8};
  nested.arrays = {inner, inner};
  w.set("t.nested", nested);

  std::vector<float> values(64);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.25f - 8.0f;
  w.add_tensor_f32("f32", GgmlType::F32, {32, 2}, values);
  w.add_tensor_f32("f16", GgmlType::F16, {32, 2}, values);
  w.add_tensor_f32("bf16", GgmlType::BF16, {64}, values);
  w.add_tensor_f32("q8_0", GgmlType::Q8_0, {32, 2}, values);
  w.add_tensor_f32("q4_0", GgmlType::Q4_0, {64}, values);
  w.add_tensor("q4_k", GgmlType::Q4_K, {256}, random_bytes(144, 1));
  w.add_tensor("q6_k", GgmlType::Q6_K, {256, 1, 1}, random_bytes(210, 2));
  w.write(path);
}

std::string error_of(const std::string& path) {
  try {
    GgufFile::open(path);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("every metadata type round trips", "[gguf]") {
  TempDir dir;
  write_everything(dir.file("m.gguf"));
  auto g = GgufFile::open(dir.file("m.gguf"));
  CHECK(g.version() == 3);
  CHECK(g.get_int("t.u8") == 200);
  CHECK(g.get_int("t.i8") == -100);
  CHECK(g.get_int("t.u16") == 60000);
  CHECK(g.get_int("t.i16") == -30000);
  CHECK(g.get_int("t.u32") == 4000000000);
  CHECK(g.get_int("t.i32") == -2000000000);
  CHECK(g.get_int("t.u64") == (1ll << 40));
  CHECK(g.get_int("t.i64") == -(1ll << 40));
  CHECK(g.get_float("t.f32") == 0.25);
  CHECK(g.get_float("t.f64") == 1e-300);
  CHECK(g.find("t.bool")->b);
  CHECK(g.get_string("t.string") == "h\xC3\xA9llo");
  CHECK(g.find("t.strings")->strings == std::vector<std::string>{"a", "", "\xE6\xBC\xA2"});
  CHECK(g.find("t.ints")->ints == std::vector<int64_t>{1, -2, 3});
  CHECK(g.find("t.floats")->floats == std::vector<double>{1.5, -2.0});
  REQUIRE(g.find("t.nested")->arrays.size() == 2);
  CHECK(g.find("t.nested")->arrays[1].ints == std::vector<int64_t>{7, 8});
  // Typed lookups name the key on a type mismatch.
  CHECK_THROWS_WITH(g.get_string("t.u8"), Catch::Contains("'t.u8' should be a string"));
  CHECK_THROWS_WITH(g.get_int("t.string"), Catch::Contains("'t.string' should be an integer"));
  CHECK_THROWS_WITH(g.get_int("absent"), Catch::Contains("'absent' is missing"));
}

TEST_CASE("every tensor type round trips, bytes and values", "[gguf]") {
  for (size_t alignment : {32u, 64u}) {
    TempDir dir;
    write_everything(dir.file("m.gguf"), alignment);
    auto g = GgufFile::open(dir.file("m.gguf"));
    CHECK(g.alignment() == alignment);
    REQUIRE(g.tensors().size() == 7);
    std::vector<float> want(64);
    for (size_t i = 0; i < want.size(); ++i) want[i] = static_cast<float>(i) * 0.25f - 8.0f;
    for (const char* name : {"f32", "f16", "bf16", "q8_0"}) {
      const auto* t = g.tensor(name);
      REQUIRE(t);
      std::vector<float> got(64);
      dequantize_row(t->type, t->data, got.data(), 64);
      INFO(name);
      // These values are exact in f16/bf16; Q8_0 steps are amax/127.
      for (size_t i = 0; i < 64; ++i) CHECK(got[i] == Approx(want[i]).margin(t->type == GgmlType::Q8_0 ? 0.04 : 0));
    }
    CHECK(g.tensor("q8_0")->ne == std::vector<int64_t>{32, 2});
    CHECK(g.tensor("q6_k")->ne == std::vector<int64_t>{256, 1, 1});
    CHECK(std::memcmp(g.tensor("q4_k")->data, random_bytes(144, 1).data(), 144) == 0);
    CHECK(std::memcmp(g.tensor("q6_k")->data, random_bytes(210, 2).data(), 210) == 0);
    for (auto& t : g.tensors()) CHECK(t.offset % alignment == 0);
  }
}

TEST_CASE("a GGUF truncated at any offset is refused cleanly", "[gguf][robustness]") {
  TempDir dir;
  write_everything(dir.file("m.gguf"));
  auto bytes = read_all(dir.file("m.gguf"));
  // Everything up to the end of the last tensor's data is needed; the
  // alignment padding after it is not.
  size_t needed = 0;
  {
    auto whole = GgufFile::open(dir.file("m.gguf"));
    for (auto& t : whole.tensors()) needed = std::max<size_t>(needed, whole.data_offset() + t.offset + t.bytes);
  }
  REQUIRE(needed <= bytes.size());
  for (size_t cut = 0; cut < needed; ++cut) {
    write_all(dir.file("cut.gguf"), std::vector<uint8_t>(bytes.begin(), bytes.begin() + cut));
    std::string err = error_of(dir.file("cut.gguf"));
    INFO("cut at " << cut);
    REQUIRE_FALSE(err.empty());
    REQUIRE(err.find("cut.gguf") != std::string::npos);
  }
}

TEST_CASE("random byte flips never crash the reader", "[gguf][robustness]") {
  TempDir dir;
  write_everything(dir.file("m.gguf"));
  const auto bytes = read_all(dir.file("m.gguf"));
  std::mt19937 rng(12345);
  size_t refused = 0;
  for (int variant = 0; variant < 3000; ++variant) {
    auto b = bytes;
    int flips = std::uniform_int_distribution<int>(1, 6)(rng);
    // Most flips land in the header, where the interesting parsing is.
    size_t span = variant % 2 ? b.size() : std::min<size_t>(b.size(), 700);
    for (int f = 0; f < flips; ++f) b[std::uniform_int_distribution<size_t>(0, span - 1)(rng)] ^= static_cast<uint8_t>(1u << (rng() % 8));
    write_all(dir.file("flip.gguf"), b);
    try {
      auto g = GgufFile::open(dir.file("flip.gguf"));
      // When it opens, every tensor lies inside the file.
      for (auto& t : g.tensors()) {
        REQUIRE(t.offset + t.bytes <= g.file_bytes());
      }
    } catch (const ModelError&) {
      ++refused;
    }
  }
  CHECK(refused > 0);
}

namespace {
// Builds a GGUF header by hand, to say things our writer never would.
struct RawGguf {
  std::vector<uint8_t> b;
  template <typename T>
  RawGguf& put(T v) {
    uint8_t tmp[sizeof(T)];
    std::memcpy(tmp, &v, sizeof(T));
    b.insert(b.end(), tmp, tmp + sizeof(T));
    return *this;
  }
  RawGguf& str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  RawGguf& header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
    b = {'G', 'G', 'U', 'F'};
    return put<uint32_t>(version).put<uint64_t>(tensors).put<uint64_t>(kvs);
  }
  RawGguf& tensor(const std::string& name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
    str(name).put<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (auto d : ne) put<int64_t>(d);
    return put<uint32_t>(type).put<uint64_t>(offset);
  }
  RawGguf& pad_and_data(size_t data_bytes) {
    while (b.size() % 32) b.push_back(0);
    b.insert(b.end(), data_bytes, 0);
    return *this;
  }
};

std::string error_for(const RawGguf& raw) {
  TempDir dir;
  write_all(dir.file("bad.gguf"), raw.b);
  return error_of(dir.file("bad.gguf"));
}
}  // namespace

TEST_CASE("hostile headers get errors that name the problem", "[gguf][robustness]") {
  RawGguf r;
  CHECK_THAT(error_for(RawGguf{{'G', 'G', 'M', 'L', 0, 0, 0, 0}}), Catch::Contains("not a GGUF file"));
  CHECK_THAT(error_for(r.header(0, 0, 1)), Catch::Contains("version 1 is not supported"));
  CHECK_THAT(error_for(r.header(0, 1ull << 60)), Catch::Contains("metadata count"));
  CHECK_THAT(error_for(r.header(1ull << 62, 0)), Catch::Contains("tensor count"));
  CHECK_THAT(error_for(r.header(0, 1).str("k").put<uint32_t>(99)), Catch::Contains("unknown value type 99"));
  CHECK_THAT(error_for(r.header(0, 1).str("k").put<uint32_t>(8).put<uint64_t>(1ull << 50)),
             Catch::Contains("string length"));
  CHECK_THAT(error_for(r.header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(1ull << 40)),
             Catch::Contains("cannot fit"));
  CHECK_THAT(error_for(r.header(0, 1).str("k").put<uint32_t>(7).put<uint8_t>(5)), Catch::Contains("boolean"));
  CHECK_THAT(error_for(r.header(0, 2).str("k").put<uint32_t>(4).put<uint32_t>(1).str("k").put<uint32_t>(4).put<uint32_t>(1)),
             Catch::Contains("appears twice"));
  CHECK_THAT(error_for(r.header(0, 1).str("general.alignment").put<uint32_t>(4).put<uint32_t>(48)),
             Catch::Contains("power of two"));
  CHECK_THAT(error_for(r.header(1, 0).tensor("w", {32}, 77, 0).pad_and_data(128)),
             Catch::Contains("tensor 'w': tensor type 77 is not supported"));
  CHECK_THAT(error_for(r.header(1, 0).tensor("w", {33}, 8, 0).pad_and_data(128)),
             Catch::Contains("not a multiple of the Q8_0 block size"));
  CHECK_THAT(error_for(r.header(1, 0).tensor("w", {32, 0}, 0, 0).pad_and_data(128)),
             Catch::Contains("dimension 1 is 0"));
  CHECK_THAT(error_for(r.header(1, 0).tensor("w", {1ll << 40, 1ll << 40}, 0, 0).pad_and_data(128)),
             Catch::Contains("overflows"));
  CHECK_THAT(error_for(r.header(1, 0).tensor("w", {1, 1, 1, 1, 1}, 0, 0).pad_and_data(128)),
             Catch::Contains("5 dimensions"));
  CHECK_THAT(error_for(r.header(1, 0).tensor("w", {16}, 0, 96).pad_and_data(128)),
             Catch::Contains("run past the end of the file"));
  CHECK_THAT(error_for(r.header(1, 0).tensor("w", {1 << 20}, 0, 0).pad_and_data(128)),
             Catch::Contains("needs more bytes than the file has"));
  CHECK_THAT(error_for(r.header(1, 0).tensor("w", {8}, 0, 7).pad_and_data(128)),
             Catch::Contains("not aligned"));
  CHECK_THAT(error_for(r.header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {16}, 0, 32).pad_and_data(128)),
             Catch::Contains("overlap"));
  CHECK_THAT(error_for(r.header(2, 0).tensor("a", {8}, 0, 0).tensor("a", {8}, 0, 32).pad_and_data(128)),
             Catch::Contains("appears twice"));
  // A sane file built the same way opens.
  CHECK(error_for(r.header(2, 0).tensor("a", {8}, 0, 0).tensor("b", {8}, 0, 32).pad_and_data(64)).empty());
}

TEST_CASE("a file that is not there, or a directory, is a clear error", "[gguf]") {
  TempDir dir;
  CHECK_THAT(error_of(dir.file("missing.gguf")), Catch::Contains("cannot open"));
  CHECK_THAT(error_of(dir.path().string()), Catch::Contains("not a regular file"));
  write_all(dir.file("empty.gguf"), {});
  CHECK_THAT(error_of(dir.file("empty.gguf")), Catch::Contains("magic"));
}
