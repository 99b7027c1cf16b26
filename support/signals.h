// SIGINT and SIGTERM are taken by one thread of their own, never by a handler.
//
// A signal handler runs on whichever thread the kernel picks, on that
// thread's stack pointer, wherever the thread was. oneDNN's generated f32
// GEMM kernels (Debian's 2.x: dnnl_sgemm, and matmuls that fall back to it)
// point rsp into a heap buffer while they run (oneDNN issue 4845, fixed
// upstream in 2026), so a handler that lands there writes its frame into the
// heap: `astfill tune` under Ctrl-C died of "double free or corruption" or
// hung in about 1 run in 15. So main blocks these signals before any thread
// starts (threads inherit the mask) and one thread waits for them with
// sigwait and runs, on that thread, what the command asked for.
#pragma once

#include <functional>

namespace astfill::support {

// Call first thing in main (after any re-exec), before a thread starts:
// blocks SIGINT and SIGTERM in the calling thread, so in every thread it
// starts, and starts the signal thread. Until a command installs an action,
// a signal does what it did before: ends the process as that signal, or
// nothing if it was ignored when the process started (nohup, a background
// job of a script). Safe to call again.
void take_termination_signals();

// While one is alive, SIGINT and SIGTERM call its action(signum) on the
// signal thread instead (the newest alive, when they nest); the process never
// ends on its own. The action must be quick and thread-safe: set a flag, post
// to a loop. Once the destructor returns, the action is never called again.
// Calls take_termination_signals() if main did not (tests).
class OnTerminationSignal {
 public:
  explicit OnTerminationSignal(std::function<void(int signum)> action);
  ~OnTerminationSignal();
  OnTerminationSignal(const OnTerminationSignal&) = delete;
  OnTerminationSignal& operator=(const OnTerminationSignal&) = delete;

 private:
  unsigned long id_;
};

// Ends the process as `signum`'s default action does (for an action that
// gives up: a second Ctrl-C).
[[noreturn]] void die_of(int signum);

}  // namespace astfill::support
