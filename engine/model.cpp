#include "engine/model.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "engine/arch/blocks.h"
#include "engine/attention.h"
#include "engine/batcher.h"
#include "engine/arch/layers.h"
#include "engine/errors.h"
#include "engine/ops.h"

namespace astfill::engine {

std::unique_ptr<Model> Model::open(const std::string& path, const LoadOptions& options) {
  return load(std::make_shared<const ModelFile>(ModelFile::open(path)), options);
}

namespace {

// The first element of `n` whose exponent bits are all set (NaN or
// infinity), if any: a branch-free pass over each chunk (vectorised, the
// chunks of a large tensor on the engine's threads), then the first chunk
// that has one searched again.
template <typename T>
std::optional<size_t> first_all_ones_exponent(const void* data, size_t n, T mask) {
  const T* v = static_cast<const T*>(data);
  constexpr size_t chunk = 4096;
  const size_t chunks = (n + chunk - 1) / chunk;
  size_t first_bad = chunks;
#pragma omp parallel for schedule(static) reduction(min : first_bad) if (n >= (size_t{1} << 20))
  for (size_t c = 0; c < chunks; ++c) {
    const size_t end = std::min(n, (c + 1) * chunk);
    T any = 0;
    for (size_t i = c * chunk; i < end; ++i) {
      T x;
      std::memcpy(&x, v + i, sizeof x);  // a GGUF tensor is 32-byte aligned; safetensors' need not be
      any |= static_cast<T>((x & mask) == mask);
    }
    if (any) first_bad = std::min(first_bad, c);
  }
  for (size_t i = first_bad * chunk; i < std::min(n, (first_bad + 1) * chunk); ++i) {
    T x;
    std::memcpy(&x, v + i, sizeof x);
    if ((x & mask) == mask) return i;
  }
  return std::nullopt;
}

// NaN or infinity in a plain F32, F16 or BF16 tensor: the index and whether it is NaN.
std::optional<std::pair<size_t, bool>> first_nonfinite_value(const ModelTensor& t) {
  const size_t n = static_cast<size_t>(t.elements());
  std::optional<size_t> at;
  float value = 0;
  switch (t.type) {
    case GgmlType::F32:
      at = first_all_ones_exponent<uint32_t>(t.data, n, 0x7F800000u);
      if (at) std::memcpy(&value, t.data + 4 * *at, 4);
      break;
    case GgmlType::F16:
      at = first_all_ones_exponent<uint16_t>(t.data, n, 0x7C00u);
      if (at) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * *at, 2);
        value = f16_to_f32(h);
      }
      break;
    case GgmlType::BF16:
      at = first_all_ones_exponent<uint16_t>(t.data, n, 0x7F80u);
      if (at) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * *at, 2);
        value = bf16_to_f32(h);
      }
      break;
    default:
      return std::nullopt;
  }
  if (!at) return std::nullopt;
  return std::make_pair(*at, std::isnan(value));
}

// Values that would turn logits into NaN, refused before the weights are
// converted (the pages are read by the conversion next anyway): NaN or
// infinity in any element of a plain F32, F16 or BF16 tensor (weights,
// embeddings, norms, biases, a MoE model's experts included), a NaN or
// infinite f16 scale in any block of a quantised tensor (two bytes a
// block), and a NaN or infinite norm weight in whatever type.
void check_weight_values(const ModelFile& f, const std::vector<const ModelTensor*>& tensors) {
  auto refuse = [&](const ModelTensor& t, size_t at, bool nan) {
    throw ModelError(f.path() + ": tensor '" + t.name + "' holds " + (nan ? "NaN" : "infinity") + " at element " +
                     std::to_string(at));
  };
  for (const ModelTensor* tp : tensors) {
    const ModelTensor& t = *tp;
    if (auto bad = first_nonfinite_value(t)) refuse(t, bad->first, bad->second);
    const TypeInfo& info = type_info(t.type);
    const size_t blocks = static_cast<size_t>(t.elements()) / info.block_values;
    if (auto bad = first_nonfinite_scale(t.type, t.data, blocks)) {
      const size_t row_blocks = static_cast<size_t>(t.ne[0]) / info.block_values;
      throw ModelError(f.path() + ": tensor '" + t.name + "' (" + info.name + "): the scale of block " +
                       std::to_string(*bad % row_blocks) + " of row " + std::to_string(*bad / row_blocks) +
                       " is NaN or infinite");
    }
    const std::string_view name = t.name;
    const bool plain = t.type == GgmlType::F32 || t.type == GgmlType::F16 || t.type == GgmlType::BF16;
    if (!plain && t.ne.size() == 1 && name.size() >= 11 && name.substr(name.size() - 11) == "norm.weight") {
      const std::vector<float> v = to_f32(t);
      for (size_t i = 0; i < v.size(); ++i)
        if (!std::isfinite(v[i])) refuse(t, i, std::isnan(v[i]));
    }
  }
}

// Lets this process drop its pages of a tensor converted into memory of its
// own: nothing reads them again, and the page cache keeps them for whoever
// does (a later read of the map faults them back in from the file). Loading
// so holds one layer of the file resident at a time, not the whole file.
void release_pages(const std::vector<const ModelTensor*>& tensors) {
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  for (const ModelTensor* t : tensors) {
    const auto start = reinterpret_cast<uintptr_t>(t->data);
    const uintptr_t begin = (start + page - 1) / page * page, end = (start + t->bytes) / page * page;
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  }
}

// The tensors of each layer (blk.N.*), and the rest.
struct TensorGroups {
  std::vector<std::vector<const ModelTensor*>> layers;
  std::vector<const ModelTensor*> rest;
};

TensorGroups group_tensors(const ModelFile& f, uint32_t layers) {
  TensorGroups g;
  g.layers.resize(layers);
  for (const ModelTensor& t : f.tensors()) {
    uint32_t layer = 0;
    const char* digits = t.name.c_str() + 4;
    const char* end = nullptr;
    if (t.name.starts_with("blk.")) {
      auto [p, ec] = std::from_chars(digits, t.name.c_str() + t.name.size(), layer);
      if (ec == std::errc() && *p == '.') end = p;
    }
    if (end && layer < layers) g.layers[layer].push_back(&t);
    else g.rest.push_back(&t);
  }
  return g;
}

}  // namespace

std::unique_ptr<Model> Model::load(std::shared_ptr<const ModelFile> file, const LoadOptions& options) {
  const ModelFile& f = *file;
  const arch::Architecture architecture = arch::architecture(f.hparams().arch);
  if (!architecture.load)
    throw ModelError(f.path() + ": running architecture '" + f.hparams().arch + "' is not supported yet");
  if (f.tokenizer().tokens.size() != f.hparams().vocab_size)  // ModelFile::open makes them equal
    throw ModelError(f.path() + ": the tokenizer has " + std::to_string(f.tokenizer().tokens.size()) +
                     " tokens for " + std::to_string(f.hparams().vocab_size) + " embedding rows");
  try {
    return build(file, architecture, options);
  } catch (const ModelError& e) {
    // Some layer errors (Linear's shape checks) know the tensor, not the file.
    if (std::string_view(e.what()).starts_with(f.path())) throw;
    throw ModelError(f.path() + ": " + e.what());
  }
}

std::unique_ptr<Model> Model::build(const std::shared_ptr<const ModelFile>& file,
                                    const arch::Architecture& architecture, const LoadOptions& options) {
  const ModelFile& f = *file;
  std::unique_ptr<Model> m(new Model());
  m->hp_ = f.hparams();
  m->mode_ = options.weights;
  m->threads_ = std::max(options.threads, 0);
  m->kv_ = options.kv;
  if (m->kv_ == KvType::Auto) {
    const int64_t group = m->hp_.head_count_kv > 0 ? int64_t{m->hp_.head_count} / m->hp_.head_count_kv : 1;
    m->kv_ = options.weights == WeightMode::F32 ? KvType::F32
             : int8_decode_in_place(m->hp_.head_dim, group, default_attention_kernels()) ? KvType::Int8
                                                                                         : KvType::Bf16;
  }
  m->forward_ = architecture.forward;
  m->tokenizer_ = std::make_unique<Tokenizer>(f.tokenizer());
  // Each part's values are checked just before it is converted (the pages
  // are read then anyway), and its file pages released right after.
  const TensorGroups groups = group_tensors(f, m->hp_.block_count);
  check_weight_values(f, groups.rest);
  // The LM head first, while nothing else is resident: its file pages
  // (the token embedding's, when tied) are released before the layers load.
  // Tied, the head's rows are the embedding (Linear::weight_row): no copy.
  // Untied, the embedding is copied in its own type.
  const ModelTensor& embd = arch::tensor(f, "token_embd.weight");
  const ModelTensor* head = f.find("output.weight");
  m->lm_head_ = Linear::load(head ? *head : embd, nullptr, options.weights);
  m->token_embd_type_ = embd.type;
  if (head) m->token_embd_.assign(embd.data, embd.data + embd.bytes);
  release_pages(groups.rest);
  m->layers_.reserve(m->hp_.block_count);
  for (uint32_t i = 0; i < m->hp_.block_count; ++i) {
    check_weight_values(f, groups.layers[i]);
    m->layers_.push_back(architecture.load(f, i, options.weights));
    // A file truncated or rewritten under us is refused as soon as the layer
    // that read it is converted (a read past a new end found zeros).
    f.check_intact();
    release_pages(groups.layers[i]);
  }
  m->output_norm_ = arch::vector_f32(f, "output_norm.weight");
  f.check_intact();
  m->inv_freq_ = rope_inverse_frequencies(m->hp_, &m->rope_mscale_);
  return m;
}

std::vector<float> rope_inverse_frequencies(const HyperParams& hp, float* mscale) {
  const uint32_t d = hp.head_dim;
  const double base = hp.rope_freq_base;
  std::vector<float> inv(d / 2);
  *mscale = 1.0f;
  const RopeScaling& rs = hp.rope_scaling;
  const double factor = rs.factor > 0 ? rs.factor : 1.0;
  for (uint32_t i = 0; i < d / 2; ++i) inv[i] = static_cast<float>(std::pow(base, -2.0 * i / d));
  if (rs.type == "linear" && factor != 1.0) {
    for (auto& f : inv) f = static_cast<float>(f / factor);
  } else if (rs.type == "yarn" && factor > 1.0) {
    // YaRN (Peng et al. 2023): dimensions that turn many times within the
    // original context keep their frequency (extrapolate), the slowest ones
    // are divided by the factor (interpolate), with a linear ramp between
    // the dimensions that make beta_fast and beta_slow turns; and attention
    // logits grow by mscale^2 (applied as mscale on both cos and sin).
    const double orig = rs.original_context_length ? rs.original_context_length : hp.context_length / factor;
    auto turns_dim = [&](double turns) { return d * std::log(orig / (turns * 2 * M_PI)) / (2 * std::log(base)); };
    double low = std::max(std::floor(turns_dim(rs.yarn_beta_fast)), 0.0);
    double high = std::min(std::ceil(turns_dim(rs.yarn_beta_slow)), double(d - 1));
    if (high == low) high += 0.001;
    for (uint32_t i = 0; i < d / 2; ++i) {
      const double extrapolated = std::pow(base, -2.0 * i / d), interpolated = extrapolated / factor;
      const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
      inv[i] = static_cast<float>(interpolated * ramp + extrapolated * (1 - ramp));
    }
    *mscale = static_cast<float>(0.1 * std::log(factor) + 1.0);
  }
  return inv;
}

int Model::threads() const { return threads_ > 0 ? threads_ : engine_threads(); }

uint64_t Model::bytes_per_token() const {
  uint64_t n = lm_head_.weight_bytes();
  for (const auto& l : layers_) {
    n += l.qkv.weight_bytes() + l.attn_output.weight_bytes() + l.gate_up.weight_bytes() + l.down.weight_bytes();
    if (l.experts) {
      // A token reads the router and its k experts, not the others.
      n += l.experts->router.size() * sizeof(float);
      n += l.experts->used * (l.experts->gate_up[0].weight_bytes() + l.experts->down[0].weight_bytes());
    }
  }
  // One embedding row per token: negligible, left out.
  return n;
}

Session::Session(const Model& model, size_t capacity, KvType kv)
    : model_(model),
      capacity_(capacity ? capacity : model.hparams().context_length),
      kv_(kv == KvType::Auto ? model.kv_ : kv, model.layers_.size(), model.hparams().head_count_kv,
          model.hparams().head_dim) {
  if (!capacity_) capacity_ = 4096;
  expert_counts_.resize(model.layers_.size());
  for (size_t l = 0; l < model.layers_.size(); ++l)
    if (model.layers_[l].experts) expert_counts_[l].assign(model.layers_[l].experts->gate_up.size(), 0);
}

namespace {
// MemAvailable from /proc/meminfo, in bytes; 0 when unknown.
uint64_t available_memory() {
  std::FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  uint64_t kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "MemAvailable: %lu kB", &kb) == 1) break;
  std::fclose(f);
  return kb * 1024;
}
}  // namespace

void Session::reserve(size_t slots) {
  const size_t allocated = kv_.allocated();
  if (slots <= allocated) return;
  size_t next = std::max<size_t>(slots, std::min(capacity_, std::max<size_t>(256, allocated * 2)));
  const uint64_t per_slot = kv_.bytes_per_slot();
  const uint64_t growth = (next - allocated) * per_slot + length_ * per_slot;  // new buffers + the copy
  if (uint64_t avail = available_memory(); avail && growth > avail - avail / 10) {
    if (slots < next && (slots - allocated) * per_slot + length_ * per_slot <= avail - avail / 10) {
      next = slots;  // no headroom for doubling: grow to exactly what is needed
    } else {
      throw std::length_error("the KV cache for " + std::to_string(slots) + " tokens needs " +
                              std::to_string(slots * per_slot >> 20) + " MiB, but only " +
                              std::to_string(avail >> 20) + " MiB of memory is available");
    }
  }
  kv_.grow(next, length_);
}

void Session::truncate(size_t n) { length_ = std::min(length_, n); }

// Persisted prefixes (engine/prefix_store.h).
void Session::save_kv(size_t first, size_t count, std::vector<uint8_t>& out) const {
  if (first > length_ || count > length_ - first)
    throw std::out_of_range("save_kv: tokens " + std::to_string(first) + "+" + std::to_string(count) +
                            " past the session's " + std::to_string(length_));
  kv_.copy_out(first, count, out);
}

void Session::load_kv(size_t first, size_t count, std::span<const uint8_t> bytes) {
  if (first > length_ || first + count > capacity_)
    throw std::length_error("load_kv: tokens " + std::to_string(first) + "+" + std::to_string(count) +
                            " do not fit the session (length " + std::to_string(length_) + ", capacity " +
                            std::to_string(capacity_) + ")");
  length_ = first;
  reserve(first + count);
  kv_.copy_in(first, count, bytes);
  length_ = first + count;
}

uint64_t Session::kv_bytes() const { return kv_.bytes(); }

void Session::set_adapters(const std::vector<AdapterChoice>& adapters) {
  set_adapters(adapters.empty() ? nullptr : LoraStack::build(adapters, model_.hp_));
}

void Session::set_adapters(std::shared_ptr<const LoraStack> stack) {
  if (stack && stack->key().empty()) stack = nullptr;
  if (adapter_key() != (stack ? stack->key() : std::string())) length_ = 0;
  lora_ = std::move(stack);
}

const std::string& Session::adapter_key() const {
  static const std::string none;
  return lora_ ? lora_->key() : none;
}

Session::~Session() {
  if (batcher_) batcher_->forget(this);
}

std::vector<int64_t> Session::prepare(const Batch& batch) {
  const HyperParams& hp = model_.hp_;
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  if (!batch.positions.empty() && batch.positions.size() != batch.tokens.size())
    throw std::invalid_argument("evaluate: positions and tokens differ in length");
  if (!batch.logits.empty() && batch.logits.size() != batch.tokens.size())
    throw std::invalid_argument("evaluate: logits flags and tokens differ in length");
  if (!batch.embeddings.empty() && batch.embeddings.size() != batch.tokens.size())
    throw std::invalid_argument("evaluate: embedding rows and tokens differ in length");
  if (!batch.mrope_positions.empty() && batch.mrope_positions.size() != 3 * batch.tokens.size())
    throw std::invalid_argument("evaluate: M-RoPE needs 3 positions per token");
  if (!batch.mrope_positions.empty() && hp.rope_sections.size() != 3)
    throw std::invalid_argument("evaluate: M-RoPE positions for a model without M-RoPE sections");
  if (length_ + static_cast<size_t>(n) > capacity_)
    throw std::length_error("evaluate: " + std::to_string(length_ + n) + " tokens exceed the session's capacity of " +
                            std::to_string(capacity_));
  const int64_t V = hp.vocab_size;
  for (int32_t t : batch.tokens)
    if (t < 0 || t >= V) throw std::out_of_range("evaluate: token id " + std::to_string(t) + " is outside the vocabulary");
  reserve(length_ + static_cast<size_t>(n));
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i)
    if (batch.logits.empty() ? i == n - 1 : batch.logits[static_cast<size_t>(i)]) rows.push_back(i);
  return rows;
}

std::vector<float> Session::evaluate(const Batch& batch, const CancellationToken& cancel) {
  if (batch.tokens.empty()) return {};
  // A tensor hook sees one session's pass: such a session runs alone.
  if (batcher_ && !hook_) return batcher_->evaluate(*this, batch, cancel);
  if (batch.deadline != std::chrono::steady_clock::time_point{} && std::chrono::steady_clock::now() >= batch.deadline)
    return {};
  StepSegment seg;
  seg.session = this;
  seg.logit_rows = prepare(batch);
  seg.tokens = batch.tokens;
  seg.positions = batch.positions;
  seg.embeddings = batch.embeddings;
  seg.mrope_positions = batch.mrope_positions;
  seg.cancel = &cancel;
  model_.step(std::span<StepSegment>(&seg, 1), scratch_, hook_ ? &hook_ : nullptr);
  if (seg.cancelled) return {};
  return std::move(seg.logits);
}

void Model::step(std::span<StepSegment> segments, ForwardScratch& sc, const TensorHook* hook) const {
  const HyperParams& hp = hp_;
  int64_t n = 0;
  for (const StepSegment& s : segments) n += static_cast<int64_t>(s.tokens.size());
  if (n == 0) return;
  const int64_t E = hp.embedding_length, H = hp.head_count, KV = hp.head_count_kv, D = hp.head_dim;
  const int64_t V = hp.vocab_size;
  const EngineThreads threads(threads_);
  auto sized = [](std::vector<float>& v, int64_t count) -> float* {
    if (v.size() < static_cast<size_t>(count)) v.resize(static_cast<size_t>(count));
    return v.data();
  };

  // Embedding rows, dequantised from the file's own type.
  float* x = sized(sc.x, n * E);
  const size_t row_b = row_bytes(token_embd_type_, static_cast<size_t>(E));
  {
    int64_t i = 0;
    for (const StepSegment& s : segments)
      for (const int32_t& token : s.tokens) {
        // An image's row (vision/): its given embedding replaces the token's.
        if (const size_t j = static_cast<size_t>(&token - s.tokens.data()); !s.embeddings.empty() && s.embeddings[j]) {
          std::memcpy(x + i * E, s.embeddings[j], sizeof(float) * static_cast<size_t>(E));
          ++i;
          continue;
        }
        if (token_embd_.empty())  // tied: the head's rows
          lm_head_.weight_row(token, x + i * E);
        else
          dequantize_row(token_embd_type_, token_embd_.data() + static_cast<size_t>(token) * row_b, x + i * E,
                         static_cast<size_t>(E));
        ++i;
      }
  }

  const int64_t qkv_out = (H + 2 * KV) * D;
  int64_t F2 = 0;  // the widest dense FFN (MoE layers have none)
  for (const auto& l : layers_) F2 = std::max(F2, l.gate_up.out());
  arch::LayerPass p;
  p.hp = &hp;
  p.n = n;
  p.x = x;
  p.h = sized(sc.h, n * E);
  p.qkv = sized(sc.qkv, n * qkv_out);
  p.q = sized(sc.q, n * H * D);
  p.attn = sized(sc.attn, n * H * D);
  p.proj = sized(sc.proj, n * E);
  p.gu = sized(sc.gu, n * F2);
  p.act = sized(sc.act, n * F2 / 2);
  p.inv_freq = inv_freq_.data();
  p.rope_mscale = rope_mscale_;
  p.per_segment = mode_ == WeightMode::F32;
  p.hook = hook && segments.size() == 1 ? hook : nullptr;
  {
    int64_t at = 0;
    for (size_t k = 0; k < segments.size(); ++k) {
      const StepSegment& s = segments[k];
      arch::LayerPass::Segment seg;
      seg.begin = at;
      seg.end = at += static_cast<int64_t>(s.tokens.size());
      // A session's earlier segments in this pass come before it in its cache.
      seg.first_slot = s.session->length_;
      for (size_t j = 0; j < k; ++j)
        if (segments[j].session == s.session) seg.first_slot += segments[j].tokens.size();
      seg.positions = s.positions.empty() ? nullptr : s.positions.data();
      seg.mrope_positions = s.mrope_positions.empty() ? nullptr : s.mrope_positions.data();
      seg.lora = s.session->lora_.get();
      p.segments.push_back(seg);
    }
  }
  if (p.hook) arch::dump_tensor(p, "inp_embd", x, n, E, 0, false);

  // A segment whose cancel fires is marked and left out of the result; its
  // rows still run to the end of the pass with the others (their keys and
  // values land past its length, which does not move). The pass stops when
  // every segment is cancelled.
  auto check_cancelled = [&] {
    bool all = true;
    for (StepSegment& s : segments) {
      if (!s.cancelled && s.cancel && s.cancel->cancelled()) s.cancelled = true;
      all = all && s.cancelled;
    }
    return all;
  };
  for (size_t li = 0; li < layers_.size(); ++li) {
    if (check_cancelled()) return;
    p.layer = static_cast<uint32_t>(li);
    for (size_t k = 0; k < segments.size(); ++k) {
      p.segments[k].kv = segments[k].session->kv_.layer(li);
      p.segments[k].expert_counts = &segments[k].session->expert_counts_[li];
    }
    forward_(layers_[li], p);
  }
  if (check_cancelled()) return;

  // Logits only for the rows that want them, all segments' at once.
  std::vector<int64_t> rows;
  std::vector<size_t> first_row;  // per segment, its first entry in rows
  for (size_t k = 0; k < segments.size(); ++k) {
    first_row.push_back(rows.size());
    for (int64_t r : segments[k].logit_rows) rows.push_back(p.segments[k].begin + r);
  }
  first_row.push_back(rows.size());
  const auto picked_rows = static_cast<int64_t>(rows.size());
  std::vector<float> picked(rows.size() * static_cast<size_t>(E));
  for (size_t r = 0; r < rows.size(); ++r)
    std::memcpy(picked.data() + r * E, x + rows[r] * E, sizeof(float) * static_cast<size_t>(E));
  ops::rms_norm(picked.data(), output_norm_.data(), picked_rows, E, hp.rms_norm_eps, picked.data());
  std::vector<float> logits(rows.size() * static_cast<size_t>(V));
  if (!rows.empty()) {
    if (p.per_segment) {
      for (size_t k = 0; k + 1 < first_row.size(); ++k)
        if (first_row[k + 1] > first_row[k])
          lm_head_.forward(picked.data() + first_row[k] * E, static_cast<int64_t>(first_row[k + 1] - first_row[k]),
                           logits.data() + first_row[k] * V);
    } else {
      lm_head_.forward(picked.data(), picked_rows, logits.data());
    }
  }
  if (p.hook) {
    arch::dump_tensor(p, "result_norm", picked.data(), picked_rows, E, 0, false);
    arch::dump_tensor(p, "result_output", logits.data(), picked_rows, V, 0, false);
  }
  for (size_t k = 0; k < segments.size(); ++k) {
    StepSegment& s = segments[k];
    if (s.cancelled) continue;
    s.logits.assign(logits.begin() + static_cast<std::ptrdiff_t>(first_row[k] * V),
                    logits.begin() + static_cast<std::ptrdiff_t>(first_row[k + 1] * V));
    s.session->length_ += s.tokens.size();
  }
}

}  // namespace astfill::engine
