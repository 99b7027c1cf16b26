// engine/thread_team: every chunk runs once, on the caller or a worker, under
// any thread count, from several callers at once, and from inside a loop.
#include "engine/thread_team.h"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using astfill::engine::team_chunk_items;
using astfill::engine::ThreadTeam;

namespace {

// Runs a loop of `chunks` chunks and checks each ran exactly once with a
// member index below `threads`.
void check_loop(ThreadTeam& team, int64_t chunks, int threads) {
  std::vector<std::atomic<int>> runs(static_cast<size_t>(chunks));
  std::atomic<int> bad_member{0};
  team.run(chunks, threads, [&](int64_t c, int member) {
    runs[static_cast<size_t>(c)].fetch_add(1, std::memory_order_relaxed);
    if (member < 0 || member >= threads) bad_member.fetch_add(1);
  });
  for (int64_t c = 0; c < chunks; ++c) REQUIRE(runs[static_cast<size_t>(c)].load() == 1);
  REQUIRE(bad_member.load() == 0);
}

void busy_wait(std::chrono::microseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

}  // namespace

TEST_CASE("thread team runs every chunk exactly once for any chunk and thread count", "[thread_team]") {
  ThreadTeam team;
  for (int threads : {1, 2, 3, 4})
    for (int64_t chunks : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{7}, int64_t{64}, ThreadTeam::kMaxChunks})
      for (int round = 0; round < 20; ++round) check_loop(team, chunks, threads);
  // Fewer threads after more: the extra worker must stay out.
  check_loop(team, 500, 4);
  check_loop(team, 500, 2);
}

TEST_CASE("thread team workers take part in loops long enough to wake them", "[thread_team]") {
  ThreadTeam team;
  const auto before = team.counters();
  for (int round = 0; round < 50; ++round)
    team.run(32, 2, [&](int64_t, int) { busy_wait(std::chrono::microseconds(50)); });
  const auto after = team.counters();
  CHECK(after.loops - before.loops == 50);
  CHECK(after.chunks - before.chunks == 50 * 32);
  // Each loop lasts >= 1.6 ms on the caller alone: a worker that is alive
  // claims chunks (it wakes within microseconds to a few milliseconds even
  // on a loaded machine).
  CHECK(after.worker_chunks - before.worker_chunks > 0);
}

TEST_CASE("thread team serves several callers at once and loops started inside a loop", "[thread_team]") {
  ThreadTeam team;
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 3; ++t)
    callers.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        std::vector<std::atomic<int>> runs(37);
        team.run(37, 2, [&](int64_t c, int) { runs[static_cast<size_t>(c)].fetch_add(1); });
        for (auto& r : runs)
          if (r.load() != 1) failures.fetch_add(1);
      }
    });
  for (auto& c : callers) c.join();
  CHECK(failures.load() == 0);

  // A loop started while another thread's loop holds the team runs alone on
  // its own thread, at once (it does not wait for the team).
  const int64_t alone_before = team.counters().alone;
  std::atomic<bool> other_done{false};
  std::vector<int> members;
  team.run(2, 2, [&](int64_t c, int) {
    if (c != 0) return;
    std::thread other([&] {
      team.run(5, 2, [&](int64_t, int member) { members.push_back(member); });
      other_done.store(true);
    });
    other.join();
  });
  CHECK(other_done.load());
  CHECK(members == std::vector<int>{0, 0, 0, 0, 0});
  CHECK(team.counters().alone == alone_before + 1);

  std::vector<std::atomic<int>> inner_runs(16 * 9);
  team.run(16, 2, [&](int64_t outer, int) {
    team.run(9, 2, [&](int64_t inner, int member) {
      inner_runs[static_cast<size_t>(outer * 9 + inner)].fetch_add(1);
      if (member != 0) failures.fetch_add(1);  // a nested loop runs on its caller alone
    });
  });
  for (auto& r : inner_runs) CHECK(r.load() == 1);
  CHECK(failures.load() == 0);
}

TEST_CASE("a thread team destroyed right after its first loop ends, however late its workers start", "[thread_team]") {
  // The destructor publishes its stop at once; a worker the kernel had not
  // yet run must still see it (it once took the stop's generation as the one
  // it had seen and waited for a later one forever). 2,000 short-lived teams
  // of 4 threads: before the fix this hung within the first ten here.
  std::atomic<int64_t> ran{0};
  for (int round = 0; round < 2000; ++round) {
    ThreadTeam team;
    team.run(2, 4, [&](int64_t, int) { ran.fetch_add(1, std::memory_order_relaxed); });
  }
  CHECK(ran.load() == 2 * 2000);
}

TEST_CASE("thread team refuses loops with more chunks than it can count", "[thread_team]") {
  ThreadTeam team;
  int ran = 0;
  CHECK_THROWS_AS(team.run(ThreadTeam::kMaxChunks + 1, 2, [&](int64_t, int) { ++ran; }), std::invalid_argument);
  CHECK(ran == 0);
}

TEST_CASE("team_chunk_items balances loops and keeps them within the chunk limit", "[thread_team]") {
  CHECK(team_chunk_items(18, 2, 4) == 2);      // 9 chunks of 2 blocks
  CHECK(team_chunk_items(2374, 2, 4) == 4);    // capped at 4 blocks a chunk
  CHECK(team_chunk_items(5, 2, 4) == 1);
  CHECK(team_chunk_items(0, 2, 4) == 1);
  const int64_t huge = 100000;
  const int64_t per = team_chunk_items(huge, 2, 1);
  CHECK((huge + per - 1) / per <= ThreadTeam::kMaxChunks);
}
