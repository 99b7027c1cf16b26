// The random-weight model with Qwen2.5-Coder-0.5B's shapes (Q8_0, the
// default weight scale) that bench_engine, bench_kv and bench_completion
// write when no model is given.
#pragma once

#include "tests/fixtures/random_model.h"

namespace astfill::bench {

inline engine::RandomModelSpec qwen_05b_shapes_spec() {
  engine::RandomModelSpec spec = engine::tiny_spec("qwen2");
  auto& hp = spec.hp;
  hp.name = "random Qwen2.5-Coder-0.5B shapes";
  hp.embedding_length = 896;
  hp.block_count = 24;
  hp.feed_forward_length = 4864;
  hp.head_count = 14;
  hp.head_count_kv = 2;
  hp.head_dim = 64;
  hp.vocab_size = 151936;
  hp.context_length = 32768;
  spec.weight_type = engine::GgmlType::Q8_0;
  return spec;
}

}  // namespace astfill::bench
