// See tower.h. Loading maps both file formats onto llama.cpp's mmproj names
// (v.blk.N.*, v.post_ln, mm.0, mm.2), then builds the Linear layers; the
// forward pass follows Hugging Face's Qwen2_5_VisionTransformerPretrainedModel.
#include "vision/tower.h"

#include <omp.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "engine/errors.h"
#include "engine/gguf.h"
#include "engine/model_file.h"
#include "engine/ops.h"
#include "engine/safetensors.h"

namespace astfill::vision {

using engine::Linear;
using engine::ModelError;
using engine::ModelTensor;
using engine::WeightMode;

// ---------------------------------------------------------------------------
// Stages shared by the forward pass and the tests
// ---------------------------------------------------------------------------

WindowPartition window_partition(int64_t grid_h, int64_t grid_w, int64_t merge_size, int64_t window_units) {
  const int64_t lh = grid_h / merge_size, lw = grid_w / merge_size;
  const int64_t unit = merge_size * merge_size;
  if (window_units < 1) window_units = 1;
  WindowPartition p;
  p.bounds.push_back(0);
  const int64_t nwh = (lh + window_units - 1) / window_units, nww = (lw + window_units - 1) / window_units;
  for (int64_t wy = 0; wy < nwh; ++wy)
    for (int64_t wx = 0; wx < nww; ++wx) {
      int64_t n = 0;
      for (int64_t y = wy * window_units; y < std::min(lh, (wy + 1) * window_units); ++y)
        for (int64_t x = wx * window_units; x < std::min(lw, (wx + 1) * window_units); ++x, ++n)
          p.order.push_back(y * lw + x);
      if (n) p.bounds.push_back(p.bounds.back() + n * unit);
    }
  return p;
}

std::vector<float> rotary_angles(int64_t grid_h, int64_t grid_w, int64_t merge_size, int64_t head_dim,
                                 double theta) {
  const int64_t quarter = head_dim / 4, half = head_dim / 2;
  std::vector<double> inv_freq(static_cast<size_t>(quarter));
  for (int64_t j = 0; j < quarter; ++j)
    inv_freq[static_cast<size_t>(j)] =
        1.0 / std::pow(theta, static_cast<double>(2 * j) / static_cast<double>(half));
  std::vector<float> out(static_cast<size_t>(grid_h * grid_w * half));
  int64_t row = 0;
  for (int64_t bh = 0; bh < grid_h / merge_size; ++bh)
    for (int64_t bw = 0; bw < grid_w / merge_size; ++bw)
      for (int64_t mh = 0; mh < merge_size; ++mh)
        for (int64_t mw = 0; mw < merge_size; ++mw, ++row) {
          const double h = static_cast<double>(bh * merge_size + mh), w = static_cast<double>(bw * merge_size + mw);
          float* a = out.data() + row * half;
          // As Hugging Face: float32 positions times float32 inverse frequencies.
          for (int64_t j = 0; j < quarter; ++j) {
            a[j] = static_cast<float>(h) * static_cast<float>(inv_freq[static_cast<size_t>(j)]);
            a[quarter + j] = static_cast<float>(w) * static_cast<float>(inv_freq[static_cast<size_t>(j)]);
          }
        }
  return out;
}

// ---------------------------------------------------------------------------
// Weights
// ---------------------------------------------------------------------------

struct Norm {
  std::vector<float> weight, bias;  // bias empty: RMSNorm; else LayerNorm
};

struct Block {
  Norm norm1, norm2;
  Linear qkv, proj;
  Linear gate_up;  // Qwen2.5-VL: gate rows then up rows (SwiGLU); Qwen2-VL: fc1
  Linear down;     // Qwen2.5-VL: down; Qwen2-VL: fc2
};

struct VisionTower::Weights {
  Linear patch_embed;  // the two temporal kernels summed: 3 * p * p inputs
  std::vector<Block> blocks;
  Norm merger_norm;
  Linear mm0, mm2;
};

namespace {

// The tensors of one file under mmproj names, and what keeps their bytes mapped.
struct TensorTable {
  std::string path;
  std::map<std::string, ModelTensor> tensors;
  std::vector<std::shared_ptr<engine::SafetensorsFile>> keep_alive;
  std::shared_ptr<engine::GgufFile> gguf;
  boost::json::object hf_config;  // vision_config of config.json, when there is one
  std::string model_type;

  const ModelTensor* find(const std::string& name) const {
    auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : &it->second;
  }
  const ModelTensor& get(const std::string& name) const {
    if (auto* t = find(name)) return *t;
    throw ModelError(path + ": tensor '" + name + "' is missing");
  }
};

// A tensor's values in f32, checked against the shape expected in PyTorch
// order (outermost first).
std::vector<float> values(const TensorTable& tt, const ModelTensor& t, std::vector<int64_t> shape) {
  std::vector<int64_t> ne(shape.rbegin(), shape.rend());
  if (t.ne != ne) {
    auto show = [](const std::vector<int64_t>& v) {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
      return s + "]";
    };
    std::vector<int64_t> got(t.ne.rbegin(), t.ne.rend());
    throw ModelError(tt.path + ": tensor '" + t.source_name + "' has shape " + show(got) + ", expected " +
                     show(shape));
  }
  return engine::to_f32(t);
}

std::string hf_to_mmproj(const std::string& hf) {
  static const std::regex block_re(R"((?:model\.)?visual\.blocks\.(\d+)\.(.+))");
  static const std::map<std::string, std::string> block = {
      {"norm1.weight", "ln1.weight"},           {"norm1.bias", "ln1.bias"},
      {"norm2.weight", "ln2.weight"},           {"norm2.bias", "ln2.bias"},
      {"attn.qkv.weight", "attn_qkv.weight"},   {"attn.qkv.bias", "attn_qkv.bias"},
      {"attn.proj.weight", "attn_out.weight"},  {"attn.proj.bias", "attn_out.bias"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"}, {"mlp.gate_proj.bias", "ffn_gate.bias"},
      {"mlp.up_proj.weight", "ffn_up.weight"},  {"mlp.up_proj.bias", "ffn_up.bias"},
      {"mlp.down_proj.weight", "ffn_down.weight"}, {"mlp.down_proj.bias", "ffn_down.bias"},
      {"mlp.fc1.weight", "ffn_up.weight"},      {"mlp.fc1.bias", "ffn_up.bias"},
      {"mlp.fc2.weight", "ffn_down.weight"},    {"mlp.fc2.bias", "ffn_down.bias"}};
  static const std::map<std::string, std::string> top = {
      {"patch_embed.proj.weight", "v.patch_embd.weight"},
      {"merger.ln_q.weight", "v.post_ln.weight"}, {"merger.ln_q.bias", "v.post_ln.bias"},
      {"merger.mlp.0.weight", "mm.0.weight"},     {"merger.mlp.0.bias", "mm.0.bias"},
      {"merger.mlp.2.weight", "mm.2.weight"},     {"merger.mlp.2.bias", "mm.2.bias"}};
  std::smatch m;
  if (std::regex_match(hf, m, block_re)) {
    auto it = block.find(m[2].str());
    return it == block.end() ? std::string() : "v.blk." + m[1].str() + "." + it->second;
  }
  for (const char* prefix : {"visual.", "model.visual."}) {
    const std::string p(prefix);
    if (hf.compare(0, p.size(), p) == 0) {
      auto it = top.find(hf.substr(p.size()));
      return it == top.end() ? std::string() : it->second;
    }
  }
  return {};
}

std::optional<engine::GgmlType> st_type(const std::string& dtype) {
  if (dtype == "F32") return engine::GgmlType::F32;
  if (dtype == "F16") return engine::GgmlType::F16;
  if (dtype == "BF16") return engine::GgmlType::BF16;
  return std::nullopt;
}

boost::json::object read_config(const std::filesystem::path& file, std::string& model_type) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  auto v = boost::json::parse(ss.str(), ec);
  if (ec || !v.is_object()) throw ModelError(file.string() + ": not a JSON object");
  const auto& o = v.as_object();
  if (auto* mt = o.if_contains("model_type"); mt && mt->is_string()) model_type = std::string(mt->get_string());
  if (auto* vc = o.if_contains("vision_config"); vc && vc->is_object()) return vc->as_object();
  return {};
}

TensorTable open_safetensors(const std::string& path) {
  namespace fs = std::filesystem;
  TensorTable tt;
  tt.path = path;
  std::vector<std::string> shards;
  fs::path config;
  if (fs::is_directory(path)) {
    shards = engine::safetensors_shards(path);
    config = fs::path(path) / "config.json";
  } else {
    shards = {path};
    config = fs::path(path).parent_path() / "config.json";
  }
  if (fs::exists(config)) tt.hf_config = read_config(config, tt.model_type);
  for (const auto& shard : shards) {
    auto st = std::make_shared<engine::SafetensorsFile>(engine::SafetensorsFile::open(shard));
    tt.keep_alive.push_back(st);
    for (const auto& t : st->tensors()) {
      const std::string name = hf_to_mmproj(t.name);
      if (name.empty()) continue;
      auto type = st_type(t.dtype);
      if (!type) throw ModelError(shard + ": tensor '" + t.name + "' has dtype " + t.dtype +
                                  " (F32, F16 and BF16 are supported)");
      ModelTensor mt;
      mt.name = name;
      mt.type = *type;
      mt.ne.assign(t.shape.rbegin(), t.shape.rend());
      mt.data = t.data;
      mt.bytes = t.bytes;
      mt.source_name = t.name;
      tt.tensors[name] = std::move(mt);
    }
  }
  if (tt.tensors.empty()) throw ModelError(path + ": no vision tower tensors (visual.*) in this checkpoint");
  return tt;
}

TensorTable open_mmproj(const std::string& path) {
  TensorTable tt;
  tt.path = path;
  tt.gguf = std::make_shared<engine::GgufFile>(engine::GgufFile::open(path));
  for (const auto& t : tt.gguf->tensors()) {
    ModelTensor mt;
    mt.name = t.name;
    mt.type = t.type;
    mt.ne = t.ne;
    mt.data = t.data;
    mt.bytes = t.bytes;
    mt.source_name = t.name;
    tt.tensors[t.name] = std::move(mt);
  }
  return tt;
}

int64_t json_int(const boost::json::object& o, const char* key, int64_t fallback) {
  auto* v = o.if_contains(key);
  if (!v) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return fallback;
}

// vision_config's sizes against the tensors' (the shapes decide; a config
// that disagrees belongs to another checkpoint). Qwen2.5-VL names the block
// width hidden_size and the LM's out_hidden_size; Qwen2-VL names them
// embed_dim and hidden_size. A key that is absent is not checked.
void check_config_shapes(const TensorTable& tt, const VisionConfig& c) {
  const bool v25 = c.kind == TowerKind::Qwen25VL;
  const std::pair<const char*, int64_t> expected[] = {
      {"depth", c.depth},
      {v25 ? "hidden_size" : "embed_dim", c.hidden},
      {v25 ? "out_hidden_size" : "hidden_size", c.out_dim},
      {v25 ? "intermediate_size" : "", c.ffn}};
  for (const auto& [key, have] : expected) {
    if (!*key) continue;
    const int64_t v = json_int(tt.hf_config, key, have);
    if (v != have)
      throw ModelError(tt.path + ": config.json's vision_config." + key + " is " + std::to_string(v) +
                       " but the tensors say " + std::to_string(have));
  }
}

// Hyperparameters from the file's metadata and the tensors' shapes.
VisionConfig read_config(const TensorTable& tt, const TowerOptions& options) {
  VisionConfig c;
  const auto& patch = tt.get("v.patch_embd.weight");
  c.hidden = patch.ne.back();
  c.patch_size = patch.ne[0];
  c.kind = tt.find("v.blk.0.ffn_gate.weight") ? TowerKind::Qwen25VL : TowerKind::Qwen2VL;
  while (tt.find("v.blk." + std::to_string(c.depth) + ".ln1.weight")) ++c.depth;
  if (c.depth == 0) throw ModelError(tt.path + ": the vision tower has no blocks (v.blk.0.ln1.weight is missing)");
  c.ffn = tt.get("v.blk.0.ffn_up.weight").ne.back();
  c.out_dim = tt.get("mm.2.weight").ne.back();
  int64_t n_wa_pattern = 0;
  std::vector<int64_t> full_blocks;
  if (tt.gguf) {
    const auto& g = *tt.gguf;
    const auto type = g.find("clip.projector_type") ? g.get_string("clip.projector_type") : std::string();
    if (type != "qwen2vl_merger" && type != "qwen2.5vl_merger")
      throw ModelError(tt.path + ": clip.projector_type is '" + type +
                       "'; the vision path runs qwen2vl_merger and qwen2.5vl_merger");
    c.heads = g.get_int("clip.vision.attention.head_count");
    c.eps = static_cast<float>(g.get_float_opt("clip.vision.attention.layer_norm_epsilon").value_or(1e-6));
    c.window_size = g.get_int_opt("clip.vision.window_size").value_or(112);
    n_wa_pattern = g.get_int_opt("clip.vision.n_wa_pattern").value_or(0);
    c.merge_size = g.get_int_opt("clip.vision.spatial_merge_size").value_or(2);
    for (const char* key : {"clip.vision.image_mean", "clip.vision.image_std"}) {
      const auto* v = g.find(key);
      if (!v) continue;
      if (v->floats.size() != 3) throw ModelError(tt.path + ": " + key + " must hold 3 floats");
      float* dst = std::strcmp(key, "clip.vision.image_mean") == 0 ? c.mean : c.std;
      for (int i = 0; i < 3; ++i) dst[i] = static_cast<float>(v->floats[static_cast<size_t>(i)]);
    }
    if (c.kind == TowerKind::Qwen25VL && n_wa_pattern <= 0)
      throw ModelError(tt.path + ": clip.vision.n_wa_pattern is missing (qwen2.5vl_merger needs it)");
  } else {
    const auto& o = tt.hf_config;
    c.heads = json_int(o, "num_heads", 16);
    c.window_size = json_int(o, "window_size", 112);
    c.merge_size = json_int(o, "spatial_merge_size", 2);
    if (auto* fb = o.if_contains("fullatt_block_indexes"); fb && fb->is_array())
      for (const auto& v : fb->as_array())
        if (v.is_int64()) full_blocks.push_back(v.get_int64());
    if (c.kind == TowerKind::Qwen25VL && full_blocks.empty())
      for (int64_t b = 7; b < c.depth; b += 8) full_blocks.push_back(b);  // Qwen2.5-VL's default
    check_config_shapes(tt, c);
  }
  if (c.heads <= 0 || c.hidden % c.heads != 0 || (c.hidden / c.heads) % 4 != 0)
    throw ModelError(tt.path + ": " + std::to_string(c.heads) + " heads do not split the width " +
                     std::to_string(c.hidden) + " into heads of a multiple of 4");
  c.head_dim = c.hidden / c.heads;
  if (c.head_dim > 512) throw ModelError(tt.path + ": head size " + std::to_string(c.head_dim) + " is over 512");
  if (c.merge_size != 2) throw ModelError(tt.path + ": spatial merge size " + std::to_string(c.merge_size) +
                                          " (only 2 is supported)");
  if (c.window_size <= 0 || c.window_size % (c.patch_size * c.merge_size) != 0)
    throw ModelError(tt.path + ": window size " + std::to_string(c.window_size) + " is not a multiple of " +
                     std::to_string(c.patch_size * c.merge_size) + " pixels");
  c.full_attention.assign(static_cast<size_t>(c.depth), c.kind == TowerKind::Qwen2VL);
  for (int64_t b = 0; b < c.depth; ++b)
    if (n_wa_pattern > 0 && (b + 1) % n_wa_pattern == 0) c.full_attention[static_cast<size_t>(b)] = true;
  for (int64_t b : full_blocks)
    if (b >= 0 && b < c.depth) c.full_attention[static_cast<size_t>(b)] = true;
  if (options.window_size > 0) c.window_size = options.window_size;
  if (options.full_attention_everywhere) c.full_attention.assign(static_cast<size_t>(c.depth), true);
  return c;
}

Norm load_norm(const TensorTable& tt, const std::string& prefix, int64_t n, bool layer_norm) {
  Norm norm;
  norm.weight = values(tt, tt.get(prefix + ".weight"), {n});
  if (layer_norm) norm.bias = values(tt, tt.get(prefix + ".bias"), {n});
  return norm;
}

Linear load_linear(const TensorTable& tt, const std::string& prefix, int64_t in, int64_t out, WeightMode mode) {
  auto w = values(tt, tt.get(prefix + ".weight"), {out, in});
  auto b = values(tt, tt.get(prefix + ".bias"), {out});
  return Linear::from_f32(w.data(), in, out, b.data(), mode);
}

// Rows of several [out_i, in] layers stacked into one [sum out_i, in] layer.
Linear load_stacked(const TensorTable& tt, const std::vector<std::string>& prefixes, int64_t in, int64_t out_each,
                    WeightMode mode) {
  std::vector<float> w, b;
  for (const auto& p : prefixes) {
    auto wi = values(tt, tt.get(p + ".weight"), {out_each, in});
    auto bi = values(tt, tt.get(p + ".bias"), {out_each});
    w.insert(w.end(), wi.begin(), wi.end());
    b.insert(b.end(), bi.begin(), bi.end());
  }
  const int64_t out = out_each * static_cast<int64_t>(prefixes.size());
  return Linear::from_f32(w.data(), in, out, b.data(), mode);
}

}  // namespace

VisionTower::VisionTower() = default;
VisionTower::~VisionTower() = default;
VisionTower::VisionTower(VisionTower&&) noexcept = default;
VisionTower& VisionTower::operator=(VisionTower&&) noexcept = default;

VisionTower VisionTower::load(const std::string& path, const TowerOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ModelError(path + ": no such file or directory");
  const bool is_gguf = !fs::is_directory(path, ec) && fs::path(path).extension() != ".safetensors";
  const TensorTable tt = is_gguf ? open_mmproj(path) : open_safetensors(path);
  VisionTower tower;
  tower.path_ = path;
  tower.config_ = read_config(tt, options);
  const VisionConfig& c = tower.config_;
  tower.w_ = std::make_unique<Weights>();
  Weights& w = *tower.w_;
  const bool layer_norm = c.kind == TowerKind::Qwen2VL;
  const int64_t p = c.patch_size, D = c.hidden;

  // Conv3d [D, 3, 2, p, p] (GGUF: two Conv2d halves [D, 3, p, p]); a still
  // image repeats its frame, so the kernels' temporal halves add up.
  std::vector<float> kernel(static_cast<size_t>(D * 3 * p * p));
  if (tt.find("v.patch_embd.weight.1")) {
    for (const char* name : {"v.patch_embd.weight", "v.patch_embd.weight.1"}) {
      auto half = values(tt, tt.get(name), {D, 3, p, p});
      for (size_t i = 0; i < kernel.size(); ++i) kernel[i] += half[i];
    }
  } else {
    auto full = values(tt, tt.get("v.patch_embd.weight"), {D, 3, 2, p, p});
    const int64_t pp = p * p;
    for (int64_t o = 0; o < D * 3; ++o)
      for (int64_t i = 0; i < pp; ++i)
        kernel[static_cast<size_t>(o * pp + i)] = full[static_cast<size_t>(o * 2 * pp + i)] +
                                                  full[static_cast<size_t>(o * 2 * pp + pp + i)];
  }
  w.patch_embed = Linear::from_f32(kernel.data(), 3 * p * p, D, nullptr, WeightMode::F32);

  for (int64_t b = 0; b < c.depth; ++b) {
    const std::string pre = "v.blk." + std::to_string(b) + ".";
    // The last block's activations carry the outliers: it stays in f32.
    const WeightMode mode = b + 1 == c.depth ? WeightMode::F32 : options.weights;
    Block blk;
    blk.norm1 = load_norm(tt, pre + "ln1", D, layer_norm);
    blk.norm2 = load_norm(tt, pre + "ln2", D, layer_norm);
    if (tt.find(pre + "attn_qkv.weight"))
      blk.qkv = load_linear(tt, pre + "attn_qkv", D, 3 * D, mode);
    else
      blk.qkv = load_stacked(tt, {pre + "attn_q", pre + "attn_k", pre + "attn_v"}, D, D, mode);
    blk.proj = load_linear(tt, pre + "attn_out", D, D, mode);
    if (c.kind == TowerKind::Qwen25VL)
      blk.gate_up = load_stacked(tt, {pre + "ffn_gate", pre + "ffn_up"}, D, c.ffn, mode);
    else
      blk.gate_up = load_linear(tt, pre + "ffn_up", D, c.ffn, mode);
    blk.down = load_linear(tt, pre + "ffn_down", c.ffn, D, mode);
    w.blocks.push_back(std::move(blk));
  }
  const int64_t merged = D * c.merge_size * c.merge_size;
  w.merger_norm = load_norm(tt, "v.post_ln", D, layer_norm);
  w.mm0 = load_linear(tt, "mm.0", merged, merged, WeightMode::F32);
  w.mm2 = load_linear(tt, "mm.2", merged, c.out_dim, WeightMode::F32);
  // A file truncated or rewritten while it was read (a read past its new end
  // found zeros) is refused rather than run.
  if (tt.gguf) tt.gguf->check_intact();
  for (const auto& st : tt.keep_alive) st->check_intact();
  return tower;
}

PreprocessOptions VisionTower::preprocess_options(int64_t max_tokens) const {
  PreprocessOptions o;
  o.patch_size = static_cast<int>(config_.patch_size);
  o.merge_size = static_cast<int>(config_.merge_size);
  o.max_tokens = max_tokens;
  for (int i = 0; i < 3; ++i) {
    o.mean[i] = config_.mean[i];
    o.std[i] = config_.std[i];
  }
  return o;
}

// ---------------------------------------------------------------------------
// Forward pass
// ---------------------------------------------------------------------------

namespace {

void apply_norm(const Norm& n, const float* x, int64_t rows, int64_t dim, float eps, float* out) {
  if (n.bias.empty()) {
    engine::ops::rms_norm(x, n.weight.data(), rows, dim, eps, out);
    return;
  }
#pragma omp parallel for if (rows > 16)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* o = out + r * dim;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < dim; ++i) mean += xr[i];
    mean /= static_cast<double>(dim);
    for (int64_t i = 0; i < dim; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= static_cast<double>(dim);
    const float inv = static_cast<float>(1.0 / std::sqrt(var + eps));
    for (int64_t i = 0; i < dim; ++i)
      o[i] = (xr[i] - static_cast<float>(mean)) * inv * n.weight[static_cast<size_t>(i)] + n.bias[static_cast<size_t>(i)];
  }
}

// q and k of every head rotated in place: pairs (i, i + d/2) by angle[i].
void apply_rotary(float* qkv, int64_t rows, int64_t hidden, int64_t heads, int64_t head_dim,
                  const std::vector<float>& angles) {
  const int64_t half = head_dim / 2;
#pragma omp parallel for if (rows > 16)
  for (int64_t r = 0; r < rows; ++r) {
    const float* a = angles.data() + r * half;
    float cosv[256], sinv[256];
    for (int64_t i = 0; i < half; ++i) {
      cosv[i] = std::cos(a[i]);
      sinv[i] = std::sin(a[i]);
    }
    for (int part = 0; part < 2; ++part)
      for (int64_t h = 0; h < heads; ++h) {
        float* x = qkv + r * 3 * hidden + part * hidden + h * head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const float x0 = x[i], x1 = x[i + half];
          x[i] = x0 * cosv[i] - x1 * sinv[i];
          x[i + half] = x1 * cosv[i] + x0 * sinv[i];
        }
      }
  }
}

// Softmax attention of each row with the rows of its segment ([bounds[s],
// bounds[s+1])), per head; qkv rows are [q | k | v], out rows [hidden].
void segment_attention(const float* qkv, int64_t rows, int64_t hidden, int64_t heads, int64_t head_dim,
                       const std::vector<int64_t>& bounds, float* out) {
  std::vector<int64_t> seg(static_cast<size_t>(rows));
  int64_t longest = 0;
  for (size_t s = 0; s + 1 < bounds.size(); ++s) {
    longest = std::max(longest, bounds[s + 1] - bounds[s]);
    for (int64_t r = bounds[s]; r < bounds[s + 1]; ++r) seg[static_cast<size_t>(r)] = static_cast<int64_t>(s);
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const int64_t stride = 3 * hidden;
#pragma omp parallel
  {
    std::vector<float> p(static_cast<size_t>(longest));
    std::vector<float> acc(static_cast<size_t>(head_dim));
#pragma omp for schedule(static)
    for (int64_t item = 0; item < rows * heads; ++item) {
      const int64_t r = item / heads, h = item % heads;
      const int64_t s = seg[static_cast<size_t>(r)];
      const int64_t b0 = bounds[static_cast<size_t>(s)], n = bounds[static_cast<size_t>(s) + 1] - b0;
      const float* q = qkv + r * stride + h * head_dim;
      float maxv = -INFINITY;
      for (int64_t j = 0; j < n; ++j) {
        const float* k = qkv + (b0 + j) * stride + hidden + h * head_dim;
        float d = 0;
        // Lets GCC reorder the sum into vector lanes (no -ffast-math here).
#pragma omp simd reduction(+ : d)
        for (int64_t i = 0; i < head_dim; ++i) d += q[i] * k[i];
        d *= scale;
        p[static_cast<size_t>(j)] = d;
        maxv = std::max(maxv, d);
      }
      float sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        p[static_cast<size_t>(j)] = std::exp(p[static_cast<size_t>(j)] - maxv);
        sum += p[static_cast<size_t>(j)];
      }
      std::fill(acc.begin(), acc.end(), 0.0f);
      float* a = acc.data();
      for (int64_t j = 0; j < n; ++j) {
        const float* v = qkv + (b0 + j) * stride + 2 * hidden + h * head_dim;
        const float pj = p[static_cast<size_t>(j)];
#pragma omp simd
        for (int64_t i = 0; i < head_dim; ++i) a[i] += pj * v[i];
      }
      float* o = out + r * hidden + h * head_dim;
      const float inv = 1.0f / sum;
      for (int64_t i = 0; i < head_dim; ++i) o[i] = acc[static_cast<size_t>(i)] * inv;
    }
  }
}

void gelu_erf(float* x, int64_t n) {
#pragma omp parallel for if (n > 65536)
  for (int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}

void quick_gelu(float* x, int64_t n) {
#pragma omp parallel for if (n > 65536)
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] / (1.0f + std::exp(-1.702f * x[i]));
}

}  // namespace

std::vector<float> VisionTower::encode(const VisionInput& in) const {
  const VisionConfig& c = config_;
  const int64_t m = c.merge_size, unit = m * m, p = c.patch_size, D = c.hidden;
  if (in.grid_h <= 0 || in.grid_w <= 0 || in.grid_h % m != 0 || in.grid_w % m != 0)
    throw ImageError("image grid " + std::to_string(in.grid_h) + "x" + std::to_string(in.grid_w) +
                     " is not a positive multiple of the merge size " + std::to_string(m));
  const int64_t frame = 3 * p * p;
  if (in.row_size != 2 * frame || static_cast<int64_t>(in.patches.size()) != in.patch_count() * in.row_size)
    throw ImageError("image patches have rows of " + std::to_string(in.row_size) + " values; the tower takes " +
                     std::to_string(2 * frame) + " (3 channels x 2 frames x " + std::to_string(p) + "x" +
                     std::to_string(p) + ")");
  const int64_t N = in.patch_count();

  // Window order: merged units (4 consecutive rows each) regrouped by window.
  const WindowPartition wp = window_partition(in.grid_h, in.grid_w, m, c.window_size / (p * m));
  const std::vector<float> angles_merge = rotary_angles(in.grid_h, in.grid_w, m, c.head_dim, c.rope_theta);
  const int64_t half = c.head_dim / 2;
  std::vector<float> frame0(static_cast<size_t>(N * frame));
  std::vector<float> angles(static_cast<size_t>(N * half));
  for (int64_t u = 0; u < N / unit; ++u) {
    const int64_t src_unit = wp.order[static_cast<size_t>(u)];
    for (int64_t k = 0; k < unit; ++k) {
      const int64_t dst = u * unit + k, src = src_unit * unit + k;
      // Row layout (channel, frame, y, x): frame 0 of each channel.
      for (int ch = 0; ch < 3; ++ch)
        std::memcpy(&frame0[static_cast<size_t>(dst * frame + ch * p * p)],
                    &in.patches[static_cast<size_t>(src * in.row_size + ch * 2 * p * p)],
                    sizeof(float) * static_cast<size_t>(p * p));
      std::memcpy(&angles[static_cast<size_t>(dst * half)], &angles_merge[static_cast<size_t>(src * half)],
                  sizeof(float) * static_cast<size_t>(half));
    }
  }
  const std::vector<int64_t> full_bounds = {0, N};

  std::vector<float> x(static_cast<size_t>(N * D)), xn(x.size()), attn(x.size()), tmp(x.size());
  std::vector<float> qkv(static_cast<size_t>(N * 3 * D));
  const int64_t ffn_out = c.kind == TowerKind::Qwen25VL ? 2 * c.ffn : c.ffn;
  std::vector<float> hidden(static_cast<size_t>(N * ffn_out)), act(static_cast<size_t>(N * c.ffn));
  w_->patch_embed.forward(frame0.data(), N, x.data());
  for (int64_t b = 0; b < c.depth; ++b) {
    const Block& blk = w_->blocks[static_cast<size_t>(b)];
    apply_norm(blk.norm1, x.data(), N, D, c.eps, xn.data());
    blk.qkv.forward(xn.data(), N, qkv.data());
    apply_rotary(qkv.data(), N, D, c.heads, c.head_dim, angles);
    segment_attention(qkv.data(), N, D, c.heads, c.head_dim,
                      c.full_attention[static_cast<size_t>(b)] ? full_bounds : wp.bounds, attn.data());
    blk.proj.forward(attn.data(), N, tmp.data());
    engine::ops::add(x.data(), tmp.data(), N * D);
    apply_norm(blk.norm2, x.data(), N, D, c.eps, xn.data());
    blk.gate_up.forward(xn.data(), N, hidden.data());
    if (c.kind == TowerKind::Qwen25VL) {
      engine::ops::swiglu(hidden.data(), N, c.ffn, act.data());
      blk.down.forward(act.data(), N, tmp.data());
    } else {
      quick_gelu(hidden.data(), N * c.ffn);
      blk.down.forward(hidden.data(), N, tmp.data());
    }
    engine::ops::add(x.data(), tmp.data(), N * D);
  }
  // Merger: norm per patch, 4 patches of a unit side by side, MLP.
  apply_norm(w_->merger_norm, x.data(), N, D, c.eps, xn.data());
  const int64_t units = N / unit, merged = D * unit;
  std::vector<float> h1(static_cast<size_t>(units * merged));
  w_->mm0.forward(xn.data(), units, h1.data());
  gelu_erf(h1.data(), units * merged);
  std::vector<float> y(static_cast<size_t>(units * c.out_dim));
  w_->mm2.forward(h1.data(), units, y.data());
  // Back from window order to the image's merge order.
  std::vector<float> out(y.size());
  for (int64_t u = 0; u < units; ++u)
    std::memcpy(&out[static_cast<size_t>(wp.order[static_cast<size_t>(u)] * c.out_dim)],
                &y[static_cast<size_t>(u * c.out_dim)], sizeof(float) * static_cast<size_t>(c.out_dim));
  return out;
}

}  // namespace astfill::vision
