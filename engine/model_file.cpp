#include "engine/model_file.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>

#include "engine/errors.h"
#include "engine/safetensors.h"
#include "support/files.h"

namespace astfill::engine {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

std::string shape_string(const std::vector<int64_t>& ne) {
  std::string s = "{";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "}";
}

uint32_t checked_u32(const std::string& path, const std::string& key, int64_t v) {
  if (v < 0 || v > UINT32_MAX)
    throw ModelError(path + ": " + key + " = " + std::to_string(v) + " is out of range");
  return static_cast<uint32_t>(v);
}

// A JSON number that must be a whole number from 0 to 2^32-1 (converting an
// out-of-range double to an integer would be undefined).
uint32_t checked_u32(const std::string& path, const std::string& key, double v) {
  if (!(v >= 0 && v <= UINT32_MAX) || v != std::floor(v))
    throw ModelError(path + ": '" + key + "' = " + json::serialize(json::value(v)) +
                     " is not a whole number from 0 to " + std::to_string(UINT32_MAX));
  return static_cast<uint32_t>(v);
}

// A value every later computation divides by, takes the logarithm of or
// raises to a power: NaN, infinity, zero or a negative makes every logit NaN.
double finite_positive(const std::string& path, const std::string& key, double v) {
  if (!std::isfinite(v) || !(v > 0))
    throw ModelError(path + ": " + key + " = " + std::to_string(v) + " must be a finite number above 0");
  return v;
}

// The tensor table bounds the layer count before anything is sized by it
// (a layer needs a dozen tensors; 2^32-1 layers once took 70 s and 16 GB to
// fail with std::bad_alloc).
void check_block_count(const std::string& path, const std::string& key, uint32_t blocks, size_t tensors) {
  if (blocks > tensors)
    throw ModelError(path + ": " + key + " = " + std::to_string(blocks) + " layers, but the file has only " +
                     std::to_string(tensors) + " tensors (each layer needs about a dozen)");
}

// A rope scaling factor divides frequencies: negative, NaN or infinite is
// nonsense; 0 means no scaling (llama.cpp reads it so, and so do we).
double scaling_factor(const std::string& path, const std::string& key, double v) {
  if (!std::isfinite(v) || v < 0)
    throw ModelError(path + ": " + key + " = " + std::to_string(v) + " must be a finite number, 0 or above");
  return v;
}

// context_length 0 leaves no room for a single token.
void check_context_length(const std::string& path, const std::string& key, std::optional<double> v) {
  if (v && *v == 0) throw ModelError(path + ": " + key + " = 0: a model needs room for at least one token");
}

void check_hparams(const std::string& path, const HyperParams& hp) {
  auto need = [&](uint32_t v, const char* what) {
    if (v == 0) throw ModelError(path + ": " + what + " is missing or zero");
  };
  need(hp.embedding_length, "embedding_length (hidden size)");
  need(hp.block_count, "block_count (layers)");
  need(hp.head_count, "attention.head_count");
  need(hp.head_count_kv, "attention.head_count_kv");
  need(hp.head_dim, "attention.key_length (head dimension)");
  if (hp.head_count % hp.head_count_kv != 0)
    throw ModelError(path + ": attention.head_count " + std::to_string(hp.head_count) +
                     " is not a multiple of head_count_kv " + std::to_string(hp.head_count_kv));
  if (!hp.dense_layers.empty()) need(hp.feed_forward_length, "feed_forward_length (for the dense layers)");
  if (hp.arch == "qwen3moe") {
    need(hp.expert_count, "expert_count");
    need(hp.expert_used_count, "expert_used_count");
    need(hp.expert_feed_forward_length, "expert_feed_forward_length");
    if (hp.expert_used_count > hp.expert_count)
      throw ModelError(path + ": expert_used_count " + std::to_string(hp.expert_used_count) +
                       " exceeds expert_count " + std::to_string(hp.expert_count));
  } else {
    need(hp.feed_forward_length, "feed_forward_length");
  }
  if (!(hp.rms_norm_eps > 0) || !std::isfinite(hp.rms_norm_eps) || !(hp.rope_freq_base > 0) ||
      !std::isfinite(hp.rope_freq_base))
    throw ModelError(path + ": layer_norm_rms_epsilon and rope.freq_base must be finite and positive");
  if (hp.head_dim % 2 != 0)
    throw ModelError(path + ": attention.key_length (head dimension) " + std::to_string(hp.head_dim) +
                     " is odd (RoPE rotates pairs of dimensions)");
}

// M-RoPE's sections must split the head's rotary frequencies exactly.
void check_rope_sections(const std::string& path, const std::string& key, const HyperParams& hp) {
  int64_t sum = 0;
  for (int32_t s : hp.rope_sections) {
    if (s < 0) throw ModelError(path + ": " + key + " holds a negative section");
    sum += s;
  }
  if (sum != int64_t{hp.head_dim} / 2)
    throw ModelError(path + ": " + key + " sections add up to " + std::to_string(sum) + ", not head_dim / 2 = " +
                     std::to_string(hp.head_dim / 2));
}

// ---- GGUF --------------------------------------------------------------------

HyperParams hparams_from_gguf(const GgufFile& g) {
  HyperParams hp;
  hp.arch = g.get_string("general.architecture");
  // Qwen2(.5)-VL's LM: qwen2's layers with M-RoPE (its sections read below).
  const bool vl = hp.arch == "qwen2vl";
  if (vl) hp.arch = "qwen2";
  if (!supported_architecture(hp.arch))
    throw ModelError(g.path() + ": architecture '" + hp.arch +
                     "' is not supported (qwen2, qwen3 and qwen3moe are)");
  if (auto* n = g.find("general.name"); n && n->type == GgufType::String) hp.name = n->s;
  const std::string a = vl ? std::string("qwen2vl.") : hp.arch + ".";
  auto u32 = [&](const std::string& key, uint32_t fallback) {
    auto v = g.get_int_opt(a + key);
    return v ? checked_u32(g.path(), a + key, *v) : fallback;
  };
  hp.context_length = u32("context_length", 0);
  hp.embedding_length = u32("embedding_length", 0);
  hp.block_count = u32("block_count", 0);
  hp.feed_forward_length = u32("feed_forward_length", 0);
  hp.head_count = u32("attention.head_count", 0);
  hp.head_count_kv = u32("attention.head_count_kv", hp.head_count);
  hp.head_dim = u32("attention.key_length", hp.head_count ? hp.embedding_length / hp.head_count : 0);
  if (auto n = g.get_int_opt(a + "context_length")) check_context_length(g.path(), a + "context_length", double(*n));
  auto positive = [&](const std::string& key, double fallback) {
    return finite_positive(g.path(), a + key, g.get_float_opt(a + key).value_or(fallback));
  };
  const double eps = positive("attention.layer_norm_rms_epsilon", 1e-6);
  hp.rms_norm_eps = static_cast<float>(eps);
  if (!(hp.rms_norm_eps > 0))  // positive as a double, zero as a float
    throw ModelError(g.path() + ": " + a + "attention.layer_norm_rms_epsilon = " + std::to_string(eps) +
                     " rounds to 0 in single precision");
  hp.rope_freq_base = positive("rope.freq_base", 10000.0);
  if (auto* t = g.find(a + "rope.scaling.type"); t && t->type == GgufType::String) hp.rope_scaling.type = t->s;
  hp.rope_scaling.factor =
      scaling_factor(g.path(), a + "rope.scaling.factor", g.get_float_opt(a + "rope.scaling.factor").value_or(1.0));
  hp.rope_scaling.original_context_length = u32("rope.scaling.original_context_length", 0);
  hp.rope_scaling.yarn_beta_fast = positive("rope.scaling.yarn_beta_fast", 32.0);
  hp.rope_scaling.yarn_beta_slow = positive("rope.scaling.yarn_beta_slow", 1.0);
  hp.expert_count = u32("expert_count", 0);
  hp.expert_used_count = u32("expert_used_count", 0);
  hp.expert_feed_forward_length = u32("expert_feed_forward_length", 0);
  hp.vocab_size = u32("vocab_size", 0);
  if (auto* norm = g.find(a + "expert_weights_norm"); norm && norm->type == GgufType::Bool) hp.norm_topk_prob = norm->b;
  check_block_count(g.path(), a + "block_count", hp.block_count, g.tensors().size());
  if (vl) {
    const auto* sections = g.find(a + "rope.dimension_sections");
    if (!sections || sections->ints.size() < 3)
      throw ModelError(g.path() + ": " + a + "rope.dimension_sections is missing (M-RoPE needs t, h, w sections)");
    for (size_t i = 0; i < 3; ++i) hp.rope_sections.push_back(static_cast<int32_t>(sections->ints[i]));
    check_rope_sections(g.path(), a + "rope.dimension_sections", hp);
  }
  if (hp.arch == "qwen3moe")  // GGUF has no key for it: a layer without a router is dense
    for (uint32_t l = 0; l < hp.block_count; ++l)
      if (!g.tensor("blk." + std::to_string(l) + ".ffn_gate_inp.weight")) hp.dense_layers.push_back(l);
  return hp;
}

// ---- Hugging Face ---------------------------------------------------------------

json::value read_json_file(const std::string& path) {
  support::FileContent file = support::read_file(path, support::kMaxTextFileBytes);
  if (!file.ok()) throw ModelError(path + ": cannot read: " + file.error);
  std::error_code ec;
  json::value v = json::parse(file.text, ec);
  if (ec) throw ModelError(path + ": not valid JSON: " + ec.message());
  if (!v.is_object()) throw ModelError(path + ": not a JSON object");
  return v;
}

// config.json's hyperparameters, and its rule for which MoE layers are dense,
// applied once the tensor table bounds the layer count.
struct HfConfig {
  HyperParams hp;
  std::vector<uint32_t> mlp_only_layers;
  uint32_t decoder_sparse_step = 1;
};

// Qwen2(.5)-VL checkpoints saved by transformers 4.52 and later nest the LM's
// hyperparameters under text_config (model_type qwen2_5_vl_text), keeping flat
// copies at the top or (v5) not; v5 also moves rope_theta and mrope_section
// into rope_parameters. The nested values win, the top level fills the rest.
json::object language_model_config(const json::object& top) {
  json::object c = top;
  if (auto* t = top.if_contains("text_config"); t && t->is_object())
    for (const auto& kv : t->get_object())
      if (kv.key() != "model_type" || !top.contains("model_type")) c[kv.key()] = kv.value();
  if (auto* rp = c.if_contains("rope_parameters"); rp && rp->is_object() && !c.contains("rope_scaling")) {
    json::value params = *rp;
    c["rope_scaling"] = params;
    if (auto* theta = params.get_object().if_contains("rope_theta"); theta && !c.contains("rope_theta"))
      c["rope_theta"] = *theta;
  }
  return c;
}

HfConfig hparams_from_config(const std::string& path, const json::object& top) {
  const json::object c = language_model_config(top);
  auto str = [&](const char* key) -> std::string {
    auto* v = c.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  auto num = [&](const char* key) -> std::optional<double> {
    auto* v = c.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_number()) throw ModelError(path + ": '" + key + "' should be a number");
    return v->to_number<double>();
  };
  auto u32 = [&](const char* key, uint32_t fallback) {
    auto v = num(key);
    return v ? checked_u32(path, key, *v) : fallback;
  };
  HfConfig cfg;
  HyperParams& hp = cfg.hp;
  std::string type = str("model_type");
  // The LM of Qwen2(.5)-VL: qwen2 with M-RoPE (a text_config alone says *_text).
  const bool vl = type == "qwen2_vl" || type == "qwen2_5_vl" || type == "qwen2_vl_text" || type == "qwen2_5_vl_text";
  if (type == "qwen2" || vl) hp.arch = "qwen2";
  else if (type == "qwen3") hp.arch = "qwen3";
  else if (type == "qwen3_moe") hp.arch = "qwen3moe";
  else
    throw ModelError(path + ": model_type '" + type + "' is not supported (qwen2, qwen3 and qwen3_moe are)");
  hp.name = str("_name_or_path");
  hp.embedding_length = u32("hidden_size", 0);
  hp.block_count = u32("num_hidden_layers", 0);
  hp.feed_forward_length = u32("intermediate_size", 0);
  hp.head_count = u32("num_attention_heads", 0);
  hp.head_count_kv = u32("num_key_value_heads", hp.head_count);
  hp.head_dim = u32("head_dim", hp.head_count ? hp.embedding_length / hp.head_count : 0);
  check_context_length(path, "'max_position_embeddings'", num("max_position_embeddings"));
  hp.context_length = u32("max_position_embeddings", 0);
  const double eps = finite_positive(path, "'rms_norm_eps'", num("rms_norm_eps").value_or(1e-6));
  hp.rms_norm_eps = static_cast<float>(eps);
  if (!(hp.rms_norm_eps > 0) || !std::isfinite(hp.rms_norm_eps))
    throw ModelError(path + ": 'rms_norm_eps' = " + std::to_string(eps) + " is not a usable single-precision number");
  hp.rope_freq_base = finite_positive(path, "'rope_theta'", num("rope_theta").value_or(10000.0));
  hp.vocab_size = u32("vocab_size", 0);
  hp.expert_count = u32("num_experts", 0);
  hp.expert_used_count = u32("num_experts_per_tok", 0);
  hp.expert_feed_forward_length = u32("moe_intermediate_size", 0);
  if (auto* v = c.if_contains("norm_topk_prob"); v && v->is_bool()) hp.norm_topk_prob = v->get_bool();
  if (hp.arch == "qwen3moe") {
    if (auto* v = c.if_contains("mlp_only_layers"); v && v->is_array())
      for (auto& x : v->get_array()) {
        if (!x.is_int64() || x.get_int64() < 0 || x.get_int64() > UINT32_MAX)
          throw ModelError(path + ": 'mlp_only_layers' must hold layer numbers");
        cfg.mlp_only_layers.push_back(static_cast<uint32_t>(x.get_int64()));
      }
    cfg.decoder_sparse_step = u32("decoder_sparse_step", 1);
  }
  if (auto* rs = c.if_contains("rope_scaling"); rs && rs->is_object()) {
    auto& o = rs->get_object();
    for (const char* k : {"rope_type", "type"})
      if (auto* t = o.if_contains(k); t && t->is_string()) hp.rope_scaling.type = std::string(t->get_string());
    if (auto* f = o.if_contains("factor"); f && f->is_number())
      hp.rope_scaling.factor = scaling_factor(path, "'rope_scaling.factor'", f->to_number<double>());
    if (auto* f = o.if_contains("original_max_position_embeddings"); f && f->is_number())
      hp.rope_scaling.original_context_length =
          checked_u32(path, "rope_scaling.original_max_position_embeddings", f->to_number<double>());
    if (auto* f = o.if_contains("beta_fast"); f && f->is_number())
      hp.rope_scaling.yarn_beta_fast = finite_positive(path, "'rope_scaling.beta_fast'", f->to_number<double>());
    if (auto* f = o.if_contains("beta_slow"); f && f->is_number())
      hp.rope_scaling.yarn_beta_slow = finite_positive(path, "'rope_scaling.beta_slow'", f->to_number<double>());
    if (auto* m = o.if_contains("mrope_section"); vl && m && m->is_array()) {
      for (auto& x : m->get_array()) {
        if (!x.is_int64() || x.get_int64() < 0 || x.get_int64() > 4096)
          throw ModelError(path + ": 'rope_scaling.mrope_section' must hold section sizes");
        hp.rope_sections.push_back(static_cast<int32_t>(x.get_int64()));
      }
      if (hp.rope_sections.size() != 3)
        throw ModelError(path + ": 'rope_scaling.mrope_section' must hold 3 sections (t, h, w)");
      check_rope_sections(path, "'rope_scaling.mrope_section'", hp);
      hp.rope_scaling = RopeScaling{};  // "mrope" / "default": no frequency scaling
    }
  }
  if (vl && hp.rope_sections.empty())
    throw ModelError(path + ": 'rope_scaling.mrope_section' is missing (" + type + " needs M-RoPE sections)");
  return cfg;
}

// A layer is sparse when it is not listed in mlp_only_layers and (layer + 1)
// is a multiple of decoder_sparse_step (Qwen's rule).
void hf_dense_layers(HfConfig& cfg) {
  HyperParams& hp = cfg.hp;
  if (hp.arch != "qwen3moe") return;
  const auto& mlp_only = cfg.mlp_only_layers;
  const uint32_t step = cfg.decoder_sparse_step;
  for (uint32_t l = 0; l < hp.block_count; ++l) {
    bool sparse = std::find(mlp_only.begin(), mlp_only.end(), l) == mlp_only.end() && step > 0 && (l + 1) % step == 0;
    if (!sparse) hp.dense_layers.push_back(l);
  }
}

// Hugging Face parameter names -> GGUF names.
std::optional<std::string> gguf_name(const std::string& hf) {
  static const std::map<std::string, std::string> top = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
  };
  if (auto it = top.find(hf); it != top.end()) return it->second;
  // transformers 4.52 and later save Qwen2(.5)-VL's LM as model.language_model.*.
  static const std::string nested = "model.language_model.";
  if (hf.compare(0, nested.size(), nested) == 0) return gguf_name("model." + hf.substr(nested.size()));
  static const std::map<std::string, std::string> layer = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
      {"mlp.gate.weight", "ffn_gate_inp.weight"},
  };
  static const std::regex layer_re(R"(model\.layers\.(\d+)\.(.+))");
  static const std::regex expert_re(R"(mlp\.experts\.(\d+)\.(gate|up|down)_proj\.weight)");
  std::smatch m;
  if (!std::regex_match(hf, m, layer_re)) return std::nullopt;
  std::string blk = "blk." + m[1].str() + ".";
  std::string rest = m[2].str();
  if (auto it = layer.find(rest); it != layer.end()) return blk + it->second;
  std::smatch e;
  // Experts stay one tensor each here (blk.N.ffn_gate_exp.E.weight); GGUF
  // stacks them, and the engine accepts either form.
  if (std::regex_match(rest, e, expert_re)) return blk + "ffn_" + e[2].str() + "_exp." + e[1].str() + ".weight";
  return std::nullopt;
}

std::optional<GgmlType> ggml_type_of(const std::string& dtype) {
  if (dtype == "F32") return GgmlType::F32;
  if (dtype == "F16") return GgmlType::F16;
  if (dtype == "BF16") return GgmlType::BF16;
  return std::nullopt;
}

}  // namespace

bool HyperParams::is_moe_layer(uint32_t layer) const {
  return arch == "qwen3moe" && std::find(dense_layers.begin(), dense_layers.end(), layer) == dense_layers.end();
}

int64_t ModelTensor::elements() const {
  int64_t n = 1;
  for (auto d : ne) n *= d;
  return n;
}

bool supported_architecture(const std::string& arch) {
  return arch == "qwen2" || arch == "qwen3" || arch == "qwen3moe";
}

void validate_tensors(const std::string& path, const HyperParams& hp,
                      const std::vector<ModelTensor>& tensors) {
  std::map<std::string, const ModelTensor*> by_name;
  for (auto& t : tensors) by_name[t.name] = &t;
  auto expect = [&](const std::string& name, std::vector<int64_t> ne, bool required = true) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      if (required) throw ModelError(path + ": tensor '" + name + "' is missing");
      return false;
    }
    if (it->second->ne != ne)
      throw ModelError(path + ": tensor '" + name + "' has shape " + shape_string(it->second->ne) +
                       ", expected " + shape_string(ne) + " from the hyperparameters");
    return true;
  };
  const int64_t E = hp.embedding_length, V = hp.vocab_size, D = hp.head_dim;
  const int64_t Q = int64_t(hp.head_count) * D, KV = int64_t(hp.head_count_kv) * D;
  expect("token_embd.weight", {E, V});
  expect("output_norm.weight", {E});
  expect("output.weight", {E, V}, false);
  for (uint32_t i = 0; i < hp.block_count; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    expect(b + "attn_norm.weight", {E});
    expect(b + "attn_q.weight", {E, Q});
    expect(b + "attn_k.weight", {E, KV});
    expect(b + "attn_v.weight", {E, KV});
    expect(b + "attn_output.weight", {Q, E});
    expect(b + "ffn_norm.weight", {E});
    if (hp.arch == "qwen2") {
      expect(b + "attn_q.bias", {Q});
      expect(b + "attn_k.bias", {KV});
      expect(b + "attn_v.bias", {KV});
    } else {
      expect(b + "attn_q_norm.weight", {D});
      expect(b + "attn_k_norm.weight", {D});
    }
    if (hp.is_moe_layer(i)) {
      const int64_t X = hp.expert_count, F = hp.expert_feed_forward_length;
      expect(b + "ffn_gate_inp.weight", {E, X});
      if (!expect(b + "ffn_gate_exps.weight", {E, F, X}, false)) {
        for (int64_t x = 0; x < X; ++x) {
          const std::string e = "_exp." + std::to_string(x) + ".weight";
          expect(b + "ffn_gate" + e, {E, F});
          expect(b + "ffn_up" + e, {E, F});
          expect(b + "ffn_down" + e, {F, E});
        }
      } else {
        expect(b + "ffn_up_exps.weight", {E, F, X});
        expect(b + "ffn_down_exps.weight", {F, E, X});
      }
    } else {
      const int64_t F = hp.feed_forward_length;
      expect(b + "ffn_gate.weight", {E, F});
      expect(b + "ffn_up.weight", {E, F});
      expect(b + "ffn_down.weight", {F, E});
    }
  }
}

TokenizerData tokenizer_from_gguf(const GgufFile& g) {
  TokenizerData t;
  t.model = g.get_string("tokenizer.ggml.model");
  if (auto* pre = g.find("tokenizer.ggml.pre"); pre && pre->type == GgufType::String) t.pre = pre->s;
  auto strings = [&](const char* key, bool required) -> std::vector<std::string> {
    auto* v = g.find(key);
    if (!v) {
      if (required) throw ModelError(g.path() + ": metadata key '" + key + "' is missing");
      return {};
    }
    if (v->type != GgufType::Array || v->elem_type != GgufType::String)
      throw ModelError(g.path() + ": metadata '" + key + "' should be an array of strings");
    return v->strings;
  };
  t.tokens = strings("tokenizer.ggml.tokens", true);
  t.merges = strings("tokenizer.ggml.merges", false);
  if (auto* types = g.find("tokenizer.ggml.token_type")) {
    if (types->type != GgufType::Array || types->ints.size() != t.tokens.size())
      throw ModelError(g.path() + ": tokenizer.ggml.token_type should be an integer array as long as tokenizer.ggml.tokens");
    for (int64_t n : types->ints) {
      if (n < 0 || n > 6) throw ModelError(g.path() + ": tokenizer.ggml.token_type holds unknown type " + std::to_string(n));
      t.token_types.push_back(static_cast<TokenType>(n));
    }
  }
  auto id = [&](const char* key) -> std::optional<int32_t> {
    auto v = g.get_int_opt(key);
    if (!v) return std::nullopt;
    if (*v < 0 || *v >= static_cast<int64_t>(t.tokens.size()))
      throw ModelError(g.path() + ": " + key + " = " + std::to_string(*v) + " is not a token id");
    return static_cast<int32_t>(*v);
  };
  t.bos_id = id("tokenizer.ggml.bos_token_id");
  t.eos_id = id("tokenizer.ggml.eos_token_id");
  t.pad_id = id("tokenizer.ggml.padding_token_id");
  if (auto* b = g.find("tokenizer.ggml.add_bos_token"); b && b->type == GgufType::Bool) t.add_bos = b->b;
  return t;
}

ModelFile ModelFile::open(const std::string& path) {
  ModelFile m;
  m.path_ = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    m.format_ = "safetensors";
    const std::string config = (fs::path(path) / "config.json").string();
    if (!fs::exists(config)) throw ModelError(path + ": no config.json (not a Hugging Face checkpoint directory)");
    json::value cfg_json = read_json_file(config);
    HfConfig cfg = hparams_from_config(config, cfg_json.get_object());
    for (const auto& shard : safetensors_shards(path)) {
      auto st = std::make_shared<SafetensorsFile>(SafetensorsFile::open(shard));
      for (const auto& t : st->tensors()) {
        auto name = gguf_name(t.name);
        if (!name) continue;  // e.g. rotary inv_freq buffers: not weights
        auto type = ggml_type_of(t.dtype);
        if (!type)
          throw ModelError(shard + ": tensor '" + t.name + "' has dtype " + t.dtype +
                           " (F32, F16 and BF16 are supported)");
        ModelTensor mt{*name, *type, {t.shape.rbegin(), t.shape.rend()}, t.data, t.bytes, t.name};
        if (!m.index_.emplace(mt.name, m.tensors_.size()).second)
          throw ModelError(shard + ": tensor '" + t.name + "' appears in more than one shard");
        m.tensors_.push_back(std::move(mt));
      }
      m.shards_.push_back(st);
    }
    check_block_count(config, "'num_hidden_layers'", cfg.hp.block_count, m.tensors_.size());
    hf_dense_layers(cfg);
    m.hparams_ = std::move(cfg.hp);
    const std::string tok = (fs::path(path) / "tokenizer.json").string();
    if (!fs::exists(tok)) throw ModelError(path + ": no tokenizer.json");
    m.tokenizer_ = read_tokenizer_json(tok);
  } else {
    m.format_ = "gguf";
    m.gguf_ = std::make_shared<GgufFile>(GgufFile::open(path));
    m.hparams_ = hparams_from_gguf(*m.gguf_);
    for (const auto& t : m.gguf_->tensors()) {
      m.index_.emplace(t.name, m.tensors_.size());
      m.tensors_.push_back(ModelTensor{t.name, t.type, t.ne, t.data, t.bytes, t.name});
    }
    m.tokenizer_ = tokenizer_from_gguf(*m.gguf_);
  }
  auto& hp = m.hparams_;
  if (const auto* embd = m.find("token_embd.weight"); embd && embd->ne.size() == 2) {
    if (!hp.vocab_size) hp.vocab_size = static_cast<uint32_t>(embd->ne[1]);
  }
  if (!hp.vocab_size) hp.vocab_size = static_cast<uint32_t>(m.tokenizer_.tokens.size());
  hp.tied_embeddings = m.find("output.weight") == nullptr;
  check_hparams(path, hp);
  validate_tensors(path, hp, m.tensors_);
  auto& tokens = m.tokenizer_.tokens;
  if (tokens.size() > hp.vocab_size)
    throw ModelError(path + ": the tokenizer has " + std::to_string(tokens.size()) +
                     " tokens but the embedding only " + std::to_string(hp.vocab_size) + " rows");
  if (tokens.size() < hp.vocab_size) {
    // The model can produce every id it has an embedding row for; an id
    // without a token would fail later, in the middle of a completion.
    if (m.format_ == "gguf")  // llama.cpp's converters pad the vocabulary to the rows
      throw ModelError(path + ": tokenizer.ggml.tokens holds " + std::to_string(tokens.size()) +
                       " tokens but token_embd.weight has " + std::to_string(hp.vocab_size) +
                       " rows: ids " + std::to_string(tokens.size()) + " to " + std::to_string(hp.vocab_size - 1) +
                       " would have no token");
    // Hugging Face checkpoints round the embedding up (Qwen: 151665 tokens,
    // 151936 rows): the ids past the tokenizer are padding that decodes to
    // nothing, as llama.cpp's converter makes them.
    if (m.tokenizer_.token_types.empty()) m.tokenizer_.token_types.assign(tokens.size(), TokenType::Normal);
    tokens.resize(hp.vocab_size);
    m.tokenizer_.token_types.resize(hp.vocab_size, TokenType::Unused);
  }
  return m;
}

const ModelTensor* ModelFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

void ModelFile::check_intact() const {
  if (gguf_) gguf_->check_intact();
  for (const auto& st : shards_) st->check_intact();
}

uint64_t ModelFile::tensor_bytes() const {
  uint64_t n = 0;
  for (const auto& t : tensors_) n += t.bytes;
  return n;
}

TokenizerData load_tokenizer_data(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ModelError(path + ": no such file or directory");
  if (fs::is_directory(path, ec)) {
    const std::string tok = (fs::path(path) / "tokenizer.json").string();
    if (!fs::exists(tok)) throw ModelError(path + ": no tokenizer.json");
    return read_tokenizer_json(tok);
  }
  if (fs::path(path).extension() == ".json") return read_tokenizer_json(path);
  return tokenizer_from_gguf(GgufFile::open(path));
}

}  // namespace astfill::engine
