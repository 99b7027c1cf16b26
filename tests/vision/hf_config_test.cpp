// A Qwen2.5-VL Hugging Face checkpoint in each config.json layout loads to the
// same LM and tower as the GGUF pair it was written from:
//   flat   - transformers < 4.52 (the published Qwen/Qwen2.5-VL-*-Instruct):
//            the LM's keys at the top, rope_scaling.mrope_section, tensors
//            model.* and visual.*;
//   nested - transformers 4.52-4.5x: the LM's keys under text_config
//            (model_type qwen2_5_vl_text) with flat copies at the top,
//            tensors model.language_model.* and model.visual.*;
//   v5     - text_config only, rope_theta and mrope_section in rope_parameters.
// A vision_config whose sizes disagree with the tensors is refused by key.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "../engine/temp_dir.h"
#include "engine/errors.h"
#include "engine/gguf.h"
#include "engine/model.h"
#include "engine/model_file.h"
#include "engine/tensor_types.h"
#include "tests/fixtures/hf_files.h"
#include "tests/fixtures/random_model.h"
#include "tests/vision/vl_fixture.h"
#include "vision/preprocess.h"
#include "vision/tower.h"

using namespace astfill;
namespace json = boost::json;

namespace {

enum class Layout { Flat, Nested, V5 };

struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;  // PyTorch order
  std::vector<float> values;
};

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  REQUIRE(out.good());
}

void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors) {
  json::object header;
  size_t offset = 0;
  for (const auto& t : tensors) {
    json::array shape;
    for (int64_t d : t.shape) shape.push_back(d);
    const size_t bytes = t.values.size() * sizeof(float);
    header[t.name] =
        json::object{{"dtype", "F32"}, {"shape", shape}, {"data_offsets", json::array{offset, offset + bytes}}};
    offset += bytes;
  }
  std::string h = json::serialize(header);
  std::string out(8, '\0');
  const uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += h;
  for (const auto& t : tensors)
    out.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float));
  write_file(path, out);
}

const engine::GgufTensor* find_tensor(const engine::GgufFile& g, const std::string& name) {
  for (const auto& t : g.tensors())
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<int64_t> torch_shape(const engine::GgufTensor& t) { return {t.ne.rbegin(), t.ne.rend()}; }

std::vector<float> f32(const engine::GgufTensor& t) {
  std::vector<float> v(static_cast<size_t>(t.bytes / 4));
  std::memcpy(v.data(), t.data, t.bytes);
  return v;
}

// The mmproj's tensors under Hugging Face names and layouts: the Conv3d's two
// temporal halves joined, q/k/v fused into qkv.
std::vector<NamedTensor> visual_tensors(const engine::GgufFile& g, const std::string& prefix, int64_t depth) {
  std::vector<NamedTensor> out;
  const auto& h0 = *find_tensor(g, "v.patch_embd.weight");
  const auto a = f32(h0), b = f32(*find_tensor(g, "v.patch_embd.weight.1"));
  const auto s = torch_shape(h0);  // [D, 3, p, p]
  const size_t pp = static_cast<size_t>(s[2] * s[3]);
  NamedTensor conv{prefix + "patch_embed.proj.weight", {s[0], s[1], 2, s[2], s[3]}, {}};
  for (size_t o = 0; o < a.size() / pp; ++o) {
    conv.values.insert(conv.values.end(), a.begin() + o * pp, a.begin() + (o + 1) * pp);
    conv.values.insert(conv.values.end(), b.begin() + o * pp, b.begin() + (o + 1) * pp);
  }
  out.push_back(std::move(conv));
  const std::pair<const char*, const char*> names[] = {
      {"ln1", "norm1"},           {"ln2", "norm2"},          {"attn_out", "attn.proj"},
      {"ffn_gate", "mlp.gate_proj"}, {"ffn_up", "mlp.up_proj"}, {"ffn_down", "mlp.down_proj"}};
  for (int64_t i = 0; i < depth; ++i) {
    const std::string gp = "v.blk." + std::to_string(i) + ".", hp = prefix + "blocks." + std::to_string(i) + ".";
    for (const char* suffix : {"weight", "bias"}) {
      for (const auto& [gg, hf] : names)
        if (const auto* t = find_tensor(g, gp + gg + "." + suffix))
          out.push_back({hp + hf + "." + suffix, torch_shape(*t), f32(*t)});
      NamedTensor qkv{hp + "attn.qkv." + suffix, {}, {}};
      for (const char* part : {"attn_q", "attn_k", "attn_v"}) {
        const auto& t = *find_tensor(g, gp + part + "." + suffix);
        const auto v = f32(t);
        qkv.values.insert(qkv.values.end(), v.begin(), v.end());
        qkv.shape = torch_shape(t);
      }
      qkv.shape[0] *= 3;
      out.push_back(std::move(qkv));
    }
  }
  for (const auto& [gg, hf] : {std::pair{"v.post_ln", "merger.ln_q"}, std::pair{"mm.0", "merger.mlp.0"},
                               std::pair{"mm.2", "merger.mlp.2"}})
    for (const char* suffix : {"weight", "bias"})
      if (const auto* t = find_tensor(g, std::string(gg) + "." + suffix))
        out.push_back({prefix + hf + "." + suffix, torch_shape(*t), f32(*t)});
  return out;
}

json::object vision_config(const astfill::testing::TinyTowerSpec& s) {
  return {{"depth", s.depth},           {"hidden_act", "silu"},         {"hidden_size", s.hidden},
          {"intermediate_size", s.ffn}, {"num_heads", s.heads},         {"in_chans", 3},
          {"out_hidden_size", s.out_dim}, {"patch_size", 14},           {"spatial_merge_size", 2},
          {"spatial_patch_size", 14},   {"window_size", 112},           {"fullatt_block_indexes", json::array{1}},
          {"tokens_per_second", 2},     {"temporal_patch_size", 2}};
}

// config.json in `layout` for the LM `hp` and the tower `tower`.
json::object config(Layout layout, const engine::HyperParams& hp, const astfill::testing::TinyTowerSpec& tower) {
  json::object lm = json::parse(astfill::testing::config_json_text(hp)).as_object();
  json::array sections;
  for (int32_t s : hp.rope_sections) sections.push_back(s);
  json::object top{{"architectures", json::array{"Qwen2_5_VLForConditionalGeneration"}},
                   {"model_type", "qwen2_5_vl"},
                   {"vision_start_token_id", 151652},
                   {"vision_end_token_id", 151653},
                   {"image_token_id", 151655},
                   {"vision_config", vision_config(tower)}};
  if (layout == Layout::Flat) {
    for (const auto& kv : lm)
      if (kv.key() != "model_type") top[kv.key()] = kv.value();
    top["rope_scaling"] = json::object{{"type", "mrope"}, {"mrope_section", sections}};
    top["transformers_version"] = "4.41.2";
    return top;
  }
  lm["model_type"] = "qwen2_5_vl_text";
  if (layout == Layout::Nested) {
    lm["rope_scaling"] = json::object{{"mrope_section", sections}, {"rope_type", "default"}, {"type", "default"}};
    for (const auto& kv : lm)
      if (kv.key() != "model_type") top[kv.key()] = kv.value();
    top["transformers_version"] = "4.53.1";
  } else {
    lm["rope_parameters"] = json::object{
        {"mrope_section", sections}, {"rope_type", "default"}, {"rope_theta", lm["rope_theta"]}};
    lm.erase("rope_theta");
    top["transformers_version"] = "5.0.0";
  }
  top["text_config"] = lm;
  return top;
}

struct Pair {
  std::string lm, mmproj;
  engine::RandomModelSpec spec;
  astfill::testing::TinyTowerSpec tower;
};

Pair write_pair(const astfill::testing::TempDir& dir) {
  Pair p;
  p.spec = engine::tiny_spec("qwen2");
  p.spec.hp.rope_sections = {2, 3, 3};
  p.spec.weight_scale = 0.2f;
  p.lm = dir.file("lm.gguf");
  engine::write_random_model(p.lm, p.spec);
  p.tower.out_dim = p.spec.hp.embedding_length;
  p.mmproj = dir.file("mmproj.gguf");
  astfill::testing::write_random_mmproj(p.mmproj, p.tower);
  return p;
}

// The checkpoint of `pair` in `layout`, with `edit` applied to its config.json.
std::string write_checkpoint(const astfill::testing::TempDir& dir, const Pair& pair, Layout layout,
                             const std::string& name, void (*edit)(json::object&) = nullptr) {
  const std::string folder = dir.file(name);
  std::filesystem::create_directories(folder);
  auto cfg = config(layout, pair.spec.hp, pair.tower);
  if (edit) edit(cfg);
  write_file(folder + "/config.json", json::serialize(cfg));
  const auto lm = engine::GgufFile::open(pair.lm);
  write_file(folder + "/tokenizer.json", astfill::testing::tokenizer_json_text(engine::load_tokenizer_data(pair.lm)));
  std::vector<NamedTensor> tensors;
  for (const auto& t : lm.tensors()) {
    std::string name = astfill::testing::hf_name(t.name);
    if (layout != Layout::Flat && name.compare(0, 6, "model.") == 0) name = "model.language_model." + name.substr(6);
    tensors.push_back({name, torch_shape(t), f32(t)});
  }
  const auto tower = engine::GgufFile::open(pair.mmproj);
  for (auto& t : visual_tensors(tower, layout == Layout::Flat ? "visual." : "model.visual.", pair.tower.depth))
    tensors.push_back(std::move(t));
  write_safetensors(folder + "/model.safetensors", tensors);
  return folder;
}

std::vector<float> logits(const std::string& path) {
  engine::LoadOptions o;
  o.weights = engine::WeightMode::F32;
  auto model = engine::Model::open(path, o);
  engine::Session::Batch batch;
  batch.tokens = {5, 70, 300, 12, 99, 41};
  batch.logits.assign(batch.tokens.size(), true);
  // An image-like block: the positions differ by axis, so M-RoPE's sections matter.
  batch.mrope_positions = {0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 3, 2, 3, 2, 4, 4, 4};
  engine::Session s(*model);
  return s.evaluate(batch);
}

std::vector<float> encode(const std::string& path) {
  vision::TowerOptions o;
  o.weights = engine::WeightMode::F32;
  const auto tower = vision::VisionTower::load(path, o);
  vision::Image img;
  img.width = 84;
  img.height = 56;
  img.rgb.resize(size_t{img.width} * img.height * 3);
  for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<uint8_t>((i * 37) & 0xff);
  return tower.encode(vision::preprocess(img, tower.preprocess_options(64)));
}

double max_rel(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double d = 0, m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    d = std::max(d, std::fabs(double(a[i]) - b[i]));
    m = std::max(m, std::fabs(double(a[i])));
  }
  return d / m;
}

}  // namespace

TEST_CASE("Qwen2.5-VL checkpoints load alike in the flat, nested (text_config) and v5 layouts", "[hf]") {
  astfill::testing::TempDir dir;
  const Pair pair = write_pair(dir);
  const auto want_logits = logits(pair.lm);
  const auto want_rows = encode(pair.mmproj);
  const auto want_file = engine::ModelFile::open(pair.lm);
  const auto& want = want_file.hparams();
  for (auto [layout, name] : {std::pair{Layout::Flat, "flat"}, std::pair{Layout::Nested, "nested"},
                              std::pair{Layout::V5, "v5"}}) {
    SECTION(name) {
      const std::string folder = write_checkpoint(dir, pair, layout, name);
      const auto file = engine::ModelFile::open(folder);
      const auto& hp = file.hparams();
      CHECK(hp.arch == "qwen2");
      CHECK(hp.embedding_length == want.embedding_length);
      CHECK(hp.block_count == want.block_count);
      CHECK(hp.head_count == want.head_count);
      CHECK(hp.head_count_kv == want.head_count_kv);
      CHECK(hp.rope_sections == std::vector<int32_t>{2, 3, 3});
      CHECK(hp.rope_freq_base == want.rope_freq_base);
      CHECK(max_rel(logits(folder), want_logits) < 1e-5);
      CHECK(max_rel(encode(folder), want_rows) < 1e-5);
    }
  }
}

TEST_CASE("a checkpoint's config that disagrees with its tensors or lacks M-RoPE is refused by key", "[hf]") {
  astfill::testing::TempDir dir;
  const Pair pair = write_pair(dir);
  const std::string wrong_out = write_checkpoint(dir, pair, Layout::Nested, "wrong-out", [](json::object& c) {
    c["vision_config"].as_object()["out_hidden_size"] = 2048;
  });
  CHECK_THROWS_WITH(vision::VisionTower::load(wrong_out),
                    Catch::Contains("vision_config.out_hidden_size is 2048 but the tensors say 64"));
  const std::string wrong_depth = write_checkpoint(dir, pair, Layout::Flat, "wrong-depth", [](json::object& c) {
    c["vision_config"].as_object()["depth"] = 32;
  });
  CHECK_THROWS_WITH(vision::VisionTower::load(wrong_depth), Catch::Contains("vision_config.depth is 32"));
  const std::string no_mrope = write_checkpoint(dir, pair, Layout::V5, "no-mrope", [](json::object& c) {
    c["text_config"].as_object()["rope_parameters"].as_object().erase("mrope_section");
  });
  CHECK_THROWS_WITH(engine::ModelFile::open(no_mrope), Catch::Contains("mrope_section"));
}
