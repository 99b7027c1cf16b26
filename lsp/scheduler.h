// How the daemon runs work, and when it gives work up.
//
// Threads. One libuv loop thread owns all IO and all protocol state: the
// document store, the table of requests in flight, progress tokens. It never
// runs inference or indexing. Requests that compute (completion, inline
// completion, commands) become jobs on a WorkerPool; a job gets an immutable
// document snapshot and a CancellationToken, and hands its result back to the
// loop through a LoopPoster. Nothing but the loop thread writes to a client.
//
// Cancellation. Every job's token is polled where the work has natural steps
// (a generated token, a file, a layer). A cancelled request is answered at
// once by the loop thread, which does not wait for the worker to notice; the
// worker's late result is dropped. Reasons:
//   - $/cancelRequest from the client           -> RequestCancelled
//   - a newer inline completion for the same document (supersession)
//                                                -> RequestCancelled
//   - an edit to the document the request reads  -> ContentModified
//   - shutdown or a closed connection            -> RequestCancelled
// Superseding follows what editors do: they re-ask on every keystroke, and
// only the newest answer can still be shown, so older ones are dropped before
// they cost a model call.
//
// Lanes. Questions that need no model run in a lane of their own (Lane::Quick),
// so an index question is answered in milliseconds whatever the model is doing.
// Model work runs on several compute threads at once (by default as many as
// the model has KV slots, completion::ServiceOptions::slots): the model's
// engine::Batcher steps their sessions together, so requests for different
// documents and sessions share forward passes instead of queueing for one
// thread. Inline completions (Lane::Focused) are taken before any other
// compute job, newest first: the newest one is the suggestion the user is
// waiting for (the batcher gives its session the focus too), and a queued fill,
// API suggestion or index opening can wait. With more than one compute thread,
// one is kept for them: background jobs run on at most threads - 1 at once.
//
// Zero-thread mode (threads == 0) runs each job inline when submitted; unit
// tests use it to be deterministic.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace astfill::lsp {

// Runs closures on the thread that owns protocol state.
class LoopPoster {
 public:
  virtual ~LoopPoster() = default;
  // Thread-safe. Closures run in the order posted. After the loop closes they
  // are dropped.
  virtual void post(std::function<void()> fn) = 0;
};

// Which queue a job waits in. Questions that need no model (workspace/symbol,
// textDocument/definition: the index answers them in milliseconds) must never
// wait behind a completion that holds the model for a second: they have a
// queue and a thread of their own. Inline completions (Focused) and other
// compute work (Compute: fills, API suggestions, commands, opening indexes,
// loading models) share the compute threads; a Focused job is taken first.
enum class Lane { Compute, Quick, Focused };

// The compute threads, serving Focused jobs newest first and then Compute jobs
// in order (at most threads - 1 of those at once when threads > 1), and one
// more thread for the quick lane.
class WorkerPool {
 public:
  explicit WorkerPool(unsigned threads);
  ~WorkerPool();  // finishes queued jobs' cancellation checks and joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void submit(std::function<void()> job, Lane lane = Lane::Compute);
  // Threads of the compute lane.
  unsigned threads() const { return compute_threads_; }
  size_t queued() const;

 private:
  void run_compute();
  void run_quick();

  mutable std::mutex mu_;
  std::condition_variable compute_cv_, quick_cv_;
  std::deque<std::function<void()>> compute_, focused_, quick_;  // guarded by mu_
  unsigned background_running_ = 0;  // Compute jobs running; guarded by mu_
  unsigned background_cap_ = 1;      // at most this many at once
  bool stopping_ = false;
  unsigned compute_threads_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace astfill::lsp
