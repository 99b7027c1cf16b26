// The generation loop: prefill a prompt (in chunks), then decode one token at
// a time through a Sampler, streaming each token to a callback that may stop
// it. Reuses whatever prefix of the prompt the session already holds (and,
// with a PrefixStore, a prefix persisted by an earlier run); prefill alone
// serves callers that score rather than generate.
//
// With speculation on, each step after the sampled token also feeds a draft
// (engine/speculate.h) through the same forward pass, logits on every row;
// the sampler then runs on the rows in order, and the draft is kept up to the
// first token it would not have chosen (the cache is truncated after it).
// Every token is still chosen by the sampler from the logits of exactly the
// tokens before it, so greedy output is the same as without speculation.
// Each decode pass is timed, so that with SpeculateOptions::cost_aware
// drafts stay no longer than their rows pay for (DraftLength).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "engine/model.h"
#include "engine/prefix_store.h"
#include "engine/sampler.h"
#include "engine/speculate.h"

namespace astfill::engine {

struct GenerateOptions {
  int max_tokens = 128;
  std::vector<int32_t> stop_tokens;  // generation ends after producing one (it is streamed)
  size_t prefill_chunk = 512;        // tokens per prefill batch (bounds activation memory)
  SpeculateOptions speculate{.enable = false};
  // Extra sequences to draft from (recently accepted completions).
  std::span<const std::vector<int32_t>> draft_sources;
  // How many of a draft's leading tokens the caller's constraints would allow
  // after the tokens chosen so far (checked on a copy of their state);
  // empty: all of them.
  std::function<size_t(std::span<const int32_t> draft)> screen_draft;
  // Persisted prefixes: restored before prefilling, recorded after (null: none).
  PrefixStore* prefix_store = nullptr;
  // When the request must be answered, prefill included (the epoch: no
  // limit). The prefill checks it between chunks and keeps the chunks that
  // ran (the next request with the same prompt reuses them); decoding checks
  // it after each token. Either way GenerateStats::timed_out says so.
  std::chrono::steady_clock::time_point deadline{};
};

struct GenerateStats {
  size_t prompt_tokens = 0;
  size_t reused_tokens = 0;          // prompt tokens already in the session's cache
  size_t prefilled_tokens = 0;       // prompt tokens evaluated (less than the rest when cut short)
  size_t generated_tokens = 0;
  double prefill_seconds = 0;
  size_t restored_tokens = 0;        // prompt tokens mapped in from the prefix store
  double decode_seconds = 0;
  size_t forward_passes = 0;         // evaluates after the prompt (one per decode step)
  size_t verified_drafts = 0;        // passes that carried a draft
  size_t drafted_tokens = 0;         // draft tokens verified
  size_t accepted_draft_tokens = 0;  // of those, kept
  bool stopped_by_callback = false;
  bool cancelled = false;
  bool timed_out = false;            // the deadline ended it (in the prefill when prefilled < prompt - reused)
};

struct PrefillResult {
  std::vector<float> logits;  // after the last prompt token (vocab floats); empty when cancelled
  size_t reused_tokens = 0;   // prompt tokens already in the session's cache
  size_t restored_tokens = 0; // of those, mapped in from the prefix store
  size_t prefilled_tokens = 0;  // prompt tokens evaluated (and kept, when cut short)
  bool cancelled = false;
  bool timed_out = false;       // the deadline passed first; logits are empty
};

// Brings the session's cache to `prompt`: keeps the longest prefix it shares
// with `history` (the tokens the cache holds), but always evaluates the last
// prompt token again for the logits after it, and evaluates the rest in
// batches of `chunk` tokens (of the session's batcher's prefill_chunk at
// most, so that each batch is one pass). `history` follows the cache; when
// cancelled or out of time the cache keeps the batches that completed and
// `history` says which.
// With `store`, a longer prefix it holds than the cache shares is restored
// first, and the prompt's blocks are recorded after (PrefixStore::record).
// `deadline` (the epoch: none) is checked before each batch, so a prefill
// ends at most one batch after it; the next call with the same prompt
// starts where this one stopped.
PrefillResult prefill(Session& session, std::vector<int32_t>& history, std::span<const int32_t> prompt,
                      size_t chunk = 512, const CancellationToken& cancel = {}, PrefixStore* store = nullptr,
                      std::chrono::steady_clock::time_point deadline = {});

// Return false to stop generating.
using TokenCallback = std::function<bool(int32_t token, float probability)>;

// `history` is the session's current token sequence (what the cache holds);
// it is updated to the prompt plus the generated tokens.
GenerateStats generate(Session& session, std::vector<int32_t>& history, std::span<const int32_t> prompt,
                       const GenerateOptions& options, Sampler& sampler, const TokenCallback& on_token,
                       const CancellationToken& cancel = {});

}  // namespace astfill::engine
