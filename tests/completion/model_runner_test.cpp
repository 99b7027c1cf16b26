// The model runner's leases (completion/model_runner.h): requests on
// different documents run at once, their sessions stepped together by one
// batcher, and each gets what it gets alone; a document's own slot serves
// one request at a time; a request waits while every slot is busy and gives
// up when cancelled.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <latch>
#include <thread>

#include "../engine/temp_dir.h"
#include "completion/model_runner.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::completion;
using astfill::CancellationSource;
using astfill::testing::TempDir;

namespace {


RunnerOptions options_for(const TempDir& dir, size_t slots) {
  RunnerOptions options;
  options.model_path = dir.file("m.gguf");
  options.load.threads = 1;
  options.slots = slots;
  options.context_tokens = 256;
  options.batching.prefill_chunk = 8;
  options.batching.window = std::chrono::milliseconds(50);  // generous: the machine may be loaded
  return options;
}

// Greedy decoding after `prompt` on the lease's session while `more` says so.
std::vector<int32_t> greedy(ModelRunner::Lease& lease, const std::vector<int32_t>& prompt,
                            const std::function<bool(size_t)>& more) {
  auto& s = lease.session();
  s.truncate(0);
  std::vector<float> logits = s.evaluate({prompt, {}, {}});
  std::vector<int32_t> out;
  while (more(out.size())) {
    const auto token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    out.push_back(token);
    logits = s.evaluate({{token}, {}, {}});
  }
  return out;
}

}  // namespace

TEST_CASE("requests on different documents run at once and get what they get one at a time", "[runner]") {
  TempDir dir;
  auto spec = astfill::engine::tiny_spec("qwen2");
  spec.weight_scale = 0.2f;
  astfill::engine::write_random_model(dir.file("m.gguf"), spec);
  const std::vector<std::vector<int32_t>> prompts = {{1, 2, 3, 4, 5}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21}, {40, 41}};
  const std::vector<std::string> docs = {"file:///a.py", "file:///b.py", "file:///c.py"};

  std::vector<std::vector<int32_t>> one_at_a_time;
  {
    ModelRunner runner(options_for(dir, 3));
    for (size_t k = 0; k < docs.size(); ++k) {
      auto lease = runner.acquire(docs[k], {});
      REQUIRE(lease);
      one_at_a_time.push_back(greedy(*lease, prompts[k], [](size_t n) { return n < 200; }));
    }
  }

  ModelRunner runner(options_for(dir, 3));
  std::vector<std::vector<int32_t>> together(docs.size());
  std::latch leased(static_cast<std::ptrdiff_t>(docs.size()));
  std::vector<std::atomic<size_t>> progress(docs.size());
  std::vector<std::thread> threads;
  for (size_t k = 0; k < docs.size(); ++k)
    threads.emplace_back([&, k] {
      auto lease = runner.acquire(docs[k], {});
      leased.arrive_and_wait();  // all three leases are held at once
      // Each goes on until all have 24 tokens, so they surely overlap.
      together[k] = greedy(*lease, prompts[k], [&, k](size_t n) {
        progress[k] = n;
        bool others = true;
        for (auto& p : progress) others = others && p >= 24;
        return n < 200 && (n < 24 || !others);
      });
      progress[k] = 200;
    });
  for (auto& t : threads) t.join();
  for (size_t k = 0; k < docs.size(); ++k) {
    CAPTURE(k);
    REQUIRE(together[k].size() >= 24);
    CHECK(together[k] == std::vector<int32_t>(one_at_a_time[k].begin(),
                                              one_at_a_time[k].begin() + static_cast<std::ptrdiff_t>(together[k].size())));
  }
  const ModelRunner::Stats stats = runner.stats();
  CHECK(stats.leases == 3);
  CHECK(stats.batcher.segments > stats.batcher.steps);  // passes were shared
  CHECK(stats.batcher.shared_steps > 0);
  CHECK(stats.batcher.widest_step >= 2);
}

TEST_CASE("a document's slot serves one request at a time, busy slots make a request wait", "[runner]") {
  TempDir dir;
  astfill::engine::write_random_model(dir.file("m.gguf"), astfill::engine::tiny_spec("qwen2"));
  ModelRunner runner(options_for(dir, 2));
  auto a = runner.acquire("a", {});
  REQUIRE(a);
  CHECK(a->session().focused());
  {
    auto b = runner.acquire("b", {});  // another document: at once, on its own slot
    REQUIRE(b);
    CHECK(&b->slot() != &a->slot());
    CHECK(b->session().focused());  // the newest request
    CHECK_FALSE(a->session().focused());

    // Both slots busy: a third document waits, and gives up when cancelled.
    CancellationSource source;
    bool got = true;
    std::thread t([&] { got = runner.acquire("c", source.token()).has_value(); });
    source.cancel(astfill::CancelReason::Superseded);
    t.join();
    CHECK_FALSE(got);
  }
  // Background work does not take the focus.
  {
    auto b = runner.acquire("b", {}, nullptr, /*focused=*/false);
    REQUIRE(b);
    CHECK_FALSE(b->session().focused());
  }
  auto b = runner.acquire("b", {});
  REQUIRE(b);
  CHECK(b->session().focused());
  b.reset();
  // The same document waits for its older request.
  CancellationSource source;
  bool got = true;
  std::thread t([&] { got = runner.acquire("a", source.token()).has_value(); });
  source.cancel(astfill::CancelReason::Superseded);
  t.join();
  CHECK_FALSE(got);
  a.reset();
  auto after = runner.acquire("a", {});
  REQUIRE(after);
  CHECK(runner.stats().slot_hits == 3);  // "b" twice, then "a"
}
