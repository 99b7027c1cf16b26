// LoRA adapters (engine/lora.h): the engine's forward with adapters against
// the numpy reference (tests/reference/qwen_ref.py --lora, which reads the
// files on its own), the algebra that must hold exactly or nearly (scale 0,
// B = 0, sums, switching, merging), both formats written and read back, and
// the files that must be refused with a clear error.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <latch>
#include <random>
#include <thread>
#include <sstream>

#include "cli/model_options.h"
#include "engine/batcher.h"
#include "engine/errors.h"
#include "engine/gguf.h"
#include "engine/gguf_writer.h"
#include "engine/lora.h"
#include "engine/model.h"
#include "engine/moe.h"
#include "engine/tensor_types.h"
#include "tests/fixtures/random_model.h"
#include "reference.h"
#include "temp_dir.h"

using namespace astfill::engine;
using namespace astfill::testing;
namespace fs = std::filesystem;

namespace {

// Every target of every layer, random A and B, rank `rank` (a different rank
// for k and down, so the rank pattern is exercised).
LoraAdapter random_adapter(const HyperParams& hp, uint32_t seed, int64_t rank = 4, float alpha = 8.0f,
                           float magnitude = 0.1f, std::vector<LoraTarget> targets = {}) {
  if (targets.empty()) targets.assign(std::begin(kLoraTargets), std::end(kLoraTargets));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-magnitude, magnitude);
  LoraAdapter a;
  a.architecture = hp.arch;
  for (uint32_t l = 0; l < hp.block_count; ++l)
    for (LoraTarget t : targets) {
      LoraPair p;
      p.layer = l;
      p.target = t;
      p.rank = (t == LoraTarget::K || t == LoraTarget::Down) ? rank + 2 : rank;
      const LoraShape s = lora_target_shape(hp, t);
      p.in = s.in;
      p.out = s.out;
      p.alpha = alpha;
      p.a.resize(static_cast<size_t>(p.rank * p.in));
      p.b.resize(static_cast<size_t>(p.out * p.rank));
      for (float& v : p.a) v = u(rng);
      for (float& v : p.b) v = u(rng);
      a.pairs.push_back(std::move(p));
    }
  return a;
}

// A Qwen3-MoE adapter: every expert's gate, up and down in every layer
// (expert 3 at a smaller rank, so stacking pads it), and with `attention`
// q and o too.
LoraAdapter random_moe_adapter(const HyperParams& hp, uint32_t seed, int64_t rank, float alpha, float magnitude,
                               bool attention) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-magnitude, magnitude);
  LoraAdapter a;
  a.architecture = hp.arch;
  a.expert_count = hp.expert_count;
  auto add = [&](uint32_t layer, LoraTarget t, int32_t expert, int64_t r) {
    LoraPair p;
    p.layer = layer;
    p.target = t;
    p.expert = expert;
    p.rank = r;
    const LoraShape s = expert >= 0 ? lora_expert_shape(hp, t) : lora_target_shape(hp, t);
    p.in = s.in;
    p.out = s.out;
    p.alpha = alpha;
    p.a.resize(static_cast<size_t>(p.rank * p.in));
    p.b.resize(static_cast<size_t>(p.out * p.rank));
    for (float& v : p.a) v = u(rng);
    for (float& v : p.b) v = u(rng);
    a.pairs.push_back(std::move(p));
  };
  for (uint32_t l = 0; l < hp.block_count; ++l) {
    if (attention) add(l, LoraTarget::Q, -1, rank), add(l, LoraTarget::O, -1, rank);
    for (int32_t x = 0; x < static_cast<int32_t>(hp.expert_count); ++x)
      for (LoraTarget t : {LoraTarget::Gate, LoraTarget::Up, LoraTarget::Down}) add(l, t, x, x == 3 ? rank - 2 : rank);
  }
  return a;
}

std::shared_ptr<const LoraAdapter> shared(LoraAdapter a) { return std::make_shared<const LoraAdapter>(std::move(a)); }

std::vector<float> all_logits(const Model& m, const std::vector<int32_t>& tokens,
                              const std::vector<AdapterChoice>& adapters = {}) {
  Session s(m);
  s.set_adapters(adapters);
  return s.evaluate({tokens, {}, std::vector<bool>(tokens.size(), true)});
}

std::vector<float> reference_logits(const std::string& model, const std::vector<int32_t>& tokens,
                                    const std::vector<std::string>& loras, const std::string& out) {
  std::ostringstream cmd;
  cmd << kPython << " " << ASTFILL_SOURCE_DIR << "/tests/reference/qwen_ref.py " << model << " --all --out " << out
      << " --tokens ";
  for (size_t i = 0; i < tokens.size(); ++i) cmd << (i ? "," : "") << tokens[i];
  for (const std::string& l : loras) cmd << " --lora '" << l << "'";
  cmd << " > /dev/null";
  REQUIRE(std::system(cmd.str().c_str()) == 0);
  std::ifstream in(out, std::ios::binary);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

// The worst row's max_relative_error (reference.h), rows of `vocab` logits.
double max_row_error(const std::vector<float>& got, const std::vector<float>& want, size_t vocab) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (size_t r = 0; r * vocab < got.size(); ++r)
    worst = std::max(worst, max_relative_error(got.data() + r * vocab, want.data() + r * vocab, vocab));
  return worst;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(double(a[i]) - b[i]));
  return d;
}

RandomModelSpec spec_for(const std::string& arch) {
  auto spec = tiny_spec(arch);
  spec.weight_scale = 0.08f;
  spec.seed = 7;
  return spec;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("LoRA targets and --adapter specs parse", "[lora]") {
  CHECK(parse_lora_target("q_proj") == LoraTarget::Q);
  CHECK(parse_lora_target("down") == LoraTarget::Down);
  CHECK(parse_lora_target("attn_output") == LoraTarget::O);
  CHECK_FALSE(parse_lora_target("lm_head"));
  CHECK(parse_lora_targets("v,q , o_proj,q") == std::vector<LoraTarget>{LoraTarget::Q, LoraTarget::V, LoraTarget::O});
  CHECK(parse_lora_targets("all").size() == 7);
  CHECK_THROWS_WITH(parse_lora_targets("q,embed"), Catch::Contains("'embed'"));
  auto s = parse_adapter_spec("/a/b:c/adapter.gguf:0.5");
  CHECK(s.path == "/a/b:c/adapter.gguf");
  CHECK(s.scale == 0.5f);
  s = parse_adapter_spec("C:dir");  // not a number after the colon: all of it is the path
  CHECK(s.path == "C:dir");
  CHECK(s.scale == 1.0f);
  CHECK_THROWS_AS(parse_adapter_spec(":2"), std::invalid_argument);
  CHECK_THROWS_AS(parse_adapter_spec("x:inf"), std::invalid_argument);
}

TEST_CASE("a relative adapter path is taken against a base directory, the scale kept as written", "[lora]") {
  CHECK(resolve_adapter_spec("astfill-tune/adapter", "/work/repo") == "/work/repo/astfill-tune/adapter");
  CHECK(resolve_adapter_spec("a.gguf:0.5", "/work/repo") == "/work/repo/a.gguf:0.5");
  CHECK(resolve_adapter_spec("../shared/./a.gguf:-1e-1", "/work/repo") == "/work/shared/a.gguf:-1e-1");
  CHECK(resolve_adapter_spec("/abs/a.gguf:2", "/work/repo") == "/abs/a.gguf:2");
  CHECK(resolve_adapter_spec("c:/x", "/work/repo") == "/work/repo/c:/x");  // ":/x" is no scale
  CHECK(resolve_adapter_spec(":2", "/work/repo") == ":2");                  // no path: left for the reader to refuse
  // `--adapter` (cli/model_options.h) resolves against the current directory:
  // the file the user named, wherever the daemon later runs.
  TempDir dir;
  std::vector<std::string> specs;
  astfill::ArgParser p("test", "");
  astfill::cli::add_adapter_option(p, specs);
  const fs::path before = fs::current_path();
  fs::current_path(dir.path());
  const auto error = p.parse({"--adapter", "a.gguf:0.25", "--adapter", "/abs/b.gguf"});
  fs::current_path(before);
  CHECK_FALSE(error);
  CHECK(specs == std::vector<std::string>{(fs::canonical(dir.path()) / "a.gguf").string() + ":0.25", "/abs/b.gguf"});
}

TEST_CASE("adapters are written in both formats and read back", "[lora]") {
  TempDir dir;
  const auto spec = spec_for("qwen3");
  LoraAdapter a = random_adapter(spec.hp, 3);
  a.pairs[0].alpha = 3.0f;  // an alpha_pattern entry
  a.rslora = true;
  write_peft_adapter(a, dir.file("peft"), "Qwen/Qwen3-0.6B");
  write_gguf_adapter(a, dir.file("a.gguf"));

  // PEFT's own config keys and names.
  std::ifstream cfg_in(dir.file("peft/adapter_config.json"));
  std::string cfg_text{std::istreambuf_iterator<char>(cfg_in), {}};
  auto cfg = boost::json::parse(cfg_text).as_object();
  CHECK(cfg.at("peft_type") == "LORA");
  CHECK(cfg.at("r") == 4);
  CHECK(cfg.at("lora_alpha") == 8);
  CHECK(cfg.at("use_rslora") == true);
  CHECK(cfg.at("rank_pattern").as_object().at("model.layers.0.self_attn.k_proj") == 6);
  CHECK(cfg.at("alpha_pattern").as_object().at("model.layers.0.self_attn.q_proj") == 3);
  CHECK(cfg.at("target_modules").as_array().size() == 7);
  CHECK(cfg.at("base_model_name_or_path") == "Qwen/Qwen3-0.6B");

  const LoraAdapter p = read_lora_adapter(dir.file("peft"));
  REQUIRE(p.pairs.size() == a.pairs.size());
  CHECK(p.rslora);
  CHECK(p.architecture == "qwen3");
  const LoraAdapter g = read_lora_adapter(dir.file("a.gguf"));
  REQUIRE(g.pairs.size() == a.pairs.size());
  CHECK(g.architecture == "qwen3");
  for (const LoraPair& want : a.pairs) {
    auto find = [&](const LoraAdapter& in) -> const LoraPair& {
      for (const LoraPair& q : in.pairs)
        if (q.layer == want.layer && q.target == want.target) return q;
      FAIL("pair missing");
      return in.pairs[0];
    };
    const LoraPair& pp = find(p);
    CHECK(pp.rank == want.rank);
    CHECK(pp.alpha == want.alpha);
    CHECK(pp.a == want.a);
    CHECK(pp.b == want.b);
    CHECK(p.scale(pp) == a.scale(want));
    // GGUF: one alpha per file, the rest folded into B; s·B is what must survive.
    const LoraPair& gp = find(g);
    CHECK(gp.a == want.a);
    for (size_t i = 0; i < want.b.size(); ++i)
      CHECK(g.scale(gp) * gp.b[i] == Approx(a.scale(want) * want.b[i]).epsilon(1e-5).margin(1e-7));
  }
  // The GGUF adapter is what llama.cpp loads: its keys and tensor names and shapes.
  const GgufFile f = GgufFile::open(dir.file("a.gguf"));
  CHECK(f.get_string("general.type") == "adapter");
  CHECK(f.get_string("adapter.type") == "lora");
  CHECK(f.get_string("general.architecture") == "qwen3");
  const GgufTensor* ta = f.tensor("blk.1.attn_k.weight.lora_a");
  const GgufTensor* tb = f.tensor("blk.1.attn_k.weight.lora_b");
  REQUIRE(ta);
  REQUIRE(tb);
  CHECK(ta->ne == std::vector<int64_t>{64, 6});
  CHECK(tb->ne == std::vector<int64_t>{6, 32});
}

namespace {

// The JSON header of a safetensors file, and the file with another header.
boost::json::object safetensors_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  return boost::json::parse(bytes.substr(8, n)).as_object();
}

void rewrite_safetensors_header(const std::string& path, const boost::json::object& header) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  in.close();
  uint64_t old_n = 0;
  std::memcpy(&old_n, bytes.data(), 8);
  std::string head = boost::json::serialize(header);
  while ((8 + head.size()) % 8) head += ' ';
  const uint64_t n = head.size();
  std::string file(8, '\0');
  std::memcpy(file.data(), &n, 8);
  write_text(path, file + head + bytes.substr(8 + old_n));
}

boost::json::object json_file(const std::string& path) {
  std::ifstream in(path);
  return boost::json::parse(std::string{std::istreambuf_iterator<char>(in), {}}).as_object();
}

}  // namespace

TEST_CASE("the PEFT adapter's architecture is in the safetensors metadata, not in adapter_config.json", "[lora]") {
  TempDir dir;
  const auto spec = spec_for("qwen3");
  const LoraAdapter a = random_adapter(spec.hp, 5, 2, 4.0f, 0.1f, {LoraTarget::Q});
  // A base model name that says no architecture: only astfill's record can.
  write_peft_adapter(a, dir.file("peft"), "/models/my-finetune");
  const std::string config = dir.file("peft/adapter_config.json");
  const std::string weights = dir.file("peft/adapter_model.safetensors");

  // PEFT before 0.13 passes every key of adapter_config.json to LoraConfig,
  // which raises TypeError on one it does not know: no astfill key there.
  const boost::json::object cfg = json_file(config);
  for (const auto& [key, value] : cfg) CHECK_FALSE(std::string_view(key).starts_with("astfill"));
  // The metadata: string values only (safetensors' Dict[str, str]), PEFT's format key kept.
  const boost::json::object header = safetensors_header(weights);
  REQUIRE(header.contains("__metadata__"));
  const boost::json::object& meta = header.at("__metadata__").as_object();
  for (const auto& [key, value] : meta) CHECK(value.is_string());
  CHECK(meta.at("format") == "pt");
  CHECK(meta.at("astfill_architecture") == "qwen3");
  CHECK(read_lora_adapter(dir.file("peft")).architecture == "qwen3");

  // An adapter astfill wrote before: the architecture in adapter_config.json,
  // none in the metadata. Still read, and still checked against the model.
  boost::json::object old_header = header;
  old_header["__metadata__"] = boost::json::object{{"format", "pt"}};
  rewrite_safetensors_header(weights, old_header);
  CHECK(read_lora_adapter(dir.file("peft")).architecture.empty());  // neither place says it
  boost::json::object old_cfg = cfg;
  old_cfg["astfill_architecture"] = "qwen2";
  write_text(config, boost::json::serialize(old_cfg));
  const LoraAdapter old = read_lora_adapter(dir.file("peft"));
  CHECK(old.architecture == "qwen2");
  auto model = [&] {
    write_random_model(dir.file("m.gguf"), spec);
    return Model::open(dir.file("m.gguf"), {WeightMode::F32, 1});
  }();
  Session s(*model);
  CHECK_THAT(message_of([&] { s.set_adapters({{shared(old), 1.0f, "old"}}); }),
             Catch::Contains("'qwen2'") && Catch::Contains("'qwen3'"));

  // Both places: the metadata is what astfill writes now, so it wins.
  boost::json::object both = header;
  rewrite_safetensors_header(weights, both);
  CHECK(read_lora_adapter(dir.file("peft")).architecture == "qwen3");
  CHECK_NOTHROW(s.set_adapters({{shared(read_lora_adapter(dir.file("peft"))), 1.0f, "new"}}));
}

TEST_CASE("forward with adapters matches the numpy reference (f32 and int8)", "[lora][reference]") {
  if (!have_numpy()) {
    WARN("skipped: /usr/bin/python3 has no numpy (scripts/setup installs python3-numpy)");
    return;
  }
  for (const char* arch : {"qwen2", "qwen3"}) {
    INFO(arch);
    TempDir dir;
    const auto spec = spec_for(arch);
    write_random_model(dir.file("m.gguf"), spec);
    LoraAdapter one = random_adapter(spec.hp, 5);
    one.rslora = std::string(arch) == "qwen3";
    LoraAdapter two = random_adapter(spec.hp, 6, 2, 0.0f, 0.1f, {LoraTarget::Q, LoraTarget::V, LoraTarget::Down});
    write_peft_adapter(one, dir.file("one"), "base");
    write_gguf_adapter(two, dir.file("two.gguf"));  // alpha 0: scale 1, as llama.cpp
    auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 2});
    const auto tokens = random_tokens(12, spec.hp.vocab_size, 21);
    const size_t V = spec.hp.vocab_size;

    const std::vector<AdapterChoice> choices = {{shared(read_lora_adapter(dir.file("one"))), 0.75f, "one"},
                                                {shared(read_lora_adapter(dir.file("two.gguf"))), -1.5f, "two"}};
    auto got = all_logits(*model, tokens, choices);
    auto want = reference_logits(dir.file("m.gguf"), tokens, {dir.file("one") + ":0.75", dir.file("two.gguf") + ":-1.5"},
                                 dir.file("ref.bin"));
    auto base = all_logits(*model, tokens);
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
      INFO("position " << i);
      CHECK(max_relative_error(got.data() + i * V, want.data() + i * V, V) < 1e-4);
      // The adapters matter: far more than the tolerance.
      CHECK(max_relative_error(base.data() + i * V, want.data() + i * V, V) > 1e-2);
    }
  }

  // int8: a model in the stable regime (reference.h), adapters at a size that
  // moves the distribution; int8 with adapters must agree with the reference
  // with adapters as int8 agrees with f32.
  TempDir dir;
  auto spec = tiny_spec("qwen2");
  spec.seed = 7;
  spec.weight_scale = 0.02f;
  spec.hp.embedding_length = 128;
  spec.hp.feed_forward_length = 256;
  spec.hp.head_dim = 32;
  write_random_model(dir.file("m.gguf"), spec);
  write_gguf_adapter(random_adapter(spec.hp, 9, 8, 16.0f, 0.1f), dir.file("a.gguf"));
  auto i8 = Model::open(dir.file("m.gguf"), {WeightMode::Int8, 2});
  const size_t V = spec.hp.vocab_size;
  LogitAgreement with, moved;
  for (uint32_t seq = 0; seq < 2; ++seq) {
    const auto tokens = random_tokens(64, spec.hp.vocab_size, 500 + seq);
    auto got = all_logits(*i8, tokens, {{shared(read_lora_adapter(dir.file("a.gguf"))), 1.0f, "a"}});
    auto want = reference_logits(dir.file("m.gguf"), tokens, {dir.file("a.gguf")}, dir.file("ref.bin"));
    auto plain = reference_logits(dir.file("m.gguf"), tokens, {}, dir.file("plain.bin"));
    for (size_t i = 0; i < tokens.size(); ++i) {
      with.add(want.data() + i * V, got.data() + i * V, V);
      moved.add(want.data() + i * V, plain.data() + i * V, V);
    }
  }
  INFO("int8 + adapter vs reference + adapter: top-1 " << with.top1_rate() << ", mean KL " << with.mean_kl()
                                                        << "; the adapter itself moves KL by " << moved.mean_kl());
  CHECK(with.top1_rate() >= 0.97);
  CHECK(with.mean_kl() <= 0.01);
  CHECK(moved.mean_kl() >= 20 * with.mean_kl());
}

TEST_CASE("LoRA on mixture-of-experts experts matches the numpy reference (PEFT and GGUF, prefill and decode)",
          "[lora][reference][moe]") {
  if (!have_numpy()) {
    WARN("skipped: /usr/bin/python3 has no numpy (scripts/setup installs python3-numpy)");
    return;
  }
  TempDir dir;
  const auto spec = spec_for("qwen3moe");
  write_random_model(dir.file("m.gguf"), spec);
  const LoraAdapter both = random_moe_adapter(spec.hp, 51, 4, 8.0f, 0.1f, true);
  const LoraAdapter experts = random_moe_adapter(spec.hp, 52, 3, 6.0f, 0.15f, false);
  write_peft_adapter(both, dir.file("peft"), "Qwen/Qwen3-30B-A3B");
  write_gguf_adapter(experts, dir.file("experts.gguf"));

  // The files as PEFT and llama.cpp name and shape them.
  {
    std::ifstream in(dir.file("peft/adapter_model.safetensors"), std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    CHECK(bytes.find("base_model.model.model.layers.1.mlp.experts.7.down_proj.lora_B.weight") != std::string::npos);
    const GgufFile g = GgufFile::open(dir.file("experts.gguf"));
    const GgufTensor* a = g.tensor("blk.1.ffn_up_exps.weight.lora_a");
    const GgufTensor* b = g.tensor("blk.1.ffn_down_exps.weight.lora_b");
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->ne == std::vector<int64_t>{spec.hp.embedding_length, 3, spec.hp.expert_count});
    CHECK(b->ne == std::vector<int64_t>{3, spec.hp.embedding_length, spec.hp.expert_count});
  }
  const LoraAdapter peft = read_lora_adapter(dir.file("peft"));
  const LoraAdapter gguf = read_lora_adapter(dir.file("experts.gguf"));
  CHECK(peft.architecture == "qwen3moe");
  CHECK(peft.pairs.size() == both.pairs.size());
  CHECK(gguf.pairs.size() == experts.pairs.size());
  CHECK(gguf.expert_count == spec.hp.expert_count);

  auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 2});
  const auto tokens = random_tokens(12, spec.hp.vocab_size, 21);
  const size_t V = spec.hp.vocab_size;
  const std::vector<AdapterChoice> choices = {{shared(peft), 1.0f, "peft"}, {shared(gguf), 0.5f, "experts"}};
  const auto want = reference_logits(dir.file("m.gguf"), tokens, {dir.file("peft"), dir.file("experts.gguf") + ":0.5"},
                                     dir.file("ref.bin"));
  // Prefill: experts run over the rows routed to them.
  CHECK(max_row_error(all_logits(*model, tokens, choices), want, V) < 1e-4);
  // Decode: one row, the chosen experts side by side.
  {
    Session s(*model);
    s.set_adapters(choices);
    for (size_t i = 0; i < tokens.size(); ++i) {
      INFO("decode position " << i);
      const auto logits = s.evaluate({{tokens[i]}, {}, {}});
      CHECK(max_relative_error(logits.data(), want.data() + i * V, V) < 1e-4);
    }
  }
  // The experts' pairs alone move the logits far beyond the tolerance, as
  // the reference has them.
  const auto base = all_logits(*model, tokens);
  const auto experts_only = all_logits(*model, tokens, {{shared(gguf), 1.0f, "experts"}});
  CHECK(max_row_error(experts_only, base, V) > 1e-2);
  CHECK(max_row_error(experts_only, reference_logits(dir.file("m.gguf"), tokens, {dir.file("experts.gguf")},
                                                     dir.file("ref2.bin")), V) < 1e-4);
  // The PEFT adapter written as GGUF (stacked, expert 3 padded to the
  // stack's rank, its scale folded into B) gives the same logits.
  write_gguf_adapter(peft, dir.file("both.gguf"));
  const auto from_gguf = all_logits(*model, tokens, {{shared(read_lora_adapter(dir.file("both.gguf"))), 1.0f, "g"}});
  const auto from_peft = all_logits(*model, tokens, {{shared(peft), 1.0f, "p"}});
  CHECK(max_row_error(from_gguf, from_peft, V) < 1e-5);
  // B = 0 everywhere is bit-identical to no adapter.
  LoraAdapter zero = experts;
  for (LoraPair& p : zero.pairs) std::fill(p.b.begin(), p.b.end(), 0.0f);
  CHECK(all_logits(*model, tokens, {{shared(zero), 1.0f, "zero"}}) == base);
}

TEST_CASE("rows of sessions with different expert adapters in one batched pass get what each gets alone",
          "[lora][moe][batcher]") {
  TempDir dir;
  auto spec = tiny_spec("qwen3moe");
  spec.weight_scale = 0.2f;
  spec.seed = 3;
  write_random_model(dir.file("m.gguf"), spec);
  const WeightMode mode = GENERATE(WeightMode::F32, WeightMode::Int8);
  CAPTURE(mode == WeightMode::F32 ? "f32" : "int8");
  auto model = Model::open(dir.file("m.gguf"), {mode, 1});
  const std::vector<std::shared_ptr<const LoraAdapter>> adapters = {
      shared(random_moe_adapter(spec.hp, 61, 4, 8.0f, 0.2f, true)), nullptr,
      shared(random_moe_adapter(spec.hp, 62, 4, 8.0f, 0.2f, false))};
  const size_t n = adapters.size();
  // Stacks built up front: building one takes longer than a whole run.
  std::vector<std::shared_ptr<const LoraStack>> stacks;
  for (size_t k = 0; k < n; ++k)
    stacks.push_back(adapters[k] ? LoraStack::build({{adapters[k], 1.0f, "a" + std::to_string(k)}}, spec.hp) : nullptr);
  auto run = [&](Session& s, size_t k, std::vector<std::vector<float>>& out) {
    // The prompt in the batcher's chunks, so that alone and batched evaluate
    // the same calls.
    const auto prompt = random_tokens(20, spec.hp.vocab_size, 70 + static_cast<uint32_t>(k));
    std::vector<float> logits;
    for (size_t at = 0; at < prompt.size(); at += 8)
      logits = s.evaluate({{prompt.begin() + static_cast<std::ptrdiff_t>(at),
                            prompt.begin() + static_cast<std::ptrdiff_t>(std::min(prompt.size(), at + 8))},
                           {},
                           {}});
    out.push_back(logits);
    for (int i = 0; i < 16; ++i) {
      const int32_t token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      logits = s.evaluate({{token}, {}, {}});
      out.push_back(logits);
    }
  };
  std::vector<std::vector<std::vector<float>>> alone(n), together(n);
  for (size_t k = 0; k < n; ++k) {
    Session s(*model, 256);
    s.set_adapters(stacks[k]);
    run(s, k, alone[k]);
  }
  BatcherOptions options;
  options.prefill_chunk = 8;
  options.window = std::chrono::milliseconds(50);
  Batcher batcher(*model, options);
  std::latch ready(static_cast<std::ptrdiff_t>(n));
  std::vector<std::thread> threads;
  for (size_t k = 0; k < n; ++k)
    threads.emplace_back([&, k] {
      Session s(*model, 256);
      s.set_batcher(&batcher);
      s.set_adapters(stacks[k]);
      ready.arrive_and_wait();
      run(s, k, together[k]);
    });
  for (auto& t : threads) t.join();
  for (size_t k = 0; k < n; ++k) {
    CAPTURE(k);
    CHECK(together[k] == alone[k]);
  }
  CHECK(alone[0] != alone[1]);  // the adapters matter
  // Whether steps carried several sessions depends on the threads' timing
  // (a run of this tiny model takes milliseconds); the next test mixes rows
  // of several adapters in one expert pass deterministically.
  if (batcher.stats().segments == batcher.stats().steps) WARN("no step carried several sessions this time");
}

TEST_CASE("one MoE pass over rows with different expert adapters equals each group's pass alone", "[lora][moe]") {
  auto spec = tiny_spec("qwen3moe");
  const HyperParams& hp = spec.hp;
  const int64_t E = hp.embedding_length, F = hp.expert_feed_forward_length, X = hp.expert_count;
  const WeightMode mode = GENERATE(WeightMode::F32, WeightMode::Int8);
  CAPTURE(mode == WeightMode::F32 ? "f32" : "int8");
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-0.2f, 0.2f);
  ExpertWeights m;
  m.used = hp.expert_used_count;
  m.router.resize(static_cast<size_t>(X * E));
  for (float& v : m.router) v = u(rng);
  for (int64_t x = 0; x < X; ++x) {
    std::vector<float> gu(static_cast<size_t>(2 * F * E)), down(static_cast<size_t>(E * F));
    for (float& v : gu) v = u(rng);
    for (float& v : down) v = u(rng);
    m.gate_up.push_back(Linear::from_f32(gu.data(), E, 2 * F, nullptr, mode));
    m.down.push_back(Linear::from_f32(down.data(), F, E, nullptr, mode));
  }
  const auto a = LoraStack::build({{shared(random_moe_adapter(hp, 81, 4, 8.0f, 0.2f, false)), 1.0f, "a"}}, hp);
  const auto b = LoraStack::build({{shared(random_moe_adapter(hp, 82, 4, 8.0f, 0.2f, false)), -0.5f, "b"}}, hp);
  // Three sessions' rows: 9 with adapter a, 7 with none, 12 with b (enough
  // for experts to get runs of several rows, and GEMM-sized runs).
  const std::vector<std::pair<const LoraStack*, int64_t>> groups = {{a.get(), 9}, {nullptr, 7}, {b.get(), 12}};
  int64_t n = 0;
  for (const auto& g : groups) n += g.second;
  std::vector<float> h(static_cast<size_t>(n * E));
  for (float& v : h) v = u(rng) * 5;
  std::vector<uint64_t> counts(static_cast<size_t>(X));
  std::vector<std::vector<uint64_t>*> row_counts(static_cast<size_t>(n), &counts);
  std::vector<const LoraStack*> row_lora;
  for (const auto& g : groups) row_lora.insert(row_lora.end(), static_cast<size_t>(g.second), g.first);
  const uint32_t layer = 1;
  std::vector<float> together(static_cast<size_t>(n * E));
  moe_forward(m, h.data(), n, E, together.data(), row_counts, layer, row_lora);
  int64_t begin = 0;
  for (const auto& [stack, rows] : groups) {
    CAPTURE(begin);
    std::vector<float> alone(static_cast<size_t>(rows * E)), plain(static_cast<size_t>(rows * E));
    moe_forward(m, h.data() + begin * E, rows, E, alone.data(), row_counts, layer,
                std::vector<const LoraStack*>(static_cast<size_t>(rows), stack));
    moe_forward(m, h.data() + begin * E, rows, E, plain.data(), row_counts, layer);
    CHECK(std::vector<float>(together.begin() + begin * E, together.begin() + (begin + rows) * E) == alone);
    if (stack) CHECK(max_abs_diff(alone, plain) > 1e-3);  // the experts' adapters took part
    else CHECK(alone == plain);
    // Decode: one row alone takes the side-by-side path; it agrees with the
    // row in the pass within f32 rounding.
    std::vector<float> one(static_cast<size_t>(E));
    moe_forward(m, h.data() + begin * E, 1, E, one.data(), row_counts, layer,
                std::vector<const LoraStack*>(1, stack));
    CHECK(max_abs_diff(one, std::vector<float>(alone.begin(), alone.begin() + E)) < 1e-4);
    begin += rows;
  }
}

TEST_CASE("expert adapters that do not fit the model are refused, naming the pair", "[lora][moe]") {
  TempDir dir;
  const auto spec = spec_for("qwen3moe");
  write_random_model(dir.file("m.gguf"), spec);
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 1});
  Session s(*model);
  const LoraAdapter good = random_moe_adapter(spec.hp, 71, 4, 8.0f, 0.1f, false);
  CHECK_NOTHROW(s.set_adapters({{shared(good), 1.0f, "good"}}));
  LoraAdapter past = good;
  past.pairs[0].expert = 8;
  past.expert_count = 0;
  CHECK_THAT(message_of([&] { s.set_adapters({{shared(past), 1.0f, "p"}}); }),
             Catch::Contains("layer 0 expert 8 gate_proj") && Catch::Contains("have 8 experts"));
  LoraAdapter dense_on_moe = good;
  dense_on_moe.pairs[0].expert = -1;
  CHECK_THAT(message_of([&] { s.set_adapters({{shared(dense_on_moe), 1.0f, "d"}}); }),
             Catch::Contains("mixture of experts") && Catch::Contains("must name an expert"));
  LoraAdapter deeper = good;
  deeper.expert_count = 16;
  CHECK_THAT(message_of([&] { s.set_adapters({{shared(deeper), 1.0f, "x"}}); }),
             Catch::Contains("stacked 16 deep") && Catch::Contains("8 experts per layer"));
  // Expert pairs on a dense model.
  const auto dense = spec_for("qwen3");
  write_random_model(dir.file("dense.gguf"), dense);
  auto dense_model = Model::open(dir.file("dense.gguf"), {WeightMode::F32, 1});
  Session d(*dense_model);
  LoraAdapter on_dense = good;
  on_dense.architecture = "qwen3";
  on_dense.expert_count = 0;
  CHECK_THAT(message_of([&] { d.set_adapters({{shared(on_dense), 1.0f, "x"}}); }),
             Catch::Contains("dense feed-forward, not experts"));
  // A stacked GGUF pair whose A and B disagree on the experts.
  GgufWriter w;
  w.set_string("general.architecture", "qwen3moe");
  w.set_string("general.type", "adapter");
  w.set_string("adapter.type", "lora");
  w.add_tensor_f32("blk.0.ffn_up_exps.weight.lora_a", GgmlType::F32, {64, 4, 8}, std::vector<float>(64 * 4 * 8));
  w.add_tensor_f32("blk.0.ffn_up_exps.weight.lora_b", GgmlType::F32, {4, 32, 4}, std::vector<float>(4 * 32 * 4));
  w.write(dir.file("stack.gguf"));
  CHECK_THAT(message_of([&] { read_lora_adapter(dir.file("stack.gguf")); }),
             Catch::Contains("blk.0.ffn_up_exps.weight") && Catch::Contains("{in, r, experts}"));
  GgufWriter r;
  r.set_string("general.architecture", "qwen3moe");
  r.set_string("general.type", "adapter");
  r.set_string("adapter.type", "lora");
  r.add_tensor_f32("blk.0.ffn_gate_inp.weight.lora_a", GgmlType::F32, {64, 4}, std::vector<float>(256));
  r.write(dir.file("router.gguf"));
  CHECK_THAT(message_of([&] { read_lora_adapter(dir.file("router.gguf")); }), Catch::Contains("router"));
}

TEST_CASE("adapter algebra: scale 0 and B = 0 change nothing, two equal their sum, merging agrees",
          "[lora]") {
  TempDir dir;
  const auto spec = spec_for("qwen3");
  write_random_model(dir.file("m.gguf"), spec);
  const auto tokens = random_tokens(10, spec.hp.vocab_size, 4);
  for (WeightMode mode : {WeightMode::F32, WeightMode::Int8}) {
    INFO((mode == WeightMode::F32 ? "f32" : "int8"));
    auto model = Model::open(dir.file("m.gguf"), {mode, 2});
    const auto base = all_logits(*model, tokens);
    auto a = shared(random_adapter(spec.hp, 11));
    CHECK(all_logits(*model, tokens, {{a, 0.0f, "a"}}) == base);
    LoraAdapter zero_b = random_adapter(spec.hp, 12);
    for (LoraPair& p : zero_b.pairs) std::fill(p.b.begin(), p.b.end(), 0.0f);
    CHECK(all_logits(*model, tokens, {{shared(zero_b), 1.0f, "zero"}}) == base);

    // Two adapters, against one adapter holding both (ranks stacked, each
    // pair's scale folded into its B).
    auto b = shared(random_adapter(spec.hp, 13, 3, 3.0f));
    LoraAdapter sum;
    sum.architecture = spec.hp.arch;
    for (size_t i = 0; i < a->pairs.size(); ++i) {
      const LoraPair &pa = a->pairs[i], &pb = b->pairs[i];
      LoraPair p = pa;
      p.rank = pa.rank + pb.rank;
      p.alpha = static_cast<float>(p.rank);  // scale 1
      p.a = pa.a;
      p.a.insert(p.a.end(), pb.a.begin(), pb.a.end());
      p.b.assign(static_cast<size_t>(p.out * p.rank), 0.0f);
      for (int64_t o = 0; o < p.out; ++o) {
        for (int64_t k = 0; k < pa.rank; ++k) p.b[o * p.rank + k] = 0.5f * a->scale(pa) * pa.b[o * pa.rank + k];
        for (int64_t k = 0; k < pb.rank; ++k) p.b[o * p.rank + pa.rank + k] = 2.0f * b->scale(pb) * pb.b[o * pb.rank + k];
      }
      sum.pairs.push_back(std::move(p));
    }
    const auto two = all_logits(*model, tokens, {{a, 0.5f, "a"}, {b, 2.0f, "b"}});
    const auto one = all_logits(*model, tokens, {{shared(sum), 1.0f, "sum"}});
    // int8: the two sum in another order, and a last-bit difference may move
    // a quantised activation by one step downstream.
    CHECK(max_abs_diff(two, one) < (mode == WeightMode::F32 ? 1e-4 : 0.05 * max_abs_diff(two, base)));
    CHECK(max_abs_diff(two, base) > 1e-2);

    // A -> B -> A on one session: the cache is dropped at each switch, and A's
    // logits come back bit for bit.
    Session s(*model);
    const std::vector<bool> every(tokens.size(), true);
    s.set_adapters({{a, 1.0f, "a"}});
    const auto first = s.evaluate({tokens, {}, every});
    CHECK(s.adapter_key() == "a@1");
    s.set_adapters({{b, 1.0f, "b"}});
    CHECK(s.length() == 0);
    const auto other = s.evaluate({tokens, {}, every});
    s.set_adapters({{a, 1.0f, "a"}});
    CHECK(s.evaluate({tokens, {}, every}) == first);
    CHECK(first != other);
    // The same adapters again keep the cache; none drops it.
    s.set_adapters({{a, 1.0f, "a"}});
    CHECK(s.length() == tokens.size());
    s.set_adapters(std::vector<AdapterChoice>{});
    CHECK(s.length() == 0);
    CHECK(s.adapter_key().empty());
    CHECK(s.evaluate({tokens, {}, every}) == base);
  }

  // Merged W + s·B·A in an f32 model file equals the unmerged adapter.
  const LoraAdapter a = random_adapter(spec.hp, 21);
  const GgufFile f = GgufFile::open(dir.file("m.gguf"));
  GgufWriter w;
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  for (const GgufTensor& t : f.tensors()) {
    std::vector<uint8_t> bytes(t.data, t.data + t.bytes);
    REQUIRE(t.type == GgmlType::F32);
    for (const LoraPair& p : a.pairs) {
      if (t.name != "blk." + std::to_string(p.layer) + "." + lora_target_gguf_name(p.target) + ".weight") continue;
      std::vector<float> wv(static_cast<size_t>(p.in * p.out));
      std::memcpy(wv.data(), bytes.data(), bytes.size());
      const float s = 0.7f * a.scale(p);
      for (int64_t o = 0; o < p.out; ++o)
        for (int64_t i = 0; i < p.in; ++i) {
          double d = 0;
          for (int64_t k = 0; k < p.rank; ++k) d += double(p.b[o * p.rank + k]) * p.a[k * p.in + i];
          wv[o * p.in + i] += static_cast<float>(s * d);
        }
      std::memcpy(bytes.data(), wv.data(), bytes.size());
    }
    w.add_tensor(t.name, t.type, t.ne, std::move(bytes));
  }
  w.write(dir.file("merged.gguf"));
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 2});
  auto merged = Model::open(dir.file("merged.gguf"), {WeightMode::F32, 2});
  const auto unmerged_logits = all_logits(*model, tokens, {{shared(a), 0.7f, "a"}});
  const auto merged_logits = all_logits(*merged, tokens);
  CHECK(max_row_error(unmerged_logits, merged_logits, spec.hp.vocab_size) < 1e-5);
  CHECK(max_abs_diff(unmerged_logits, all_logits(*model, tokens)) > 1e-2);
}

TEST_CASE("PEFT and GGUF files of one adapter give the same logits", "[lora]") {
  TempDir dir;
  const auto spec = spec_for("qwen2");
  write_random_model(dir.file("m.gguf"), spec);
  LoraAdapter a = random_adapter(spec.hp, 31);
  a.rslora = true;
  a.pairs[3].alpha = 2.0f;
  write_peft_adapter(a, dir.file("peft"), "Qwen/Qwen2.5-Coder-0.5B");
  write_gguf_adapter(a, dir.file("a.gguf"));
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 2});
  const auto tokens = random_tokens(10, spec.hp.vocab_size, 8);
  const auto from_peft = all_logits(*model, tokens, {{shared(read_lora_adapter(dir.file("peft"))), 1.0f, "p"}});
  const auto from_gguf = all_logits(*model, tokens, {{shared(read_lora_adapter(dir.file("a.gguf"))), 1.0f, "g"}});
  const auto from_memory = all_logits(*model, tokens, {{shared(a), 1.0f, "m"}});
  CHECK(from_peft == from_memory);
  CHECK(max_row_error(from_gguf, from_memory, spec.hp.vocab_size) < 1e-5);
  // The config file alone names the directory too.
  CHECK(read_lora_adapter(dir.file("peft/adapter_config.json")).pairs.size() == a.pairs.size());
}

TEST_CASE("PEFT adapters in BF16 and F16, with regex rank and alpha patterns, read as PEFT means them",
          "[lora]") {
  TempDir dir;
  const auto spec = spec_for("qwen2");
  LoraAdapter a = random_adapter(spec.hp, 51, 4, 8.0f, 0.1f, {LoraTarget::Q, LoraTarget::K});
  write_peft_adapter(a, dir.file("peft"), "Qwen/Qwen2.5-Coder-0.5B");
  // Rewrite the tensors as BF16 (A) and F16 (B), as training in half precision saves them.
  const std::string st = dir.file("peft/adapter_model.safetensors");
  std::ifstream in(st, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  auto header = boost::json::parse(bytes.substr(8, n)).as_object();
  std::string data;
  boost::json::object out_header;
  for (auto& [name, info] : header) {
    if (name == "__metadata__") {
      out_header[name] = boost::json::object{{"format", "pt"}};  // as PEFT writes it: no astfill key
      continue;
    }
    const auto& offsets = info.at("data_offsets").as_array();
    const size_t begin = offsets[0].to_number<size_t>(), end = offsets[1].to_number<size_t>();
    const bool is_a = std::string_view(name).find("lora_A") != std::string_view::npos;
    const size_t at = data.size();
    for (size_t i = begin; i < end; i += 4) {
      float v;
      std::memcpy(&v, bytes.data() + 8 + n + i, 4);
      const uint16_t h = is_a ? f32_to_bf16(v) : f32_to_f16(v);
      data.append(reinterpret_cast<const char*>(&h), 2);
    }
    out_header[name] = boost::json::object{{"dtype", is_a ? "BF16" : "F16"},
                                           {"shape", info.at("shape")},
                                           {"data_offsets", boost::json::array{at, data.size()}}};
  }
  std::string head = boost::json::serialize(out_header);
  n = head.size();
  std::string file(8, '\0');
  std::memcpy(file.data(), &n, 8);
  write_text(st, file + head + data);
  // Patterns as PEFT users write them: a regex key matched against the end of the module's name.
  auto cfg = boost::json::parse(R"({"peft_type":"LORA","r":4,"lora_alpha":8,"target_modules":["q_proj","k_proj"],
      "rank_pattern":{"k_proj":6},"alpha_pattern":{"layers\\.1\\.self_attn\\.q_proj":2}})");
  write_text(dir.file("peft/adapter_config.json"), boost::json::serialize(cfg));
  const LoraAdapter got = read_lora_adapter(dir.file("peft"));
  CHECK(got.architecture.empty());  // the base model's name is missing: checked on shapes alone
  REQUIRE(got.pairs.size() == a.pairs.size());
  for (const LoraPair& p : got.pairs) {
    const LoraPair* want = nullptr;
    for (const LoraPair& q : a.pairs)
      if (q.layer == p.layer && q.target == p.target) want = &q;
    REQUIRE(want);
    CHECK(p.rank == want->rank);
    CHECK(p.alpha == ((p.layer == 1 && p.target == LoraTarget::Q) ? 2.0f : 8.0f));
    for (size_t i = 0; i < p.a.size(); ++i) CHECK(p.a[i] == bf16_to_f32(f32_to_bf16(want->a[i])));
    for (size_t i = 0; i < p.b.size(); ++i) CHECK(p.b[i] == f16_to_f32(f32_to_f16(want->b[i])));
  }
  auto model = [&] {
    write_random_model(dir.file("m.gguf"), spec);
    return Model::open(dir.file("m.gguf"), {WeightMode::F32, 1});
  }();
  Session s(*model);
  CHECK_NOTHROW(s.set_adapters({{shared(got), 1.0f, "half"}}));

  // A pattern is the file's text: one that makes a backtracking engine take
  // exponential time is matched in linear time, and one that is no regular
  // expression (nested repetition) is refused, naming the key.
  auto slow = boost::json::parse(R"({"peft_type":"LORA","r":4,"lora_alpha":8,"target_modules":["q_proj","k_proj"],
      "rank_pattern":{"k_proj":6},"alpha_pattern":{"(.*a)*(.*a)*(.*a)*(.*a)*(.*a)*(.*a)*x":2}})");
  write_text(dir.file("peft/adapter_config.json"), boost::json::serialize(slow));
  const auto started = std::chrono::steady_clock::now();
  CHECK(read_lora_adapter(dir.file("peft")).pairs.size() == a.pairs.size());
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
  auto nested = boost::json::parse(R"({"peft_type":"LORA","r":4,"lora_alpha":8,"target_modules":["q_proj","k_proj"],
      "rank_pattern":{"k_proj":6},"alpha_pattern":{"mode****attn":2}})");
  write_text(dir.file("peft/adapter_config.json"), boost::json::serialize(nested));
  try {
    read_lora_adapter(dir.file("peft"));
    FAIL("a nested repetition was accepted");
  } catch (const ModelError& e) {
    CHECK_THAT(e.what(), Catch::Contains("'alpha_pattern' key 'mode****attn' is not a regular expression"));
  }
}

TEST_CASE("bad adapters get clear errors", "[lora]") {
  TempDir dir;
  const auto spec = spec_for("qwen3");
  write_random_model(dir.file("m.gguf"), spec);
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 1});
  const LoraAdapter good = random_adapter(spec.hp, 41, 4, 8.0f, 0.1f, {LoraTarget::Q, LoraTarget::O});
  write_peft_adapter(good, dir.file("peft"), "Qwen/Qwen3-0.6B");
  const std::string cfg_path = dir.file("peft/adapter_config.json");
  std::ifstream cfg_in(cfg_path);
  const std::string cfg_text{std::istreambuf_iterator<char>(cfg_in), {}};
  auto with_config = [&](const std::string& key, boost::json::value v) {
    auto cfg = boost::json::parse(cfg_text).as_object();
    cfg[key] = v;
    write_text(cfg_path, boost::json::serialize(cfg));
    return message_of([&] { read_lora_adapter(dir.file("peft")); });
  };
  CHECK_THAT(with_config("use_dora", true), Catch::Contains("adapter_config.json") && Catch::Contains("DoRA"));
  CHECK_THAT(with_config("modules_to_save", boost::json::array{"lm_head"}), Catch::Contains("modules_to_save"));
  CHECK_THAT(with_config("bias", "lora_only"), Catch::Contains("LoRA biases"));
  CHECK_THAT(with_config("peft_type", "IA3"), Catch::Contains("only LORA"));
  CHECK_THAT(with_config("r", 8), Catch::Contains("has rank 4, adapter_config.json says 8"));
  // A rank no integer holds is named as written (the fuzzer's 4.2e41 was
  // cast to an integer for the message: undefined behaviour).
  CHECK_THAT(with_config("r", 4.2e41), Catch::Contains("has rank 4, adapter_config.json says 4.2"));
  write_text(cfg_path, cfg_text);
  CHECK_NOTHROW(read_lora_adapter(dir.file("peft")));

  // Tensors PEFT writes for what astfill does not support.
  auto with_tensor = [&](const std::string& name, std::vector<int64_t> shape) {
    LoraAdapter tmp = good;
    write_peft_adapter(tmp, dir.file("extra"), "x");
    // Append one more tensor by rewriting the safetensors header.
    const std::string st = dir.file("extra/adapter_model.safetensors");
    std::ifstream in(st, std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>(in), {}};
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    auto header = boost::json::parse(bytes.substr(8, n)).as_object();
    std::string data = bytes.substr(8 + n);
    size_t count = 1;
    boost::json::array sh;
    for (int64_t d : shape) count *= static_cast<size_t>(d), sh.emplace_back(d);
    header[name] = boost::json::object{{"dtype", "F32"}, {"shape", sh},
                                       {"data_offsets", boost::json::array{data.size(), data.size() + 4 * count}}};
    data.append(4 * count, '\0');
    std::string head = boost::json::serialize(header);
    n = head.size();
    std::string out(8, '\0');
    std::memcpy(out.data(), &n, 8);
    write_text(st, out + head + data);
    return message_of([&] { read_lora_adapter(dir.file("extra")); });
  };
  CHECK_THAT(with_tensor("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", {64}),
             Catch::Contains("DoRA"));
  CHECK_THAT(with_tensor("base_model.model.model.embed_tokens.lora_embedding_A", {4, 512}),
             Catch::Contains("tied embeddings"));
  CHECK_THAT(with_tensor("base_model.model.lm_head.lora_A.weight", {4, 64}), Catch::Contains("LM head"));
  CHECK_THAT(with_tensor("base_model.model.model.layers.0.self_attn.q_proj.bias", {64}),
             Catch::Contains("LoRA biases"));
  CHECK_THAT(with_tensor("base_model.model.model.layers.0.mlp.gate.lora_A.weight", {4, 64}),
             Catch::Contains("router (mlp.gate)"));
  CHECK_THAT(with_tensor("base_model.model.model.layers.0.mlp.shared_expert.up_proj.lora_A.weight", {4, 64}),
             Catch::Contains("shared expert"));
  CHECK_THAT(with_config("target_parameters", boost::json::array{"mlp.experts.gate_up_proj"}),
             Catch::Contains("target_parameters"));
  write_text(cfg_path, cfg_text);
  CHECK_THAT(with_tensor("base_model.model.model.layers.1.self_attn.k_proj.lora_A.weight", {4, 64}),
             Catch::Contains("k_proj has lora_A but no lora_B"));

  // Another architecture, another size, a layer the model lacks: refused when applied.
  Session s(*model);
  LoraAdapter other = good;
  other.architecture = "qwen2";
  other.source = "other.gguf";
  CHECK_THAT(message_of([&] { s.set_adapters({{shared(other), 1.0f, "o"}}); }),
             Catch::Contains("other.gguf") && Catch::Contains("'qwen2'") && Catch::Contains("'qwen3'"));
  auto bigger = spec;
  bigger.hp.embedding_length = 96;
  LoraAdapter wide = random_adapter(bigger.hp, 1, 4, 8.0f, 0.1f, {LoraTarget::Q});
  CHECK_THAT(message_of([&] { s.set_adapters({{shared(wide), 1.0f, "w"}}); }),
             Catch::Contains("layer 0 q_proj maps 96 -> 64") && Catch::Contains("another model size"));
  LoraAdapter deep = good;
  deep.pairs[0].layer = 7;
  CHECK_THAT(message_of([&] { s.set_adapters({{shared(deep), 1.0f, "d"}}); }), Catch::Contains("has 2 layers"));
  CHECK(s.adapter_key().empty());  // refusals leave the session as it was

  // GGUF: a model is not an adapter; bytes that are neither format; a missing path.
  CHECK_THAT(message_of([&] { read_lora_adapter(dir.file("m.gguf")); }), Catch::Contains("not \"adapter\""));
  write_text(dir.file("junk.bin"), "hello");
  CHECK_THAT(message_of([&] { read_lora_adapter(dir.file("junk.bin")); }),
             Catch::Contains("junk.bin") && Catch::Contains("neither a GGUF adapter nor a PEFT directory"));
  CHECK_THAT(message_of([&] { read_lora_adapter(dir.file("nope")); }), Catch::Contains("no such file"));
  GgufWriter w;
  w.set_string("general.architecture", "qwen3");
  w.set_string("general.type", "adapter");
  w.set_string("adapter.type", "lora");
  w.add_tensor_f32("token_embd.weight.lora_a", GgmlType::F32, {64, 4}, std::vector<float>(256));
  w.write(dir.file("embd.gguf"));
  CHECK_THAT(message_of([&] { read_lora_adapter(dir.file("embd.gguf")); }), Catch::Contains("tied embeddings"));
  GgufWriter x;
  x.set_string("general.architecture", "qwen3");
  x.set_string("general.type", "adapter");
  x.set_string("adapter.type", "lora");
  x.add_tensor_f32("blk.0.attn_q.weight.lora_a", GgmlType::F32, {64, 4}, std::vector<float>(256));
  x.add_tensor_f32("blk.0.attn_q.weight.lora_b", GgmlType::F32, {5, 64}, std::vector<float>(320));
  x.write(dir.file("mismatch.gguf"));
  CHECK_THAT(message_of([&] { read_lora_adapter(dir.file("mismatch.gguf")); }),
             Catch::Contains("lora_a must be {in, r} and lora_b {r, out}"));
}
