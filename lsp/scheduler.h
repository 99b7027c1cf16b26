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

// A FIFO of jobs served by a fixed set of threads.
class WorkerPool {
 public:
  explicit WorkerPool(unsigned threads);
  ~WorkerPool();  // finishes queued jobs' cancellation checks and joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void submit(std::function<void()> job);
  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }
  size_t queued() const;

 private:
  void run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace astfill::lsp
