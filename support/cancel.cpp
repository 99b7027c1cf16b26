#include "support/cancel.h"

#include <thread>

namespace astfill {

const char* to_string(CancelReason reason) {
  switch (reason) {
    case CancelReason::None: return "not cancelled";
    case CancelReason::ClientRequest: return "cancelled by the client";
    case CancelReason::Superseded: return "superseded by a newer request for the same document";
    case CancelReason::ContentModified: return "cancelled because the document changed";
    case CancelReason::Shutdown: return "cancelled because the server is shutting down";
  }
  return "cancelled";
}

bool CancellationToken::wait_for(std::chrono::milliseconds d) const {
  if (!state_) {
    std::this_thread::sleep_for(d);
    return true;
  }
  std::unique_lock lock(state_->mu);
  return !state_->cv.wait_for(lock, d, [&] { return state_->reason.load() != 0; });
}

bool CancellationSource::cancel(CancelReason reason) {
  int expected = 0;
  bool won = false;
  {
    std::lock_guard lock(state_->mu);
    won = state_->reason.compare_exchange_strong(expected, static_cast<int>(reason));
  }
  if (won) state_->flag.store(1);
  if (won) state_->cv.notify_all();
  return won;
}

}  // namespace astfill
