// Continuous batching: several sessions' evaluate calls, made from their own
// threads, stepped together through one forward pass per step.
//
// Decode reads every weight for every token; a pass that carries several
// sequences' rows reads them once for all (Model::step), so four sequences
// decode in little more time than one. The batcher is transparent: a session
// attached to it (Session::set_batcher) keeps evaluate's signature and
// results, and engine::generate, prefill, the completion decoder and the
// suggestion scorer batch without knowing.
//
// Policy, in the order it decides a step:
//   - There is no scheduler thread. A caller whose rows are waiting and finds
//     no step running runs the next one itself, for everybody; the others
//     sleep until their rows are done. So a lone session pays nothing but a
//     lock, and the pass runs on a thread that the caller already gave it.
//   - Before a step, the runner waits up to `window` for the sessions of the
//     previous step to come back (they are sampling their next token): a step
//     that leaves them out would run again for them alone right after. It
//     waits no longer than until each has either submitted or been forgotten.
//   - A call is evaluated in chunks of at most `prefill_chunk` rows, one per
//     step. The chunking depends on the call alone, never on what else runs,
//     so a session's results do not depend on its neighbours: with int8
//     weights each row's activations are quantised on their own, and with f32
//     weights the projections run per segment (engine/arch/blocks.h).
//   - A call's chunks are cut into pieces of `piece_rows` rows (the last may
//     be shorter), counted from the call's first row, and a step takes whole
//     pieces only: each piece is a segment of its own in the pass (attention
//     runs per segment; Model::step places a session's segments one after
//     another in its cache), so the arithmetic of a row depends on its piece
//     alone, wherever the piece runs and whatever runs beside it.
//   - The focused session (Session::set_focused: the newest inline
//     completion) goes first. While it is busy (it has rows waiting, or it ran
//     in the last step and is sampling its next token), other sessions'
//     chunks longer than `decode_rows` (prefill) ride along with it capped:
//     `ride_along_rows` of their rows per step on average, in whole pieces,
//     oldest call first (each busy step adds that many rows of credit, up to
//     one piece's, and a piece rides when the credit covers it); the others
//     wait. So a long background prefill goes on during typing at a bounded
//     cost to the focused request. On a CPU a row of prefill is ~1 ms of
//     arithmetic against a ~25 ms decode step at the 0.5B shapes, so rows
//     riding along are not free: beside 3 background fills the focused
//     request's p95 was 1.08-1.42x alone at 8 rows a step over four runs
//     (0.92-1.09x with none), the background's tokens/s 2.0-2.8x those with
//     none; 2.1x at 16 rows and 3.5x at 32 (bench_batch --ride-along).
//     Background decode rows ride along in full. With `ride_along_rows` 0
//     prefill waits for the focused session entirely.
//   - A step holds at most `max_rows` rows (the first call always fits).
//   - Cancellation is checked before a call joins a step and between layers
//     (Model::step): a cancelled call returns empty within one step and its
//     session is back at the length it had before the call. A call whose
//     deadline (Session::Batch::deadline) has passed before a chunk joins a
//     step ends the same way, so a request out of time does not wait out the
//     focused one's turn (engine::prefill cuts its prompt into calls of one
//     chunk each, and keeps the chunks that ran).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "engine/model.h"

namespace astfill::engine {

struct BatcherOptions {
  size_t prefill_chunk = 128;  // rows of one call per step
  // Rows of a piece (see above); 0: a piece is a whole chunk (the default,
  // so prefill runs as it did before pieces). Whether smaller pieces cost
  // prefill is not settled on this shared machine: 512 tokens at the 0.5B
  // shapes through the batcher alone, pieces of 128 vs 32, gave 617 vs 502
  // and 531 vs 422 tokens/s in two runs and 383 vs 556 in a third
  // (bench_batch --pieces).
  size_t piece_rows = 0;
  size_t decode_rows = 16;     // a chunk this short is decoding, not prefill (speculation's drafts fit)
  // Background prefill rows per step, on average, while the focused session
  // is busy (whole pieces, above); 0: none.
  size_t ride_along_rows = 8;
  size_t max_rows = 512;       // rows per step, all calls together
  std::chrono::microseconds window{3000};  // wait for the previous step's sessions
};

class Batcher {
 public:
  explicit Batcher(const Model& model, BatcherOptions options = {});
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  const Model& model() const { return model_; }
  const BatcherOptions& options() const { return options_; }

  // Session::evaluate with a batcher: the same contract (throws the same
  // errors, on the calling thread, before anything runs).
  std::vector<float> evaluate(Session& session, const Session::Batch& batch, const CancellationToken& cancel);
  // The session is going away: never wait for it again.
  void forget(const Session* session);

  // What the steps carried (astfill.status's `batching`, docs/architecture.md).
  struct Stats {
    uint64_t steps = 0;
    uint64_t rows = 0;           // over all steps
    uint64_t segments = 0;       // calls' chunks over all steps (sessions per step, summed)
    uint64_t shared_steps = 0;   // steps that carried more than one call
    uint64_t widest_step = 0;    // the most calls one step carried
    uint64_t prefill_chunks = 0; // chunks of prefill (longer than decode_rows, or riding along)
    uint64_t ride_alongs = 0;    // of those, run beside the busy focused session (capped)
    uint64_t held_back = 0;      // prefill chunks that waited a step for the focused session
    uint64_t window_waits = 0;   // steps that first waited for the previous step's sessions
    uint64_t window_wait_us = 0; // how long, all together
    uint64_t given_up = 0;       // calls cancelled, out of time or failed, before or during a step
  };
  Stats stats() const;

 private:
  struct Call;
  // With mu_ held and running_ set: waits for the previous step's sessions,
  // picks the chunks, runs the pass (unlocked) and hands out the results.
  void run_step(std::unique_lock<std::mutex>& lock);
  std::vector<Call*> pick();

  const Model& model_;
  BatcherOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Call*> waiting_;  // in arrival order
  bool running_ = false;       // a step is being prepared or run
  std::unordered_set<const Session*> last_step_;  // sessions of the previous step, not yet back
  std::chrono::steady_clock::time_point last_step_end_;
  size_t ride_credit_ = 0;  // rows background prefill may still ride along with (see above)
  ForwardScratch scratch_;  // used by the step's runner only
  Stats stats_;
};

}  // namespace astfill::engine
