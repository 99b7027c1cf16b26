// Dense layers y = x W^T (+ b) on oneDNN, in one of two weight forms:
//
//   Int8: W quantised per output channel (row) to s8, stored once in the
//         blocked layout oneDNN's kernel wants (it does not depend on the
//         batch size M, so decode and prefill share it). Activations are
//         quantised per row at run time to u8 with zero point z = L + 1:
//           x ~= s_x (q - z)   =>   x.w_n = s_x s_n (acc_n - z colsum_n)
//         where acc is the u8 x s8 -> s32 product and colsum_n = sum_k w_nk.
//         L = 127 (8-bit) where oneDNN runs VNNI, which accumulates in 32
//         bits; L = 63 (7-bit, u8 <= 127) on ISAs without it (AVX2, AVX-512
//         without VNNI), whose kernels add pairs of u8 x s8 products in
//         saturating 16 bits: 255 x 127 x 2 would clip, 127 x 127 x 2 cannot.
//   F32:  W kept in f32 (exact; for tests and as the accuracy baseline).
//
// Primitives are created per batch size and cached in the layer, since a
// decode step calls every layer once per token.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "engine/model_file.h"

namespace astfill::engine {

enum class WeightMode { Int8, F32 };

class Linear {
 public:
  // From a [out, in] weight tensor of any supported type (ne = {in, out}) and
  // an optional bias of `out` values. Throws ModelError on a shape mismatch.
  static Linear load(const ModelTensor& weight, const ModelTensor* bias, WeightMode mode);
  // From f32 values laid out [out][in].
  static Linear from_f32(const float* w, int64_t in, int64_t out, const float* bias, WeightMode mode);
  // From rows produced one at a time: row(n, dst) writes output n's `in`
  // weights. Large layers load without an f32 copy of the whole matrix.
  using RowSource = std::function<void(int64_t n, float* dst)>;
  static Linear from_rows(const RowSource& row, int64_t in, int64_t out, const float* bias, WeightMode mode);

  Linear();
  ~Linear();
  Linear(Linear&&) noexcept;
  Linear& operator=(Linear&&) noexcept;

  // y[rows][out] = x[rows][in] W^T (+ b). Thread-safe for distinct outputs.
  void forward(const float* x, int64_t rows, float* y) const;

  // Output channel n's weights (`in` values) as this layer holds them: f32
  // exactly, int8 as scale x q. With tied embeddings the LM head's rows are
  // the token embedding, so a model needs no second copy of it.
  // std::out_of_range for n outside [0, out).
  void weight_row(int64_t n, float* dst) const;

  int64_t in() const { return in_; }
  int64_t out() const { return out_; }
  WeightMode mode() const { return mode_; }
  size_t weight_bytes() const;  // what one pass over the weights reads
  const void* weight_data() const;  // where those bytes are (read-ahead hints)
  // Int8 in oneDNN's VNNI layout on a CPU with VNNI: up to kGemvMaxRows rows
  // (decode) run engine/gemv_int8's kernel instead of a oneDNN call; the
  // integer sums are the same, so the outputs are too.
  bool uses_gemv() const;

 private:
  void forward_gemv(const float* x, int64_t rows, float* y, int levels) const;
  struct Impl;
  int64_t in_ = 0, out_ = 0;
  WeightMode mode_ = WeightMode::F32;
  std::unique_ptr<Impl> impl_;
};

// The int8 path's activation range L, steps each side of zero (see above):
// 127 or 63, from oneDNN's effective ISA (which ONEDNN_MAX_CPU_ISA caps).
int int8_activation_levels();

// Single-row int8 products on engine/gemv_int8 where a layer can (default;
// ASTFILL_GEMV=onednn starts the process with it off) or on oneDNN: for
// tests and benchmarks comparing the two. int8_gemv_active says whether a
// layer's single-row products take the kernel now.
void set_int8_gemv(bool on);
bool int8_gemv_active(const Linear& layer);

// How the single-row int8 products run: a layer split among the engine's
// threads in chunks of whole 64-output blocks, at most `max_bytes` of
// weights each, about `per_thread` chunks a thread where the layer is big
// enough (small chunks balance the threads; big ones let each stream
// longer), each thread prefetching its weights `prefetch_bytes` ahead into
// L2 (0: the hardware's prefetcher alone; engine/gemv_int8.cpp says why).
// For bench_engine's in-process comparisons; the engine's default is
// kDefaultGemvSchedule: 2 MB, two a thread, 4 KB ahead. 2 MB : 2 against
// 256 KB and eight a thread (the default before), in alternating rounds on
// 2 threads: 1.02-1.13x the tokens/s at depths 512-16K, once 0.98x at 4K in
// four runs (`bench_engine --decode-at 512,4096,16384 --compare-gemv
// 256:8:0,2048:2:0`).
struct GemvSchedule {
  int64_t max_bytes = 2 << 20;
  int per_thread = 2;
  int64_t prefetch_bytes = 4096;
};
inline constexpr GemvSchedule kDefaultGemvSchedule{};
void set_gemv_schedule(GemvSchedule schedule);
GemvSchedule gemv_schedule();

// Dequantises a whole tensor to f32 (row-major, ne[0] contiguous).
std::vector<float> to_f32(const ModelTensor& t);

// The number of threads the engine's kernels use on the calling thread. Our
// loops are OpenMP, and oneDNN (built with its OpenMP runtime) reads the same
// setting, omp_get_max_threads(); OpenMP keeps it per thread, so it is set on
// the thread that runs the work, never process-wide.
int engine_threads();

// Sets the calling thread's engine thread count for the object's lifetime
// (0: leaves it) and restores the previous one after.
class EngineThreads {
 public:
  explicit EngineThreads(int threads);
  ~EngineThreads();
  EngineThreads(const EngineThreads&) = delete;
  EngineThreads& operator=(const EngineThreads&) = delete;

 private:
  int previous_;
  bool changed_ = false;
};

}  // namespace astfill::engine
