#include "engine/batcher.h"

#include <algorithm>
#include <exception>

namespace astfill::engine {

// One evaluate call on its way through the steps. Lives on its caller's
// stack; the runner touches it only with mu_ held (or, for the pass itself,
// through the StepSegment it made from it).
struct Batcher::Call {
  Session* session = nullptr;
  const Session::Batch* batch = nullptr;
  const CancellationToken* cancel = nullptr;
  std::vector<int64_t> logit_rows;  // of the whole call
  size_t start_length = 0;          // the session's length before the call
  size_t next = 0;                  // first row not yet evaluated
  size_t chunk = 0;                 // rows in the step being run (whole pieces, or up to the end)
  bool ride = false;                // they ride along beside the busy focused session
  std::vector<float> logits;
  bool done = false;
  bool cancelled = false;
  std::exception_ptr error;

  size_t rows() const { return batch->tokens.size(); }
};

Batcher::Batcher(const Model& model, BatcherOptions options) : model_(model), options_(options) {
  options_.prefill_chunk = std::max<size_t>(options_.prefill_chunk, 1);
  // A chunk is whole pieces, so that every chunk of a call starts on its
  // pieces' grid (counted from the call's first row) however it was cut.
  if (options_.piece_rows == 0 || options_.piece_rows > options_.prefill_chunk)
    options_.piece_rows = options_.prefill_chunk;
  options_.prefill_chunk -= options_.prefill_chunk % options_.piece_rows;
  options_.max_rows = std::max(options_.max_rows, options_.prefill_chunk);
}

Batcher::~Batcher() = default;

std::vector<float> Batcher::evaluate(Session& session, const Session::Batch& batch, const CancellationToken& cancel) {
  if (batch.tokens.empty()) return {};
  Call call;
  call.session = &session;
  call.batch = &batch;
  call.cancel = &cancel;
  call.logit_rows = session.prepare(batch);  // throws here, before anything runs
  call.start_length = session.length();
  std::unique_lock lock(mu_);
  waiting_.push_back(&call);
  last_step_.erase(&session);
  cv_.notify_all();
  while (!call.done) {
    if (running_) {
      cv_.wait(lock);
      continue;
    }
    running_ = true;
    run_step(lock);
    running_ = false;
    cv_.notify_all();
  }
  lock.unlock();
  if (call.error) std::rethrow_exception(call.error);
  if (call.cancelled) return {};
  return std::move(call.logits);
}

void Batcher::forget(const Session* session) {
  std::lock_guard lock(mu_);
  last_step_.erase(session);
  cv_.notify_all();
}

Batcher::Stats Batcher::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::vector<Batcher::Call*> Batcher::pick() {
  std::vector<Call*> order(waiting_.begin(), waiting_.end());
  std::stable_partition(order.begin(), order.end(), [](const Call* c) { return c->session->focused(); });
  // A focused session counts as busy while its rows wait and while it is
  // still sampling after the last step (it will be back within the window).
  bool focused_busy = !order.empty() && order.front()->session->focused();
  for (const Session* s : last_step_) focused_busy = focused_busy || s->focused();
  std::vector<Call*> picked, deferred;
  size_t rows = 0;
  // Each step beside the busy focused session adds to the credit, up to a
  // piece's worth (or the rows of one step, when more).
  ride_credit_ = focused_busy ? std::min(ride_credit_ + options_.ride_along_rows,
                                         std::max(options_.piece_rows, options_.ride_along_rows))
                              : 0;
  const auto now = std::chrono::steady_clock::now();
  for (Call* c : order) {
    // Before it joins a step: nothing ran for this chunk. A call past its
    // deadline (a request out of time, perhaps while its prefill waited for
    // the focused one) is given up the same way.
    const auto deadline = c->batch->deadline;
    if (c->cancel->cancelled() || (deadline != std::chrono::steady_clock::time_point{} && now >= deadline)) {
      c->session->length_ = c->start_length;
      c->cancelled = c->done = true;
      ++stats_.given_up;
      continue;
    }
    c->chunk = std::min(options_.prefill_chunk, c->rows() - c->next);
    c->ride = false;
    if (focused_busy && !c->session->focused() && c->chunk > options_.decode_rows) {
      // Prefill beside the focused session: whole pieces within the credit.
      size_t take = 0;
      while (take < c->chunk) {
        const size_t piece = std::min(options_.piece_rows, c->chunk - take);
        if (take + piece > ride_credit_) break;
        take += piece;
      }
      if (take == 0 || (!picked.empty() && rows + take > options_.max_rows)) {
        deferred.push_back(c);
        continue;
      }
      c->chunk = take;
      c->ride = true;
      ride_credit_ -= take;
    }
    if (!picked.empty() && rows + c->chunk > options_.max_rows) continue;
    picked.push_back(c);
    rows += c->chunk;
  }
  // Only deferred prefill waits, and the focused session did not come back
  // within the window: it has finished, so the prefill goes on.
  if (picked.empty() && !deferred.empty()) {
    picked.push_back(deferred.front());
    deferred.erase(deferred.begin());
  }
  stats_.held_back += deferred.size();
  return picked;
}

void Batcher::run_step(std::unique_lock<std::mutex>& lock) {
  if (!last_step_.empty()) {
    const auto start = std::chrono::steady_clock::now();
    cv_.wait_until(lock, last_step_end_ + options_.window, [&] { return last_step_.empty(); });
    ++stats_.window_waits;
    stats_.window_wait_us += static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
  }
  std::vector<Call*> picked = pick();
  std::erase_if(waiting_, [](const Call* c) { return c->done; });  // cancelled before joining
  if (picked.empty()) return;

  // One segment per piece; owner[k]: the picked call segment k belongs to.
  std::vector<StepSegment> segments;
  std::vector<size_t> owner;
  size_t rows = 0;
  for (size_t k = 0; k < picked.size(); ++k) {
    const Call& c = *picked[k];
    for (size_t at = c.next, end = c.next + c.chunk; at < end;) {
      const size_t n = std::min(options_.piece_rows, end - at);
      StepSegment& s = segments.emplace_back();
      owner.push_back(k);
      s.session = c.session;
      s.tokens = std::span<const int32_t>(c.batch->tokens).subspan(at, n);
      if (!c.batch->positions.empty()) s.positions = std::span<const int32_t>(c.batch->positions).subspan(at, n);
      if (!c.batch->embeddings.empty())
        s.embeddings = std::span<const float* const>(c.batch->embeddings).subspan(at, n);
      if (!c.batch->mrope_positions.empty())
        s.mrope_positions = std::span<const int32_t>(c.batch->mrope_positions).subspan(3 * at, 3 * n);
      for (int64_t r : c.logit_rows)
        if (r >= static_cast<int64_t>(at) && r < static_cast<int64_t>(at + n))
          s.logit_rows.push_back(r - static_cast<int64_t>(at));
      s.cancel = c.cancel;
      at += n;
    }
    rows += c.chunk;
  }
  lock.unlock();
  std::exception_ptr error;
  try {
    model_.step(segments, scratch_);
  } catch (...) {
    error = std::current_exception();
  }
  lock.lock();

  // A call is cancelled when any of its pieces is (Model::step may have
  // moved its session's length by the others: set back below).
  std::vector<char> cancelled(picked.size(), 0);
  for (size_t j = 0; j < segments.size(); ++j)
    if (segments[j].cancelled) cancelled[owner[j]] = 1;
  last_step_.clear();
  for (size_t k = 0; k < picked.size(); ++k) {
    Call& c = *picked[k];
    if (error || cancelled[k]) {
      c.session->length_ = c.start_length;  // the cache as it was before the call
      c.error = error;
      c.cancelled = cancelled[k];
      c.done = true;
      ++stats_.given_up;
      continue;
    }
    for (size_t j = 0; j < segments.size(); ++j)
      if (owner[j] == k) c.logits.insert(c.logits.end(), segments[j].logits.begin(), segments[j].logits.end());
    c.next += c.chunk;
    if (c.next == c.rows()) {
      c.done = true;
      last_step_.insert(c.session);  // it will likely be back with its next token
    }
  }
  std::erase_if(waiting_, [](const Call* c) { return c->done; });
  last_step_end_ = std::chrono::steady_clock::now();
  ++stats_.steps;
  stats_.rows += rows;
  stats_.segments += picked.size();
  if (picked.size() > 1) ++stats_.shared_steps;
  stats_.widest_step = std::max<uint64_t>(stats_.widest_step, picked.size());
  for (const Call* c : picked) {
    if (c->ride || c->chunk > options_.decode_rows) ++stats_.prefill_chunks;
    if (c->ride) ++stats_.ride_alongs;
  }
}

}  // namespace astfill::engine
