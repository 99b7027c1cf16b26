#include "engine/lora.h"

#include <cstdio>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <re2/re2.h>
#include <regex>
#include <set>
#include <stdexcept>
#include <tuple>

#include "engine/errors.h"
#include "engine/gguf.h"
#include "engine/gguf_writer.h"
#include "engine/safetensors.h"
#include "engine/tensor_types.h"
#include "support/files.h"

namespace astfill::engine {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

struct TargetNames {
  LoraTarget target;
  const char* peft;     // q_proj
  const char* module;   // self_attn / mlp
  const char* shorter;  // q
  const char* gguf;     // attn_q
};
constexpr TargetNames kNames[] = {
    {LoraTarget::Q, "q_proj", "self_attn", "q", "attn_q"},
    {LoraTarget::K, "k_proj", "self_attn", "k", "attn_k"},
    {LoraTarget::V, "v_proj", "self_attn", "v", "attn_v"},
    {LoraTarget::O, "o_proj", "self_attn", "o", "attn_output"},
    {LoraTarget::Gate, "gate_proj", "mlp", "gate", "ffn_gate"},
    {LoraTarget::Up, "up_proj", "mlp", "up", "ffn_up"},
    {LoraTarget::Down, "down_proj", "mlp", "down", "ffn_down"},
};
const TargetNames& names(LoraTarget t) { return kNames[static_cast<int>(t)]; }

}  // namespace

const char* lora_target_name(LoraTarget t) { return names(t).peft; }
const char* lora_target_gguf_name(LoraTarget t) { return names(t).gguf; }

std::optional<LoraTarget> parse_lora_target(std::string_view name) {
  for (const TargetNames& n : kNames)
    if (name == n.peft || name == n.shorter || name == n.gguf) return n.target;
  return std::nullopt;
}

std::vector<LoraTarget> parse_lora_targets(std::string_view list) {
  std::set<int> seen;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == "all") {
      for (LoraTarget t : kLoraTargets) seen.insert(static_cast<int>(t));
    } else if (auto t = parse_lora_target(item)) {
      seen.insert(static_cast<int>(*t));
    } else {
      throw std::invalid_argument("unknown LoRA target '" + std::string(item) +
                                  "' (expected q, k, v, o, gate, up, down, their *_proj names, or all)");
    }
    start = comma + 1;
  }
  std::vector<LoraTarget> out;
  for (int t : seen) out.push_back(static_cast<LoraTarget>(t));
  return out;
}

LoraShape lora_target_shape(const HyperParams& hp, LoraTarget t) {
  const int64_t E = hp.embedding_length, F = hp.feed_forward_length;
  const int64_t HD = int64_t{hp.head_count} * hp.head_dim, KVD = int64_t{hp.head_count_kv} * hp.head_dim;
  switch (t) {
    case LoraTarget::Q: return {E, HD};
    case LoraTarget::K:
    case LoraTarget::V: return {E, KVD};
    case LoraTarget::O: return {HD, E};
    case LoraTarget::Gate:
    case LoraTarget::Up: return {E, F};
    case LoraTarget::Down: return {F, E};
  }
  return {};
}

LoraShape lora_expert_shape(const HyperParams& hp, LoraTarget t) {
  const int64_t E = hp.embedding_length, F = hp.expert_feed_forward_length;
  switch (t) {
    case LoraTarget::Gate:
    case LoraTarget::Up: return {E, F};
    case LoraTarget::Down: return {F, E};
    default: return {};
  }
}

float LoraAdapter::scale(const LoraPair& p) const {
  if (p.rank <= 0) return 0.0f;
  const double r = static_cast<double>(p.rank);
  return static_cast<float>(p.alpha / (rslora ? std::sqrt(r) : r));
}

namespace {
std::string pair_name(const LoraPair& p) {
  return "layer " + std::to_string(p.layer) + (p.expert >= 0 ? " expert " + std::to_string(p.expert) : "") + " " +
         lora_target_name(p.target);
}
std::string origin(const LoraAdapter& a) { return a.source.empty() ? std::string("LoRA adapter") : a.source; }
}  // namespace

void LoraAdapter::check_against(const HyperParams& hp) const {
  // An empty architecture (a PEFT adapter whose base model name does not say
  // it) is checked on the shapes alone.
  if (!architecture.empty() && architecture != hp.arch)
    throw ModelError(origin(*this) + ": the adapter is for architecture '" + architecture + "', the model is '" +
                     hp.arch + "'");
  if (expert_count != 0 && expert_count != hp.expert_count &&
      std::any_of(pairs.begin(), pairs.end(), [](const LoraPair& p) { return p.expert >= 0; }))
    throw ModelError(origin(*this) + ": the adapter's experts are stacked " + std::to_string(expert_count) +
                     " deep, the model has " + std::to_string(hp.expert_count) + " experts per layer");
  std::set<std::tuple<uint32_t, int, int32_t>> seen;
  for (const LoraPair& p : pairs) {
    if (p.layer >= hp.block_count)
      throw ModelError(origin(*this) + ": " + pair_name(p) + ": the model has " + std::to_string(hp.block_count) +
                       " layers");
    if (!seen.insert({p.layer, static_cast<int>(p.target), p.expert}).second)
      throw ModelError(origin(*this) + ": " + pair_name(p) + " appears twice");
    const bool mlp = p.target == LoraTarget::Gate || p.target == LoraTarget::Up || p.target == LoraTarget::Down;
    const bool moe = hp.is_moe_layer(p.layer);
    if (p.expert >= 0 && !mlp)
      throw ModelError(origin(*this) + ": " + pair_name(p) + ": only gate, up and down projections have experts");
    if (mlp && moe && p.expert < 0)
      throw ModelError(origin(*this) + ": " + pair_name(p) +
                       ": the layer's feed-forward is a mixture of experts; its adapter pairs must name an expert "
                       "(mlp.experts.N." + lora_target_name(p.target) + ", or ffn_*_exps in GGUF)");
    if (p.expert >= 0 && !moe)
      throw ModelError(origin(*this) + ": " + pair_name(p) + ": the model's layer " + std::to_string(p.layer) +
                       " has a dense feed-forward, not experts (an adapter for another model?)");
    if (p.expert >= 0 && static_cast<uint32_t>(p.expert) >= hp.expert_count)
      throw ModelError(origin(*this) + ": " + pair_name(p) + ": the model's layers have " +
                       std::to_string(hp.expert_count) + " experts");
    const LoraShape s = p.expert >= 0 ? lora_expert_shape(hp, p.target) : lora_target_shape(hp, p.target);
    if (p.in != s.in || p.out != s.out)
      throw ModelError(origin(*this) + ": " + pair_name(p) + " maps " + std::to_string(p.in) + " -> " +
                       std::to_string(p.out) + " values, the model's projection " + std::to_string(s.in) + " -> " +
                       std::to_string(s.out) + " (an adapter for another model size?)");
    if (p.rank <= 0 || p.a.size() != static_cast<size_t>(p.rank * p.in) ||
        p.b.size() != static_cast<size_t>(p.out * p.rank))
      throw ModelError(origin(*this) + ": " + pair_name(p) + ": A and B do not hold rank x in and out x rank values");
    if (!std::isfinite(p.alpha))
      throw ModelError(origin(*this) + ": " + pair_name(p) + ": alpha is not finite");
  }
}

// ---- reading ------------------------------------------------------------------

namespace {

json::object read_json_object(const std::string& path) {
  support::FileContent file = support::read_file(path, support::kMaxTextFileBytes);
  if (!file.ok()) throw ModelError(path + ": cannot read: " + file.error);
  std::error_code ec;
  json::value v = json::parse(file.text, ec);
  if (ec) throw ModelError(path + ": not valid JSON: " + ec.message());
  if (!v.is_object()) throw ModelError(path + ": not a JSON object");
  return v.as_object();
}

std::optional<double> json_number(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_double()) return v.as_double();
  return std::nullopt;
}

double number_key(const std::string& path, const json::object& o, const char* key, std::optional<double> fallback) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) {
    if (fallback) return *fallback;
    throw ModelError(path + ": '" + key + "' is missing");
  }
  auto d = json_number(*v);
  if (!d || !std::isfinite(*d)) throw ModelError(path + ": '" + key + "' is not a number");
  return *d;
}

bool truthy(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_bool() && v->as_bool();
}

// A number from adapter_config.json as it was written (`8`, `0.5`,
// `4.2e+41`): any double, without a cast that a huge one would overflow.
std::string config_number(double v) {
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, v);  // the shortest text that reads back as v
  return ec == std::errc() ? std::string(text, end) : std::string("?");
}

// PEFT's rank_pattern / alpha_pattern: keys are regular expressions matched
// against the end of the module's name (get_pattern_key).
// RE2, not std::regex: a key is the file's text, and a backtracking engine
// takes exponential time on a hostile one (`mode****…` hung the fuzzer);
// RE2 matches in linear time and refuses what it cannot (backreferences,
// lookaround) with a message.
struct Pattern {
  std::string key;
  std::shared_ptr<const re2::RE2> re;
  double value;
};
std::vector<Pattern> read_pattern(const std::string& path, const json::object& cfg, const char* key) {
  std::vector<Pattern> out;
  const json::value* v = cfg.if_contains(key);
  if (!v || v->is_null()) return out;
  if (!v->is_object()) throw ModelError(path + ": '" + key + "' is not an object");
  for (const auto& [k, val] : v->as_object()) {
    auto d = json_number(val);
    if (!d || !std::isfinite(*d)) throw ModelError(path + ": '" + key + "." + std::string(k) + "' is not a number");
    re2::RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const re2::RE2>("(.*\\.)?(" + std::string(k) + ")", options);
    if (!re->ok())
      throw ModelError(path + ": '" + key + "' key '" + std::string(k) + "' is not a regular expression: " + re->error());
    out.push_back({std::string(k), std::move(re), *d});
  }
  return out;
}
std::optional<double> match_pattern(const std::vector<Pattern>& patterns, const std::string& module) {
  for (const Pattern& p : patterns)
    if (re2::RE2::FullMatch(module, *p.re)) return p.value;
  return std::nullopt;
}

std::vector<float> safetensor_f32(const std::string& path, const SafeTensor& t) {
  const size_t n = t.bytes / std::max<size_t>(1, safetensors_dtype_size(t.dtype));
  std::vector<float> out(n);
  if (t.dtype == "F32") {
    std::memcpy(out.data(), t.data, n * sizeof(float));
  } else if (t.dtype == "F16" || t.dtype == "BF16") {
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, t.data + 2 * i, 2);
      out[i] = t.dtype == "F16" ? f16_to_f32(h) : bf16_to_f32(h);
    }
  } else {
    throw ModelError(path + ": tensor '" + t.name + "' has dtype " + t.dtype + " (LoRA weights must be F32, F16 or BF16)");
  }
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(out[i]))
      throw ModelError(path + ": tensor '" + t.name + "' holds a NaN or infinite value at element " + std::to_string(i));
  return out;
}

// "base_model.model.model.layers.12.self_attn.q_proj.lora_A.weight" ->
// layer 12, Q, 'A'. Everything else is refused with the reason.
struct PeftName {
  uint32_t layer = 0;
  LoraTarget target = LoraTarget::Q;
  int32_t expert = -1;
  char which = 'A';
  std::string module;  // model.layers.12.self_attn.q_proj, model.layers.3.mlp.experts.5.up_proj
};
PeftName parse_peft_name(const std::string& path, const std::string& name) {
  auto refuse = [&](const std::string& why) -> PeftName { throw ModelError(path + ": tensor '" + name + "': " + why); };
  if (name.find("lora_magnitude_vector") != std::string::npos)
    return refuse("a DoRA magnitude vector (DoRA adapters are not supported)");
  if (name.find("modules_to_save") != std::string::npos)
    return refuse("a full module copy (modules_to_save is not supported)");
  if (name.find("lora_embedding_") != std::string::npos || name.find("embed_tokens") != std::string::npos ||
      name.find("lm_head") != std::string::npos)
    return refuse("LoRA on the embedding or the LM head (tied embeddings) is not supported");
  static const std::regex re(
      R"(^(?:base_model\.model\.)?((?:model\.)?layers\.(\d+)\.(self_attn|mlp)\.(?:experts\.(\d+)\.)?([a-z_]+))\.lora_([AB])\.weight$)");
  std::smatch m;
  if (!std::regex_match(name, m, re)) {
    if (name.find("shared_expert") != std::string::npos)
      return refuse("LoRA on a shared expert (Qwen2-MoE) is not supported");
    if (name.find(".experts.") != std::string::npos)
      return refuse("not a LoRA A/B weight of an expert's gate_proj, up_proj or down_proj "
                    "(layers.N.mlp.experts.J.X_proj.lora_A/B.weight)");
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0)
      return refuse("a bias (LoRA biases are not supported)");
    return refuse("not a LoRA A/B weight of a layer's q/k/v/o or MLP projection");
  }
  PeftName out;
  const std::string layer = m[2].str();
  if (layer.size() > 6) return refuse("layer number out of range");
  out.layer = static_cast<uint32_t>(std::stoul(layer));
  if (m[4].matched) {
    if (m[4].length() > 6) return refuse("expert number out of range");
    out.expert = static_cast<int32_t>(std::stol(m[4].str()));
  }
  if (m[3].str() == "mlp" && m[5].str() == "gate" && out.expert < 0)
    return refuse("LoRA on the mixture-of-experts router (mlp.gate) is not supported");
  auto t = parse_lora_target(m[5].str());
  if (!t || m[5].str() != lora_target_name(*t) || m[3].str() != names(*t).module ||
      (out.expert >= 0 && *t != LoraTarget::Gate && *t != LoraTarget::Up && *t != LoraTarget::Down))
    return refuse("'" + m[3].str() + "." + (out.expert >= 0 ? "experts." + m[4].str() + "." : std::string()) +
                  m[5].str() + "' is not a projection astfill adapts");
  out.target = *t;
  out.which = m[6].str()[0];
  out.module = m[1].str();
  if (out.module.rfind("model.", 0) != 0) out.module = "model." + out.module;
  return out;
}

// The safetensors metadata key (and, in adapters astfill wrote before, the
// adapter_config.json key) that records the base model's architecture.
constexpr const char* kArchitectureKey = "astfill_architecture";

std::string read_peft_architecture(const json::object& cfg, const SafetensorsFile& weights) {
  // Where astfill wrote it: the safetensors header's __metadata__ (free-form
  // strings, which PEFT and safetensors pass over), or, in adapters written
  // before, adapter_config.json (which PEFT before 0.13 refuses: LoraConfig
  // takes no unknown keys).
  if (auto it = weights.metadata().find(kArchitectureKey); it != weights.metadata().end() && !it->second.empty())
    return it->second;
  if (const json::value* v = cfg.if_contains(kArchitectureKey); v && v->is_string()) return v->as_string().c_str();
  // PEFT records no architecture; the base model's name usually says it.
  // base_model_name_or_path is a free-form path, so the architecture is taken
  // from the tensor shapes at check time; "qwen2" family names map here.
  std::string base;
  if (const json::value* v = cfg.if_contains("base_model_name_or_path"); v && v->is_string()) base = v->as_string().c_str();
  std::string lower;
  for (char c : base) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.find("qwen3") != std::string::npos && (lower.find("moe") != std::string::npos ||
                                                   lower.find("-a3b") != std::string::npos ||
                                                   lower.find("-a22b") != std::string::npos))
    return "qwen3moe";
  if (lower.find("qwen3") != std::string::npos) return "qwen3";
  if (lower.find("qwen2") != std::string::npos) return "qwen2";
  return "";  // unknown: accepted for any architecture whose shapes match
}

LoraAdapter read_peft(const std::string& dir) {
  const std::string config_path = (fs::path(dir) / "adapter_config.json").string();
  const std::string weights_path = (fs::path(dir) / "adapter_model.safetensors").string();
  if (!fs::exists(config_path)) throw ModelError(dir + ": no adapter_config.json (not a PEFT adapter directory)");
  if (!fs::exists(weights_path)) {
    if (fs::exists(fs::path(dir) / "adapter_model.bin"))
      throw ModelError(dir + ": adapter_model.bin is a pickle; convert it to adapter_model.safetensors");
    throw ModelError(dir + ": no adapter_model.safetensors");
  }
  const json::object cfg = read_json_object(config_path);
  if (const json::value* v = cfg.if_contains("peft_type"); v && !(v->is_string() && v->as_string() == "LORA"))
    throw ModelError(config_path + ": peft_type is " + json::serialize(*v) + " (only LORA adapters are supported)");
  if (truthy(cfg, "use_dora")) throw ModelError(config_path + ": use_dora is true (DoRA adapters are not supported)");
  if (const json::value* v = cfg.if_contains("target_parameters");
      v && !v->is_null() && !(v->is_array() && v->as_array().empty()))
    throw ModelError(config_path + ": target_parameters is " + json::serialize(*v) +
                     " (LoRA on fused expert parameters is not supported; per-expert modules, "
                     "mlp.experts.N.gate_proj/up_proj/down_proj, are)");
  if (truthy(cfg, "fan_in_fan_out"))
    throw ModelError(config_path + ": fan_in_fan_out is true (a GPT-2 style adapter, not for this model)");
  if (const json::value* v = cfg.if_contains("modules_to_save");
      v && !v->is_null() && !(v->is_array() && v->as_array().empty()))
    throw ModelError(config_path + ": modules_to_save is " + json::serialize(*v) +
                     " (adapters that replace whole modules are not supported)");
  if (const json::value* v = cfg.if_contains("bias"); v && !(v->is_string() && v->as_string() == "none"))
    throw ModelError(config_path + ": bias is " + json::serialize(*v) + " (LoRA biases are not supported)");
  const double r = number_key(config_path, cfg, "r", 8.0);
  const double lora_alpha = number_key(config_path, cfg, "lora_alpha", 8.0);
  const std::vector<Pattern> rank_pattern = read_pattern(config_path, cfg, "rank_pattern");
  const std::vector<Pattern> alpha_pattern = read_pattern(config_path, cfg, "alpha_pattern");

  LoraAdapter adapter;
  adapter.source = dir;
  adapter.rslora = truthy(cfg, "use_rslora");
  const SafetensorsFile st = SafetensorsFile::open(weights_path);
  adapter.architecture = read_peft_architecture(cfg, st);
  struct Halves {
    const SafeTensor* a = nullptr;
    const SafeTensor* b = nullptr;
    PeftName name;
  };
  std::map<std::tuple<uint32_t, int32_t, int>, Halves> found;
  for (const SafeTensor& t : st.tensors()) {
    PeftName n = parse_peft_name(weights_path, t.name);
    Halves& h = found[{n.layer, n.expert, static_cast<int>(n.target)}];
    (n.which == 'A' ? h.a : h.b) = &t;
    h.name = n;
  }
  if (found.empty()) throw ModelError(weights_path + ": no LoRA tensors");
  for (auto& [key, h] : found) {
    const std::string module = h.name.module;
    if (!h.a || !h.b)
      throw ModelError(weights_path + ": " + module + " has lora_" + (h.a ? "A" : "B") + " but no lora_" +
                       (h.a ? "B" : "A"));
    if (h.a->shape.size() != 2 || h.b->shape.size() != 2 || h.a->shape[0] != h.b->shape[1])
      throw ModelError(weights_path + ": " + module + ": lora_A must be [r, in] and lora_B [out, r] with the same r");
    LoraPair p;
    p.layer = h.name.layer;
    p.target = h.name.target;
    p.expert = h.name.expert;
    p.rank = h.a->shape[0];
    p.in = h.a->shape[1];
    p.out = h.b->shape[0];
    const double want_r = match_pattern(rank_pattern, module).value_or(r);
    if (static_cast<double>(p.rank) != want_r)
      throw ModelError(weights_path + ": " + module + " has rank " + std::to_string(p.rank) +
                       ", adapter_config.json says " + config_number(want_r));
    p.alpha = static_cast<float>(match_pattern(alpha_pattern, module).value_or(lora_alpha));
    p.a = safetensor_f32(weights_path, *h.a);
    p.b = safetensor_f32(weights_path, *h.b);
    adapter.pairs.push_back(std::move(p));
  }
  st.check_intact();  // truncated or rewritten while read: refused, naming the file
  return adapter;
}

std::vector<float> gguf_f32(const GgufFile& g, const GgufTensor& t) {
  if (t.type != GgmlType::F32 && t.type != GgmlType::F16 && t.type != GgmlType::BF16 && t.type != GgmlType::Q8_0)
    throw ModelError(g.path() + ": tensor '" + t.name + "' has type " + type_info(t.type).name +
                     " (LoRA weights must be F32, F16, BF16 or Q8_0)");
  std::vector<float> out(static_cast<size_t>(t.elements()));
  const size_t row = row_bytes(t.type, static_cast<size_t>(t.ne[0]));
  for (int64_t r = 0; r < t.rows(); ++r)
    dequantize_row(t.type, t.data + static_cast<size_t>(r) * row, out.data() + r * t.ne[0],
                   static_cast<size_t>(t.ne[0]));
  for (size_t i = 0; i < out.size(); ++i)
    if (!std::isfinite(out[i]))
      throw ModelError(g.path() + ": tensor '" + t.name + "' holds a NaN or infinite value at element " + std::to_string(i));
  return out;
}

LoraAdapter read_gguf(const std::string& path) {
  const GgufFile g = GgufFile::open(path);
  const GgufValue* type = g.find("general.type");
  if (!type || type->type != GgufType::String || type->s != "adapter")
    throw ModelError(path + ": general.type is not \"adapter\" (a model file, not a LoRA adapter?)");
  const std::string adapter_type = g.get_string("adapter.type");
  if (adapter_type != "lora")
    throw ModelError(path + ": adapter.type is \"" + adapter_type + "\" (only \"lora\" adapters are supported)");
  for (const auto& [key, value] : g.metadata())
    if (key.rfind("adapter.alora", 0) == 0) throw ModelError(path + ": activated LoRA (" + key + ") is not supported");
  LoraAdapter adapter;
  adapter.source = path;
  adapter.architecture = g.get_string("general.architecture");
  const double alpha = g.get_float_opt("adapter.lora.alpha").value_or(0.0);
  if (!std::isfinite(alpha)) throw ModelError(path + ": adapter.lora.alpha is not finite");

  struct Halves {
    const GgufTensor* a = nullptr;
    const GgufTensor* b = nullptr;
  };
  // (layer, target, stacked experts?)
  std::map<std::tuple<uint32_t, int, bool>, Halves> found;
  static const std::regex re(R"(^blk\.(\d{1,6})\.([a-z_]+)\.weight\.lora_([ab])$)");
  for (const GgufTensor& t : g.tensors()) {
    std::smatch m;
    if (!std::regex_match(t.name, m, re)) {
      if (t.name.rfind("token_embd", 0) == 0 || t.name.rfind("output", 0) == 0)
        throw ModelError(path + ": tensor '" + t.name +
                         "': LoRA on the embedding or the LM head (tied embeddings) is not supported");
      throw ModelError(path + ": tensor '" + t.name + "' is not a LoRA A/B of a layer's q/k/v/o or FFN projection");
    }
    std::string module = m[2].str();
    if (module == "ffn_gate_inp")
      throw ModelError(path + ": tensor '" + t.name + "': LoRA on the mixture-of-experts router is not supported");
    if (module.find("shexp") != std::string::npos)
      throw ModelError(path + ": tensor '" + t.name + "': LoRA on a shared expert is not supported");
    // ffn_{gate,up,down}_exps: every expert's pair stacked along ne[2].
    const bool stacked = module.size() > 5 && module.compare(module.size() - 5, 5, "_exps") == 0;
    if (stacked) module.resize(module.size() - 5);
    auto target = parse_lora_target(module);
    if (!target || module != lora_target_gguf_name(*target) ||
        (stacked && *target != LoraTarget::Gate && *target != LoraTarget::Up && *target != LoraTarget::Down))
      throw ModelError(path + ": tensor '" + t.name + "': '" + m[2].str() + "' is not a projection astfill adapts");
    Halves& h = found[{static_cast<uint32_t>(std::stoul(m[1].str())), static_cast<int>(*target), stacked}];
    (m[3].str() == "a" ? h.a : h.b) = &t;
  }
  if (found.empty()) throw ModelError(path + ": no LoRA tensors");
  for (auto& [key, h] : found) {
    const auto [layer, target, stacked] = key;
    const std::string base = "blk." + std::to_string(layer) + "." +
                             lora_target_gguf_name(static_cast<LoraTarget>(target)) + (stacked ? "_exps" : "") + ".weight";
    if (!h.a || !h.b)
      throw ModelError(path + ": " + base + " has lora_" + (h.a ? "a" : "b") + " but no lora_" + (h.a ? "b" : "a"));
    // lora_a ne {in, r}, lora_b ne {r, out}: the bytes of PEFT's A [r, in] and B [out, r];
    // stacked experts add ne[2], the expert, outermost.
    const size_t dims = stacked ? 3 : 2;
    if (h.a->ne.size() != dims || h.b->ne.size() != dims || h.a->ne[1] != h.b->ne[0] ||
        (stacked && h.a->ne[2] != h.b->ne[2]))
      throw ModelError(path + ": " + base +
                       (stacked ? ": lora_a must be {in, r, experts} and lora_b {r, out, experts} with the same r and "
                                  "experts"
                                : ": lora_a must be {in, r} and lora_b {r, out} with the same r"));
    const int64_t rank = h.a->ne[1], in = h.a->ne[0], out = h.b->ne[1], experts = stacked ? h.a->ne[2] : 1;
    if (stacked && experts > 4096) throw ModelError(path + ": " + base + ": " + std::to_string(experts) + " experts");
    const std::vector<float> a = gguf_f32(g, *h.a), b = gguf_f32(g, *h.b);
    if (stacked) adapter.expert_count = std::max(adapter.expert_count, static_cast<uint32_t>(experts));
    for (int64_t x = 0; x < experts; ++x) {
      LoraPair p;
      p.layer = layer;
      p.target = static_cast<LoraTarget>(target);
      p.expert = stacked ? static_cast<int32_t>(x) : -1;
      p.rank = rank;
      p.in = in;
      p.out = out;
      // llama.cpp: scale = user_scale * alpha / r, and alpha 0 means user_scale.
      p.alpha = alpha == 0.0 ? static_cast<float>(p.rank) : static_cast<float>(alpha);
      const size_t an = static_cast<size_t>(rank * in), bn = static_cast<size_t>(out * rank);
      p.a.assign(a.begin() + static_cast<std::ptrdiff_t>(an * static_cast<size_t>(x)),
                 a.begin() + static_cast<std::ptrdiff_t>(an * static_cast<size_t>(x + 1)));
      p.b.assign(b.begin() + static_cast<std::ptrdiff_t>(bn * static_cast<size_t>(x)),
                 b.begin() + static_cast<std::ptrdiff_t>(bn * static_cast<size_t>(x + 1)));
      adapter.pairs.push_back(std::move(p));
    }
  }
  g.check_intact();  // truncated or rewritten while read: refused, naming the file
  return adapter;
}

}  // namespace

LoraAdapter read_lora_adapter(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return read_peft(path);
  const fs::path p(path);
  const std::string file = p.filename().string();
  if (file == "adapter_config.json" || file == "adapter_model.safetensors") return read_peft(p.parent_path().string());
  if (!fs::exists(path, ec)) throw ModelError(path + ": no such file or directory");
  // GGUF files start with the magic; anything else is named for what it is not.
  {
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    in.read(magic, 4);
    if (!in || std::memcmp(magic, "GGUF", 4) != 0)
      throw ModelError(path + ": neither a GGUF adapter nor a PEFT directory (adapter_config.json + "
                              "adapter_model.safetensors)");
  }
  return read_gguf(path);
}

// ---- writing ------------------------------------------------------------------

namespace {

void check_writable(const LoraAdapter& a, const std::string& where) {
  if (a.pairs.empty()) throw ModelError(where + ": the adapter has no pairs to write");
  for (const LoraPair& p : a.pairs)
    if (p.rank <= 0 || p.a.size() != static_cast<size_t>(p.rank * p.in) ||
        p.b.size() != static_cast<size_t>(p.out * p.rank))
      throw ModelError(where + ": " + pair_name(p) + ": A and B do not hold rank x in and out x rank values");
}

std::string peft_module(const LoraPair& p) {
  return "model.layers." + std::to_string(p.layer) + "." + names(p.target).module + "." +
         (p.expert >= 0 ? "experts." + std::to_string(p.expert) + "." : std::string()) + lora_target_name(p.target);
}

template <typename T>
T most_common(const std::vector<T>& values) {
  std::map<T, size_t> counts;
  for (const T& v : values) ++counts[v];
  T best{};
  size_t n = 0;
  for (const auto& [v, c] : counts)
    if (c > n) best = v, n = c;
  return best;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw ModelError(path + ": cannot write");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw ModelError(path + ": cannot write: " + ec.message());
}

// A number as JSON writes it for an integer-valued float (16, not 16.0), as
// PEFT's config has ints for r and usually lora_alpha.
json::value json_num(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return json::value(static_cast<int64_t>(v));
  return json::value(v);
}

}  // namespace

void write_peft_adapter(const LoraAdapter& adapter, const std::string& dir, const std::string& base_model_name) {
  check_writable(adapter, dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw ModelError(dir + ": cannot create the directory: " + ec.message());

  std::vector<int64_t> ranks;
  std::vector<float> alphas;
  std::set<int> targets;
  for (const LoraPair& p : adapter.pairs) {
    ranks.push_back(p.rank);
    alphas.push_back(p.alpha);
    targets.insert(static_cast<int>(p.target));
  }
  const int64_t r = most_common(ranks);
  const float alpha = most_common(alphas);
  json::object rank_pattern, alpha_pattern;
  for (const LoraPair& p : adapter.pairs) {
    // Full module names: a pattern key matches the end of a module's name, so
    // "model.layers.1.self_attn.q_proj" cannot catch layer 11's.
    if (p.rank != r) rank_pattern[peft_module(p)] = p.rank;
    if (p.alpha != alpha) alpha_pattern[peft_module(p)] = json_num(p.alpha);
  }
  json::array target_modules;
  for (int t : targets) target_modules.emplace_back(lora_target_name(static_cast<LoraTarget>(t)));

  json::object cfg;
  cfg["alpha_pattern"] = alpha_pattern;
  cfg["auto_mapping"] = nullptr;
  cfg["base_model_name_or_path"] = base_model_name;
  cfg["bias"] = "none";
  cfg["fan_in_fan_out"] = false;
  cfg["inference_mode"] = true;
  cfg["init_lora_weights"] = true;
  cfg["layer_replication"] = nullptr;
  cfg["layers_pattern"] = nullptr;
  cfg["layers_to_transform"] = nullptr;
  cfg["loftq_config"] = json::object();
  cfg["lora_alpha"] = json_num(alpha);
  cfg["lora_dropout"] = 0.0;
  cfg["megatron_config"] = nullptr;
  cfg["megatron_core"] = "megatron.core";
  cfg["modules_to_save"] = nullptr;
  cfg["peft_type"] = "LORA";
  cfg["r"] = r;
  cfg["rank_pattern"] = rank_pattern;
  cfg["revision"] = nullptr;
  cfg["target_modules"] = target_modules;
  cfg["task_type"] = "CAUSAL_LM";
  cfg["use_dora"] = false;
  cfg["use_rslora"] = adapter.rslora;

  // safetensors: u64 header length, JSON header, F32 data; tensors sorted by
  // name as safetensors' own writer sorts them.
  struct Entry {
    std::string name;
    std::vector<int64_t> shape;
    const std::vector<float>* data;
  };
  std::vector<Entry> entries;
  for (const LoraPair& p : adapter.pairs) {
    const std::string base = "base_model.model." + peft_module(p);
    entries.push_back({base + ".lora_A.weight", {p.rank, p.in}, &p.a});
    entries.push_back({base + ".lora_B.weight", {p.out, p.rank}, &p.b});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& x, const Entry& y) { return x.name < y.name; });
  json::object header;
  // The architecture, so that astfill can check it even when
  // base_model_name_or_path does not name it, goes in the metadata (string
  // values, as safetensors requires), not in adapter_config.json: PEFT before
  // 0.13 passes that file's keys to LoraConfig, which raises TypeError on one
  // it does not know.
  json::object metadata{{"format", "pt"}};
  if (!adapter.architecture.empty()) metadata[kArchitectureKey] = adapter.architecture;
  header["__metadata__"] = std::move(metadata);
  size_t offset = 0;
  for (const Entry& e : entries) {
    const size_t bytes = e.data->size() * sizeof(float);
    json::array shape;
    for (int64_t d : e.shape) shape.emplace_back(d);
    header[e.name] = json::object{{"dtype", "F32"}, {"shape", shape}, {"data_offsets", json::array{offset, offset + bytes}}};
    offset += bytes;
  }
  std::string head = json::serialize(header);
  while ((8 + head.size()) % 8) head += ' ';
  std::string file(8, '\0');
  const uint64_t n = head.size();
  for (int i = 0; i < 8; ++i) file[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  file += head;
  file.reserve(file.size() + offset);
  for (const Entry& e : entries)
    file.append(reinterpret_cast<const char*>(e.data->data()), e.data->size() * sizeof(float));
  write_bytes((fs::path(dir) / "adapter_model.safetensors").string(), file);
  write_bytes((fs::path(dir) / "adapter_config.json").string(), json::serialize(cfg) + "\n");
}

void write_gguf_adapter(const LoraAdapter& adapter, const std::string& path) {
  check_writable(adapter, path);
  if (adapter.architecture.empty()) throw ModelError(path + ": the adapter has no architecture to record");
  // One α for the file; llama.cpp's scale is α/r per pair. The most common
  // rank's scale sets α, and every pair whose own scale differs has the
  // ratio folded into B.
  std::vector<int64_t> ranks;
  std::vector<float> scales;
  for (const LoraPair& p : adapter.pairs) ranks.push_back(p.rank), scales.push_back(adapter.scale(p));
  const int64_t r = most_common(ranks);
  const float s = most_common(scales);
  const float file_alpha = s * static_cast<float>(r);
  GgufWriter w;
  w.set_string("general.architecture", adapter.architecture);
  w.set_string("general.type", "adapter");
  w.set_string("adapter.type", "lora");
  w.set_f32("adapter.lora.alpha", file_alpha);
  // B with the pair's own scale where the file's (at `rank`) differs.
  auto scaled_b = [&](const LoraPair& p, int64_t rank) {
    const float file_scale = file_alpha == 0.0f ? 1.0f : file_alpha / static_cast<float>(rank);
    const float own = adapter.scale(p);
    std::vector<float> b = p.b;
    if (own != file_scale) {
      if (file_scale == 0.0f)
        throw ModelError(path + ": " + pair_name(p) + ": the adapter's common scale is 0 but this pair's is not");
      for (float& v : b) v *= own / file_scale;
    }
    return b;
  };
  // Experts: one stacked pair per (layer, target), as llama.cpp's
  // build_lora_mm_id multiplies them: A {in, R, X}, B {R, out, X}, R the
  // largest rank among them. A smaller rank is padded with zero rows of A
  // and zero columns of B, an expert without a pair is all zeros: both add
  // exactly nothing.
  std::map<std::pair<uint32_t, int>, std::vector<const LoraPair*>> stacks;
  for (const LoraPair& p : adapter.pairs) {
    if (p.expert >= 0) {
      stacks[{p.layer, static_cast<int>(p.target)}].push_back(&p);
      continue;
    }
    const std::string base = "blk." + std::to_string(p.layer) + "." + lora_target_gguf_name(p.target) + ".weight";
    w.add_tensor_f32(base + ".lora_a", GgmlType::F32, {p.in, p.rank}, p.a);
    w.add_tensor_f32(base + ".lora_b", GgmlType::F32, {p.rank, p.out}, scaled_b(p, p.rank));
  }
  for (const auto& [key, group] : stacks) {
    int64_t rank = 0, experts = 0;
    experts = adapter.expert_count;
    for (const LoraPair* p : group) rank = std::max(rank, p->rank), experts = std::max<int64_t>(experts, p->expert + 1);
    const int64_t in = group.front()->in, out = group.front()->out;
    std::vector<float> a(static_cast<size_t>(in * rank * experts)), b(static_cast<size_t>(rank * out * experts));
    for (const LoraPair* p : group) {
      if (p->in != in || p->out != out)
        throw ModelError(path + ": " + pair_name(*p) + ": experts of one layer differ in shape");
      const std::vector<float> pb = scaled_b(*p, rank);
      float* ax = a.data() + static_cast<size_t>(p->expert) * static_cast<size_t>(in * rank);
      float* bx = b.data() + static_cast<size_t>(p->expert) * static_cast<size_t>(rank * out);
      std::copy(p->a.begin(), p->a.end(), ax);  // rows 0 .. p->rank of [R][in]
      for (int64_t o = 0; o < out; ++o)        // [out][R], the first p->rank columns
        std::copy_n(pb.data() + o * p->rank, p->rank, bx + o * rank);
    }
    const std::string base = "blk." + std::to_string(key.first) + "." +
                             lora_target_gguf_name(static_cast<LoraTarget>(key.second)) + "_exps.weight";
    w.add_tensor_f32(base + ".lora_a", GgmlType::F32, {in, rank, experts}, a);
    w.add_tensor_f32(base + ".lora_b", GgmlType::F32, {rank, out, experts}, b);
  }
  w.write(path);
}

// ---- --adapter PATH[:SCALE] -----------------------------------------------------

AdapterSpec parse_adapter_spec(std::string_view text) {
  AdapterSpec spec;
  spec.path = std::string(text);
  if (size_t colon = text.rfind(':'); colon != std::string_view::npos && colon + 1 < text.size()) {
    std::string_view tail = text.substr(colon + 1);
    float v = 0;
    auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), v);
    if (ec == std::errc() && end == tail.data() + tail.size()) {
      if (!std::isfinite(v)) throw std::invalid_argument("adapter scale '" + std::string(tail) + "' is not finite");
      spec.path = std::string(text.substr(0, colon));
      spec.scale = v;
    }
  }
  if (spec.path.empty()) throw std::invalid_argument("--adapter needs a path (PATH or PATH:SCALE)");
  return spec;
}

std::string resolve_adapter_spec(const std::string& spec, const std::string& base) {
  AdapterSpec parsed;
  try {
    parsed = parse_adapter_spec(spec);
  } catch (const std::invalid_argument&) {
    return spec;
  }
  const fs::path path(parsed.path);
  if (path.is_absolute()) return spec;
  return (fs::path(base) / path).lexically_normal().string() + spec.substr(parsed.path.size());
}

}  // namespace astfill::engine
