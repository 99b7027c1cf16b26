#include "support/signals.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace astfill::support {

namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM};

struct Taker {
  std::once_flag started;
  std::mutex mu;  // held while an action runs, so a destructor waits for it
  std::vector<std::pair<unsigned long, std::function<void(int)>>> actions;
  unsigned long next_id = 1;
  bool ignored[2] = {false, false};  // SIG_IGN when the process started
};

Taker& taker() {
  static Taker* t = new Taker;  // never destroyed: the signal thread outlives main
  return *t;
}

sigset_t signal_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kSignals) sigaddset(&set, s);
  return set;
}

void signal_thread() {
  const sigset_t set = signal_set();
  for (;;) {
    int signum = 0;
    if (sigwait(&set, &signum) != 0) continue;
    Taker& t = taker();
    std::lock_guard lock(t.mu);
    if (!t.actions.empty()) {
      t.actions.back().second(signum);
      continue;
    }
    if (!t.ignored[signum == SIGINT ? 0 : 1]) die_of(signum);
  }
}

}  // namespace

void take_termination_signals() {
  Taker& t = taker();
  std::call_once(t.started, [&t] {
    // A signal ignored at start would be dropped when it is sent, blocked or
    // not; with the default disposition and blocked everywhere it waits for
    // sigwait. Whether it was ignored is remembered for the default action.
    for (size_t i = 0; i < 2; ++i) {
      struct sigaction old {};
      sigaction(kSignals[i], nullptr, &old);
      t.ignored[i] = !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN;
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      sigemptyset(&dfl.sa_mask);
      sigaction(kSignals[i], &dfl, nullptr);
    }
    const sigset_t set = signal_set();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread(signal_thread).detach();
  });
}

OnTerminationSignal::OnTerminationSignal(std::function<void(int)> action) {
  take_termination_signals();
  Taker& t = taker();
  std::lock_guard lock(t.mu);
  id_ = t.next_id++;
  t.actions.emplace_back(id_, std::move(action));
}

OnTerminationSignal::~OnTerminationSignal() {
  Taker& t = taker();
  std::lock_guard lock(t.mu);
  for (auto it = t.actions.begin(); it != t.actions.end(); ++it)
    if (it->first == id_) {
      t.actions.erase(it);
      break;
    }
}

void die_of(int signum) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(signum, &dfl, nullptr);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, signum);
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  raise(signum);
  _exit(128 + signum);  // a default action that did not end the process
}

}  // namespace astfill::support
