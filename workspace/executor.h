// Where the workspace core runs what it starts: long work (opening an index,
// loading a model, answering a question) on a worker, and what comes back on
// the thread that owns the workspace (the daemon's loop thread). Front ends
// provide both; the CLI runs both inline.
#pragma once

#include <functional>

#include "support/cancel.h"
#include "support/progress.h"

namespace astfill::workspace {

struct Executor {
  std::function<void(std::function<void()>)> background;  // on a worker
  std::function<void(std::function<void()>)> post;        // on the workspace's thread

  // Both inline, on the caller's thread (the CLI, tests).
  static Executor inline_executor() {
    return Executor{[](std::function<void()> f) { f(); }, [](std::function<void()> f) { f(); }};
  }
};

// A question prepared on the workspace's thread (it reads the documents and
// folders there) that the front end runs on a worker.
template <typename T>
using Task = std::function<T(const CancellationToken&, Progress&)>;

}  // namespace astfill::workspace
