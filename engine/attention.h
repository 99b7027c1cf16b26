// Causal grouped-query attention over a session's KV cache (engine/kv_cache.h:
// f32, bf16 or int8 elements, laid out [kv_head][slot][d]).
//   Decode (a few queries): each KV head's keys and values are read once for
//   all the query heads that share it, in chunks of slots spread over the
//   threads (each chunk's softmax partials are merged at the end, as flash
//   decoding does). AVX-512 loops where the CPU has it: an int8 cache is read
//   in place where the CPU has AVX512-VNNI (u8 x s8 dot products in int32
//   over the cache's tiles, engine/attention_int8.h), a bf16 cache in place
//   (values widened exactly in registers, 16 key rows transposed so 16
//   scores come out of plain FMAs, rows prefetched ahead), others through
//   rows converted to f32 in L1; exp vectorised.
//   Prefill (many queries): flash attention in tiles. Each thread takes a
//   tile of queries of one KV head (the group's heads stacked) and walks the
//   key blocks up to the tile's diagonal only (the causal mask's fully masked
//   blocks are never computed): S = Q K_blk^T and acc += P V_blk are oneDNN
//   matmuls, with the online softmax vectorised between them. A bf16 or int8
//   cache multiplies in bf16 (f32 accumulate) where oneDNN has AVX512_BF16 or
//   AMX; an f32 cache always multiplies in f32, so f32 stays exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "engine/kv_cache.h"

namespace astfill::engine {

// Which kernels run. Auto: the CPU's best (above). F32: f32 matmuls even for
// a bf16 or int8 cache. Portable: plain C++ loops and f32 matmuls, what a CPU
// without AVX-512 runs. ASTFILL_ATTENTION=auto|f32|portable in the
// environment sets what attention() uses when it is not told.
enum class AttentionKernels { Auto, F32, Portable };
AttentionKernels default_attention_kernels();

// q: [n][heads][d] for queries in slots first_slot .. first_slot + n - 1,
// whose keys and values are already in the cache. out: [n][heads][d].
void attention(const float* q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& cache,
               int64_t first_slot, float* out);
void attention(const float* q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& cache,
               int64_t first_slot, float* out, AttentionKernels kernels);

// Memory a caller reads next (a layer's weights after its attention). Decode
// attention at depth is bound by the FMAs, not by memory, so while it runs
// the threads can pull these bytes toward the caches at a few lines per key
// row (each thread the share a static split of the range gives it, as the
// GEMV reads them), and the products after it read less from DRAM. Only a
// hint, off unless set_attention_read_ahead / ASTFILL_READ_AHEAD turn it on;
// the results never depend on it.
struct ReadAhead {
  const void* data = nullptr;
  size_t bytes = 0;
};
void attention(const float* q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& cache,
               int64_t first_slot, float* out, AttentionKernels kernels, std::span<const ReadAhead> ahead);
// Cache lines pulled per key row and pass (ASTFILL_READ_AHEAD from the
// environment, else 0: off, until a quiet measurement shows it pays; see
// attention.cpp). For benchmarks.
void set_attention_read_ahead(int lines_per_row);
int attention_read_ahead();

// Whether decode over an int8 cache multiplies in int8 in place on this CPU
// (AVX512-VNNI and VBMI, heads of 64 or 128 values, groups of up to 16 query
// heads per KV head, kernels Auto): where it does, the int8 cache is the
// fastest and smallest (LoadOptions::kv's Auto picks it then).
bool int8_decode_in_place(int64_t d, int64_t group, AttentionKernels kernels);

// What attention() would run on this CPU for a cache of `type` and heads of
// `d`, e.g. "avx512, bf16 matmuls" (for benchmarks' records).
std::string attention_kernels_in_use(KvType type, int64_t d, AttentionKernels kernels);

}  // namespace astfill::engine
