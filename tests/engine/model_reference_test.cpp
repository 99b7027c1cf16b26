// The engine's logits against the independent numpy reference
// (tests/reference/qwen_ref.py, run with Debian's /usr/bin/python3), on
// random-weight models written by our GGUF writer; and the int8 path against
// the f32 path.
#include <boost/json.hpp>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "engine/gguf_writer.h"
#include "engine/model_export.h"
#include "engine/model.h"
#include "engine/moe.h"
#include "tests/fixtures/random_model.h"
#include "reference.h"
#include "temp_dir.h"

using namespace astfill::engine;
using namespace astfill::testing;

namespace {

// Logits for every position from the reference, [n][vocab].
std::vector<float> reference_logits(const std::string& model, const std::vector<int32_t>& tokens,
                                    const std::string& out, const std::vector<int32_t>& positions = {}) {
  std::ostringstream cmd;
  cmd << kPython << " " << ASTFILL_SOURCE_DIR << "/tests/reference/qwen_ref.py " << model << " --all --out " << out
      << " --tokens ";
  for (size_t i = 0; i < tokens.size(); ++i) cmd << (i ? "," : "") << tokens[i];
  if (!positions.empty()) {
    cmd << " --positions ";
    for (size_t i = 0; i < positions.size(); ++i) cmd << (i ? "," : "") << positions[i];
  }
  cmd << " > /dev/null";
  REQUIRE(std::system(cmd.str().c_str()) == 0);
  std::ifstream in(out, std::ios::binary);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

RandomModelSpec spec_for(const std::string& arch) {
  auto spec = tiny_spec(arch);
  spec.weight_scale = 0.08f;  // large enough that every layer moves the logits
  spec.seed = 7;
  return spec;
}

}  // namespace

TEST_CASE("f32 logits match the numpy reference at every position", "[model][reference]") {
  if (!have_numpy()) {
    WARN("skipped: /usr/bin/python3 has no numpy (scripts/setup installs python3-numpy)");
    return;
  }
  for (const char* arch : {"qwen2", "qwen3"}) {
    TempDir dir;
    auto spec = spec_for(arch);
    write_random_model(dir.file("m.gguf"), spec);
    auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 2});
    auto tokens = random_tokens(24, spec.hp.vocab_size, 11);
    auto want = reference_logits(dir.file("m.gguf"), tokens, dir.file("ref.bin"));
    const size_t V = spec.hp.vocab_size;
    REQUIRE(want.size() == tokens.size() * V);

    Session s(*model);
    auto got = s.evaluate({tokens, {}, std::vector<bool>(tokens.size(), true)});
    REQUIRE(got.size() == want.size());
    INFO(arch);
    for (size_t i = 0; i < tokens.size(); ++i) {
      INFO("position " << i);
      CHECK(max_relative_error(got.data() + i * V, want.data() + i * V, V) < 1e-4);
    }

    // The same logits through the cache: a prefix, then the rest one by one.
    Session t(*model);
    t.evaluate({{tokens.begin(), tokens.begin() + 10}, {}, {}});
    for (size_t i = 10; i < tokens.size(); ++i) {
      auto row = t.evaluate({{tokens[i]}, {}, {}});
      CHECK(max_relative_error(row.data(), want.data() + i * V, V) < 1e-4);
    }
    // Truncated back to a prefix and extended with other tokens: the
    // reference sees the shared prefix plus the new tail.
    t.truncate(6);
    auto tail = random_tokens(8, spec.hp.vocab_size, 99);
    auto ext = t.evaluate({tail, {}, std::vector<bool>(tail.size(), true)});
    std::vector<int32_t> joined(tokens.begin(), tokens.begin() + 6);
    joined.insert(joined.end(), tail.begin(), tail.end());
    auto want2 = reference_logits(dir.file("m.gguf"), joined, dir.file("ref2.bin"));
    for (size_t i = 0; i < tail.size(); ++i)
      CHECK(max_relative_error(ext.data() + i * V, want2.data() + (6 + i) * V, V) < 1e-4);
    CHECK(t.length() == 14);
  }
}

TEST_CASE("logits at explicit positions far from zero match the reference", "[model][reference]") {
  if (!have_numpy()) return;
  TempDir dir;
  auto spec = spec_for("qwen3");
  write_random_model(dir.file("m.gguf"), spec);
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 2});
  auto tokens = random_tokens(5, spec.hp.vocab_size, 5);
  std::vector<int32_t> positions = {1000, 1001, 1002, 1003, 1004};
  auto want = reference_logits(dir.file("m.gguf"), tokens, dir.file("ref.bin"), positions);
  Session s(*model);
  auto got = s.evaluate({tokens, positions, std::vector<bool>(5, true)});
  const size_t V = spec.hp.vocab_size;
  for (size_t i = 0; i < 5; ++i) CHECK(max_relative_error(got.data() + i * V, want.data() + i * V, V) < 1e-4);
}

// A random model in the stable regime (int8_agreement_with_f32 in reference.h
// says why; the f32 reference tests above use larger weights on purpose).
TEST_CASE("the int8 path agrees with f32: top-1 >= 99%, mean KL <= 0.01", "[model][int8]") {
  TempDir dir;
  const LogitAgreement agreement = int8_agreement_with_f32(dir.file("m.gguf"));
  INFO("top-1 agreement " << agreement.top1_rate() << ", mean KL " << agreement.mean_kl() << " over "
                          << agreement.rows << " positions");
  CHECK(agreement.rows >= 500);
  CHECK(agreement.top1_rate() >= 0.99);
  CHECK(agreement.mean_kl() <= 0.01);
}

TEST_CASE("sessions refuse bad tokens and overflow, and stop when cancelled", "[model]") {
  TempDir dir;
  write_random_model(dir.file("m.gguf"), tiny_spec("qwen3"));
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::Int8, 1});
  Session s(*model, 8);
  CHECK_THROWS_AS(s.evaluate({{600}, {}, {}}), std::out_of_range);
  CHECK_THROWS_AS(s.evaluate({std::vector<int32_t>(9, 1), {}, {}}), std::length_error);
  astfill::CancellationSource cancel;
  cancel.cancel(astfill::CancelReason::ClientRequest);
  CHECK(s.evaluate({{1, 2, 3}, {}, {}}, cancel.token()).empty());
  CHECK(s.length() == 0);
  CHECK(s.evaluate({{1, 2, 3}, {}, {}}).size() == 512);
  CHECK(s.length() == 3);
}

namespace {

RandomModelSpec moe_spec(uint32_t experts, uint32_t used) {
  auto spec = tiny_spec("qwen3moe");
  spec.hp.expert_count = experts;
  spec.hp.expert_used_count = used;
  spec.hp.expert_feed_forward_length = 32;
  spec.weight_scale = 0.08f;
  spec.seed = 21;
  return spec;
}

// Copies a GGUF, letting `edit` change any tensor's f32 values.
void rewrite_f32(const std::string& src, const std::string& dst,
                 const std::function<void(const std::string&, const std::vector<int64_t>&, std::vector<float>&)>& edit) {
  auto g = GgufFile::open(src);
  GgufWriter w;
  for (auto& [k, v] : g.metadata()) w.set(k, v);
  for (auto& t : g.tensors()) {
    REQUIRE(t.type == GgmlType::F32);
    std::vector<float> v(static_cast<size_t>(t.elements()));
    std::memcpy(v.data(), t.data, t.bytes);
    edit(t.name, t.ne, v);
    w.add_tensor_f32(t.name, GgmlType::F32, t.ne, v);
  }
  w.write(dst);
}

}  // namespace

TEST_CASE("mixture-of-experts logits match the reference (16 experts top-2, 128 top-8)", "[model][moe][reference]") {
  if (!have_numpy()) return;
  for (auto [experts, used] : {std::pair<uint32_t, uint32_t>{16, 2}, {128, 8}}) {
    TempDir dir;
    auto spec = moe_spec(experts, used);
    write_random_model(dir.file("m.gguf"), spec);
    auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 2});
    auto tokens = random_tokens(20, spec.hp.vocab_size, 3);
    auto want = reference_logits(dir.file("m.gguf"), tokens, dir.file("ref.bin"));
    const size_t V = spec.hp.vocab_size;
    Session s(*model);
    auto got = s.evaluate({tokens, {}, std::vector<bool>(tokens.size(), true)});
    INFO(experts << " experts, top-" << used);
    for (size_t i = 0; i < tokens.size(); ++i) CHECK(max_relative_error(got.data() + i * V, want.data() + i * V, V) < 1e-4);
    // Decode through the cache takes the same routes.
    Session t(*model);
    t.evaluate({{tokens.begin(), tokens.begin() + 12}, {}, {}});
    for (size_t i = 12; i < tokens.size(); ++i) {
      auto row = t.evaluate({{tokens[i]}, {}, {}});
      CHECK(max_relative_error(row.data(), want.data() + i * V, V) < 1e-4);
    }
    // Every token ran exactly `used` experts in every layer.
    for (auto& layer : s.expert_counts()) {
      uint64_t total = 0;
      for (auto c : layer) total += c;
      CHECK(total == tokens.size() * used);
    }
  }
}

// The poison is the largest finite float: a load refuses NaN and infinity in
// any weight (engine/model.cpp), and any read of it overflows to inf and NaN.
TEST_CASE("experts nobody chose are never read: poisoning them with FLT_MAX changes nothing", "[model][moe]") {
  TempDir dir;
  auto spec = moe_spec(16, 2);
  write_random_model(dir.file("m.gguf"), spec);
  std::vector<int32_t> tokens = {5, 77, 300};
  std::vector<float> clean;
  std::vector<std::vector<uint64_t>> used;
  {
    auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 2});
    Session s(*model);
    clean = s.evaluate({tokens, {}, std::vector<bool>(3, true)});
    used = s.expert_counts();
  }
  const int64_t X = spec.hp.expert_count;
  auto poison = [&](bool chosen_too) {
    return [&, chosen_too](const std::string& name, const std::vector<int64_t>& ne, std::vector<float>& v) {
      if (name.find("_exps.weight") == std::string::npos) return;
      size_t layer = std::stoul(name.substr(4, name.find('.', 4) - 4));
      const size_t per_expert = v.size() / static_cast<size_t>(X);
      for (int64_t x = 0; x < X; ++x) {
        bool ran = used[layer][static_cast<size_t>(x)] > 0;
        if (ran && !(chosen_too && name.find("down") != std::string::npos)) continue;
        std::fill(v.begin() + static_cast<std::ptrdiff_t>(x * per_expert),
                  v.begin() + static_cast<std::ptrdiff_t>((x + 1) * per_expert), std::numeric_limits<float>::max());
      }
      (void)ne;
    };
  };
  size_t idle = 0;
  for (auto& layer : used)
    for (auto c : layer) idle += c == 0;
  REQUIRE(idle > 0);
  rewrite_f32(dir.file("m.gguf"), dir.file("poisoned.gguf"), poison(false));
  for (WeightMode mode : {WeightMode::F32, WeightMode::Int8}) {
    auto model = Model::open(dir.file("poisoned.gguf"), {mode, 2});
    Session s(*model);
    auto got = s.evaluate({tokens, {}, std::vector<bool>(3, true)});
    for (float x : got) REQUIRE(std::isfinite(x));
    if (mode == WeightMode::F32) CHECK(got == clean);  // bit for bit
  }
  // The control: poison the chosen experts too, and NaN reaches the logits.
  rewrite_f32(dir.file("m.gguf"), dir.file("all.gguf"), poison(true));
  auto model = Model::open(dir.file("all.gguf"), {WeightMode::F32, 2});
  Session s(*model);
  auto got = s.evaluate({tokens, {}, std::vector<bool>(3, true)});
  CHECK(std::any_of(got.begin(), got.end(), [](float x) { return std::isnan(x); }));
}

TEST_CASE("int8 MoE decode runs the chosen experts side by side and agrees with the prefill's rows", "[model][moe][int8]") {
  // With int8 weights on the GEMV path, decode runs a token's experts on the
  // engine's team, one expert a chunk; prefill groups the tokens per expert.
  // Both use the same exact integer products, and with an f32 cache and f32
  // attention a decoded row differs from the prefill's only by attention's
  // order of summation; a wrong expert or weight would move it far more.
  ::setenv("ASTFILL_ATTENTION", "f32", 1);
  TempDir dir;
  auto spec = moe_spec(16, 4);
  spec.hp.embedding_length = 128;
  spec.hp.expert_feed_forward_length = 64;
  write_random_model(dir.file("m.gguf"), spec);
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::Int8, 2, KvType::F32});
  auto tokens = random_tokens(24, spec.hp.vocab_size, 5);
  const size_t V = spec.hp.vocab_size;
  Session all(*model);
  auto want = all.evaluate({tokens, {}, std::vector<bool>(tokens.size(), true)});
  Session t(*model);
  t.evaluate({{tokens.begin(), tokens.begin() + 8}, {}, {}});
  double worst = 0;
  for (size_t i = 8; i < tokens.size(); ++i) {
    auto row = t.evaluate({{tokens[i]}, {}, {}});
    worst = std::max(worst, max_relative_error(row.data(), want.data() + i * V, V));
  }
  ::unsetenv("ASTFILL_ATTENTION");
  INFO("worst relative error of a decoded row against the prefill's: " << worst);
  CHECK(worst < 1e-3);
  for (auto& layer : t.expert_counts()) {
    uint64_t total = 0;
    for (auto c : layer) total += c;
    CHECK(total == tokens.size() * 4);  // the 8 prefilled and 16 decoded, 4 experts each
  }
}

TEST_CASE("routing: softmax, top-k with ties to the lower index, renormalised", "[moe]") {
  std::vector<float> logits = {1.0f, 3.0f, 3.0f, 0.0f};
  auto r = route(logits.data(), 4, 2, true);
  CHECK(r.experts == std::vector<int32_t>{1, 2});
  CHECK(r.weights[0] == Approx(0.5f));
  auto raw = route(logits.data(), 4, 1, false);
  double z = std::exp(1.0) + 2 * std::exp(3.0) + 1.0;
  CHECK(raw.weights[0] == Approx(std::exp(3.0) / z));
}

TEST_CASE("long context: logits past 8K positions match the reference, with and without YaRN", "[model][reference][long]") {
  if (!have_numpy()) return;
  for (bool yarn : {false, true}) {
    TempDir dir;
    auto spec = spec_for("qwen3");
    spec.hp.context_length = 16384;
    if (yarn) {
      // Qwen's YaRN setup scaled down: 4x an original context of 2048.
      spec.hp.rope_scaling.type = "yarn";
      spec.hp.rope_scaling.factor = 4.0;
      spec.hp.rope_scaling.original_context_length = 2048;
    }
    write_random_model(dir.file("m.gguf"), spec);
    auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 2});
    auto tokens = random_tokens(8704, spec.hp.vocab_size, 17);
    // The reference evaluates in chunks through its cache; so does the engine.
    std::ostringstream cmd;
    cmd << "/usr/bin/python3 " << ASTFILL_SOURCE_DIR << "/tests/reference/qwen_ref.py " << dir.file("m.gguf")
        << " --all --chunk 1024 --out " << dir.file("ref.bin") << " --tokens ";
    for (size_t i = 0; i < tokens.size(); ++i) cmd << (i ? "," : "") << tokens[i];
    cmd << " > /dev/null";
    REQUIRE(std::system(cmd.str().c_str()) == 0);
    std::ifstream in(dir.file("ref.bin"), std::ios::binary);
    std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
    const size_t V = spec.hp.vocab_size;
    REQUIRE(bytes.size() == tokens.size() * V * 4);
    std::vector<float> want(bytes.size() / 4);
    std::memcpy(want.data(), bytes.data(), bytes.size());
    Session s(*model);
    std::vector<float> got;
    for (size_t at = 0; at < tokens.size(); at += 512) {
      size_t end = std::min(tokens.size(), at + 512);
      auto part = s.evaluate({{tokens.begin() + static_cast<std::ptrdiff_t>(at), tokens.begin() + static_cast<std::ptrdiff_t>(end)},
                              {}, std::vector<bool>(end - at, true)});
      got.insert(got.end(), part.begin(), part.end());
    }
    INFO((yarn ? "YaRN" : "plain RoPE"));
    for (size_t i : {size_t(0), size_t(4000), size_t(8191), size_t(8192), size_t(8500), tokens.size() - 1})
      CHECK(max_relative_error(got.data() + i * V, want.data() + i * V, V) < 1e-4);
  }
}

namespace {
// A safetensors file from named f32 tensors (PyTorch shapes).
void write_safetensors_f32(const std::string& path,
                           const std::vector<std::pair<std::string, std::pair<std::vector<int64_t>, std::vector<float>>>>& ts) {
  std::string header = "{";
  size_t offset = 0;
  for (size_t i = 0; i < ts.size(); ++i) {
    const auto& [name, t] = ts[i];
    std::string shape;
    for (size_t d = 0; d < t.first.size(); ++d) shape += (d ? "," : "") + std::to_string(t.first[d]);
    size_t bytes = t.second.size() * 4;
    header += (i ? "," : "") + std::string("\"") + name + "\":{\"dtype\":\"F32\",\"shape\":[" + shape +
              "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  header += "}";
  std::ofstream out(path, std::ios::binary);
  uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header;
  for (auto& [name, t] : ts) out.write(reinterpret_cast<const char*>(t.second.data()), static_cast<std::streamsize>(t.second.size() * 4));
}
}  // namespace

TEST_CASE("a Hugging Face Qwen3-MoE checkpoint with a dense layer (mlp_only_layers) runs and converts", "[model][moe][safetensors]") {
  TempDir dir;
  const int64_t E = 64, H = 4, KV = 2, D = 16, F = 96, Fe = 32, X = 8, V = 512, L = 2;
  std::mt19937 rng(8);
  std::normal_distribution<float> nd(0, 1);
  auto rnd = [&](std::vector<int64_t> shape, float scale, float mean = 0) {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = mean + nd(rng) * scale;
    return std::make_pair(shape, v);
  };
  std::vector<std::pair<std::string, std::pair<std::vector<int64_t>, std::vector<float>>>> ts;
  ts.push_back({"model.embed_tokens.weight", rnd({V, E}, 1.0f)});
  ts.push_back({"model.norm.weight", rnd({E}, 0.1f, 1)});
  for (int64_t l = 0; l < L; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    ts.push_back({p + "input_layernorm.weight", rnd({E}, 0.1f, 1)});
    ts.push_back({p + "post_attention_layernorm.weight", rnd({E}, 0.1f, 1)});
    ts.push_back({p + "self_attn.q_proj.weight", rnd({H * D, E}, 0.2f)});
    ts.push_back({p + "self_attn.k_proj.weight", rnd({KV * D, E}, 0.2f)});
    ts.push_back({p + "self_attn.v_proj.weight", rnd({KV * D, E}, 0.2f)});
    ts.push_back({p + "self_attn.o_proj.weight", rnd({E, H * D}, 0.2f)});
    ts.push_back({p + "self_attn.q_norm.weight", rnd({D}, 0.1f, 1)});
    ts.push_back({p + "self_attn.k_norm.weight", rnd({D}, 0.1f, 1)});
    if (l == 0) {  // mlp_only_layers: [0]
      ts.push_back({p + "mlp.gate_proj.weight", rnd({F, E}, 0.2f)});
      ts.push_back({p + "mlp.up_proj.weight", rnd({F, E}, 0.2f)});
      ts.push_back({p + "mlp.down_proj.weight", rnd({E, F}, 0.2f)});
    } else {
      ts.push_back({p + "mlp.gate.weight", rnd({X, E}, 0.5f)});
      for (int64_t x = 0; x < X; ++x) {
        std::string e = p + "mlp.experts." + std::to_string(x) + ".";
        ts.push_back({e + "gate_proj.weight", rnd({Fe, E}, 0.2f)});
        ts.push_back({e + "up_proj.weight", rnd({Fe, E}, 0.2f)});
        ts.push_back({e + "down_proj.weight", rnd({E, Fe}, 0.2f)});
      }
    }
  }
  std::filesystem::create_directory(dir.file("hf"));
  write_safetensors_f32(dir.file("hf/model.safetensors"), ts);
  std::ofstream(dir.file("hf/config.json"))
      << R"({"model_type":"qwen3_moe","hidden_size":64,"num_hidden_layers":2,"intermediate_size":96,)"
      << R"("num_attention_heads":4,"num_key_value_heads":2,"head_dim":16,"max_position_embeddings":4096,)"
      << R"("rms_norm_eps":1e-6,"rope_theta":1000000,"vocab_size":512,"tie_word_embeddings":true,)"
      << R"("num_experts":8,"num_experts_per_tok":2,"moe_intermediate_size":32,"norm_topk_prob":true,)"
      << R"("decoder_sparse_step":1,"mlp_only_layers":[0]})";
  // The tokenizer of the random models, as tokenizer.json: reuse a GGUF's.
  write_random_model(dir.file("tok.gguf"), tiny_spec("qwen3"));
  {
    auto tok = ModelFile::open(dir.file("tok.gguf")).tokenizer();
    boost::json::object vocab;
    boost::json::array added, merges;
    for (size_t id = 0; id < tok.tokens.size(); ++id) {
      if (tok.token_types[id] == TokenType::Control)
        added.push_back(boost::json::object{{"id", id}, {"content", tok.tokens[id]}, {"special", true}});
      else vocab[tok.tokens[id]] = id;
    }
    for (auto& m : tok.merges) merges.push_back(boost::json::value(m));
    const char* regex = R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    boost::json::object doc{
        {"added_tokens", added}, {"normalizer", boost::json::object{{"type", "NFC"}}},
        {"pre_tokenizer", boost::json::object{{"type", "Sequence"},
                                              {"pretokenizers", boost::json::array{boost::json::object{{"type", "Split"}, {"pattern", boost::json::object{{"Regex", regex}}}},
                                                                                   boost::json::object{{"type", "ByteLevel"}}}}}},
        {"model", boost::json::object{{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
    std::ofstream(dir.file("hf/tokenizer.json")) << boost::json::serialize(doc);
  }
  auto hf = ModelFile::open(dir.file("hf"));
  CHECK(hf.hparams().dense_layers == std::vector<uint32_t>{0});
  CHECK_FALSE(hf.hparams().is_moe_layer(0));
  CHECK(hf.hparams().is_moe_layer(1));
  quantize_model(hf, dir.file("conv.gguf"), GgmlType::F32);
  auto from_hf = Model::load(std::make_shared<const ModelFile>(std::move(hf)), {WeightMode::F32, 2});
  auto from_gguf = Model::open(dir.file("conv.gguf"), {WeightMode::F32, 2});
  auto tokens = random_tokens(12, 512, 4);
  Session a(*from_hf), b(*from_gguf);
  auto la = a.evaluate({tokens, {}, std::vector<bool>(12, true)});
  auto lb = b.evaluate({tokens, {}, std::vector<bool>(12, true)});
  CHECK(la == lb);
  CHECK(a.expert_counts()[0].empty());  // the dense layer has no experts
  if (have_numpy()) {
    auto want = reference_logits(dir.file("conv.gguf"), tokens, dir.file("ref.bin"));
    for (size_t i = 0; i < tokens.size(); ++i) CHECK(max_relative_error(la.data() + i * V, want.data() + i * V, V) < 1e-4);
  }
}
