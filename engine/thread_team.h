// Decode's parallel loops on threads the engine owns.
//
// A decoded token of the 0.5B shapes runs 121 short parallel loops (four
// projections and attention in each of 24 blocks, then the head), each
// 10-200 microseconds of work. Under OpenMP every loop is a fork and a join,
// and what a waiting thread does in between decides the speed: libgomp's
// passive threads sleep in the kernel and take 10-50 us to wake for each loop
// (decode on 2 idle cores at ~40% of the memory bound), its active threads
// spin and collapse when another process wants the core (a statically
// partitioned loop then waits a whole time slice for a preempted thread; 2
// threads fell to 13-16 tokens/s beside one busy process). No setting of
// libgomp's wins both (README, "decode at depth").
//
// The team here is built so neither can happen:
//   - Chunks are claimed, never assigned: the calling thread starts on the
//     work at once and takes every chunk no worker has claimed, so a worker
//     that is asleep, late or preempted before it claims costs nothing. The
//     caller waits only for chunks a worker is running.
//   - A worker that finishes a loop spins (with pause) for a short while,
//     since the next loop of the same token starts microseconds later, then
//     sleeps on a futex; between tokens and when the engine is idle the team
//     sleeps and burns nothing. A worker the kernel has started preempting
//     (another process wants the core) stops spinning for a while.
//   - A caller that finds the team busy (another thread's loop, or a loop
//     started from inside a loop) runs its loop alone.
//
// The result of a loop never depends on which thread ran a chunk, as long as
// each chunk writes only its own outputs (the callers' contract).
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

namespace astfill::engine {

class ThreadTeam {
 public:
  // The engine's team: workers start on the first loop that asks for more
  // than one thread and live until the process exits.
  static ThreadTeam& shared();

  ThreadTeam();
  ~ThreadTeam();
  ThreadTeam(const ThreadTeam&) = delete;
  ThreadTeam& operator=(const ThreadTeam&) = delete;

  // Runs body(chunk, member) for every chunk in [0, chunks) on the calling
  // thread and up to threads - 1 workers, and returns when all have run.
  // `member` is 0 on the calling thread and 1..threads-1 on workers (for
  // per-thread scratch and shares of side work). body must not throw.
  // chunks above kMaxChunks are refused (std::invalid_argument): group the
  // work first (chunks_for helps).
  template <class Body>
  void run(int64_t chunks, int threads, Body&& body) {
    using B = std::remove_reference_t<Body>;
    run_erased(chunks, threads, [](void* b, int64_t c, int m) { (*static_cast<B*>(b))(c, m); },
               const_cast<void*>(static_cast<const void*>(&body)));
  }

  static constexpr int64_t kMaxChunks = 4095;
  static constexpr int kMaxThreads = 255;

  // How long a worker spins for the next loop before it sleeps, in
  // microseconds: ASTFILL_TEAM_SPIN_US, default 100 (0: sleep at once).
  static int spin_microseconds();

  // ASTFILL_TEAM=openmp: loops run as OpenMP loops (dynamic schedule)
  // instead, for comparing the two in benchmarks.
  static bool openmp_instead();

  // Counters since the team started (benchmarks and tests): loops run, loops
  // that ran alone because the team was busy, chunks in all and those run by
  // workers, and how often a worker saw itself preempted and stopped spinning
  // for a while.
  struct Counters {
    int64_t loops = 0, alone = 0, worker_chunks = 0, chunks = 0, contended = 0;
  };
  Counters counters() const;

 private:
  using Call = void (*)(void*, int64_t chunk, int member);
  void run_erased(int64_t chunks, int threads, Call call, void* ctx);
  struct State;
  State* state_;
};

// Items per chunk for a loop over `items` items on `threads` threads: about
// `per_thread` chunks a thread (for balance: the last chunk is what the
// others may wait for), at most `max_items` a chunk unless that would make
// more than ThreadTeam::kMaxChunks chunks. At least 1.
int64_t team_chunk_items(int64_t items, int threads, int64_t max_items, int64_t per_thread = 8);

}  // namespace astfill::engine
