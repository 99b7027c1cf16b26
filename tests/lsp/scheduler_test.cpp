// The daemon's WorkerPool (lsp/scheduler.h): which job a compute thread takes
// next, how many background jobs run at once, and the quick lane beside them.
#include "lsp/scheduler.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

using namespace astfill::lsp;
using namespace std::chrono_literals;

namespace {

// What ran, in order, and gates that hold jobs until opened.
struct Record {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> order;
  std::vector<std::string> gates_open;
  int running = 0;

  void note(const std::string& what) {
    std::lock_guard lock(mu);
    order.push_back(what);
    cv.notify_all();
  }
  // A job that records its start, then waits until `gate` opens.
  std::function<void()> held(std::string name, std::string gate) {
    return [this, name = std::move(name), gate = std::move(gate)] {
      std::unique_lock lock(mu);
      order.push_back(name);
      ++running;
      cv.notify_all();
      cv.wait(lock, [&] { return std::find(gates_open.begin(), gates_open.end(), gate) != gates_open.end(); });
      --running;
      cv.notify_all();
    };
  }
  std::function<void()> job(std::string name) {
    return [this, name = std::move(name)] { note(name); };
  }
  void open(const std::string& gate) {
    std::lock_guard lock(mu);
    gates_open.push_back(gate);
    cv.notify_all();
  }
  // Waits until `done` holds (under the lock); false after 10 s.
  bool wait(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, done);
  }
  bool started(const std::string& name) { return std::find(order.begin(), order.end(), name) != order.end(); }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mu);
    return order;
  }
};

}  // namespace

TEST_CASE("the newest inline completion is taken before queued background work", "[scheduler]") {
  Record r;
  {
    WorkerPool pool(1);
    pool.submit(r.held("busy", "g"));
    REQUIRE(r.wait([&] { return r.started("busy"); }));
    // Queued while the only compute thread is busy: two background jobs, then
    // two inline completions (another document's older one, then the newest).
    pool.submit(r.job("fill"), Lane::Compute);
    pool.submit(r.job("suggestions"), Lane::Compute);
    pool.submit(r.job("inline older"), Lane::Focused);
    pool.submit(r.job("inline newest"), Lane::Focused);
    CHECK(pool.queued() == 4);
    r.open("g");
    REQUIRE(r.wait([&] { return r.order.size() == 5; }));
  }
  CHECK(r.order == std::vector<std::string>{"busy", "inline newest", "inline older", "fill", "suggestions"});
}

TEST_CASE("background jobs leave one compute thread to inline completions", "[scheduler]") {
  Record r;
  WorkerPool pool(3);
  CHECK(pool.threads() == 3);
  for (const char* name : {"fill 1", "fill 2", "fill 3"}) pool.submit(r.held(name, "fills"), Lane::Compute);
  REQUIRE(r.wait([&] { return r.running == 2; }));
  // Two run; the third waits although a thread is idle: it is kept for the
  // inline completion, which starts at once beside the fills.
  CHECK_FALSE(r.wait([&] { return r.running > 2; }, 200ms));
  pool.submit(r.held("inline", "inline"), Lane::Focused);
  REQUIRE(r.wait([&] { return r.started("inline"); }));
  CHECK(r.running == 3);
  CHECK_FALSE(r.started("fill 3"));
  // Questions that need no model run meanwhile in the quick lane.
  pool.submit(r.job("symbols"), Lane::Quick);
  REQUIRE(r.wait([&] { return r.started("symbols"); }));
  // Once a fill ends, the third takes its place.
  r.open("fills");
  REQUIRE(r.wait([&] { return r.started("fill 3"); }));
  r.open("inline");
  REQUIRE(r.wait([&] { return r.running == 0; }));
}

TEST_CASE("two inline completions and a background job run at once on three threads", "[scheduler]") {
  Record r;
  WorkerPool pool(3);
  pool.submit(r.held("fill", "g"), Lane::Compute);
  pool.submit(r.held("inline a", "g"), Lane::Focused);
  pool.submit(r.held("inline b", "g"), Lane::Focused);
  REQUIRE(r.wait([&] { return r.running == 3; }));
  r.open("g");
  REQUIRE(r.wait([&] { return r.running == 0; }));
}

TEST_CASE("one compute thread still serves background jobs", "[scheduler]") {
  Record r;
  {
    WorkerPool pool(1);
    pool.submit(r.job("index open"), Lane::Compute);
    REQUIRE(r.wait([&] { return r.started("index open"); }));
  }
}

TEST_CASE("jobs still queued at shutdown run, whatever the cap", "[scheduler]") {
  std::atomic<int> ran{0};
  Record r;
  {
    WorkerPool pool(2);  // background cap 1
    pool.submit(r.held("busy", "g"), Lane::Compute);
    REQUIRE(r.wait([&] { return r.started("busy"); }));
    for (int i = 0; i < 5; ++i) pool.submit([&] { ++ran; }, Lane::Compute);
    pool.submit([&] { ++ran; }, Lane::Focused);
    pool.submit([&] { ++ran; }, Lane::Quick);
    r.open("g");
  }  // joins
  CHECK(ran == 7);
}

TEST_CASE("zero threads run each job inline, whatever its lane", "[scheduler]") {
  WorkerPool pool(0);
  std::vector<int> order;
  pool.submit([&] { order.push_back(1); }, Lane::Compute);
  pool.submit([&] { order.push_back(2); }, Lane::Focused);
  pool.submit([&] { order.push_back(3); }, Lane::Quick);
  CHECK(order == std::vector<int>{1, 2, 3});
}
