// The engine's named intermediates (Session::set_tensor_hook) against the
// numpy reference's (tests/reference/qwen_ref.py --dump-dir), tensor by
// tensor and layer by layer, so a wrong block shows up at the first tensor
// that disagrees rather than only in the final logits. Both prefill (every
// row of a batch) and decode (one token through the KV cache).
#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/model.h"
#include "reference.h"
#include "temp_dir.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::engine;
using namespace astfill::testing;

namespace {

struct Tensor {
  int64_t rows = 0, cols = 0;
  std::vector<float> data;
  const float* row(int64_t r) const { return data.data() + r * cols; }
};

// Named tensors in the order they were produced.
struct Dumps {
  std::vector<std::string> order;
  std::map<std::string, Tensor> tensors;
  void add(const std::string& name, Tensor t) {
    if (tensors.emplace(name, std::move(t)).second) order.push_back(name);
  }
};

Dumps reference_dumps(const std::string& model, const std::vector<int32_t>& tokens, const std::string& dir) {
  std::ostringstream cmd;
  cmd << kPython << " " << ASTFILL_SOURCE_DIR << "/tests/reference/qwen_ref.py " << model << " --all --out " << dir
      << "/logits.bin --dump-dir " << dir << " --tokens ";
  for (size_t i = 0; i < tokens.size(); ++i) cmd << (i ? "," : "") << tokens[i];
  cmd << " > /dev/null";
  REQUIRE(std::system(cmd.str().c_str()) == 0);
  std::ifstream index_file(dir + "/index.json");
  std::string text{std::istreambuf_iterator<char>(index_file), {}};
  Dumps d;
  // index.json lists the tensors in evaluation order; boost::json keeps it.
  const boost::json::value index = boost::json::parse(text);
  for (const auto& [name, shape] : index.as_object()) {
    Tensor t;
    t.rows = shape.as_array()[0].to_number<int64_t>();
    t.cols = shape.as_array()[1].to_number<int64_t>();
    std::ifstream in(dir + "/" + std::string(name) + ".f32", std::ios::binary);
    std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
    REQUIRE(bytes.size() == static_cast<size_t>(t.rows * t.cols) * 4);
    t.data.resize(bytes.size() / 4);
    std::memcpy(t.data.data(), bytes.data(), bytes.size());
    d.add(std::string(name), std::move(t));
  }
  return d;
}

TensorHook recorder(Dumps& d) {
  return [&d](const TensorDump& t) {
    d.add(std::string(t.name), Tensor{t.rows, t.cols, std::vector<float>(t.data, t.data + t.rows * t.cols)});
  };
}

// The largest row error (relative to the row's largest reference value) over
// the rows compared: engine row r against reference row first_row + r.
double tensor_error(const Tensor& got, const Tensor& want, int64_t first_row) {
  double worst = 0;
  for (int64_t r = 0; r < got.rows; ++r)
    worst = std::max(worst, max_relative_error(got.row(r), want.row(first_row + r), static_cast<size_t>(got.cols)));
  return worst;
}

// Every reference tensor has its engine twin of the same shape within
// `tolerance`; the message names the first one that is not.
void compare(const Dumps& got, const Dumps& want, int64_t first_row, double tolerance) {
  std::string first_bad;
  for (const auto& name : want.order) {
    INFO("tensor " << name);
    auto it = got.tensors.find(name);
    REQUIRE(it != got.tensors.end());
    const Tensor& a = it->second;
    const Tensor& b = want.tensors.at(name);
    REQUIRE(a.cols == b.cols);
    REQUIRE(first_row + a.rows <= b.rows);
    double err = tensor_error(a, b, first_row);
    INFO("max relative error " << err);
    CHECK(err < tolerance);
    if (first_bad.empty() && !(err < tolerance)) first_bad = name;
  }
  INFO("the first tensor off the reference: " << first_bad);
  CHECK(first_bad.empty());
  CHECK(got.order.size() == want.order.size());
}

// The int8 test's bounds on the final logits (model_reference_test).
void check_logit_agreement(const Tensor& got, const Tensor& want) {
  LogitAgreement agreement;
  for (int64_t r = 0; r < got.rows; ++r) agreement.add(want.row(r), got.row(r), static_cast<size_t>(got.cols));
  INFO("top-1 agreement " << agreement.top1_rate() << ", mean KL " << agreement.mean_kl());
  CHECK(agreement.top1_rate() >= 0.99);
  CHECK(agreement.mean_kl() <= 0.01);
}

RandomModelSpec layer_spec(const std::string& arch, bool int8) {
  auto spec = tiny_spec(arch);
  spec.seed = 7;
  if (arch == "qwen3moe") {
    spec.hp.expert_count = 16;
    spec.hp.expert_used_count = 2;
    spec.hp.expert_feed_forward_length = 32;
  }
  // f32: weights large enough that every layer matters (as in
  // model_reference_test). int8: the stable regime of the int8-vs-f32 test,
  // where quantisation error does not grow chaotically from layer to layer.
  spec.weight_scale = int8 ? 0.02f : 0.08f;
  return spec;
}

// Prefill of every token, then decode of the last one through the cache,
// both compared tensor by tensor with the reference's one pass over all.
void check_layers(const std::string& arch, WeightMode mode, double tolerance) {
  TempDir dir;
  const bool int8 = mode == WeightMode::Int8;
  auto spec = layer_spec(arch, int8);
  write_random_model(dir.file("m.gguf"), spec);
  auto tokens = random_tokens(24, spec.hp.vocab_size, 11);
  Dumps want = reference_dumps(dir.file("m.gguf"), tokens, dir.file("ref"));
  REQUIRE(want.order.size() == 3 + 9 * spec.hp.block_count);
  auto model = Model::open(dir.file("m.gguf"), {mode, 2});
  INFO(arch << (int8 ? " int8" : " f32"));
  {
    INFO("prefill");
    Dumps got;
    Session s(*model);
    s.set_tensor_hook(recorder(got));
    s.evaluate({tokens, {}, std::vector<bool>(tokens.size(), true)});
    compare(got, want, 0, tolerance);
    if (int8) check_logit_agreement(got.tensors.at("result_output"), want.tensors.at("result_output"));
  }
  {
    INFO("decode");
    Session s(*model);
    s.evaluate({{tokens.begin(), tokens.end() - 1}, {}, {}});
    Dumps got;
    s.set_tensor_hook(recorder(got));
    s.evaluate({{tokens.back()}, {}, {}});
    compare(got, want, static_cast<int64_t>(tokens.size()) - 1, tolerance);
  }
}

}  // namespace

TEST_CASE("f32: every named intermediate matches the numpy reference, layer by layer", "[model][reference][layers]") {
  if (!have_numpy()) {
    WARN("skipped: /usr/bin/python3 has no numpy (scripts/setup installs python3-numpy)");
    return;
  }
  for (const char* arch : {"qwen2", "qwen3", "qwen3moe"}) check_layers(arch, WeightMode::F32, 1e-4);
}

// Per-row u8 activations and per-channel s8 weights put every projection's
// output within a few percent of exact: the largest seen on these models is
// 5% (ffn_out, after the activations' outliers); a wrong block is off by
// order one. The final logits meet the int8 test's top-1 and KL bounds.
TEST_CASE("int8: every named intermediate stays within quantisation error of the reference", "[model][reference][layers][int8]") {
  if (!have_numpy()) return;
  for (const char* arch : {"qwen2", "qwen3", "qwen3moe"}) check_layers(arch, WeightMode::Int8, 0.1);
}

TEST_CASE("the tensor hook sees each layer's tensors in order and costs nothing once removed", "[model][layers]") {
  TempDir dir;
  auto spec = tiny_spec("qwen3");
  write_random_model(dir.file("m.gguf"), spec);
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::F32, 2});
  std::vector<int32_t> tokens = {5, 77, 300, 12};
  Session plain(*model);
  auto want = plain.evaluate({tokens, {}, std::vector<bool>(4, true)});

  Session s(*model);
  Dumps got;
  s.set_tensor_hook(recorder(got));
  auto logits = s.evaluate({tokens, {}, {false, true, false, true}});
  const int64_t E = spec.hp.embedding_length, H = spec.hp.head_count, KV = spec.hp.head_count_kv,
                D = spec.hp.head_dim;
  REQUIRE(got.order.size() == 3 + 9 * spec.hp.block_count);
  CHECK(got.order.front() == "inp_embd");
  CHECK(got.order[1] == "attn_norm-0");
  CHECK(got.order[got.order.size() - 3] == "l_out-" + std::to_string(spec.hp.block_count - 1));
  CHECK(got.tensors.at("q-1").cols == H * D);
  CHECK(got.tensors.at("k-1").cols == KV * D);
  CHECK(got.tensors.at("v-1").rows == 4);
  CHECK(got.tensors.at("l_out-1").cols == E);
  // The result tensors hold the rows that asked for logits.
  CHECK(got.tensors.at("result_norm").rows == 2);
  CHECK(got.tensors.at("result_output").data == logits);
  // The hook changes nothing, and an empty one is never called.
  const auto V = static_cast<std::ptrdiff_t>(spec.hp.vocab_size);
  REQUIRE(logits.size() == 2 * static_cast<size_t>(V));
  CHECK(std::equal(logits.begin(), logits.begin() + V, want.begin() + V));
  CHECK(std::equal(logits.begin() + V, logits.end(), want.begin() + 3 * V));
  s.set_tensor_hook({});
  got = {};
  s.evaluate({{9}, {}, {}});
  CHECK(got.order.empty());
}
