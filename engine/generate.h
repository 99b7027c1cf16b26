// The generation loop: prefill a prompt (in chunks), then decode one token at
// a time through a Sampler, streaming each token to a callback that may stop
// it. Reuses whatever prefix of the prompt the session already holds; prefill
// alone serves callers that score rather than generate.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "engine/model.h"
#include "engine/sampler.h"

namespace astfill::engine {

struct GenerateOptions {
  int max_tokens = 128;
  std::vector<int32_t> stop_tokens;  // generation ends after producing one (it is streamed)
  size_t prefill_chunk = 512;        // tokens per prefill batch (bounds activation memory)
};

struct GenerateStats {
  size_t prompt_tokens = 0;
  size_t reused_tokens = 0;          // prompt tokens already in the session's cache
  size_t generated_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  bool stopped_by_callback = false;
  bool cancelled = false;
};

struct PrefillResult {
  std::vector<float> logits;  // after the last prompt token (vocab floats); empty when cancelled
  size_t reused_tokens = 0;   // prompt tokens already in the session's cache
  bool cancelled = false;
};

// Brings the session's cache to `prompt`: keeps the longest prefix it shares
// with `history` (the tokens the cache holds), but always evaluates the last
// prompt token again for the logits after it, and evaluates the rest in
// batches of `chunk` tokens. `history` follows the cache; when cancelled the
// cache keeps the batches that completed and `history` says which.
PrefillResult prefill(Session& session, std::vector<int32_t>& history, std::span<const int32_t> prompt,
                      size_t chunk = 512, const CancellationToken& cancel = {});

// Return false to stop generating.
using TokenCallback = std::function<bool(int32_t token, float probability)>;

// `history` is the session's current token sequence (what the cache holds);
// it is updated to the prompt plus the generated tokens.
GenerateStats generate(Session& session, std::vector<int32_t>& history, std::span<const int32_t> prompt,
                       const GenerateOptions& options, Sampler& sampler, const TokenCallback& on_token,
                       const CancellationToken& cancel = {});

}  // namespace astfill::engine
