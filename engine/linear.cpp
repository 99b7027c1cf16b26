#include "engine/linear.h"

#include <immintrin.h>

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>
#include <oneapi/dnnl/dnnl.hpp>

#include "engine/errors.h"
#include "engine/gemv_int8.h"
#include "engine/streamed_memory.h"
#include "engine/thread_team.h"

namespace astfill::engine {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpu() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// One stream per thread: oneDNN streams are not meant to be shared.
dnnl::stream& thread_stream() {
  thread_local dnnl::stream s(cpu());
  return s;
}

std::string shape(const ModelTensor& t) {
  std::string s = "{";
  for (size_t i = 0; i < t.ne.size(); ++i) s += (i ? ", " : "") + std::to_string(t.ne[i]);
  return s + "}";
}

// ASTFILL_GEMV=onednn keeps single-row products on oneDNN (to compare).
std::atomic<bool>& gemv_switch() {
  static std::atomic<bool> on{[] {
    const char* v = std::getenv("ASTFILL_GEMV");
    return !(v && std::string(v) == "onednn");
  }()};
  return on;
}

// Quantises `rows` activation rows of `in` values to u8 (q + zero, q in
// [-levels, levels]), row r at q + r * q_stride, its scale in scale[r]. A row
// with NaN/inf gets a NaN scale (NaN out) without undefined casts.
void quantize_activations(const float* x, int64_t rows, int64_t in, int levels, uint8_t* qx, int64_t q_stride,
                          float* scale_out) {
  const int zero = levels + 1;
#pragma omp parallel for if (rows * in > 65536) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * in;
    float amax = 0;
    bool finite = true;
#pragma omp simd reduction(max : amax) reduction(&& : finite)
    for (int64_t k = 0; k < in; ++k) {
      amax = std::max(amax, std::fabs(xr[k]));
      finite = finite && std::isfinite(xr[k]);
    }
    uint8_t* q = qx + r * q_stride;
    if (!finite) {
      scale_out[r] = std::numeric_limits<float>::quiet_NaN();
      std::memset(q, zero, static_cast<size_t>(in));
      continue;
    }
    const float scale = amax > 0 ? amax / static_cast<float>(levels) : 1.0f;
    const float inv = 1.0f / scale;
    scale_out[r] = scale;
#pragma omp simd
    for (int64_t k = 0; k < in; ++k) q[k] = static_cast<uint8_t>(static_cast<int>(std::nearbyint(xr[k] * inv)) + zero);
  }
}

}  // namespace

namespace {
std::atomic<int64_t> gemv_chunk_bytes{kDefaultGemvSchedule.max_bytes};
std::atomic<int> gemv_chunks_per_thread{kDefaultGemvSchedule.per_thread};
std::atomic<int64_t> gemv_prefetch_bytes{kDefaultGemvSchedule.prefetch_bytes};
}  // namespace

void set_gemv_schedule(GemvSchedule schedule) {
  gemv_chunk_bytes = std::max<int64_t>(1, schedule.max_bytes);
  gemv_chunks_per_thread = std::max(1, schedule.per_thread);
  gemv_prefetch_bytes = std::max<int64_t>(0, schedule.prefetch_bytes);
}

GemvSchedule gemv_schedule() {
  return {gemv_chunk_bytes.load(), gemv_chunks_per_thread.load(), gemv_prefetch_bytes.load()};
}

void set_int8_gemv(bool on) { gemv_switch() = on; }
bool int8_gemv_active(const Linear& layer) { return layer.uses_gemv() && gemv_switch(); }

struct Linear::Impl {
  memory::desc weights_md;
  memory weights;                 // blocked s8 (Int8) or plain f32 [in][out] view (F32)
  // The weights' bytes, on huge pages where the kernel gives them
  // (engine/streamed_memory.h): decode reads all of them every token.
  std::shared_ptr<uint8_t> storage;
  float* f32 = nullptr;           // F32 weights, [out][in], in storage
  std::vector<float> scales;      // Int8: per output channel
  std::vector<int32_t> colsum;    // Int8: sum over in of w[n][k]
  std::vector<float> bias;
  // Int8 in oneDNN's VNNI layout on a CPU with VNNI: rows <= kGemvMaxRows
  // run gemv_int8 over blocks of 64 outputs, k_padded inputs each.
  bool gemv = false;
  int64_t k_padded = 0, n_blocks = 0;

  // Several threads may run one layer at once (sessions of a shared model,
  // e.g. the completion model serving as a vision model's LM too): a lookup
  // hands out a copy of the primitive's handle (reference-counted), so an
  // eviction by another thread never frees a primitive that is running, and
  // primitives use the caller's scratchpad (user mode: oneDNN's library
  // scratchpad is bound to the creating thread), a buffer per thread.
  struct Primitive {
    dnnl::matmul matmul;
    size_t scratchpad_bytes = 0;
  };
  mutable std::mutex mu;
  mutable std::map<int64_t, Primitive> primitives;  // by rows

  Primitive primitive(int64_t rows, WeightMode mode, int64_t in, int64_t out) const {
    std::lock_guard lock(mu);
    auto it = primitives.find(rows);
    if (it != primitives.end()) return it->second;
    if (primitives.size() >= 8) primitives.erase(std::prev(primitives.end()));  // keep the small M
    memory::desc src(memory::dims{rows, in}, mode == WeightMode::Int8 ? dt::u8 : dt::f32, tag::ab);
    memory::desc dst(memory::dims{rows, out}, mode == WeightMode::Int8 ? dt::s32 : dt::f32, tag::ab);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, weights_md, dst), attr, cpu());
    Primitive p{dnnl::matmul(pd), pd.scratchpad_desc().get_size()};
    return primitives.emplace(rows, std::move(p)).first->second;
  }

  // Runs `p` on the calling thread's stream, its scratchpad (if it needs one)
  // in a buffer of the calling thread's.
  void execute(const Primitive& p, memory& src, memory& dst) const {
    dnnl::stream& s = thread_stream();
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
    thread_local std::vector<uint8_t> scratch;
    if (p.scratchpad_bytes > 0) {
      if (scratch.size() < p.scratchpad_bytes) scratch.resize(p.scratchpad_bytes);
      args.emplace(DNNL_ARG_SCRATCHPAD,
                   memory({{static_cast<int64_t>(p.scratchpad_bytes)}, dt::u8, tag::a}, cpu(), scratch.data()));
    }
    p.matmul.execute(s, args);
    s.wait();
  }
};

Linear::Linear() = default;
Linear::~Linear() = default;
Linear::Linear(Linear&&) noexcept = default;
Linear& Linear::operator=(Linear&&) noexcept = default;

std::vector<float> to_f32(const ModelTensor& t) {
  std::vector<float> out(static_cast<size_t>(t.elements()));
  const size_t row = static_cast<size_t>(t.ne[0]);
  const size_t rows = out.size() / row;
  const size_t rb = row_bytes(t.type, row);
  for (size_t r = 0; r < rows; ++r) dequantize_row(t.type, t.data + r * rb, out.data() + r * row, row);
  return out;
}

Linear Linear::from_f32(const float* w, int64_t in, int64_t out, const float* bias, WeightMode mode) {
  return from_rows([&](int64_t n, float* dst) { std::memcpy(dst, w + n * in, sizeof(float) * static_cast<size_t>(in)); },
                   in, out, bias, mode);
}

Linear Linear::from_rows(const RowSource& row, int64_t in, int64_t out, const float* bias, WeightMode mode) {
  Linear l;
  l.in_ = in;
  l.out_ = out;
  l.mode_ = mode;
  l.impl_ = std::make_unique<Impl>();
  Impl& im = *l.impl_;
  if (bias) im.bias.assign(bias, bias + out);
  if (mode == WeightMode::F32) {
    im.storage = allocate_streamed(sizeof(float) * static_cast<size_t>(in * out));
    im.f32 = reinterpret_cast<float*>(im.storage.get());
    for (int64_t n = 0; n < out; ++n) row(n, im.f32 + n * in);
    // W stored [out][in] is the [in][out] matrix with strides (1, in): "ba".
    im.weights_md = memory::desc(memory::dims{in, out}, dt::f32, tag::ba);
    im.weights = memory(im.weights_md, cpu(), im.f32);
    return l;
  }
  // Int8: quantise a chunk of output channels at a time and reorder it into
  // its place in the kernel's blocked layout, so the transient plain copy is
  // one chunk, never the whole matrix (a tied 151936 x 896 head is 136 MB).
  memory::desc any(memory::dims{in, out}, dt::s8, tag::any);
  memory::desc src(memory::dims{1, in}, dt::u8, tag::ab);
  memory::desc dst(memory::dims{1, out}, dt::s32, tag::ab);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, any, dst), cpu());
  im.weights_md = pd.weights_desc();
  // In our allocation, not oneDNN's (which sits on 4 KB pages).
  im.storage = allocate_streamed(im.weights_md.get_size());
  im.weights = memory(im.weights_md, cpu(), im.storage.get());
  // The decode kernel reads exactly this layout (and sums 8-bit activations
  // as VNNI does); any other choice of oneDNN's keeps M = 1 on oneDNN too.
  if (gemv_int8_cpu_supported() && int8_activation_levels() == 127 &&
      im.weights_md == memory::desc(memory::dims{in, out}, dt::s8, tag::BA16a64b4a)) {
    im.gemv = true;
    im.k_padded = im.weights_md.data.padded_dims[0];
    im.n_blocks = im.weights_md.data.padded_dims[1] / 64;
  }
  // Padding the blocked layout adds must be zero (fresh mappings are);
  // chunks write only their logical part.
  im.scales.resize(static_cast<size_t>(out));
  im.colsum.resize(static_cast<size_t>(out));
  // Output channels per chunk: whole blocks of the layout's N blocking, ~4 MB.
  int64_t n_block = 1;
  const auto& blocking = im.weights_md.data.format_desc.blocking;
  if (im.weights_md.data.format_kind == dnnl_blocked)
    for (int i = 0; i < blocking.inner_nblks; ++i)
      if (blocking.inner_idxs[i] == 1) n_block *= blocking.inner_blks[i];
  const int64_t chunk = std::max<int64_t>(1, (int64_t(4) << 20) / std::max<int64_t>(in, 1) / n_block) * n_block;
  std::vector<int8_t> q(static_cast<size_t>(in * std::min(chunk, out)));
  for (int64_t n0 = 0; n0 < out; n0 += chunk) {
    const int64_t cols = std::min(chunk, out - n0);
#pragma omp parallel
    {
      std::vector<float> buf(static_cast<size_t>(in));
#pragma omp for schedule(static)
      for (int64_t n = n0; n < n0 + cols; ++n) {
        row(n, buf.data());
        int8_t* qn = q.data() + (n - n0) * in;
        im.scales[n] = quantize_row_int8(buf.data(), qn, static_cast<size_t>(in));
        int32_t sum = 0;
        for (int64_t k = 0; k < in; ++k) sum += qn[k];
        im.colsum[n] = sum;
      }
    }
    memory plain_mem(memory::desc(memory::dims{in, cols}, dt::s8, tag::ba), cpu(), q.data());
    memory part = cols == out ? im.weights
                              : memory(im.weights_md.submemory_desc({in, cols}, {0, n0}), cpu(),
                                       im.weights.get_data_handle());
    dnnl::reorder(plain_mem, part).execute(thread_stream(), plain_mem, part);
    thread_stream().wait();
  }
  return l;
}

Linear Linear::load(const ModelTensor& weight, const ModelTensor* bias, WeightMode mode) {
  if (weight.ne.size() != 2)
    throw ModelError("tensor '" + weight.name + "' " + shape(weight) + " is not a 2-D weight");
  const int64_t in = weight.ne[0], out = weight.ne[1];
  std::vector<float> b;
  if (bias) {
    if (bias->ne != std::vector<int64_t>{out})
      throw ModelError("bias '" + bias->name + "' " + shape(*bias) + " does not match '" + weight.name + "'");
    b = to_f32(*bias);
  }
  const size_t rb = row_bytes(weight.type, static_cast<size_t>(in));
  return from_rows([&](int64_t n, float* dst) { dequantize_row(weight.type, weight.data + n * rb, dst, static_cast<size_t>(in)); },
                   in, out, bias ? b.data() : nullptr, mode);
}

void Linear::weight_row(int64_t n, float* dst) const {
  if (n < 0 || n >= out_)
    throw std::out_of_range("weight row " + std::to_string(n) + " of a layer with " + std::to_string(out_) + " outputs");
  const Impl& im = *impl_;
  if (mode_ == WeightMode::F32) {
    std::memcpy(dst, im.f32 + n * in_, sizeof(float) * static_cast<size_t>(in_));
    return;
  }
  // Element (k, n) of the [in][out] weights in oneDNN's layout: the outer
  // blocks by the descriptor's strides, then the inner blocks (listed
  // outermost first, each dimension's index split across its blocks from the
  // innermost out), as oneDNN's own memory_desc_wrapper::off_v computes it.
  const dnnl_memory_desc_t& md = im.weights_md.data;
  const auto& b = md.format_desc.blocking;
  int64_t block[2] = {1, 1};
  for (int i = 0; i < b.inner_nblks; ++i) block[b.inner_idxs[i]] *= b.inner_blks[i];
  const auto* w = static_cast<const int8_t*>(im.weights.get_data_handle());
  const float scale = im.scales[static_cast<size_t>(n)];
  for (int64_t k = 0; k < in_; ++k) {
    int64_t off = md.offset0 + (k / block[0]) * b.strides[0] + (n / block[1]) * b.strides[1];
    int64_t pos[2] = {k % block[0], n % block[1]}, inner_stride = 1;
    for (int i = b.inner_nblks - 1; i >= 0; --i) {
      const int d = static_cast<int>(b.inner_idxs[i]);
      off += (pos[d] % b.inner_blks[i]) * inner_stride;
      pos[d] /= b.inner_blks[i];
      inner_stride *= b.inner_blks[i];
    }
    dst[k] = scale * static_cast<float>(w[off]);
  }
}

size_t Linear::weight_bytes() const {
  return static_cast<size_t>(in_ * out_) * (mode_ == WeightMode::Int8 ? 1 : 4);
}

void Linear::forward(const float* x, int64_t rows, float* y) const {
  const Impl& im = *impl_;
  if (im.gemv && rows <= kGemvMaxRows && gemv_switch().load(std::memory_order_relaxed)) {
    forward_gemv(x, rows, y, int8_activation_levels());
    return;
  }
  const Impl::Primitive mm = im.primitive(rows, mode_, in_, out_);
  if (mode_ == WeightMode::F32) {
    memory src({{rows, in_}, dt::f32, tag::ab}, cpu(), const_cast<float*>(x));
    memory dst({{rows, out_}, dt::f32, tag::ab}, cpu(), y);
    im.execute(mm, src, dst);
  } else {
    thread_local std::vector<uint8_t> qx;
    thread_local std::vector<int32_t> acc;
    thread_local std::vector<float> row_scale;
    qx.resize(static_cast<size_t>(rows * in_));
    acc.resize(static_cast<size_t>(rows * out_));
    row_scale.resize(static_cast<size_t>(rows));
    // Activations q in [-levels, levels] stored as u8 q + zero (zero =
    // levels + 1): 8-bit where the kernel accumulates exactly, 7-bit (u8 at
    // most 127, so a pair of products stays below 32767) where it does not.
    const int levels = int8_activation_levels(), zero = levels + 1;
    quantize_activations(x, rows, in_, levels, qx.data(), in_, row_scale.data());
    memory src({{rows, in_}, dt::u8, tag::ab}, cpu(), qx.data());
    memory dst({{rows, out_}, dt::s32, tag::ab}, cpu(), acc.data());
    im.execute(mm, src, dst);
    // thread_local buffers must not be named inside the parallel region:
    // each OpenMP thread would see its own (empty) instance.
    const float* ws = im.scales.data();
    const int32_t* cs = im.colsum.data();
    const int32_t* accp = acc.data();
    const float* rsp = row_scale.data();
    const int64_t out = out_;
#pragma omp parallel for if (rows * out > 65536)
    for (int64_t r = 0; r < rows; ++r) {
      const int32_t* a = accp + r * out;
      float* yr = y + r * out;
      const float sx = rsp[r];
      for (int64_t n = 0; n < out; ++n) yr[n] = sx * ws[n] * static_cast<float>(a[n] - zero * cs[n]);
    }
  }
  if (!im.bias.empty()) {
    for (int64_t r = 0; r < rows; ++r) {
      float* yr = y + r * out_;
      for (int64_t n = 0; n < out_; ++n) yr[n] += im.bias[n];
    }
  }
}

bool Linear::uses_gemv() const { return impl_ && impl_->gemv; }

const void* Linear::weight_data() const {
  if (!impl_) return nullptr;
  return mode_ == WeightMode::F32 ? static_cast<const void*>(impl_->f32) : impl_->weights.get_data_handle();
}

// rows <= kGemvMaxRows on the VNNI layout: quantise the rows (padded to the
// layout's k_padded with the zero point; the padding's weights are zero),
// then each thread takes whole blocks of 64 outputs, and dequantises and adds
// the bias as each block's sums come out, in the order the oneDNN path does
// (so both give the same floats).
void Linear::forward_gemv(const float* x, int64_t rows, float* y, int levels) const {
  const Impl& im = *impl_;
  const int zero = levels + 1;
  const int64_t kp = im.k_padded, in = in_, out = out_;
  thread_local std::vector<uint8_t> qbuf;
  if (qbuf.size() < static_cast<size_t>(rows * kp)) qbuf.resize(static_cast<size_t>(rows * kp));
  uint8_t* qx = qbuf.data();
  float sx[kGemvMaxRows];
  quantize_activations(x, rows, in, levels, qx, kp, sx);
  for (int64_t r = 0; r < rows; ++r) std::memset(qx + r * kp + in, zero, static_cast<size_t>(kp - in));
  const auto* w = static_cast<const int8_t*>(im.weights.get_data_handle());
  const float* ws = im.scales.data();
  const int32_t* cs = im.colsum.data();
  const float* bias = im.bias.empty() ? nullptr : im.bias.data();
  const int64_t blocks = im.n_blocks, quads = kp / 4;
  // On the engine's team (engine/thread_team.h), not OpenMP: a decoded token
  // runs ~100 of these loops, and each is short. Chunks of whole blocks
  // (gemv_schedule(): at most 2 MB of weights each, two a thread, by default).
  const int threads = engine_threads();
  const GemvSchedule schedule = gemv_schedule();
  const int64_t per_chunk =
      team_chunk_items(blocks, threads, std::max<int64_t>(1, schedule.max_bytes / (kp * 64)), schedule.per_thread);
  const int64_t chunks = (blocks + per_chunk - 1) / per_chunk;
  ThreadTeam::shared().run(chunks, threads, [&](int64_t chunk, int) {
    const int64_t b0 = chunk * per_chunk, b1 = std::min(blocks, b0 + per_chunk);
    for (int64_t b = b0; b < b1; ++b) {
      alignas(64) int32_t acc[kGemvMaxRows * 64];
      const int64_t n0 = b * 64, n1 = std::min(out, n0 + 64);
      // The block's scales, column sums and bias are 256 bytes each that no
      // stream covers: asked for now, they arrive while the block's weights
      // stream (read after it, each was a DRAM miss: ~3% of a decode).
      for (int64_t n = n0; n < n1; n += 16) {
        _mm_prefetch(reinterpret_cast<const char*>(ws + n), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(cs + n), _MM_HINT_T0);
        if (bias) _mm_prefetch(reinterpret_cast<const char*>(bias + n), _MM_HINT_T0);
      }
      gemv_int8_block(w + b * kp * 64, qx, kp, rows, quads, acc, schedule.prefetch_bytes);
      for (int64_t r = 0; r < rows; ++r) {
        float* yr = y + r * out;
        const int32_t* a = acc + r * 64;
        const float s = sx[r];
        for (int64_t n = n0; n < n1; ++n) yr[n] = s * ws[n] * static_cast<float>(a[n - n0] - zero * cs[n]);
        if (bias)
          for (int64_t n = n0; n < n1; ++n) yr[n] += bias[n];
      }
    }
  });
}

EngineThreads::EngineThreads(int threads) : previous_(omp_get_max_threads()) {
  if (threads > 0 && threads != previous_) {
    omp_set_num_threads(threads);
    changed_ = true;
  }
}

EngineThreads::~EngineThreads() {
  if (changed_) omp_set_num_threads(previous_);
}

int engine_threads() { return omp_get_max_threads(); }

int int8_activation_levels() {
  // oneDNN reads ONEDNN_MAX_CPU_ISA once; the effective ISA is fixed from
  // then on. VNNI's vpdpbusd adds u8 x s8 products straight into 32 bits;
  // every ISA before it (SSE4.1 to AVX-512 without VNNI) sums each pair of
  // products in a saturating 16-bit lane first. AVX2_VNNI is counted with
  // the latter: oneDNN 2.6's matmul does not promise its VNNI kernels there.
  static const int levels = [] {
    switch (dnnl::get_effective_cpu_isa()) {
      case dnnl::cpu_isa::avx512_core_vnni:
      case dnnl::cpu_isa::avx512_core_bf16:
      case dnnl::cpu_isa::avx512_core_amx:
        return 127;
      default:
        return 63;
    }
  }();
  return levels;
}

}  // namespace astfill::engine
