// support/signals: SIGINT and SIGTERM reach the action on the signal thread
// while other threads compute, and without an action they do what they did
// before. Each case runs in a forked child, whose only thread is the one that
// forked, so the child's mask is what take_termination_signals() makes it.
#include "support/signals.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

using namespace astfill::support;

namespace {

// Forks; the child runs `child` and _exits with what it returns. Returns the
// child's pid and the read end of a pipe the child writes to (fd 'w').
struct Child {
  pid_t pid = -1;
  int from_child = -1;
};

template <class F>
Child fork_child(F child) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    _exit(child(fds[1]));
  }
  close(fds[1]);
  return {pid, fds[0]};
}

// One byte from the child, or 0 after `seconds`.
char read_byte(int fd, int seconds = 20) {
  fd_set set;
  FD_ZERO(&set);
  FD_SET(fd, &set);
  timeval tv{seconds, 0};
  if (select(fd + 1, &set, nullptr, nullptr, &tv) != 1) return 0;
  char c = 0;
  return read(fd, &c, 1) == 1 ? c : 0;
}

int wait_status(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

}  // namespace

TEST_CASE("a signal goes to the action on the signal thread, never to a computing thread", "[signals]") {
  for (int signum : {SIGINT, SIGTERM}) {
    Child c = fork_child([](int out) {
      take_termination_signals();
      std::atomic<bool> stop{false};
      std::atomic<long> on_thread{0};
      // Busy threads, as decode or training would be.
      std::thread busy1([&] { while (!stop) on_thread.fetch_add(1, std::memory_order_relaxed); });
      std::thread busy2([&] { while (!stop) on_thread.fetch_add(1, std::memory_order_relaxed); });
      const auto main_thread = std::this_thread::get_id();
      std::atomic<int> got{0};
      std::atomic<bool> on_main{false};
      {
        OnTerminationSignal on([&](int s) {
          on_main = std::this_thread::get_id() == main_thread;
          got = s;
        });
        if (write(out, "r", 1) != 1) return 3;
        for (int i = 0; i < 2000 && got == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      stop = true;
      busy1.join();
      busy2.join();
      const char report = got == SIGINT ? 'i' : got == SIGTERM ? 't' : 'n';
      if (write(out, &report, 1) != 1) return 3;
      return on_main ? 4 : 0;
    });
    REQUIRE(read_byte(c.from_child) == 'r');
    kill(c.pid, signum);
    CHECK(read_byte(c.from_child) == (signum == SIGINT ? 'i' : 't'));
    const int status = wait_status(c.pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    close(c.from_child);
  }
}

TEST_CASE("without an action a signal ends the process as that signal, unless it was ignored at start", "[signals]") {
  // Default: the child dies of SIGTERM.
  Child c = fork_child([](int out) {
    take_termination_signals();
    if (write(out, "r", 1) != 1) return 3;
    for (;;) pause();
  });
  REQUIRE(read_byte(c.from_child) == 'r');
  kill(c.pid, SIGTERM);
  int status = wait_status(c.pid);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  close(c.from_child);

  // Ignored at start (nohup, a script's background job): SIGINT changes
  // nothing, and an action still gets it while it lives.
  c = fork_child([](int out) {
    signal(SIGINT, SIG_IGN);
    take_termination_signals();
    if (write(out, "r", 1) != 1) return 3;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the parent's SIGINT arrives in here
    std::atomic<int> got{0};
    OnTerminationSignal on([&](int s) { got = s; });
    if (write(out, "a", 1) != 1) return 3;
    for (int i = 0; i < 2000 && got == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return got == SIGINT ? 0 : 5;
  });
  REQUIRE(read_byte(c.from_child) == 'r');
  kill(c.pid, SIGINT);  // ignored: no action yet
  REQUIRE(read_byte(c.from_child) == 'a');
  kill(c.pid, SIGINT);  // to the action
  status = wait_status(c.pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  close(c.from_child);
}

TEST_CASE("die_of ends the process as the signal's default action", "[signals]") {
  Child c = fork_child([](int) -> int {
    take_termination_signals();
    die_of(SIGINT);
  });
  const int status = wait_status(c.pid);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGINT);
  close(c.from_child);
}
