#include "train/lora_model.h"

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <sys/mman.h>
#include <unistd.h>

#include "engine/arch/layers.h"
#include "engine/errors.h"
#include "engine/tensor_types.h"

namespace astfill::train {

using engine::HyperParams;
using engine::Linear;

namespace {

// Lets go of the file pages of bytes [p, p + n) (whole pages inside it):
// read again, they fault back in from the page cache.
void release_pages(const uint8_t* p, size_t n) {
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t begin = (start + page - 1) / page * page, end = (start + n) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

// Releases the pages of the tensors whose names start with `prefix` ("" for
// all), once they are converted (as Model::load does, so loading holds one
// layer of the file resident at a time).
void release_tensors(const engine::ModelFile& f, const std::string& prefix) {
  for (const engine::ModelTensor& t : f.tensors())
    if (t.name.starts_with(prefix)) release_pages(t.data, t.bytes);
}

}  // namespace

template <class T>
Adapter<T> Adapter<T>::zeros_like() const {
  Adapter z = *this;
  for (auto& p : z.pairs) {
    std::fill(p.a.begin(), p.a.end(), T(0));
    std::fill(p.b.begin(), p.b.end(), T(0));
  }
  return z;
}

template <class T>
size_t Adapter<T>::parameter_count() const {
  size_t n = 0;
  for (const auto& p : pairs) n += p.a.size() + p.b.size();
  return n;
}

template struct Adapter<float>;
template struct Adapter<double>;

// The rows of a (fused) projection in the model file: tensors stacked in
// output order, each [out_i][in] in its own type.
struct FrozenModel::FileRows {
  struct Part {
    const engine::ModelTensor* tensor = nullptr;
    int64_t first = 0;   // its first row in the fused output
    int64_t offset = 0;  // the part's first row among the tensor's rows (an expert of a stacked tensor)
    int64_t rows = 0;
  };
  std::vector<Part> parts;
  int64_t in = 0, out = 0;

  FileRows() = default;
  FileRows(const engine::ModelFile& f, const std::vector<std::string>& names) {
    for (const auto& name : names) add(engine::arch::tensor(f, name), 0, engine::arch::tensor(f, name).ne[1]);
  }
  // Rows [offset, offset + rows) of t (stacked experts: expert x's rows of
  // ne {in, rows, X} start at x * rows).
  void add(const engine::ModelTensor& t, int64_t offset, int64_t rows) {
    parts.push_back({&t, out, offset, rows});
    in = t.ne[0];
    out += rows;
  }
};

struct FrozenModel::Layer {
  engine::LayerWeights w;
  std::vector<float> qkv_bias;  // qwen2's q|k|v biases (the double path adds them itself)
  FileRows qkv, output, gate_up, down;
  std::vector<FileRows> expert_gate_up, expert_down;  // a MoE layer: per expert
};

FrozenModel::FrozenModel() = default;
FrozenModel::~FrozenModel() = default;

std::unique_ptr<FrozenModel> FrozenModel::open(const std::string& path, engine::WeightMode mode) {
  const auto file = std::make_shared<const engine::ModelFile>(engine::ModelFile::open(path));
  const engine::ModelFile& f = *file;
  const HyperParams& hp = f.hparams();
  const engine::arch::Architecture architecture = engine::arch::architecture(hp.arch);
  if (!architecture.load)
    throw engine::ModelError(path + ": training for architecture '" + hp.arch + "' is not supported");
  std::unique_ptr<FrozenModel> m(new FrozenModel());
  m->file_ = file;
  m->hp_ = hp;
  m->mode_ = mode;
  m->tokenizer_ = std::make_unique<engine::Tokenizer>(f.tokenizer());
  try {
    const engine::ModelTensor& embd = engine::arch::tensor(f, "token_embd.weight");
    const engine::ModelTensor* head = f.find("output.weight");
    m->lm_head_ = Linear::load(head ? *head : embd, nullptr, mode);
    m->lm_head_rows_ = std::make_unique<FileRows>(f, std::vector<std::string>{head ? head->name : embd.name});
    m->embd_type_ = embd.type;
    if (head) m->token_embd_.assign(embd.data, embd.data + embd.bytes);
    release_tensors(f, embd.name);
    if (head) release_tensors(f, head->name);
    m->layers_.resize(hp.block_count);
    for (uint32_t i = 0; i < hp.block_count; ++i) {
      Layer& l = m->layers_[i];
      l.w = architecture.load(f, i, mode);
      const std::string p = "blk." + std::to_string(i) + ".";
      l.qkv = FileRows(f, {p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"});
      l.output = FileRows(f, {p + "attn_output.weight"});
      if (!l.w.experts) {
        l.gate_up = FileRows(f, {p + "ffn_gate.weight", p + "ffn_up.weight"});
        l.down = FileRows(f, {p + "ffn_down.weight"});
      } else if (const engine::ModelTensor* gate = f.find(p + "ffn_gate_exps.weight")) {
        // Stacked experts, as GGUF stores them: expert x's rows of each.
        const engine::ModelTensor& up = engine::arch::tensor(f, p + "ffn_up_exps.weight");
        const engine::ModelTensor& down = engine::arch::tensor(f, p + "ffn_down_exps.weight");
        const int64_t F = gate->ne[1], E = down.ne[1];
        for (size_t x = 0; x < l.w.experts->gate_up.size(); ++x) {
          FileRows gu, d;
          gu.add(*gate, static_cast<int64_t>(x) * F, F);
          gu.add(up, static_cast<int64_t>(x) * F, F);
          d.add(down, static_cast<int64_t>(x) * E, E);
          l.expert_gate_up.push_back(std::move(gu));
          l.expert_down.push_back(std::move(d));
        }
      } else {  // one tensor per expert (Hugging Face checkpoints)
        for (size_t x = 0; x < l.w.experts->gate_up.size(); ++x) {
          const std::string e = "_exp." + std::to_string(x) + ".weight";
          l.expert_gate_up.emplace_back(f, std::vector<std::string>{p + "ffn_gate" + e, p + "ffn_up" + e});
          l.expert_down.emplace_back(f, std::vector<std::string>{p + "ffn_down" + e});
        }
      }
      release_tensors(f, p);
      for (const char* part : {"attn_q.bias", "attn_k.bias", "attn_v.bias"})
        if (f.find(p + part)) {
          const auto b = engine::arch::vector_f32(f, p + part);
          l.qkv_bias.insert(l.qkv_bias.end(), b.begin(), b.end());
        }
    }
    m->output_norm_ = engine::arch::vector_f32(f, "output_norm.weight");
    release_tensors(f, "");
  } catch (const engine::ModelError& e) {
    if (std::string_view(e.what()).starts_with(path)) throw;
    throw engine::ModelError(path + ": " + e.what());
  }
  m->inv_freq_ = engine::rope_inverse_frequencies(m->hp_, &m->rope_mscale_);
  return m;
}

namespace {

// The dense MLP's hidden width: the first layer that has one (0: none does).
int64_t dense_ffn(const std::vector<FrozenModel::Layer>& layers);

}  // namespace

int64_t FrozenModel::target_in(Target t) const {
  const int64_t E = hp_.embedding_length;
  switch (t) {
    case Target::O: return int64_t(hp_.head_count) * hp_.head_dim;
    case Target::Down: return dense_ffn(layers_);
    default: return E;
  }
}

int64_t FrozenModel::target_out(Target t) const {
  const int64_t E = hp_.embedding_length, D = hp_.head_dim;
  switch (t) {
    case Target::Q: return int64_t(hp_.head_count) * D;
    case Target::K:
    case Target::V: return int64_t(hp_.head_count_kv) * D;
    case Target::Gate:
    case Target::Up: return dense_ffn(layers_);
    default: return E;
  }
}

int64_t FrozenModel::expert_in(Target t) const {
  if (hp_.expert_count == 0) return 0;
  return t == Target::Down ? int64_t(hp_.expert_feed_forward_length) : int64_t(hp_.embedding_length);
}

int64_t FrozenModel::expert_out(Target t) const {
  if (hp_.expert_count == 0) return 0;
  return t == Target::Down ? int64_t(hp_.embedding_length) : int64_t(hp_.expert_feed_forward_length);
}

bool FrozenModel::is_moe_layer(uint32_t l) const { return l < layers_.size() && layers_[l].w.experts != nullptr; }

namespace {

int64_t dense_ffn(const std::vector<FrozenModel::Layer>& layers) {
  for (const auto& l : layers)
    if (!l.w.experts) return l.w.down.in();
  return 0;
}

bool is_mlp(Target t) { return t == Target::Gate || t == Target::Up || t == Target::Down; }

}  // namespace

Adapter<float> FrozenModel::new_adapter(const std::vector<Target>& targets, int64_t rank, double alpha,
                                        uint64_t seed) const {
  if (rank <= 0) throw std::invalid_argument("the rank must be at least 1");
  Adapter<float> ad;
  ad.rank = rank;
  ad.alpha = alpha;
  // splitmix64: the same numbers on every platform (std's distributions are not).
  uint64_t state = seed;
  auto next = [&state] {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (uint32_t l = 0; l < hp_.block_count; ++l)
    for (Target t : targets) {
      // A MoE layer's MLP targets are its experts': a pair for each.
      const bool experts = is_mlp(t) && is_moe_layer(l);
      const int32_t count = experts ? static_cast<int32_t>(layers_[l].w.experts->gate_up.size()) : 1;
      for (int32_t e = 0; e < count; ++e) {
        LoraPair<float> p;
        p.layer = l;
        p.target = t;
        p.expert = experts ? e : -1;
        p.in = experts ? expert_in(t) : target_in(t);
        p.out = experts ? expert_out(t) : target_out(t);
        // PEFT: kaiming_uniform_(A, a=sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)); B = 0.
        const double bound = 1.0 / std::sqrt(static_cast<double>(p.in));
        p.a.resize(static_cast<size_t>(rank * p.in));
        for (float& v : p.a) v = static_cast<float>((static_cast<double>(next() >> 11) * 0x1.0p-53 * 2 - 1) * bound);
        p.b.assign(static_cast<size_t>(p.out * rank), 0.0f);
        ad.pairs.push_back(std::move(p));
      }
    }
  return ad;
}

namespace {

// C[M][N] = alpha op(A) op(B) + beta C, row-major; op transposes when asked.
template <class T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if constexpr (std::is_same_v<T, float>) {
    if (K <= 0) {
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0 ? 0.0f : beta * C[i * ldc + j];
      return;
    }
    // Small products on one thread: forking the team costs more than they
    // take, and a busy machine makes every barrier wait for a time slice.
    const bool small = M * N * K < (int64_t{1} << 20);
    const engine::EngineThreads one(small && !omp_in_parallel() ? 1 : 0);
    if (dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) != dnnl_success)
      throw std::runtime_error("oneDNN sgemm failed");
  } else {
#pragma omp parallel for if (M * N * K > 100000) schedule(static)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        T s = 0;
        for (int64_t k = 0; k < K; ++k) s += (ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
        C[i * ldc + j] = alpha * s + (beta == 0 ? T(0) : beta * C[i * ldc + j]);
      }
  }
}

constexpr int64_t kTileRows = 256;

// A block of a frozen layer's rows [n0, n0 + rows) in f32 (as the layer holds
// them: int8 weights dequantised), converted to T.
template <class T>
void weight_tile(const Linear& w, int64_t n0, int64_t rows, std::vector<float>& f32, std::vector<T>& tile) {
  const int64_t in = w.in();
  f32.resize(static_cast<size_t>(rows * in));
#pragma omp parallel for if (rows * in > 65536) schedule(static)
  for (int64_t r = 0; r < rows; ++r) w.weight_row(n0 + r, f32.data() + r * in);
  if constexpr (!std::is_same_v<T, float>) tile.assign(f32.begin(), f32.end());
}

// y[n][out] = x[n][in] W^T + bias: the engine's own kernel in f32; from
// dequantised tiles in double.
template <class T>
void frozen_forward(const Linear& w, const std::vector<float>& bias, const T* x, int64_t n, T* y) {
  if constexpr (std::is_same_v<T, float>) {
    w.forward(x, n, y);
  } else {
    const int64_t in = w.in(), out = w.out();
    std::vector<float> f32;
    std::vector<T> tile;
    for (int64_t n0 = 0; n0 < out; n0 += kTileRows) {
      const int64_t rows = std::min(kTileRows, out - n0);
      weight_tile(w, n0, rows, f32, tile);
      gemm<T>(false, true, n, rows, in, 1, x, in, tile.data(), in, 0, y + n0, out);
    }
    if (!bias.empty())
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < out; ++j) y[i * out + j] += bias[static_cast<size_t>(j)];
  }
}

}  // namespace

// dx[n][in] += dy[n][out] W, with W's rows dequantised from the file a tile
// at a time (the same values the layer was built from).
template <class T>
void frozen_backward(const FrozenModel::FileRows& w, const T* dy, int64_t n, T* dx) {
  const int64_t in = w.in, out = w.out;
  std::vector<float> f32;
  std::vector<T> tile;
  for (int64_t n0 = 0; n0 < out; n0 += kTileRows) {
    const int64_t rows = std::min(kTileRows, out - n0);
    f32.resize(static_cast<size_t>(rows * in));
#pragma omp parallel for if (rows * in > 65536) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      size_t p = w.parts.size() - 1;
      while (w.parts[p].first > n0 + r) --p;
      const engine::ModelTensor& t = *w.parts[p].tensor;
      const size_t rb = engine::row_bytes(t.type, static_cast<size_t>(in));
      engine::dequantize_row(t.type, t.data + static_cast<size_t>(n0 + r - w.parts[p].first + w.parts[p].offset) * rb,
                             f32.data() + r * in, static_cast<size_t>(in));
    }
    for (const auto& part : w.parts) {
      const int64_t lo = std::max(n0, part.first), hi = std::min(n0 + rows, part.first + part.rows);
      if (lo >= hi) continue;
      const size_t rb = engine::row_bytes(part.tensor->type, static_cast<size_t>(in));
      release_pages(part.tensor->data + static_cast<size_t>(lo - part.first + part.offset) * rb,
                    static_cast<size_t>(hi - lo) * rb);
    }
    const T* t = nullptr;
    if constexpr (std::is_same_v<T, float>) {
      t = f32.data();
    } else {
      tile.assign(f32.begin(), f32.end());
      t = tile.data();
    }
    gemm<T>(false, false, n, in, rows, 1, dy + n0, out, t, in, 1, dx, in);
  }
}

namespace {

// out = x / rms(x) * w per row of `cols`; inv[r] keeps 1/rms for backward.
// As engine/ops.cpp computes it: the sum of squares in double.
template <class T>
void rms_forward(const T* x, const float* w, int64_t rows, int64_t cols, float eps, T* out, T* inv) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    double ss = 0;
    for (int64_t i = 0; i < cols; ++i) ss += double(xr[i]) * xr[i];
    const T scale = static_cast<T>(1.0 / std::sqrt(ss / static_cast<double>(cols) + eps));
    inv[r] = scale;
    for (int64_t i = 0; i < cols; ++i) out[r * cols + i] = xr[i] * scale * static_cast<T>(w[i]);
  }
}

// dx += d/dx of the norm above, given dy.
template <class T>
void rms_backward(const T* x, const float* w, const T* inv, const T* dy, int64_t rows, int64_t cols, T* dx) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    const T* g = dy + r * cols;
    T dot = 0;
    for (int64_t i = 0; i < cols; ++i) dot += g[i] * static_cast<T>(w[i]) * xr[i];
    const T s = inv[r], k = s * s * s * dot / static_cast<T>(cols);
    for (int64_t i = 0; i < cols; ++i) dx[r * cols + i] += s * g[i] * static_cast<T>(w[i]) - k * xr[i];
  }
}

}  // namespace

// One sample's forward and backward passes through the model.
template <class T>
struct Pass {
  const FrozenModel& m;
  const Adapter<T>& ad;
  Adapter<T>* grads;
  int64_t n, E, H, KV, D, HD, KVD, width;
  T lora_scale;
  int64_t experts_;          // hp.expert_count (0: a dense model)
  std::vector<int> pair_of;  // [(layer * 7 + target) * (experts_ + 1) + expert + 1] -> index in ad.pairs, or -1
  std::vector<T> cos_, sin_;  // RoPE at positions 0 .. n-1, [n][D/2]

  // One expert's share of a MoE layer: the rows routed to it and what they computed.
  struct ExpertActs {
    std::vector<int64_t> rows;  // token index of each routed row
    std::vector<int64_t> slot;  // where the expert is among that token's choices
    std::vector<T> h, gu, act, y;
    std::vector<T> u[3];        // x A^T of its gate, up and down pairs
  };

  // One layer's intermediates, recomputed for its backward pass.
  struct Acts {
    std::vector<T> x, h1, r1, qkv, qraw, kraw, q, k, v, rq, rk, p, o, x2, h2, r2, gu, act;
    std::vector<T> u[7];  // x A^T of each adapted target
    // A MoE layer: the router's probabilities [n][X], each token's chosen
    // experts and their weights [n][k], and each expert's rows.
    std::vector<T> probs, chosen_w;
    std::vector<int32_t> chosen;
    std::vector<ExpertActs> ex;
  } a;

  Pass(const FrozenModel& model, const Adapter<T>& adapter, Adapter<T>* g, int64_t tokens)
      : m(model), ad(adapter), grads(g), n(tokens) {
    const HyperParams& hp = m.hp_;
    E = hp.embedding_length;
    H = hp.head_count;
    KV = hp.head_count_kv;
    D = hp.head_dim;
    HD = H * D;
    KVD = KV * D;
    width = HD + 2 * KVD;
    lora_scale = ad.scale();
    experts_ = hp.expert_count;
    pair_of.assign(static_cast<size_t>(hp.block_count) * 7 * static_cast<size_t>(experts_ + 1), -1);
    for (size_t i = 0; i < ad.pairs.size(); ++i) {
      const auto& p = ad.pairs[i];
      const bool expert = p.expert >= 0;
      // MLP pairs must be of the layer's kind: experts' on a MoE layer, dense ones on a dense layer.
      const bool kind_fits = p.layer < hp.block_count &&
                             (is_mlp(p.target) ? expert == m.is_moe_layer(p.layer) : !expert) &&
                             (!expert || p.expert < experts_);
      if (!kind_fits || p.in != (expert ? m.expert_in(p.target) : m.target_in(p.target)) ||
          p.out != (expert ? m.expert_out(p.target) : m.target_out(p.target)) || p.in <= 0 || p.out <= 0 ||
          p.a.size() != static_cast<size_t>(ad.rank * p.in) || p.b.size() != static_cast<size_t>(p.out * ad.rank))
        throw std::invalid_argument(std::string("the adapter's ") + engine::lora_target_name(p.target) + " pair of layer " +
                                    std::to_string(p.layer) +
                                    (expert ? ", expert " + std::to_string(p.expert) : std::string()) +
                                    " does not fit the model's shapes");
      pair_of[slot(p.layer, p.target, p.expert)] = static_cast<int>(i);
    }
    const int64_t half = D / 2;
    cos_.resize(static_cast<size_t>(n * half));
    sin_.resize(static_cast<size_t>(n * half));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < half; ++j) {
        const double angle = static_cast<double>(i) * m.inv_freq_[static_cast<size_t>(j)];
        cos_[i * half + j] = static_cast<T>(std::cos(angle) * m.rope_mscale_);
        sin_[i * half + j] = static_cast<T>(std::sin(angle) * m.rope_mscale_);
      }
  }

  static T* sized(std::vector<T>& v, int64_t count) {
    v.assign(static_cast<size_t>(count), T(0));
    return v.data();
  }

  void embed(const std::vector<int32_t>& tokens, T* x) const {
    std::vector<float> row(static_cast<size_t>(E));
    const size_t rb = engine::row_bytes(m.embd_type_, static_cast<size_t>(E));
    for (int64_t i = 0; i < n; ++i) {
      if (m.token_embd_.empty()) m.lm_head_.weight_row(tokens[i], row.data());
      else engine::dequantize_row(m.embd_type_, m.token_embd_.data() + static_cast<size_t>(tokens[i]) * rb, row.data(),
                                  static_cast<size_t>(E));
      for (int64_t j = 0; j < E; ++j) x[i * E + j] = row[static_cast<size_t>(j)];
    }
  }

  size_t slot(uint32_t layer, Target t, int32_t expert) const {
    return (static_cast<size_t>(layer) * 7 + static_cast<size_t>(t)) * static_cast<size_t>(experts_ + 1) +
           static_cast<size_t>(expert + 1);
  }

  const LoraPair<T>* pair(uint32_t layer, Target t, int* index = nullptr, int32_t expert = -1) const {
    const int i = pair_of[slot(layer, t, expert)];
    if (index) *index = i;
    return i < 0 ? nullptr : &ad.pairs[static_cast<size_t>(i)];
  }

  // y[rows][out] (row stride ldy) += s (x A^T) B^T; u = x A^T is kept.
  void lora_apply(const LoraPair<T>* p, const T* x, int64_t rows, T* y, int64_t ldy, std::vector<T>& u_store) {
    if (!p || rows == 0) return;
    const int64_t r = ad.rank;
    T* u = sized(u_store, rows * r);
    gemm<T>(false, true, rows, r, p->in, 1, x, p->in, p->a.data(), p->in, 0, u, r);
    gemm<T>(false, true, rows, p->out, r, lora_scale, u, r, p->b.data(), r, 1, y, ldy);
  }

  // Given dy (stride ldy): dA, dB into the gradients of pair `index` and dx += the path through the adapter.
  void lora_grad(const LoraPair<T>* p, int index, const T* x, int64_t rows, const T* dy, int64_t ldy, T* dx,
                 const std::vector<T>& u_store) {
    if (!p || rows == 0) return;
    const int64_t r = ad.rank;
    const T* u = u_store.data();
    LoraPair<T>& g = grads->pairs[static_cast<size_t>(index)];
    std::vector<T> du(static_cast<size_t>(rows * r));
    gemm<T>(true, false, p->out, r, rows, lora_scale, dy, ldy, u, r, 1, g.b.data(), r);
    gemm<T>(false, false, rows, r, p->out, lora_scale, dy, ldy, p->b.data(), r, 0, du.data(), r);
    gemm<T>(true, false, r, p->in, rows, 1, du.data(), r, x, p->in, 1, g.a.data(), p->in);
    gemm<T>(false, false, rows, p->in, r, 1, du.data(), r, p->a.data(), p->in, 1, dx, p->in);
  }

  void lora_forward(uint32_t layer, Target t, const T* x, T* y, int64_t ldy) {
    lora_apply(pair(layer, t), x, n, y, ldy, a.u[static_cast<int>(t)]);
  }

  void lora_backward(uint32_t layer, Target t, const T* x, const T* dy, int64_t ldy, T* dx) {
    int index = -1;
    const LoraPair<T>* p = pair(layer, t, &index);
    lora_grad(p, index, x, n, dy, ldy, dx, a.u[static_cast<int>(t)]);
  }

  // The MoE block, as engine/moe.cpp runs it: router logits from h2 (f32
  // router), a softmax in double, each token's top-k (ties to the lower
  // index) with weights renormalised when the model says so; each chosen
  // expert's SwiGLU MLP (with its adapters) on the rows routed to it;
  // out = the weighted sum. Keeps what moe_backward needs.
  void moe_forward(uint32_t l, const engine::ExpertWeights& ew, T* out) {
    const int64_t X = static_cast<int64_t>(ew.gate_up.size());
    const int64_t K = std::min<int64_t>(ew.used, X);
    const T* h = a.h2.data();
    T* probs = sized(a.probs, n * X);
    a.chosen.assign(static_cast<size_t>(n * K), -1);
    T* chosen_w = sized(a.chosen_w, n * K);
    a.ex.assign(static_cast<size_t>(X), ExpertActs{});
    std::vector<double> logit(static_cast<size_t>(X)), p(static_cast<size_t>(X));
    std::vector<int32_t> order(static_cast<size_t>(X));
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t x = 0; x < X; ++x) {
        const float* w = ew.router.data() + x * E;
        const T* hi = h + i * E;
        if constexpr (std::is_same_v<T, float>) {
          float dot = 0;
#pragma omp simd reduction(+ : dot)
          for (int64_t e = 0; e < E; ++e) dot += hi[e] * w[e];
          logit[static_cast<size_t>(x)] = dot;
        } else {
          T dot = 0;
          for (int64_t e = 0; e < E; ++e) dot += hi[e] * static_cast<T>(w[e]);
          logit[static_cast<size_t>(x)] = dot;
        }
      }
      const double mx = *std::max_element(logit.begin(), logit.end());
      double z = 0;
      for (int64_t x = 0; x < X; ++x) z += p[static_cast<size_t>(x)] = std::exp(logit[static_cast<size_t>(x)] - mx);
      for (int64_t x = 0; x < X; ++x) {
        p[static_cast<size_t>(x)] /= z;
        probs[i * X + x] = static_cast<T>(p[static_cast<size_t>(x)]);
      }
      for (int64_t x = 0; x < X; ++x) order[static_cast<size_t>(x)] = static_cast<int32_t>(x);
      std::partial_sort(order.begin(), order.begin() + K, order.end(),
                        [&](int32_t x, int32_t y) { return p[x] > p[y] || (p[x] == p[y] && x < y); });
      double sum = 0;
      for (int64_t j = 0; j < K; ++j) sum += p[static_cast<size_t>(order[static_cast<size_t>(j)])];
      for (int64_t j = 0; j < K; ++j) {
        const int32_t x = order[static_cast<size_t>(j)];
        a.chosen[static_cast<size_t>(i * K + j)] = x;
        const double w = ew.normalize ? p[static_cast<size_t>(x)] / sum : p[static_cast<size_t>(x)];
        if constexpr (std::is_same_v<T, float>) chosen_w[i * K + j] = static_cast<float>(w);  // as route() rounds it
        else chosen_w[i * K + j] = w;
        a.ex[static_cast<size_t>(x)].rows.push_back(i);
        a.ex[static_cast<size_t>(x)].slot.push_back(j);
      }
    }
    std::fill(out, out + n * E, T(0));
    for (int64_t x = 0; x < X; ++x) {
      ExpertActs& ea = a.ex[static_cast<size_t>(x)];
      const int64_t M = static_cast<int64_t>(ea.rows.size());
      if (M == 0) continue;  // an expert nobody chose is never touched
      const int64_t F = ew.down[static_cast<size_t>(x)].in(), F2 = 2 * F;
      T* hx = sized(ea.h, M * E);
      for (int64_t j = 0; j < M; ++j) std::copy_n(h + ea.rows[static_cast<size_t>(j)] * E, E, hx + j * E);
      T* gu = sized(ea.gu, M * F2);
      frozen_forward(ew.gate_up[static_cast<size_t>(x)], {}, hx, M, gu);
      lora_apply(pair(l, Target::Gate, nullptr, static_cast<int32_t>(x)), hx, M, gu, F2, ea.u[0]);
      lora_apply(pair(l, Target::Up, nullptr, static_cast<int32_t>(x)), hx, M, gu + F, F2, ea.u[1]);
      T* act = sized(ea.act, M * F);
      for (int64_t j = 0; j < M; ++j)
        for (int64_t c = 0; c < F; ++c) {
          const T g = gu[j * F2 + c], u = gu[j * F2 + F + c];
          act[j * F + c] = g / (T(1) + std::exp(-g)) * u;
        }
      T* y = sized(ea.y, M * E);
      frozen_forward(ew.down[static_cast<size_t>(x)], {}, act, M, y);
      lora_apply(pair(l, Target::Down, nullptr, static_cast<int32_t>(x)), act, M, y, E, ea.u[2]);
      for (int64_t j = 0; j < M; ++j) {
        const int64_t i = ea.rows[static_cast<size_t>(j)];
        const T w = chosen_w[i * K + ea.slot[static_cast<size_t>(j)]];
        for (int64_t e = 0; e < E; ++e) out[i * E + e] += w * y[j * E + e];
      }
    }
  }

  // Given dout = d(out) [n][E]: the experts' and their adapters' gradients,
  // and dh += d(h2), through the experts and through the router's weights.
  void moe_backward(uint32_t l, const engine::ExpertWeights& ew, const T* dout, T* dh) {
    const int64_t X = static_cast<int64_t>(ew.gate_up.size());
    const int64_t K = std::min<int64_t>(ew.used, X);
    std::vector<T> dw(static_cast<size_t>(n * K), T(0));  // d(loss)/d(chosen weight)
    for (int64_t x = 0; x < X; ++x) {
      ExpertActs& ea = a.ex[static_cast<size_t>(x)];
      const int64_t M = static_cast<int64_t>(ea.rows.size());
      if (M == 0) continue;
      const int64_t F = ew.down[static_cast<size_t>(x)].in(), F2 = 2 * F;
      std::vector<T> dy(static_cast<size_t>(M * E));
      for (int64_t j = 0; j < M; ++j) {
        const int64_t i = ea.rows[static_cast<size_t>(j)], k = ea.slot[static_cast<size_t>(j)];
        const T w = a.chosen_w[static_cast<size_t>(i * K + k)];
        T dot = 0;
        for (int64_t e = 0; e < E; ++e) {
          dy[static_cast<size_t>(j * E + e)] = w * dout[i * E + e];
          dot += dout[i * E + e] * ea.y[static_cast<size_t>(j * E + e)];
        }
        dw[static_cast<size_t>(i * K + k)] = dot;
      }
      std::vector<T> dact(static_cast<size_t>(M * F), T(0));
      frozen_backward(m.layers_[l].expert_down[static_cast<size_t>(x)], dy.data(), M, dact.data());
      int index = -1;
      const LoraPair<T>* pd = pair(l, Target::Down, &index, static_cast<int32_t>(x));
      lora_grad(pd, index, ea.act.data(), M, dy.data(), E, dact.data(), ea.u[2]);
      std::vector<T> dgu(static_cast<size_t>(M * F2));
      for (int64_t j = 0; j < M; ++j)
        for (int64_t c = 0; c < F; ++c) {
          const T g = ea.gu[static_cast<size_t>(j * F2 + c)], u = ea.gu[static_cast<size_t>(j * F2 + F + c)],
                  d = dact[static_cast<size_t>(j * F + c)];
          const T sig = T(1) / (T(1) + std::exp(-g));
          dgu[static_cast<size_t>(j * F2 + c)] = d * u * sig * (T(1) + g * (T(1) - sig));
          dgu[static_cast<size_t>(j * F2 + F + c)] = d * g * sig;
        }
      std::vector<T> dhx(static_cast<size_t>(M * E), T(0));
      frozen_backward(m.layers_[l].expert_gate_up[static_cast<size_t>(x)], dgu.data(), M, dhx.data());
      const LoraPair<T>* pg = pair(l, Target::Gate, &index, static_cast<int32_t>(x));
      lora_grad(pg, index, ea.h.data(), M, dgu.data(), F2, dhx.data(), ea.u[0]);
      const LoraPair<T>* pu = pair(l, Target::Up, &index, static_cast<int32_t>(x));
      lora_grad(pu, index, ea.h.data(), M, dgu.data() + F, F2, dhx.data(), ea.u[1]);
      for (int64_t j = 0; j < M; ++j) {
        T* d = dh + ea.rows[static_cast<size_t>(j)] * E;
        for (int64_t e = 0; e < E; ++e) d[e] += dhx[static_cast<size_t>(j * E + e)];
      }
    }
    // The router: weights w = softmax over the chosen logits (normalised) or
    // the full softmax's chosen entries; d(logit) from d(w), then dh += d(logits) R.
    std::vector<T> dl(static_cast<size_t>(X));
    for (int64_t i = 0; i < n; ++i) {
      std::fill(dl.begin(), dl.end(), T(0));
      T s = 0;
      for (int64_t k = 0; k < K; ++k) s += a.chosen_w[static_cast<size_t>(i * K + k)] * dw[static_cast<size_t>(i * K + k)];
      if (ew.normalize) {
        for (int64_t k = 0; k < K; ++k) {
          const int32_t x = a.chosen[static_cast<size_t>(i * K + k)];
          dl[static_cast<size_t>(x)] = a.chosen_w[static_cast<size_t>(i * K + k)] * (dw[static_cast<size_t>(i * K + k)] - s);
        }
      } else {
        for (int64_t x = 0; x < X; ++x) dl[static_cast<size_t>(x)] = -a.probs[static_cast<size_t>(i * X + x)] * s;
        for (int64_t k = 0; k < K; ++k) {
          const int32_t x = a.chosen[static_cast<size_t>(i * K + k)];
          dl[static_cast<size_t>(x)] += a.probs[static_cast<size_t>(i * X + x)] * dw[static_cast<size_t>(i * K + k)];
        }
      }
      T* d = dh + i * E;
      for (int64_t x = 0; x < X; ++x) {
        const T g = dl[static_cast<size_t>(x)];
        if (g == T(0)) continue;
        const float* r = ew.router.data() + x * E;
        for (int64_t e = 0; e < E; ++e) d[e] += g * static_cast<T>(r[e]);
      }
    }
  }

  void rope(T* x, int64_t heads, bool inverse) const {
    const int64_t half = D / 2;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t h = 0; h < heads; ++h) {
        T* v = x + (i * heads + h) * D;
        const T* c = cos_.data() + i * half;
        const T* s = sin_.data() + i * half;
        for (int64_t j = 0; j < half; ++j) {
          const T x0 = v[j], x1 = v[j + half];
          if (!inverse) {
            v[j] = x0 * c[j] - x1 * s[j];
            v[j + half] = x1 * c[j] + x0 * s[j];
          } else {  // the rotation's transpose: the gradient of the forward rotation
            v[j] = x0 * c[j] + x1 * s[j];
            v[j + half] = x1 * c[j] - x0 * s[j];
          }
        }
      }
  }

  T attention_scale() const {
    if constexpr (std::is_same_v<T, float>) return 1.0f / std::sqrt(static_cast<float>(D));
    else return T(1) / std::sqrt(static_cast<T>(D));
  }

  void layer_forward(uint32_t l, const T* x_in, T* x_out) {
    const auto& L = m.layers_[l];
    const auto& w = L.w;
    const float eps = m.hp_.rms_norm_eps;
    std::copy(x_in, x_in + n * E, sized(a.x, n * E));
    rms_forward(a.x.data(), w.attn_norm.data(), n, E, eps, sized(a.h1, n * E), sized(a.r1, n));
    T* qkv = sized(a.qkv, n * width);
    frozen_forward(w.qkv, L.qkv_bias, a.h1.data(), n, qkv);
    lora_forward(l, Target::Q, a.h1.data(), qkv, width);
    lora_forward(l, Target::K, a.h1.data(), qkv + HD, width);
    lora_forward(l, Target::V, a.h1.data(), qkv + HD + KVD, width);
    T* q = sized(a.q, n * HD);
    T* k = sized(a.k, n * KVD);
    T* v = sized(a.v, n * KVD);
    for (int64_t i = 0; i < n; ++i) {
      std::copy(qkv + i * width, qkv + i * width + HD, q + i * HD);
      std::copy(qkv + i * width + HD, qkv + i * width + HD + KVD, k + i * KVD);
      std::copy(qkv + i * width + HD + KVD, qkv + (i + 1) * width, v + i * KVD);
    }
    if (!w.q_norm.empty()) {
      a.qraw = a.q;
      a.kraw = a.k;
      rms_forward(a.qraw.data(), w.q_norm.data(), n * H, D, eps, q, sized(a.rq, n * H));
      rms_forward(a.kraw.data(), w.k_norm.data(), n * KV, D, eps, k, sized(a.rk, n * KV));
    }
    rope(q, H, false);
    rope(k, KV, false);
    attention_forward();
    std::vector<T> proj(static_cast<size_t>(n * E));
    frozen_forward(w.attn_output, {}, a.o.data(), n, proj.data());
    lora_forward(l, Target::O, a.o.data(), proj.data(), E);
    T* x2 = sized(a.x2, n * E);
    for (int64_t i = 0; i < n * E; ++i) x2[i] = a.x[static_cast<size_t>(i)] + proj[static_cast<size_t>(i)];
    rms_forward(x2, w.ffn_norm.data(), n, E, eps, sized(a.h2, n * E), sized(a.r2, n));
    if (w.experts) {
      moe_forward(l, *w.experts, proj.data());
      for (int64_t i = 0; i < n * E; ++i) x_out[i] = x2[i] + proj[static_cast<size_t>(i)];
      return;
    }
    const int64_t F2 = w.gate_up.out(), F = F2 / 2;
    T* gu = sized(a.gu, n * F2);
    frozen_forward(w.gate_up, {}, a.h2.data(), n, gu);
    lora_forward(l, Target::Gate, a.h2.data(), gu, F2);
    lora_forward(l, Target::Up, a.h2.data(), gu + F, F2);
    T* act = sized(a.act, n * F);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < F; ++j) {
        const T g = gu[i * F2 + j], u = gu[i * F2 + F + j];
        act[i * F + j] = g / (T(1) + std::exp(-g)) * u;  // as engine/ops.cpp's swiglu
      }
    frozen_forward(w.down, {}, act, n, proj.data());
    lora_forward(l, Target::Down, act, proj.data(), E);
    for (int64_t i = 0; i < n * E; ++i) x_out[i] = x2[i] + proj[static_cast<size_t>(i)];
  }

  // Causal softmax attention, GQA: query head h reads KV head h / (H / KV).
  void attention_forward() {
    const int64_t group = H / KV;
    const T scale = attention_scale();
    T* P = sized(a.p, H * n * n);
    T* o = sized(a.o, n * HD);
    // Heads in parallel (each writes its own rows of P and columns of o).
#pragma omp parallel for if (n >= 32) schedule(static)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t g = h / group;
      T* S = P + h * n * n;
      gemm<T>(false, true, n, n, D, scale, a.q.data() + h * D, HD, a.k.data() + g * D, KVD, 0, S, n);
      for (int64_t i = 0; i < n; ++i) {
        T* row = S + i * n;
        T mx = row[0];
        for (int64_t j = 1; j <= i; ++j) mx = std::max(mx, row[j]);
        T sum = 0;
        for (int64_t j = 0; j <= i; ++j) sum += (row[j] = std::exp(row[j] - mx));
        for (int64_t j = 0; j <= i; ++j) row[j] /= sum;
        for (int64_t j = i + 1; j < n; ++j) row[j] = 0;
      }
      gemm<T>(false, false, n, D, n, 1, S, n, a.v.data() + g * D, KVD, 0, o + h * D, HD);
    }
  }

  void attention_backward(const T* dout, T* dq, T* dk, T* dv) {
    const int64_t group = H / KV;
    const T scale = attention_scale();
    // KV groups in parallel: a group's query heads add into its dk and dv
    // columns only, one head after another.
#pragma omp parallel for if (n >= 32) schedule(static)
    for (int64_t g = 0; g < KV; ++g) {
      std::vector<T> dP(static_cast<size_t>(n * n));
      for (int64_t h = g * group; h < (g + 1) * group; ++h) {
        const T* P = a.p.data() + h * n * n;
        gemm<T>(false, true, n, n, D, 1, dout + h * D, HD, a.v.data() + g * D, KVD, 0, dP.data(), n);
        gemm<T>(true, false, n, D, n, 1, P, n, dout + h * D, HD, 1, dv + g * D, KVD);
        for (int64_t i = 0; i < n; ++i) {
          T* d = dP.data() + i * n;
          const T* p = P + i * n;
          T dot = 0;
          for (int64_t j = 0; j <= i; ++j) dot += p[j] * d[j];
          for (int64_t j = 0; j <= i; ++j) d[j] = p[j] * (d[j] - dot);
          for (int64_t j = i + 1; j < n; ++j) d[j] = 0;
        }
        gemm<T>(false, false, n, D, n, scale, dP.data(), n, a.k.data() + g * D, KVD, 0, dq + h * D, HD);
        gemm<T>(true, false, n, D, n, scale, dP.data(), n, a.q.data() + h * D, HD, 1, dk + g * D, KVD);
      }
    }
  }

  // dx: in, d(layer output); out, d(layer input). Needs layer_forward's Acts.
  void layer_backward(uint32_t l, T* dx) {
    const auto& L = m.layers_[l];
    const auto& w = L.w;
    std::vector<T> dh(static_cast<size_t>(n * E));
    if (w.experts) {
      // FFN half: x_out = x2 + moe(norm(x2)).
      moe_backward(l, *w.experts, dx, dh.data());
    } else {
      const int64_t F2 = w.gate_up.out(), F = F2 / 2;
      // FFN half: x_out = x2 + down(swiglu(gate_up(norm(x2)))).
      std::vector<T> dact(static_cast<size_t>(n * F));
      frozen_backward(L.down, dx, n, dact.data());
      lora_backward(l, Target::Down, a.act.data(), dx, E, dact.data());
      std::vector<T> dgu(static_cast<size_t>(n * F2));
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < F; ++j) {
          const T g = a.gu[i * F2 + j], u = a.gu[i * F2 + F + j], d = dact[i * F + j];
          const T sig = T(1) / (T(1) + std::exp(-g));
          dgu[i * F2 + j] = d * u * sig * (T(1) + g * (T(1) - sig));
          dgu[i * F2 + F + j] = d * g * sig;
        }
      frozen_backward(L.gate_up, dgu.data(), n, dh.data());
      lora_backward(l, Target::Gate, a.h2.data(), dgu.data(), F2, dh.data());
      lora_backward(l, Target::Up, a.h2.data(), dgu.data() + F, F2, dh.data());
    }
    rms_backward(a.x2.data(), w.ffn_norm.data(), a.r2.data(), dh.data(), n, E, dx);  // dx is now d x2
    // Attention half: x2 = x + o_proj(attention(rope(qk_norm(qkv(norm(x)))))).
    std::vector<T> dout(static_cast<size_t>(n * HD));
    frozen_backward(L.output, dx, n, dout.data());
    lora_backward(l, Target::O, a.o.data(), dx, E, dout.data());
    std::vector<T> dq(static_cast<size_t>(n * HD)), dk(static_cast<size_t>(n * KVD)), dv(static_cast<size_t>(n * KVD));
    attention_backward(dout.data(), dq.data(), dk.data(), dv.data());
    rope(dq.data(), H, true);
    rope(dk.data(), KV, true);
    std::vector<T> dqkv(static_cast<size_t>(n * width));
    if (!w.q_norm.empty()) {
      std::vector<T> dqr(dq.size()), dkr(dk.size());
      rms_backward(a.qraw.data(), w.q_norm.data(), a.rq.data(), dq.data(), n * H, D, dqr.data());
      rms_backward(a.kraw.data(), w.k_norm.data(), a.rk.data(), dk.data(), n * KV, D, dkr.data());
      dq.swap(dqr);
      dk.swap(dkr);
    }
    for (int64_t i = 0; i < n; ++i) {
      std::copy(dq.begin() + i * HD, dq.begin() + (i + 1) * HD, dqkv.begin() + i * width);
      std::copy(dk.begin() + i * KVD, dk.begin() + (i + 1) * KVD, dqkv.begin() + i * width + HD);
      std::copy(dv.begin() + i * KVD, dv.begin() + (i + 1) * KVD, dqkv.begin() + i * width + HD + KVD);
    }
    std::fill(dh.begin(), dh.end(), T(0));
    frozen_backward(L.qkv, dqkv.data(), n, dh.data());
    lora_backward(l, Target::Q, a.h1.data(), dqkv.data(), width, dh.data());
    lora_backward(l, Target::K, a.h1.data(), dqkv.data() + HD, width, dh.data());
    lora_backward(l, Target::V, a.h1.data(), dqkv.data() + HD + KVD, width, dh.data());
    rms_backward(a.x.data(), w.attn_norm.data(), a.r1.data(), dh.data(), n, E, dx);
  }

  // Every layer; inputs[l] receives layer l's input. Returns the last output.
  std::vector<T> layers_forward(const std::vector<int32_t>& tokens, std::vector<std::vector<T>>* inputs) {
    std::vector<T> x(static_cast<size_t>(n * E)), next(x.size());
    embed(tokens, x.data());
    for (uint32_t l = 0; l < m.hp_.block_count; ++l) {
      if (inputs) (*inputs)[l] = x;
      layer_forward(l, x.data(), next.data());
      x.swap(next);
    }
    return x;
  }
};

double Sample::target_weight() const {
  if (weights.empty()) return static_cast<double>(target_end - target_begin);
  double w = 0;
  for (float v : weights) w += v;
  return w;
}

template <class T>
double FrozenModel::loss(const Adapter<T>& adapter, const Sample& s, std::type_identity_t<Adapter<T>>* grads,
                         double weight, const Distillation* distill, LossTerms* terms) const {
  const int64_t n = static_cast<int64_t>(s.tokens.size()), V = hp_.vocab_size, E = hp_.embedding_length;
  if (s.target_begin < 1 || s.target_end > s.tokens.size() || s.target_begin >= s.target_end)
    throw std::invalid_argument("a sample's targets must be a non-empty span after its first token");
  if (!s.weights.empty()) {
    if (s.weights.size() != s.target_end - s.target_begin)
      throw std::invalid_argument("a sample's weights must be one per target");
    for (float w : s.weights)
      if (!(w >= 0) || !std::isfinite(w)) throw std::invalid_argument("a sample's weights must be finite and not negative");
    if (!(s.target_weight() > 0)) throw std::invalid_argument("a sample's weights must not all be 0");
  }
  for (int32_t t : s.tokens)
    if (t < 0 || t >= V) throw std::out_of_range("token id " + std::to_string(t) + " is outside the vocabulary");
  if (grads && grads->pairs.size() != adapter.pairs.size())
    throw std::invalid_argument("the gradients are not shaped like the adapter");
  const TeacherTopK* teacher = distill ? distill->teacher : nullptr;
  const double lambda = distill ? distill->weight : 0.0, temp = distill ? distill->temperature : 1.0;
  if (distill) {
    if (!teacher) throw std::invalid_argument("a distillation without a teacher");
    if (!(lambda >= 0 && lambda <= 1)) throw std::invalid_argument("the distillation weight must be in [0, 1]");
    if (!(temp > 0) || !std::isfinite(temp)) throw std::invalid_argument("the temperature must be positive");
    if (teacher->k < 1 || teacher->rows() != s.target_end - s.target_begin ||
        teacher->ids.size() != teacher->logprobs.size() || teacher->ids.size() % static_cast<size_t>(teacher->k) != 0)
      throw std::invalid_argument("the teacher's top-k rows do not match the sample's targets");
    for (int32_t t : teacher->ids)
      if (t < 0 || t >= V) throw std::invalid_argument("the teacher's token id " + std::to_string(t) + " is outside the vocabulary");
  }
  Pass<T> pass(*this, adapter, grads, n);
  std::vector<std::vector<T>> inputs(hp_.block_count);
  std::vector<T> x = pass.layers_forward(s.tokens, grads ? &inputs : nullptr);

  // The head, over the rows that predict a target, a chunk of rows at a time
  // (a row of logits is vocab_size values).
  const int64_t first = static_cast<int64_t>(s.target_begin) - 1, m = static_cast<int64_t>(s.target_end - s.target_begin);
  std::vector<T> xf(static_cast<size_t>(m * E)), inv(static_cast<size_t>(m)), dxf(static_cast<size_t>(m * E));
  rms_forward(x.data() + first * E, output_norm_.data(), m, E, hp_.rms_norm_eps, xf.data(), inv.data());
  double total = 0, total_kl = 0;
  // The weighted mean's denominator: m without weights, so that the
  // unweighted loss and its gradient are what they were bit for bit.
  const double wsum = s.weights.empty() ? static_cast<double>(m) : s.target_weight();
  const int64_t chunk = 32;
  std::vector<T> logits;
  for (int64_t r0 = 0; r0 < m; r0 += chunk) {
    const int64_t rows = std::min(chunk, m - r0);
    logits.assign(static_cast<size_t>(rows * V), T(0));
    frozen_forward(lm_head_, {}, xf.data() + r0 * E, rows, logits.data());
    for (int64_t r = 0; r < rows; ++r) {
      T* row = logits.data() + r * V;
      const int32_t target = s.tokens[static_cast<size_t>(first + r0 + r + 1)];
      const double rw = s.weights.empty() ? 1.0 : double(s.weights[static_cast<size_t>(r0 + r)]);
      const double w = weight * rw;  // this row's weight (times the caller's)
      T mx = row[0];
      for (int64_t j = 1; j < V; ++j) mx = std::max(mx, row[j]);
      double sum = 0;
      for (int64_t j = 0; j < V; ++j) sum += std::exp(double(row[j] - mx));
      const double lse = double(mx) + std::log(sum);
      total += (lse - double(row[target])) * rw;
      if (!teacher) {
        // dLoss/dlogit = (softmax - onehot) * weight * w_row / sum w
        for (int64_t j = 0; j < V; ++j) row[j] = static_cast<T>(std::exp(double(row[j]) - lse) * w / wsum);
        row[target] -= static_cast<T>(w / wsum);
        continue;
      }
      // The teacher's top-k, renormalised at temperature T: p_i.
      const size_t k = static_cast<size_t>(teacher->k), at = static_cast<size_t>(r0 + r) * k;
      const int32_t* ids = teacher->ids.data() + at;
      const float* lp = teacher->logprobs.data() + at;
      double pmax = -INFINITY;
      for (size_t i = 0; i < k; ++i) pmax = std::max(pmax, double(lp[i]) / temp);
      double psum = 0;
      for (size_t i = 0; i < k; ++i) psum += std::exp(double(lp[i]) / temp - pmax);
      const double plse = pmax + std::log(psum);
      // The student's log-partition at temperature T.
      double qsum = 0;
      for (int64_t j = 0; j < V; ++j) qsum += std::exp((double(row[j]) - double(mx)) / temp);
      const double qlse = double(mx) / temp + std::log(qsum);
      double kl = 0;
      for (size_t i = 0; i < k; ++i) {
        const double logp = double(lp[i]) / temp - plse;
        kl += std::exp(logp) * (logp - (double(row[ids[i]]) / temp - qlse));
      }
      total_kl += kl * rw;
      if (lambda == 0) {  // exactly the cross-entropy's gradient, as without a teacher
        for (int64_t j = 0; j < V; ++j) row[j] = static_cast<T>(std::exp(double(row[j]) - lse) * w / wsum);
        row[target] -= static_cast<T>(w / wsum);
        continue;
      }
      // d/dz of (1 - lambda) CE + lambda T^2 KL: (1 - lambda)(softmax - onehot) + lambda T (q - p).
      const double ce_w = (1 - lambda) * w / wsum;
      const double kl_w = lambda * temp * w / wsum;
      for (int64_t j = 0; j < V; ++j) {
        const double z = double(row[j]);
        row[j] = static_cast<T>(std::exp(z - lse) * ce_w + std::exp(z / temp - qlse) * kl_w);
      }
      row[target] -= static_cast<T>(ce_w);
      for (size_t i = 0; i < k; ++i) row[ids[i]] -= static_cast<T>(std::exp(double(lp[i]) / temp - plse) * kl_w);
    }
    if (grads) frozen_backward(*lm_head_rows_, logits.data(), rows, dxf.data() + r0 * E);
  }
  const double ce = total / wsum, kl = total_kl / wsum;
  if (terms) *terms = {ce, kl};
  const double objective = lambda == 0 ? ce : (1 - lambda) * ce + lambda * temp * temp * kl;
  if (!grads) return objective;
  std::vector<T> dx(static_cast<size_t>(n * E));
  rms_backward(x.data() + first * E, output_norm_.data(), inv.data(), dxf.data(), m, E, dx.data() + first * E);
  std::vector<T> out(static_cast<size_t>(n * E));
  for (int32_t l = static_cast<int32_t>(hp_.block_count) - 1; l >= 0; --l) {
    pass.layer_forward(static_cast<uint32_t>(l), inputs[static_cast<size_t>(l)].data(), out.data());
    std::vector<T>().swap(inputs[static_cast<size_t>(l)]);
    pass.layer_backward(static_cast<uint32_t>(l), dx.data());
  }
  return objective;
}

template double FrozenModel::loss<float>(const Adapter<float>&, const Sample&, Adapter<float>*, double,
                                         const Distillation*, LossTerms*) const;
template double FrozenModel::loss<double>(const Adapter<double>&, const Sample&, Adapter<double>*, double,
                                          const Distillation*, LossTerms*) const;

std::vector<float> FrozenModel::logits(const Adapter<float>& adapter, const std::vector<int32_t>& tokens) const {
  const int64_t n = static_cast<int64_t>(tokens.size()), V = hp_.vocab_size, E = hp_.embedding_length;
  for (int32_t t : tokens)
    if (t < 0 || t >= V) throw std::out_of_range("token id " + std::to_string(t) + " is outside the vocabulary");
  Pass<float> pass(*this, adapter, nullptr, n);
  std::vector<float> x = pass.layers_forward(tokens, nullptr);
  std::vector<float> xf(x.size()), inv(static_cast<size_t>(n)), out(static_cast<size_t>(n * V));
  rms_forward(x.data(), output_norm_.data(), n, E, hp_.rms_norm_eps, xf.data(), inv.data());
  lm_head_.forward(xf.data(), n, out.data());
  return out;
}

}  // namespace astfill::train
