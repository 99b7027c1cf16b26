#include "lsp/scheduler.h"

namespace astfill::lsp {

WorkerPool::WorkerPool(unsigned threads) : compute_threads_(threads) {
  if (threads == 0) return;  // zero-thread mode: jobs run inline
  threads_.reserve(threads + 1);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(Lane::Compute); });
  threads_.emplace_back([this] { run(Lane::Quick); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  for (auto& cv : cv_) cv.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::submit(std::function<void()> job, Lane lane) {
  if (threads_.empty()) {
    job();
    return;
  }
  auto i = static_cast<size_t>(lane);
  {
    std::lock_guard lock(mu_);
    jobs_[i].push_back(std::move(job));
  }
  cv_[i].notify_one();
}

size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return jobs_[0].size() + jobs_[1].size();
}

void WorkerPool::run(Lane lane) {
  auto i = static_cast<size_t>(lane);
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_[i].wait(lock, [&] { return stopping_ || !jobs_[i].empty(); });
      // Jobs still queued at shutdown run anyway: each sees its cancelled token
      // and returns at once, and its owner learns it is done.
      if (jobs_[i].empty()) return;
      job = std::move(jobs_[i].front());
      jobs_[i].pop_front();
    }
    job();
  }
}

}  // namespace astfill::lsp
