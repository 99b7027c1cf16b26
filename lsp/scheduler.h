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
// queue and a thread of their own.
enum class Lane { Compute, Quick };

// Two FIFOs of jobs: the compute lane served by `threads` threads (the model's
// work, opening indexes, loading models), the quick lane by one more thread.
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
  void run(Lane lane);

  mutable std::mutex mu_;
  std::condition_variable cv_[2];
  std::deque<std::function<void()>> jobs_[2];
  bool stopping_ = false;
  unsigned compute_threads_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace astfill::lsp
