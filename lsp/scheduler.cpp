#include "lsp/scheduler.h"

namespace astfill::lsp {

WorkerPool::WorkerPool(unsigned threads)
    : background_cap_(threads > 1 ? threads - 1 : 1), compute_threads_(threads) {
  if (threads == 0) return;  // zero-thread mode: jobs run inline
  threads_.reserve(threads + 1);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run_compute(); });
  threads_.emplace_back([this] { run_quick(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  compute_cv_.notify_all();
  quick_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::submit(std::function<void()> job, Lane lane) {
  if (threads_.empty()) {
    job();
    return;
  }
  {
    std::lock_guard lock(mu_);
    (lane == Lane::Quick ? quick_ : lane == Lane::Focused ? focused_ : compute_).push_back(std::move(job));
  }
  (lane == Lane::Quick ? quick_cv_ : compute_cv_).notify_one();
}

size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return compute_.size() + focused_.size() + quick_.size();
}

void WorkerPool::run_compute() {
  for (;;) {
    std::function<void()> job;
    bool background = false;
    {
      std::unique_lock lock(mu_);
      compute_cv_.wait(lock, [&] {
        return stopping_ || !focused_.empty() || (!compute_.empty() && background_running_ < background_cap_);
      });
      if (!focused_.empty()) {
        // The newest inline completion is the one the user waits for.
        job = std::move(focused_.back());
        focused_.pop_back();
      } else if (!compute_.empty() && (background_running_ < background_cap_ || stopping_)) {
        // Jobs still queued at shutdown run anyway, whatever the cap: each
        // sees its cancelled token and returns at once, and its owner learns
        // it is done.
        job = std::move(compute_.front());
        compute_.pop_front();
        background = true;
        ++background_running_;
      } else {
        return;  // stopping, and nothing is left for this thread
      }
    }
    job();
    if (background) {
      {
        std::lock_guard lock(mu_);
        --background_running_;
      }
      // A queued Compute job may have waited for the cap.
      compute_cv_.notify_all();
    }
  }
}

void WorkerPool::run_quick() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      quick_cv_.wait(lock, [&] { return stopping_ || !quick_.empty(); });
      if (quick_.empty()) return;  // queued jobs run anyway at shutdown, as above
      job = std::move(quick_.front());
      quick_.pop_front();
    }
    job();
  }
}

}  // namespace astfill::lsp
