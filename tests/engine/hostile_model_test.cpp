// Model files made to hurt (issue 21): counts the file cannot back, values
// that make no sense, a relabelled tensor type, a tokenizer that does not
// cover the embedding, a FIFO where the model should be. Each must be refused
// at open or load with a ModelError naming the file and the key or tensor,
// quickly and without a large allocation, never later with a crash.
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "engine/errors.h"
#include "engine/gguf.h"
#include "engine/gguf_writer.h"
#include "engine/model.h"
#include "engine/model_file.h"
#include "engine/tokenizer.h"
#include "hf_checkpoint.h"
#include "temp_dir.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::engine;
using astfill::testing::TempDir;
using astfill::testing::write_hf_checkpoint;
namespace json = boost::json;

namespace {

// Copies a GGUF: `edit_meta` changes metadata, `edit_data` a tensor's bytes.
void rewrite(const std::string& src, const std::string& dst, const std::function<void(GgufWriter&)>& edit_meta,
             const std::function<void(const GgufTensor&, std::vector<uint8_t>&)>& edit_data = {}) {
  auto g = GgufFile::open(src);
  GgufWriter w;
  for (auto& [k, v] : g.metadata()) w.set(k, v);
  if (edit_meta) edit_meta(w);
  for (auto& t : g.tensors()) {
    std::vector<uint8_t> data(t.data, t.data + t.bytes);
    if (edit_data) edit_data(t, data);
    w.add_tensor(t.name, t.type, t.ne, data);
  }
  w.write(dst);
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

std::string open_error(const std::string& path) {
  return error_of([&] { ModelFile::open(path); });
}

std::string load_error(const std::string& path) {
  return error_of([&] { Model::open(path, {WeightMode::F32, 1}); });
}

void set_f32_at(std::vector<uint8_t>& data, size_t index, float v) { std::memcpy(data.data() + 4 * index, &v, 4); }

void write_json(const std::string& path, const json::value& v) { std::ofstream(path) << json::serialize(v); }

json::object read_json(const std::string& path) {
  std::ifstream in(path);
  std::string text{std::istreambuf_iterator<char>(in), {}};
  return json::parse(text).as_object();
}

// Edits config.json of a checkpoint directory.
void edit_config(const std::string& dir, const std::function<void(json::object&)>& edit) {
  auto c = read_json(dir + "/config.json");
  edit(c);
  write_json(dir + "/config.json", c);
}

}  // namespace

TEST_CASE("a layer count the file cannot back is refused at once, naming the key", "[model][robustness]") {
  TempDir dir;
  for (std::string arch : {"qwen3", "qwen3moe"}) {
    INFO(arch);
    write_random_model(dir.file("m.gguf"), tiny_spec(arch));
    rewrite(dir.file("m.gguf"), dir.file("layers.gguf"),
            [&](GgufWriter& w) { w.set_u32(arch + ".block_count", std::numeric_limits<uint32_t>::max()); });
    const auto start = std::chrono::steady_clock::now();
    const std::string err = open_error(dir.file("layers.gguf"));
    CHECK_THAT(err, Catch::StartsWith(dir.file("layers.gguf") + ": "));
    CHECK_THAT(err, Catch::Contains(arch + ".block_count = 4294967295 layers, but the file has only"));
    // It once allocated for 70 s before std::bad_alloc.
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  }
  // config.json's num_hidden_layers, for a dense and a mixture-of-experts type.
  auto spec = tiny_spec("qwen2");
  write_random_model(dir.file("q2.gguf"), spec);
  write_hf_checkpoint(dir.file("hf"), dir.file("q2.gguf"), spec, 1, nullptr, /*leave_out_unused=*/true);
  REQUIRE(open_error(dir.file("hf")).empty());
  for (std::string type : {"qwen2", "qwen3_moe"}) {
    edit_config(dir.file("hf"), [&](json::object& c) {
      c["model_type"] = type;
      c["num_hidden_layers"] = 4294967295u;
    });
    CHECK_THAT(open_error(dir.file("hf")),
               Catch::StartsWith(dir.file("hf/config.json") + ": 'num_hidden_layers' = 4294967295 layers"));
  }
  // A number no integer can hold is refused, not converted (undefined).
  for (const char* v : {"1e300", "-1", "2.5", "4294967296"}) {
    INFO(v);
    auto c = read_json(dir.file("hf/config.json"));
    c["model_type"] = "qwen2";
    c["num_hidden_layers"] = json::parse(v);
    write_json(dir.file("hf/config.json"), c);
    CHECK_THAT(open_error(dir.file("hf")), Catch::Contains("'num_hidden_layers' = ") &&
                                               Catch::Contains("is not a whole number from 0 to 4294967295"));
  }
}

TEST_CASE("metadata that would expand in memory is refused before it is allocated", "[gguf][robustness]") {
  // 12 bytes in the file (type, count) become a whole GgufValue in memory:
  // 200k empty arrays in a 2.4 MB file would take ~34 MB.
  auto nested = [](uint64_t n) {
    std::vector<uint8_t> b = {'G', 'G', 'U', 'F'};
    auto put = [&](auto v) {
      uint8_t tmp[sizeof v];
      std::memcpy(tmp, &v, sizeof v);
      b.insert(b.end(), tmp, tmp + sizeof v);
    };
    put(uint32_t{3});
    put(uint64_t{0});  // tensors
    put(uint64_t{1});  // metadata
    put(uint64_t{5});
    b.insert(b.end(), {'n', 'e', 's', 't', 's'});
    put(uint32_t{9});  // array
    put(uint32_t{9});  // of arrays
    put(n);
    for (uint64_t i = 0; i < n; ++i) {
      put(uint32_t{0});  // of u8
      put(uint64_t{0});  // empty
    }
    return b;
  };
  TempDir dir;
  auto write = [&](const std::vector<uint8_t>& b) {
    std::ofstream(dir.file("n.gguf"), std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
    return error_of([&] { GgufFile::open(dir.file("n.gguf")); });
  };
  CHECK(write(nested(1000)).empty());
  const std::string err = write(nested(200000));
  CHECK_THAT(err, Catch::StartsWith(dir.file("n.gguf") + ": metadata 'nests': the metadata and tensor directory "
                                                         "would take more than"));
}

TEST_CASE("hyperparameters that make no sense are refused, naming the key", "[model][robustness]") {
  TempDir dir;
  write_random_model(dir.file("m.gguf"), tiny_spec("qwen3"));
  REQUIRE(open_error(dir.file("m.gguf")).empty());
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  auto refused = [&](const std::function<void(GgufWriter&)>& edit) {
    rewrite(dir.file("m.gguf"), dir.file("bad.gguf"), edit);
    std::string err = open_error(dir.file("bad.gguf"));
    CHECK_THAT(err, Catch::StartsWith(dir.file("bad.gguf") + ": "));
    return err;
  };
  CHECK_THAT(refused([](GgufWriter& w) { w.set_u32("qwen3.context_length", 0); }),
             Catch::Contains("qwen3.context_length = 0"));
  for (float base : {inf, nan, 0.0f, -1.0f}) {
    INFO(base);
    CHECK_THAT(refused([&](GgufWriter& w) { w.set_f32("qwen3.rope.freq_base", base); }),
               Catch::Contains("qwen3.rope.freq_base = ") && Catch::Contains("must be a finite number above 0"));
  }
  for (float factor : {-2.0f, nan, inf}) {
    INFO(factor);
    CHECK_THAT(refused([&](GgufWriter& w) { w.set_f32("qwen3.rope.scaling.factor", factor); }),
               Catch::Contains("qwen3.rope.scaling.factor = "));
  }
  CHECK_THAT(refused([&](GgufWriter& w) { w.set_f32("qwen3.attention.layer_norm_rms_epsilon", nan); }),
             Catch::Contains("qwen3.attention.layer_norm_rms_epsilon = "));
  // 0 is llama.cpp's "no scaling": still opens.
  rewrite(dir.file("m.gguf"), dir.file("zero.gguf"), [](GgufWriter& w) { w.set_f32("qwen3.rope.scaling.factor", 0); });
  CHECK(open_error(dir.file("zero.gguf")).empty());

  // The same in config.json.
  auto spec = tiny_spec("qwen2");
  write_random_model(dir.file("q2.gguf"), spec);
  write_hf_checkpoint(dir.file("hf"), dir.file("q2.gguf"), spec, 1, nullptr, /*leave_out_unused=*/true);
  const std::string config = dir.file("hf/config.json");
  auto hf_refused = [&](const std::function<void(json::object&)>& edit) {
    write_hf_checkpoint(dir.file("hf"), dir.file("q2.gguf"), spec, 1, nullptr, /*leave_out_unused=*/true);
    edit_config(dir.file("hf"), edit);
    return open_error(dir.file("hf"));
  };
  CHECK_THAT(hf_refused([](json::object& c) { c["max_position_embeddings"] = 0; }),
             Catch::StartsWith(config + ": 'max_position_embeddings' = 0"));
  CHECK_THAT(hf_refused([](json::object& c) { c["rope_theta"] = -1.0; }),
             Catch::StartsWith(config + ": 'rope_theta' = "));
  CHECK_THAT(hf_refused([](json::object& c) { c["rope_scaling"] = json::object{{"type", "linear"}, {"factor", -4.0}}; }),
             Catch::StartsWith(config + ": 'rope_scaling.factor' = "));
  CHECK(hf_refused([](json::object& c) { c["rope_scaling"] = json::object{{"type", "linear"}, {"factor", 4.0}}; }).empty());
}

TEST_CASE("a tensor whose type was relabelled no longer fits its data region", "[gguf][robustness]") {
  TempDir dir;
  GgufWriter w;
  std::vector<float> values(64, 0.5f);
  w.add_tensor_f32("a", GgmlType::F32, {64}, values);
  w.add_tensor_f32("b", GgmlType::F32, {32}, std::vector<float>(32, 0.25f));
  w.write(dir.file("m.gguf"));
  REQUIRE(error_of([&] { GgufFile::open(dir.file("m.gguf")); }).empty());
  // Relabel each tensor's type id (F32 = 0) as Q8_0 (8) in the directory.
  std::ifstream in(dir.file("m.gguf"), std::ios::binary);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
  for (const std::string name : {"a", "b"}) {
    auto b = bytes;
    // name length (8) + name + n_dims (4) + one dim (8), then the type.
    const std::string key = std::string("\x01\0\0\0\0\0\0\0", 8) + name;
    auto at = std::search(b.begin(), b.end(), key.begin(), key.end()) - b.begin();
    const size_t type_at = static_cast<size_t>(at) + key.size() + 4 + 8;
    REQUIRE(b[type_at] == 0);
    b[type_at] = 8;
    std::ofstream(dir.file("r.gguf"), std::ios::binary | std::ios::trunc).write(b.data(), static_cast<std::streamsize>(b.size()));
    const std::string err = error_of([&] { GgufFile::open(dir.file("r.gguf")); });
    INFO(name);
    CHECK_THAT(err, Catch::StartsWith(dir.file("r.gguf") + ": tensor '" + name + "' [") &&
                        Catch::Contains("Q8_0 takes") && Catch::Contains("does not match its data (relabelled?)"));
    if (name == "a") CHECK_THAT(err, Catch::Contains("(to tensor 'b')"));
    else CHECK_THAT(err, Catch::Contains("(to the end of the file)"));
  }
}

TEST_CASE("NaN or infinity in a block scale or a norm weight is refused at load", "[model][robustness]") {
  TempDir dir;
  auto spec = tiny_spec("qwen3");
  spec.weight_type = GgmlType::Q8_0;
  write_random_model(dir.file("m.gguf"), spec);
  REQUIRE(load_error(dir.file("m.gguf")).empty());
  // Row 1's second block (64 values a row: two blocks of 34 bytes).
  for (uint16_t scale : {uint16_t{0x7C00}, uint16_t{0xFE00}}) {
    rewrite(dir.file("m.gguf"), dir.file("scale.gguf"), nullptr, [&](const GgufTensor& t, std::vector<uint8_t>& d) {
      if (t.name != "blk.1.attn_q.weight") return;
      REQUIRE(t.type == GgmlType::Q8_0);
      std::memcpy(d.data() + 3 * 34, &scale, 2);
    });
    CHECK(open_error(dir.file("scale.gguf")).empty());  // inspect does not read the weights
    CHECK(load_error(dir.file("scale.gguf")) ==
          dir.file("scale.gguf") + ": tensor 'blk.1.attn_q.weight' (Q8_0): the scale of block 1 of row 1 is NaN or infinite");
  }
  for (float v : {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
    rewrite(dir.file("m.gguf"), dir.file("norm.gguf"), nullptr, [&](const GgufTensor& t, std::vector<uint8_t>& d) {
      if (t.name == "blk.0.ffn_norm.weight") set_f32_at(d, 5, v);
    });
    CHECK(load_error(dir.file("norm.gguf")) == dir.file("norm.gguf") + ": tensor 'blk.0.ffn_norm.weight' holds " +
                                                   (std::isnan(v) ? "NaN" : "infinity") + " at element 5");
  }
}

TEST_CASE("NaN or infinity in any element of a plain F32, F16 or BF16 tensor is refused at load, naming it",
          "[model][robustness]") {
  TempDir dir;
  struct Bad {
    uint32_t bits;  // of one element, in the tensor's type
    bool nan;
  };
  const std::pair<GgmlType, std::vector<Bad>> types[] = {
      {GgmlType::F32, {{0x7FC00000u, true}, {0xFF800000u, false}}},
      {GgmlType::F16, {{0x7E00u, true}, {0x7C00u, false}, {0xFC01u, true}}},
      {GgmlType::BF16, {{0x7FC0u, true}, {0xFF80u, false}}},
  };
  for (const auto& [type, bads] : types) {
    auto spec = tiny_spec("qwen3");
    spec.weight_type = type;
    const std::string clean = dir.file("clean.gguf"), bad_file = dir.file("bad.gguf");
    write_random_model(clean, spec);
    REQUIRE(load_error(clean).empty());
    for (const Bad& bad : bads)
      for (const char* tensor : {"blk.1.ffn_down.weight", "token_embd.weight", "blk.0.attn_q_norm.weight"}) {
        size_t element = 0;
        rewrite(clean, bad_file, nullptr, [&](const GgufTensor& t, std::vector<uint8_t>& d) {
          if (t.name != tensor) return;
          const size_t size = t.type == GgmlType::F32 ? 4 : 2;
          REQUIRE((t.type == type || t.ne.size() == 1));  // norms stay F32
          element = d.size() / size - 3;                    // near the end: the whole tensor is read
          if (size == 4) {
            uint32_t bits = t.type == type ? bad.bits : (bad.nan ? 0x7FC00000u : 0xFF800000u);
            std::memcpy(d.data() + 4 * element, &bits, 4);
          } else {
            uint16_t bits = static_cast<uint16_t>(bad.bits);
            std::memcpy(d.data() + 2 * element, &bits, 2);
          }
        });
        INFO(type_info(type).name << " " << tensor << " " << std::hex << bad.bits);
        CHECK(open_error(bad_file).empty());  // inspect does not read the weights
        CHECK(load_error(bad_file) == bad_file + ": tensor '" + tensor + "' holds " + (bad.nan ? "NaN" : "infinity") +
                                          " at element " + std::to_string(element));
      }
  }
  // The largest finite values are weights like any other.
  auto spec = tiny_spec("qwen3");
  spec.weight_type = GgmlType::F16;
  write_random_model(dir.file("clean.gguf"), spec);
  rewrite(dir.file("clean.gguf"), dir.file("big.gguf"), nullptr, [&](const GgufTensor& t, std::vector<uint8_t>& d) {
    if (t.name != "blk.1.ffn_down.weight") return;
    const uint16_t max_f16 = 0x7BFF;
    std::memcpy(d.data(), &max_f16, 2);
  });
  CHECK(load_error(dir.file("big.gguf")).empty());
}

TEST_CASE("the tokenizer must cover every row of the embedding", "[model][tokenizer][robustness]") {
  TempDir dir;
  auto spec = tiny_spec("qwen2");
  write_random_model(dir.file("m.gguf"), spec);
  const uint32_t V = spec.hp.vocab_size;
  // GGUF: fewer tokens than rows once loaded and then failed in generate
  // ("tokenizer: no token with id 624").
  rewrite(dir.file("m.gguf"), dir.file("short.gguf"), [&](GgufWriter& w) {
    auto tok = tiny_tokenizer(V);
    tok.tokens.resize(V - 8);
    w.set_strings("tokenizer.ggml.tokens", tok.tokens);
    std::vector<int32_t> types;
    for (size_t i = 0; i < tok.tokens.size(); ++i) types.push_back(static_cast<int32_t>(tok.token_types[i]));
    w.set_i32s("tokenizer.ggml.token_type", types);
  });
  CHECK(open_error(dir.file("short.gguf")) ==
        dir.file("short.gguf") + ": tokenizer.ggml.tokens holds " + std::to_string(V - 8) +
            " tokens but token_embd.weight has " + std::to_string(V) + " rows: ids " + std::to_string(V - 8) +
            " to " + std::to_string(V - 1) + " would have no token");
  // A checkpoint's tokenizer.json is shorter than its embedding by design
  // (Qwen: 151665 tokens, 151936 rows): the rest are padding that decodes to
  // nothing, so every id the model can produce decodes.
  auto tok = tiny_tokenizer(V);
  while (tok.token_types.back() == TokenType::Unused) {
    tok.tokens.pop_back();
    tok.token_types.pop_back();
  }
  REQUIRE(tok.tokens.size() < V);
  write_hf_checkpoint(dir.file("hf"), dir.file("m.gguf"), spec, 1, &tok, /*leave_out_unused=*/true);
  auto m = ModelFile::open(dir.file("hf"));
  CHECK(m.tokenizer().tokens.size() == V);
  auto model = Model::open(dir.file("hf"), {WeightMode::F32, 1});
  const std::vector<int32_t> last = {static_cast<int32_t>(V - 1)};
  CHECK(model->tokenizer().decode(last).empty());
  CHECK(model->tokenizer().decode(std::vector<int32_t>{static_cast<int32_t>(tok.tokens.size() - 1)}) ==
        model->tokenizer().token_bytes(static_cast<int32_t>(tok.tokens.size() - 1)));
}

TEST_CASE("a FIFO where a model belongs is refused without blocking", "[model][robustness]") {
  TempDir dir;
  REQUIRE(::mkfifo(dir.file("model.gguf").c_str(), 0600) == 0);
  CHECK(open_error(dir.file("model.gguf")) == dir.file("model.gguf") + ": not a regular file");
  CHECK(error_of([&] { load_tokenizer_data(dir.file("model.gguf")); }) == dir.file("model.gguf") + ": not a regular file");
  // A checkpoint whose shard is a FIFO.
  std::filesystem::create_directory(dir.file("hf"));
  std::ofstream(dir.file("hf/config.json")) << R"({"model_type": "qwen2", "hidden_size": 64})";
  REQUIRE(::mkfifo(dir.file("hf/model.safetensors").c_str(), 0600) == 0);
  CHECK(open_error(dir.file("hf")) == dir.file("hf/model.safetensors") + ": not a regular file");
}

TEST_CASE("a model file truncated or rewritten after load does not reach the running model", "[model][robustness]") {
  // The map used to stay resident and be read at run time (embedding rows):
  // truncating the file under a serving daemon killed it with SIGBUS.
  TempDir dir;
  for (GgmlType type : {GgmlType::F32, GgmlType::Q8_0}) {
    auto spec = tiny_spec("qwen2");
    spec.weight_type = type;
    write_random_model(dir.file("m.gguf"), spec);
    auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 1});
    const std::vector<int32_t> tokens = {1, 300, 511, 7};
    std::vector<float> before;
    {
      Session s(*model);
      before = s.evaluate({tokens, {}, std::vector<bool>(tokens.size(), true)});
    }
    std::filesystem::resize_file(dir.file("m.gguf"), 100);
    Session s(*model);
    CHECK(s.evaluate({tokens, {}, std::vector<bool>(tokens.size(), true)}) == before);
  }
}

TEST_CASE("a model file truncated while it loads is refused, naming it, and the process lives", "[model][robustness]") {
  // The pages past the new end raise SIGBUS on first read; MappedFile's handler
  // reads zeros there instead, and the loader refuses what it read.
  TempDir dir;
  for (GgmlType type : {GgmlType::F32, GgmlType::Q8_0}) {
    auto spec = tiny_spec("qwen2");
    spec.weight_type = type;
    write_random_model(dir.file("m.gguf"), spec);
    auto file = std::make_shared<const ModelFile>(ModelFile::open(dir.file("m.gguf")));
    // The header has been read; the tensors have not.
    std::filesystem::resize_file(dir.file("m.gguf"), std::filesystem::file_size(dir.file("m.gguf")) / 2);
    const std::string e = error_of([&] { Model::load(file, {WeightMode::Int8, 1}); });
    const uint64_t size = file->gguf()->file_bytes();
    CHECK(e == dir.file("m.gguf") + ": the file was truncated while it was being read (it had " +
                   std::to_string(size) + " bytes, now " + std::to_string(size / 2) +
                   "); nothing read from it is used");
    // Reading the truncated region again finds zeros, not a signal.
    const ModelTensor& last = file->tensors().back();
    CHECK(last.data[last.bytes - 1] == 0);
  }
  // A safetensors shard.
  auto spec = tiny_spec("qwen2");
  write_random_model(dir.file("src.gguf"), spec);
  write_hf_checkpoint(dir.file("hf"), dir.file("src.gguf"), spec);
  auto file = std::make_shared<const ModelFile>(ModelFile::open(dir.file("hf")));
  const std::string shard = dir.file("hf/model.safetensors");
  std::filesystem::resize_file(shard, 4096);
  CHECK(error_of([&] { Model::load(file, {WeightMode::F32, 1}); }).starts_with(shard + ": the file was truncated while it was being read"));
}

TEST_CASE("a model file rewritten in place while it loads is refused", "[model][robustness]") {
  TempDir dir;
  write_random_model(dir.file("m.gguf"), tiny_spec("qwen2"));
  auto file = std::make_shared<const ModelFile>(ModelFile::open(dir.file("m.gguf")));
  // Same size, new contents (a copy over it while the daemon loads): the
  // modification time tells.
  {
    std::fstream f(dir.file("m.gguf"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-16, std::ios::end);
    f.write("0123456789abcdef", 16);
  }
  struct timespec later[2] = {{0, UTIME_OMIT}, {0, 0}};
  ::clock_gettime(CLOCK_REALTIME, &later[1]);
  later[1].tv_sec += 5;  // a coarse file-system clock must still see a change
  REQUIRE(::utimensat(AT_FDCWD, dir.file("m.gguf").c_str(), later, 0) == 0);
  CHECK(error_of([&] { Model::load(file, {WeightMode::F32, 1}); }) ==
        dir.file("m.gguf") + ": the file was modified while it was being read; nothing read from it is used");
  // Appended to (a download still being written) changes the size.
  write_random_model(dir.file("n.gguf"), tiny_spec("qwen2"));
  auto grown = std::make_shared<const ModelFile>(ModelFile::open(dir.file("n.gguf")));
  std::ofstream(dir.file("n.gguf"), std::ios::app | std::ios::binary) << "more bytes";
  CHECK(error_of([&] { Model::load(grown, {WeightMode::F32, 1}); }).starts_with(dir.file("n.gguf") + ": the file changed size while it was being read"));
}

TEST_CASE("a tensor name far longer than any real file's is refused before it is parsed", "[model][robustness]") {
  // std::regex, which maps Hugging Face names to GGUF ones, recurses per
  // character: a 300 KB name overflowed the stack (SIGSEGV in `inspect`).
  TempDir dir;
  std::filesystem::create_directory(dir.file("hf"));
  std::ofstream(dir.file("hf/config.json")) << R"({"model_type": "qwen2", "hidden_size": 64})";
  const std::string name = "model.layers.0." + std::string(300000, 'a');
  const std::string header = "{\"" + name + "\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}";
  std::string file(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(file.data(), &n, 8);
  std::ofstream(dir.file("hf/model.safetensors"), std::ios::binary) << file << header << std::string(4, '\0');
  CHECK(open_error(dir.file("hf")) ==
        dir.file("hf/model.safetensors") + ": a tensor name of " + std::to_string(name.size()) + " bytes (at most 1024)");
  // And in a GGUF file.
  write_random_model(dir.file("m.gguf"), tiny_spec("qwen2"));
  rewrite(dir.file("m.gguf"), dir.file("long.gguf"), [&](GgufWriter& w) {
    w.add_tensor(std::string(5000, 'b'), GgmlType::F32, {1}, std::vector<uint8_t>(4, 0));
  });
  CHECK(open_error(dir.file("long.gguf")).find("has a name of 5000 bytes (at most 1024)") != std::string::npos);
}
