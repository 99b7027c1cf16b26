// Cancellation tokens for long work (completion, indexing, inference).
//
// A CancellationSource owns the flag; tokens are cheap copies that work polls at
// its natural granularity (a token, a file, a layer). Cancelling records why, so
// the protocol layer can answer with the right error (client cancel, superseded,
// content modified, shutdown). Waiting on a token wakes as soon as it is
// cancelled, so simulated or real waits never outlive the request.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>

namespace astfill {

enum class CancelReason {
  None = 0,
  ClientRequest,    // $/cancelRequest or the client went away
  Superseded,       // a newer request of the same kind for the same document
  ContentModified,  // the document changed under the request
  Shutdown,         // the server is stopping
};

const char* to_string(CancelReason reason);

namespace detail {
struct CancelState {
  std::atomic<int> reason{0};
  std::atomic<size_t> flag{0};  // 1 once cancelled; see CancellationToken::flag
  std::mutex mu;
  std::condition_variable cv;
};
}  // namespace detail

class CancellationToken {
 public:
  // A token that is never cancelled.
  CancellationToken() = default;

  bool cancelled() const {
    return state_ && state_->reason.load(std::memory_order_relaxed) != 0;
  }
  CancelReason reason() const {
    return state_ ? static_cast<CancelReason>(state_->reason.load(std::memory_order_relaxed))
                  : CancelReason::None;
  }
  // Sleeps up to `d`; returns early (false) when cancelled. True when the full
  // time elapsed without cancellation.
  bool wait_for(std::chrono::milliseconds d) const;

  // A word that becomes non-zero when the token is cancelled, for C libraries
  // that poll a flag themselves (tree-sitter's ts_parser_set_cancellation_flag).
  // Null for a token that can never be cancelled. Lives as long as any copy of
  // the token or its source.
  const std::atomic<size_t>* flag() const { return state_ ? &state_->flag : nullptr; }

 private:
  friend class CancellationSource;
  explicit CancellationToken(std::shared_ptr<detail::CancelState> s) : state_(std::move(s)) {}
  std::shared_ptr<detail::CancelState> state_;
};

class CancellationSource {
 public:
  CancellationSource() : state_(std::make_shared<detail::CancelState>()) {}
  CancellationToken token() const { return CancellationToken(state_); }
  // The first reason wins; later calls are ignored. Returns true if this call
  // cancelled.
  bool cancel(CancelReason reason);
  bool cancelled() const { return state_->reason.load() != 0; }

 private:
  std::shared_ptr<detail::CancelState> state_;
};

}  // namespace astfill
