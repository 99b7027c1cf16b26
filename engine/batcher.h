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
//   - The focused session (Session::set_focused: the newest inline
//     completion) goes first; while one has rows waiting, other sessions'
//     chunks longer than `decode_rows` (prefill) wait, so a long background
//     prefill never stalls typing; their decode rows still ride along.
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
  size_t decode_rows = 16;     // a chunk this short is decoding, not prefill (speculation's drafts fit)
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

  struct Stats {
    uint64_t steps = 0;
    uint64_t rows = 0;      // over all steps
    uint64_t segments = 0;  // calls' chunks over all steps (sessions per step, summed)
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
  ForwardScratch scratch_;  // used by the step's runner only
  Stats stats_;
};

}  // namespace astfill::engine
