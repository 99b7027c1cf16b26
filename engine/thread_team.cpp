// The engine's own thread team for short parallel loops (see thread_team.h).
//
// One 64-bit word says everything a worker needs to join a loop, so that
// claiming a chunk is one compare-and-swap on it:
//   bits 32-63  the loop's generation (a new loop, a new number)
//   bits 24-31  how many threads may take part (the caller's thread count)
//   bits 12-23  the next unclaimed chunk
//   bits  0-11  the loop's chunk count
// A worker reads the loop's body only after its claim succeeded. The caller
// publishes a new loop only after every chunk of the last one has finished,
// so the body a worker reads is always the one its claim was for; a worker
// that comes late finds the generation moved on and claims nothing.
#include "engine/thread_team.h"

#include <fcntl.h>
#include <immintrin.h>
#include <omp.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace astfill::engine {

namespace {

constexpr uint64_t kChunkBits = 12, kChunkMask = (uint64_t{1} << kChunkBits) - 1;

constexpr uint32_t generation_of(uint64_t w) { return static_cast<uint32_t>(w >> 32); }
constexpr int members_of(uint64_t w) { return static_cast<int>((w >> 24) & 0xff); }
constexpr int64_t next_of(uint64_t w) { return static_cast<int64_t>((w >> kChunkBits) & kChunkMask); }
constexpr int64_t chunks_of(uint64_t w) { return static_cast<int64_t>(w & kChunkMask); }
constexpr uint64_t pack(uint32_t generation, int members, int64_t next, int64_t chunks) {
  return (uint64_t{generation} << 32) | (static_cast<uint64_t>(members) << 24) |
         (static_cast<uint64_t>(next) << kChunkBits) | static_cast<uint64_t>(chunks);
}

void futex_wait(std::atomic<uint32_t>* word, uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

void futex_wake_all(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

int read_spin_microseconds() {
  const char* v = std::getenv("ASTFILL_TEAM_SPIN_US");
  if (!v || !*v) return 100;
  char* end = nullptr;
  const long us = std::strtol(v, &end, 10);
  if (*end != '\0' || us < 0) return 100;
  return static_cast<int>(std::min<long>(us, 1000000));
}

}  // namespace

struct ThreadTeam::State {
  alignas(64) std::atomic<uint64_t> claim{0};
  alignas(64) std::atomic<int64_t> finished{0};  // chunks workers have run in this loop
  alignas(64) std::atomic<uint32_t> wake{0};      // the futex sleeping workers wait on
  std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};
  // The loop's body: written by the caller before it publishes the loop.
  alignas(64) Call call = nullptr;
  void* ctx = nullptr;
  // Held by the thread whose loop the team runs.
  alignas(64) std::atomic<bool> busy{false};
  uint32_t generation = 0;
  std::vector<std::thread> workers;
  std::atomic<int64_t> loops{0}, alone{0}, worker_chunks{0}, chunks{0}, contended{0};
  const int spin_us = ThreadTeam::spin_microseconds();

  // Claims and runs chunks of `generation` until none is left; returns how
  // many this thread ran.
  int64_t take_chunks(uint64_t seen, int member) {
    int64_t ran = 0;
    const uint32_t g = generation_of(seen);
    uint64_t w = seen;
    for (;;) {
      if (generation_of(w) != g || next_of(w) >= chunks_of(w)) return ran;
      if (!claim.compare_exchange_weak(w, w + (uint64_t{1} << kChunkBits), std::memory_order_acquire,
                                       std::memory_order_acquire))
        continue;
      const int64_t chunk = next_of(w);
      call(ctx, chunk, member);
      ++ran;
      if (member != 0) finished.fetch_add(1, std::memory_order_release);
      w = claim.load(std::memory_order_acquire);
    }
  }

  // A worker waits for a loop newer than `seen`: spins for spin_us (if
  // `spin`), then sleeps on the futex. Returns the claim word of the new loop.
  uint64_t await_loop(uint32_t seen, bool may_spin) {
    const auto start = std::chrono::steady_clock::now();
    const auto spin = std::chrono::microseconds(spin_us);
    for (unsigned i = 1;; ++i) {
      const uint64_t w = claim.load(std::memory_order_acquire);
      if (generation_of(w) != seen) return w;
      if (spin_us == 0 || !may_spin) break;
      _mm_pause();
      if (i % 64 == 0 && std::chrono::steady_clock::now() - start > spin) break;
    }
    for (;;) {
      const uint32_t ticket = wake.load(std::memory_order_acquire);
      sleepers.fetch_add(1, std::memory_order_seq_cst);
      uint64_t w = claim.load(std::memory_order_seq_cst);
      if (generation_of(w) == seen) futex_wait(&wake, ticket);
      sleepers.fetch_sub(1, std::memory_order_relaxed);
      w = claim.load(std::memory_order_acquire);
      if (generation_of(w) != seen) return w;
    }
  }

  // Spinning pays only while this thread has a core to itself. When other
  // threads want the core, the kernel makes this one wait its turn, and its
  // spinning takes time from the thread it waits for and from the user's
  // other work. The kernel counts that wait (run_delay in
  // /proc/thread-self/schedstat): about 1% of the time on an idle machine
  // here, ~30% beside one busy process. A worker that waited more than
  // kContendedShare of the last kCheckLoops loops' time sleeps at once
  // instead of spinning for the next kQuietLoops loops, looking again at each
  // check. A read costs ~1.6 us, once every few milliseconds of decode.
  static constexpr int kCheckLoops = 32, kQuietLoops = 1024;
  static constexpr double kContendedShare = 0.10;

  // `seen` is the generation before the loop that started this worker was
  // published: a worker the kernel starts late still joins that loop if
  // chunks are left, and never waits for a generation that has already come
  // (the team's destructor may publish its stop before a worker first runs).
  void work(int member, uint32_t seen) {
    pthread_setname_np(pthread_self(), "astfill-team");
    RunDelay delay;
    int until_check = kCheckLoops, no_spin = 0;
    for (;;) {
      const uint64_t w = await_loop(seen, no_spin == 0);
      seen = generation_of(w);
      if (stop.load(std::memory_order_acquire)) return;
      if (member < members_of(w)) take_chunks(w, member);
      if (no_spin > 0) --no_spin;
      if (--until_check == 0) {
        until_check = kCheckLoops;
        if (delay.share_since_last() > kContendedShare) {
          no_spin = kQuietLoops;
          contended.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
  }

  // The share of wall time since the last call that this thread spent
  // runnable but waiting for a CPU (0 where the kernel does not say).
  class RunDelay {
   public:
    RunDelay() : fd_(open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)) { share_since_last(); }
    ~RunDelay() {
      if (fd_ >= 0) close(fd_);
    }
    RunDelay(const RunDelay&) = delete;
    RunDelay& operator=(const RunDelay&) = delete;
    double share_since_last() {
      if (fd_ < 0) return 0;
      char text[128];
      const ssize_t n = pread(fd_, text, sizeof text - 1, 0);
      if (n <= 0) return 0;
      text[n] = '\0';
      unsigned long long on_cpu = 0, waiting = 0;
      if (std::sscanf(text, "%llu %llu", &on_cpu, &waiting) != 2) return 0;
      const auto now = std::chrono::steady_clock::now();
      const double wall = std::chrono::duration<double, std::nano>(now - last_time_).count();
      const double share = last_waiting_ == 0 || wall <= 0 ? 0 : static_cast<double>(waiting - last_waiting_) / wall;
      last_waiting_ = waiting;
      last_time_ = now;
      return share;
    }

   private:
    int fd_;
    unsigned long long last_waiting_ = 0;
    std::chrono::steady_clock::time_point last_time_{};
  };

  void publish(uint64_t w) {
    claim.store(w, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) > 0) {
      wake.fetch_add(1, std::memory_order_release);
      futex_wake_all(&wake);
    }
  }
};

ThreadTeam& ThreadTeam::shared() {
  // Never destroyed: its workers sleep on their futex until the process exits.
  static ThreadTeam* team = new ThreadTeam;
  return *team;
}

ThreadTeam::ThreadTeam() : state_(new State) {}

ThreadTeam::~ThreadTeam() {
  State& s = *state_;
  s.stop.store(true, std::memory_order_release);
  s.publish(pack(++s.generation, 0, 0, 0));
  for (std::thread& t : s.workers) t.join();
  delete state_;
}

bool ThreadTeam::openmp_instead() {
  static const bool on = [] {
    const char* v = std::getenv("ASTFILL_TEAM");
    return v && std::string(v) == "openmp";
  }();
  return on;
}

int ThreadTeam::spin_microseconds() {
  static const int us = read_spin_microseconds();
  return us;
}

ThreadTeam::Counters ThreadTeam::counters() const {
  const State& s = *state_;
  return {s.loops.load(std::memory_order_relaxed), s.alone.load(std::memory_order_relaxed),
          s.worker_chunks.load(std::memory_order_relaxed), s.chunks.load(std::memory_order_relaxed),
          s.contended.load(std::memory_order_relaxed)};
}

void ThreadTeam::run_erased(int64_t chunks, int threads, Call call, void* ctx) {
  if (chunks < 0 || chunks > kMaxChunks)
    throw std::invalid_argument("a team loop of " + std::to_string(chunks) + " chunks (at most " +
                                std::to_string(kMaxChunks) + ")");
  State& s = *state_;
  threads = std::clamp(threads, 1, kMaxThreads);
  if (openmp_instead() && threads > 1 && chunks > 1) {
#pragma omp parallel for schedule(dynamic) num_threads(threads)
    for (int64_t c = 0; c < chunks; ++c) call(ctx, c, omp_get_thread_num());
    return;
  }
  bool expected = false;
  if (threads == 1 || chunks <= 1 || !s.busy.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
    if (threads > 1 && chunks > 1) s.alone.fetch_add(1, std::memory_order_relaxed);
    for (int64_t c = 0; c < chunks; ++c) call(ctx, c, 0);
    return;
  }
  struct Release {
    std::atomic<bool>& busy;
    ~Release() { busy.store(false, std::memory_order_release); }
  } release{s.busy};
  while (static_cast<int>(s.workers.size()) < threads - 1) {
    const int member = static_cast<int>(s.workers.size()) + 1;
    const uint32_t seen = s.generation;
    s.workers.emplace_back([&s, member, seen] { s.work(member, seen); });
  }
  s.call = call;
  s.ctx = ctx;
  s.finished.store(0, std::memory_order_relaxed);
  const uint64_t w = pack(++s.generation, threads, 0, chunks);
  s.publish(w);
  const int64_t mine = s.take_chunks(w, 0);
  // What is left is running on workers: wait for it, yielding the core after
  // a while in case the worker running it shares this one.
  for (unsigned i = 0; s.finished.load(std::memory_order_acquire) < chunks - mine; ++i) {
    if (i < 4096)
      _mm_pause();
    else
      sched_yield();
  }
  s.loops.fetch_add(1, std::memory_order_relaxed);
  s.chunks.fetch_add(chunks, std::memory_order_relaxed);
  s.worker_chunks.fetch_add(chunks - mine, std::memory_order_relaxed);
}

int64_t team_chunk_items(int64_t items, int threads, int64_t max_items, int64_t per_thread) {
  if (items <= 0) return 1;
  const int64_t want = std::max<int64_t>(1, int64_t{threads} * std::max<int64_t>(1, per_thread));
  int64_t per = std::clamp<int64_t>((items + want - 1) / want, 1, std::max<int64_t>(1, max_items));
  per = std::max(per, (items + ThreadTeam::kMaxChunks - 1) / ThreadTeam::kMaxChunks);
  return per;
}

}  // namespace astfill::engine
