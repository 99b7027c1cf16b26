// Models from GGUF files and Hugging Face checkpoint directories: the same
// description either way, shapes checked against the hyperparameters, and
// `quantize` conversions between them.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <random>

#include "engine/errors.h"
#include "engine/gguf_writer.h"
#include "engine/model_export.h"
#include "engine/model_file.h"
#include "engine/tokenizer.h"
#include "tests/fixtures/random_model.h"
#include "hf_checkpoint.h"
#include "temp_dir.h"

using namespace astfill::engine;
using astfill::testing::TempDir;
using astfill::testing::hf_name;
using astfill::testing::write_hf_checkpoint;
using astfill::testing::write_safetensors;
using astfill::testing::write_tokenizer_json;
namespace json = boost::json;

namespace {

// Copies a GGUF, letting `edit` change metadata and drop or reshape tensors.
void rewrite(const std::string& src, const std::string& dst,
             const std::function<void(GgufWriter&)>& edit_meta,
             const std::function<bool(std::string&, std::vector<int64_t>&)>& edit_tensor = {}) {
  auto g = GgufFile::open(src);
  GgufWriter w;
  for (auto& [k, v] : g.metadata()) w.set(k, v);
  if (edit_meta) edit_meta(w);
  for (auto& t : g.tensors()) {
    std::string name = t.name;
    auto ne = t.ne;
    if (edit_tensor && !edit_tensor(name, ne)) continue;
    int64_t n = 1;
    for (auto d : ne) n *= d;
    std::vector<uint8_t> data(t.data, t.data + std::min<size_t>(t.bytes, static_cast<size_t>(n) * 4));
    data.resize(static_cast<size_t>(n) / type_info(t.type).block_values * type_info(t.type).block_bytes);
    w.add_tensor(name, t.type, ne, data);
  }
  w.write(dst);
}

std::string open_error(const std::string& path) {
  try {
    ModelFile::open(path);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("random models of each architecture open with the shapes they were made with", "[model]") {
  for (const char* arch : {"qwen2", "qwen3", "qwen3moe"}) {
    TempDir dir;
    auto spec = tiny_spec(arch);
    write_random_model(dir.file("m.gguf"), spec);
    auto m = ModelFile::open(dir.file("m.gguf"));
    INFO(arch);
    const auto& hp = m.hparams();
    CHECK(hp.arch == arch);
    CHECK(hp.embedding_length == spec.hp.embedding_length);
    CHECK(hp.block_count == spec.hp.block_count);
    CHECK(hp.head_count_kv == spec.hp.head_count_kv);
    CHECK(hp.head_dim == spec.hp.head_dim);
    CHECK(hp.vocab_size == spec.hp.vocab_size);
    CHECK(hp.rope_freq_base == spec.hp.rope_freq_base);
    CHECK(hp.tied_embeddings);
    CHECK(hp.expert_count == spec.hp.expert_count);
    CHECK(m.tokenizer().tokens.size() == spec.hp.vocab_size);
    CHECK(m.tokenizer().tokens[m.tokenizer().eos_id.value()] == "<|endoftext|>");
    CHECK(m.find("blk.1.attn_k.weight")->ne == std::vector<int64_t>{64, 32});
  }
}

TEST_CASE("wrong shapes, missing tensors and unknown architectures are named", "[model]") {
  TempDir dir;
  write_random_model(dir.file("m.gguf"), tiny_spec("qwen3"));
  rewrite(dir.file("m.gguf"), dir.file("shape.gguf"), nullptr, [](std::string& name, std::vector<int64_t>& ne) {
    if (name == "blk.1.attn_v.weight") ne = {64, 16};
    return true;
  });
  CHECK_THAT(open_error(dir.file("shape.gguf")),
             Catch::Contains("tensor 'blk.1.attn_v.weight' has shape {64, 16}, expected {64, 32}"));
  rewrite(dir.file("m.gguf"), dir.file("missing.gguf"), nullptr,
          [](std::string& name, std::vector<int64_t>&) { return name != "blk.0.attn_q_norm.weight"; });
  CHECK_THAT(open_error(dir.file("missing.gguf")), Catch::Contains("tensor 'blk.0.attn_q_norm.weight' is missing"));
  rewrite(dir.file("m.gguf"), dir.file("llama.gguf"), [](GgufWriter& w) { w.set_string("general.architecture", "llama"); });
  CHECK_THAT(open_error(dir.file("llama.gguf")), Catch::Contains("architecture 'llama' is not supported"));
  rewrite(dir.file("m.gguf"), dir.file("heads.gguf"), [](GgufWriter& w) { w.set_u32("qwen3.attention.head_count_kv", 3); });
  CHECK_THAT(open_error(dir.file("heads.gguf")), Catch::Contains("not a multiple of head_count_kv"));
}

TEST_CASE("a Hugging Face checkpoint maps to the same tensors as GGUF", "[model][safetensors]") {
  for (int shards : {1, 3}) {
    TempDir dir;
    auto spec = tiny_spec("qwen2");
    write_random_model(dir.file("m.gguf"), spec);
    std::filesystem::create_directory(dir.file("hf"));
    write_hf_checkpoint(dir.file("hf"), dir.file("m.gguf"), spec, shards);
    auto from_gguf = ModelFile::open(dir.file("m.gguf"));
    auto from_hf = ModelFile::open(dir.file("hf"));
    INFO(shards << " shard(s)");
    CHECK(from_hf.format() == "safetensors");
    CHECK(from_hf.hparams().arch == "qwen2");
    CHECK(from_hf.hparams().head_dim == spec.hp.head_dim);
    CHECK(from_hf.tokenizer().tokens == from_gguf.tokenizer().tokens);
    CHECK(from_hf.tokenizer().merges == from_gguf.tokenizer().merges);
    REQUIRE(from_hf.tensors().size() == from_gguf.tensors().size());
    for (auto& t : from_gguf.tensors()) {
      auto* h = from_hf.find(t.name);
      REQUIRE(h);
      CHECK(h->ne == t.ne);
      CHECK(h->bytes == t.bytes);
      CHECK(std::memcmp(h->data, t.data, t.bytes) == 0);
    }
    // quantize converts the checkpoint to GGUF without Python.
    quantize_model(from_hf, dir.file("hf.f32.gguf"), GgmlType::F32);
    auto back = ModelFile::open(dir.file("hf.f32.gguf"));
    for (auto& t : from_gguf.tensors()) CHECK(std::memcmp(back.find(t.name)->data, t.data, t.bytes) == 0);
    CHECK(back.tokenizer().tokens == from_gguf.tokenizer().tokens);
  }
}

TEST_CASE("quantize to Q8_0 keeps norms and biases in F32 and metadata intact", "[model][quantize]") {
  TempDir dir;
  write_random_model(dir.file("m.gguf"), tiny_spec("qwen2"));
  auto src = ModelFile::open(dir.file("m.gguf"));
  auto stats = quantize_model(src, dir.file("q.gguf"), GgmlType::Q8_0);
  CHECK(stats.tensors == src.tensors().size());
  CHECK(stats.bytes_out < stats.bytes_in);
  auto q = ModelFile::open(dir.file("q.gguf"));
  CHECK(q.gguf()->get_int("general.file_type") == 7);
  CHECK(q.tokenizer().tokens == src.tokenizer().tokens);
  for (auto& t : q.tensors()) {
    INFO(t.name);
    CHECK(t.type == (t.ne.size() == 1 ? GgmlType::F32 : GgmlType::Q8_0));
    const auto* s = src.find(t.name);
    std::vector<float> a(static_cast<size_t>(t.ne[0])), b(a.size());
    dequantize_row(s->type, s->data, a.data(), a.size());
    dequantize_row(t.type, t.data, b.data(), b.size());
    float amax = 0;
    for (float x : a) amax = std::max(amax, std::fabs(x));
    for (size_t i = 0; i < a.size(); ++i) CHECK(std::fabs(a[i] - b[i]) <= amax / 127);
  }
}

TEST_CASE("broken checkpoints are refused with the file and key named", "[model][safetensors]") {
  TempDir dir;
  std::filesystem::create_directory(dir.file("hf"));
  CHECK_THAT(open_error(dir.file("hf")), Catch::Contains("no config.json"));
  std::ofstream(dir.file("hf/config.json")) << R"({"model_type": "llama"})";
  CHECK_THAT(open_error(dir.file("hf")), Catch::Contains("model_type 'llama' is not supported"));
  std::ofstream(dir.file("hf/config.json")) << R"({"model_type": "qwen2", "hidden_size": 64})";
  CHECK_THAT(open_error(dir.file("hf")), Catch::Contains("no *.safetensors"));
  std::ofstream(dir.file("hf/model.safetensors")) << "short";
  CHECK_THAT(open_error(dir.file("hf")), Catch::Contains("too short"));
  {
    std::ofstream out(dir.file("hf/model.safetensors"), std::ios::binary);
    std::string h = R"({"model.norm.weight": {"dtype": "F32", "shape": [64], "data_offsets": [0, 256]}})";
    uint64_t n = h.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << h << std::string(100, '\0');
  }
  CHECK_THAT(open_error(dir.file("hf")), Catch::Contains("tensor 'model.norm.weight': data_offsets [0, 256)"));
  {
    std::ofstream out(dir.file("hf/model.safetensors"), std::ios::binary);
    uint64_t n = 1ull << 40;
    out.write(reinterpret_cast<const char*>(&n), 8);
  }
  CHECK_THAT(open_error(dir.file("hf")), Catch::Contains("header length"));
}

TEST_CASE("random damage to a safetensors header never crashes the loader", "[model][safetensors][robustness]") {
  TempDir dir;
  auto spec = tiny_spec("qwen3");
  write_random_model(dir.file("m.gguf"), spec);
  std::filesystem::create_directory(dir.file("hf"));
  write_hf_checkpoint(dir.file("hf"), dir.file("m.gguf"), spec, 1);
  std::ifstream in(dir.file("hf/model.safetensors"), std::ios::binary);
  std::vector<char> good{std::istreambuf_iterator<char>(in), {}};
  uint64_t header_len;
  std::memcpy(&header_len, good.data(), 8);
  std::mt19937 rng(99);
  int opened = 0;
  for (int variant = 0; variant < 1500; ++variant) {
    auto b = good;
    int flips = std::uniform_int_distribution<int>(1, 4)(rng);
    for (int f = 0; f < flips; ++f)
      b[std::uniform_int_distribution<size_t>(0, 8 + header_len - 1)(rng)] ^= static_cast<char>(1 << (rng() % 8));
    if (variant % 5 == 0) b.resize(std::uniform_int_distribution<size_t>(0, b.size())(rng));
    std::ofstream(dir.file("hf/model.safetensors"), std::ios::binary | std::ios::trunc).write(b.data(), static_cast<std::streamsize>(b.size()));
    try {
      ModelFile::open(dir.file("hf"));
      ++opened;
    } catch (const ModelError&) {
    }
  }
  CHECK(opened < 1500);
}

TEST_CASE("the tiny tokenizer of random models is a working byte-level BPE", "[model][tokenizer]") {
  Tokenizer tok(tiny_tokenizer(512));
  std::string code = "def add(a, b):\n    return a + b\n";
  auto ids = tok.encode(code);
  CHECK(ids.size() < code.size());  // merges were learnt and applied
  CHECK(tok.decode(ids) == code);
  auto fim = tok.encode("<|fim_prefix|>x<|fim_suffix|>");
  REQUIRE(fim.size() == 3);
  CHECK(tok.is_special(fim[0]));
  CHECK(tok.token_text(fim[2]) == "<|fim_suffix|>");
  CHECK(tok.vocab_size() == 512);
}
