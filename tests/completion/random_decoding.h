// A decoding loop driven by a random "model": at each step it proposes a
// few fragments of code in random order, the loop takes the first one the
// SyntaxGuard finds viable, and stops when none is (or after a token cap).
// Used by the randomised test and by bench_syntax.
#pragma once

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "completion/syntax_guard.h"

namespace astfill::completion::testing {

struct DecodeResult {
  size_t tokens = 0;     // accepted
  size_t proposals = 0;  // candidates asked about
  size_t rejected = 0;   // of those, not viable
  bool stuck = false;    // a step where no candidate was viable
};

inline DecodeResult random_decode(SyntaxGuard& guard, const std::vector<std::string_view>& fragments,
                                  uint32_t seed, size_t max_tokens, size_t candidates_per_step = 8) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, fragments.size() - 1);
  DecodeResult result;
  for (size_t step = 0; step < max_tokens; ++step) {
    bool taken = false;
    for (size_t k = 0; k < candidates_per_step && !taken; ++k) {
      std::string_view piece = fragments[pick(rng)];
      ++result.proposals;
      if (guard.viable(piece)) {
        guard.accept(piece);
        ++result.tokens;
        taken = true;
      } else {
        ++result.rejected;
      }
    }
    if (!taken) {
      result.stuck = true;
      break;
    }
  }
  return result;
}

}  // namespace astfill::completion::testing
