// Causal grouped-query attention over a session's KV cache.
//
// The cache of one layer is laid out [kv_head][slot][d], so each KV head's
// keys and values are dense matrices.
//   Decode (a few queries): a SIMD loop that reads each KV head's keys and
//   values once for all the query heads that share it.
//   Prefill (many queries): flash-style blocks. All heads sharing a KV head
//   are stacked into one query matrix; for each block of 256 keys, two oneDNN
//   matmuls (S = Q K_blk^T, then P V_blk) with an online softmax in between, so
//   no n x n score matrix ever exists and memory stays O(n * block).
#pragma once

#include <cstdint>

namespace astfill::engine {

struct KvView {
  const float* k;        // [kv_heads][capacity][d]
  const float* v;
  int64_t capacity;      // slots per head in the layout
};

// q: [n][heads][d] for queries in slots first_slot .. first_slot + n - 1,
// whose keys and values are already in the cache. out: [n][heads][d].
void attention(const float* q, int64_t n, int64_t heads, int64_t kv_heads, int64_t d, const KvView& cache,
               int64_t first_slot, float* out);

}  // namespace astfill::engine
