// Continuous batching (engine/batcher.h): sessions evaluated together from
// their own threads get exactly what each gets alone, logits bit for bit,
// dense and MoE, f32 and int8 weights; a cancelled call leaves its session as
// it was.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <random>
#include <thread>

#include "engine/batcher.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "temp_dir.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::engine;
using astfill::CancellationSource;
using astfill::CancellationToken;
using astfill::testing::TempDir;

namespace {

int32_t argmax(const std::vector<float>& logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

std::vector<int32_t> random_tokens(size_t n, uint32_t seed, int32_t vocab) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = static_cast<int32_t>(rng() % static_cast<uint32_t>(vocab));
  return t;
}

// What one greedy sequence saw: every logits vector, the tokens it chose,
// its experts' counts.
struct Trace {
  std::vector<std::vector<float>> logits;
  std::vector<int32_t> tokens;
  std::vector<std::vector<uint64_t>> experts;
};

// Greedy decoding after `prompt`, evaluated in calls of `chunk` tokens.
void decode(Session& s, std::vector<float> logits, int steps, Trace& t) {
  t.logits.push_back(logits);
  for (int i = 0; i < steps; ++i) {
    const int32_t token = argmax(logits);
    t.tokens.push_back(token);
    logits = s.evaluate({{token}, {}, {}});
    t.logits.push_back(logits);
  }
  t.experts = s.expert_counts();
}

Trace alone(const Model& m, const std::vector<int32_t>& prompt, size_t chunk, int steps) {
  Session s(m, 1024);
  std::vector<float> logits;
  for (size_t at = 0; at < prompt.size(); at += chunk)
    logits = s.evaluate({{prompt.begin() + static_cast<std::ptrdiff_t>(at),
                          prompt.begin() + static_cast<std::ptrdiff_t>(std::min(prompt.size(), at + chunk))},
                         {},
                         {}});
  Trace t;
  decode(s, logits, steps, t);
  return t;
}

// Counts tokens produced, so that threads can start when another has gone
// some way (synchronising on events, not sleeps).
struct Progress {
  std::mutex mu;
  std::condition_variable cv;
  int tokens = 0;
  void add() {
    std::lock_guard l(mu);
    ++tokens;
    cv.notify_all();
  }
  void wait_for(int n) {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return tokens >= n; });
  }
};

}  // namespace

TEST_CASE("sequences stepped together get exactly what each gets alone", "[batcher]") {
  TempDir dir;
  const std::string arch = GENERATE(std::string("qwen2"), std::string("qwen3moe"));
  const WeightMode mode = GENERATE(WeightMode::F32, WeightMode::Int8);
  CAPTURE(arch, mode == WeightMode::F32 ? "f32" : "int8");
  RandomModelSpec spec = tiny_spec(arch);
  spec.weight_scale = 0.2f;  // sharper distributions: greedy choices differ between sequences
  write_random_model(dir.file("m.gguf"), spec);
  auto model = Model::open(dir.file("m.gguf"), {mode, 1});
  const int32_t vocab = static_cast<int32_t>(model->hparams().vocab_size);

  BatcherOptions options;
  options.prefill_chunk = 8;
  options.window = std::chrono::milliseconds(50);  // generous: the machine may be loaded
  Batcher batcher(*model, options);

  // Three sequences of different lengths decode together; a fourth, longer
  // one prefills in chunks while they decode (they go on until it is done).
  const std::vector<std::vector<int32_t>> prompts = {
      random_tokens(3, 1, vocab), random_tokens(29, 2, vocab), random_tokens(11, 3, vocab),
      random_tokens(50, 4, vocab)};
  const int steps = 12, most = 300;
  std::vector<Trace> expected;
  for (size_t k = 0; k < prompts.size(); ++k)
    expected.push_back(alone(*model, prompts[k], options.prefill_chunk, k < 3 ? most : steps));

  std::vector<Trace> got(prompts.size());
  Progress decoders;  // decoders that have two tokens
  std::atomic<bool> prefilled{false};
  std::latch ready(3);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < prompts.size(); ++k)
    threads.emplace_back([&, k] {
      if (k < 3) ready.arrive_and_wait();
      else decoders.wait_for(3);
      Session s(*model, 1024);
      s.set_batcher(&batcher);
      std::vector<float> logits = s.evaluate({prompts[k], {}, {}});
      if (k == 3) prefilled = true;
      Trace& t = got[k];
      t.logits.push_back(logits);
      for (int i = 0; k < 3 ? i < most && (i < steps || !prefilled) : i < steps; ++i) {
        const int32_t token = argmax(logits);
        t.tokens.push_back(token);
        logits = s.evaluate({{token}, {}, {}});
        t.logits.push_back(logits);
        if (k < 3 && i == 1) decoders.add();
      }
      t.experts = s.expert_counts();
    });
  for (auto& t : threads) t.join();

  for (size_t k = 0; k < prompts.size(); ++k) {
    CAPTURE(k);
    const size_t n = got[k].tokens.size();
    REQUIRE(n < expected[k].logits.size());
    CHECK(got[k].tokens == std::vector<int32_t>(expected[k].tokens.begin(), expected[k].tokens.begin() + n));
    for (size_t i = 0; i <= n; ++i) {
      CAPTURE(i);
      CHECK(got[k].logits[i] == expected[k].logits[i]);
    }
    if (n + 1 == expected[k].logits.size()) CHECK(got[k].experts == expected[k].experts);
  }
  // The greedy sequences differ from one another (the check is not vacuous).
  CHECK(got[0].tokens != got[1].tokens);
  // Some steps carried several sequences.
  const Batcher::Stats stats = batcher.stats();
  CHECK(stats.segments > stats.steps);
}

TEST_CASE("a cancelled batched call leaves its session as it was", "[batcher]") {
  TempDir dir;
  RandomModelSpec spec = tiny_spec("qwen2");
  spec.weight_scale = 0.2f;
  write_random_model(dir.file("m.gguf"), spec);
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::Int8, 1});
  const int32_t vocab = static_cast<int32_t>(model->hparams().vocab_size);
  BatcherOptions options;
  options.prefill_chunk = 8;
  options.window = std::chrono::milliseconds(50);
  Batcher batcher(*model, options);

  const std::vector<int32_t> head = random_tokens(5, 7, vocab), rest = random_tokens(600, 8, vocab);
  // Alone: the head, then the rest in chunks of 8 (as the batcher chunks it).
  Trace expected;
  {
    Session s(*model, 1024);
    s.evaluate({head, {}, {}});
    std::vector<float> logits;
    for (size_t at = 0; at < rest.size(); at += 8)
      logits = s.evaluate({{rest.begin() + static_cast<std::ptrdiff_t>(at),
                            rest.begin() + static_cast<std::ptrdiff_t>(std::min(rest.size(), at + 8))},
                           {},
                           {}});
    decode(s, logits, 4, expected);
  }

  Session a(*model, 1024);
  a.set_batcher(&batcher);
  a.evaluate({head, {}, {}});
  REQUIRE(a.length() == head.size());

  // Cancelled before it starts: nothing runs.
  {
    CancellationSource source;
    source.cancel(astfill::CancelReason::Superseded);
    CHECK(a.evaluate({rest, {}, {}}, source.token()).empty());
    CHECK(a.length() == head.size());
  }

  // Cancelled part-way through its chunks by another sequence's thread, which
  // decodes beside it: the call returns nothing and the session is back at
  // the head; the other sequence is unaffected.
  CancellationSource source;
  Progress prefilling;
  std::vector<float> cancelled_result = {1.0f};
  Trace other, other_expected = alone(*model, head, 8, 6);
  std::thread b([&] {
    Session s(*model, 1024);
    s.set_batcher(&batcher);
    std::vector<float> logits = s.evaluate({head, {}, {}});
    other.logits.push_back(logits);
    prefilling.wait_for(1);
    for (int i = 0; i < 6; ++i) {
      const int32_t token = argmax(logits);
      other.tokens.push_back(token);
      logits = s.evaluate({{token}, {}, {}});
      other.logits.push_back(logits);
      if (i == 2) source.cancel(astfill::CancelReason::ClientRequest);
    }
    other.experts = s.expert_counts();
  });
  {
    const CancellationToken token = source.token();
    prefilling.add();
    cancelled_result = a.evaluate({rest, {}, {}}, token);  // 75 chunks: far from done after 3 of b's steps
  }
  b.join();
  CHECK(cancelled_result.empty());
  CHECK(a.length() == head.size());
  CHECK(other.tokens == other_expected.tokens);
  CHECK(other.logits == other_expected.logits);

  // The cache is as it was: evaluating the rest now gives what it gives alone.
  Trace got;
  decode(a, a.evaluate({rest, {}, {}}), 4, got);
  CHECK(got.tokens == expected.tokens);
  CHECK(got.logits == expected.logits);
  CHECK(batcher.stats().segments > batcher.stats().steps);
}

TEST_CASE("a batched call's errors reach its caller before anything runs", "[batcher]") {
  TempDir dir;
  write_random_model(dir.file("m.gguf"), tiny_spec("qwen3"));
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::Int8, 1});
  Batcher batcher(*model);
  Session s(*model, 16);
  s.set_batcher(&batcher);
  CHECK_THROWS_AS(s.evaluate({{1, 100000}, {}, {}}), std::out_of_range);
  CHECK_THROWS_AS(s.evaluate({std::vector<int32_t>(17, 1), {}, {}}), std::length_error);
  CHECK_THROWS_AS(s.evaluate({{1, 2}, {0}, {}}), std::invalid_argument);
  CHECK(s.length() == 0);
  CHECK(s.evaluate({{1, 2, 3}, {}, {true, false, true}}).size() == 2 * model->hparams().vocab_size);
  CHECK(s.length() == 3);
}

TEST_CASE("a prefill out of time while the focused session decodes returns at its deadline", "[batcher][deadline]") {
  TempDir dir;
  RandomModelSpec spec = tiny_spec("qwen2");
  write_random_model(dir.file("m.gguf"), spec);
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::Int8, 1});
  const int32_t vocab = static_cast<int32_t>(model->hparams().vocab_size);
  BatcherOptions options;
  options.prefill_chunk = 32;  // longer than decode_rows: a background chunk is prefill, and waits
  options.ride_along_rows = 0;  // none of it rides along with the focused session
  options.window = std::chrono::milliseconds(50);
  Batcher batcher(*model, options);

  // The focused session decodes until the prefill below has returned (or for
  // 20 s: a prefill that waited out the focused one's turn would end then).
  std::atomic<bool> stop{false};
  std::atomic<bool> gave_up{false};
  Progress progress;
  std::thread focused([&] {
    Session f(*model, 4096);
    f.set_batcher(&batcher);
    f.set_focused(true);
    std::vector<float> logits = f.evaluate({random_tokens(4, 21, vocab), {}, {}});
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!stop) {
      if (std::chrono::steady_clock::now() > until) {
        gave_up = true;
        break;
      }
      if (f.length() + 1 >= f.capacity()) f.truncate(4);  // what it writes does not matter here
      logits = f.evaluate({{argmax(logits)}, {}, {}});
      progress.add();
    }
    batcher.forget(&f);
  });
  progress.wait_for(2);

  Session background(*model, 1024);
  background.set_batcher(&batcher);
  const std::vector<int32_t> head = random_tokens(5, 22, vocab);
  std::vector<int32_t> history;
  REQUIRE_FALSE(prefill(background, history, head, 512).logits.empty());  // decode-sized: rides along
  const std::vector<int32_t> prompt = [&] {
    std::vector<int32_t> p = head;
    const auto rest = random_tokens(300, 23, vocab);
    p.insert(p.end(), rest.begin(), rest.end());
    return p;
  }();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  PrefillResult r = prefill(background, history, prompt, 512, {}, nullptr, deadline);
  const auto returned = std::chrono::steady_clock::now();
  stop = true;
  focused.join();
  CHECK_FALSE(gave_up);  // it returned while the focused session still decoded
  CHECK(r.timed_out);
  CHECK_FALSE(r.cancelled);
  CHECK(r.logits.empty());
  CHECK(returned >= deadline);
  // Its chunks waited for the focused session (one may have run where the
  // focused thread was slow to come back within the window); what ran is kept.
  CHECK(r.prefilled_tokens + head.size() < prompt.size());
  CHECK(history == std::vector<int32_t>(prompt.begin(),
                                        prompt.begin() + static_cast<std::ptrdiff_t>(head.size() + r.prefilled_tokens)));
  CHECK(background.length() == history.size());

  // Without the focused session, the same prefill resumes and finishes.
  PrefillResult after = prefill(background, history, prompt, 512, {}, nullptr,
                                std::chrono::steady_clock::now() + std::chrono::seconds(60));
  CHECK_FALSE(after.timed_out);
  CHECK(after.reused_tokens == head.size() + r.prefilled_tokens);
  CHECK(after.prefilled_tokens == prompt.size() - after.reused_tokens);
  CHECK(history == prompt);
}

TEST_CASE("a background prefill rides along with the focused session in capped pieces, each sequence as alone",
          "[batcher]") {
  TempDir dir;
  const std::string arch = GENERATE(std::string("qwen2"), std::string("qwen3moe"));
  const WeightMode mode = GENERATE(WeightMode::F32, WeightMode::Int8);
  CAPTURE(arch, mode == WeightMode::F32 ? "f32" : "int8");
  RandomModelSpec spec = tiny_spec(arch);
  spec.weight_scale = 0.2f;
  write_random_model(dir.file("m.gguf"), spec);
  auto model = Model::open(dir.file("m.gguf"), {mode, 1});
  const int32_t vocab = static_cast<int32_t>(model->hparams().vocab_size);

  BatcherOptions options;
  options.prefill_chunk = 16;
  options.piece_rows = 4;
  options.decode_rows = 2;       // a call of more rows is prefill
  options.ride_along_rows = 4;   // one piece of it a step beside the focused session
  options.window = std::chrono::milliseconds(50);
  Batcher batcher(*model, options);

  // Alone, a call is evaluated piece by piece (4 rows from its first).
  const std::vector<int32_t> focused_prompt = random_tokens(6, 31, vocab), background_prompt = random_tokens(61, 32, vocab);
  const int most = 400, background_steps = 5;
  const Trace focused_alone = alone(*model, focused_prompt, 4, most);
  const Trace background_alone = alone(*model, background_prompt, 4, background_steps);

  // The focused session decodes until the background call (all 61 rows in one
  // evaluate) has returned; that call starts once the focused one decodes.
  Trace focused_got, background_got;
  Progress decoded;
  std::atomic<bool> prefilled{false};
  std::thread focused([&] {
    Session f(*model, 1024);
    f.set_batcher(&batcher);
    f.set_focused(true);
    std::vector<float> logits = f.evaluate({focused_prompt, {}, {}});  // 4 + 2 rows: two segments in one pass
    focused_got.logits.push_back(logits);
    for (int i = 0; i < most && !prefilled; ++i) {
      const int32_t token = argmax(logits);
      focused_got.tokens.push_back(token);
      logits = f.evaluate({{token}, {}, {}});
      focused_got.logits.push_back(logits);
      decoded.add();
    }
    batcher.forget(&f);
  });
  decoded.wait_for(2);
  const Batcher::Stats before = batcher.stats();
  {
    Session b(*model, 1024);
    b.set_batcher(&batcher);
    std::vector<float> logits = b.evaluate({background_prompt, {}, {}});
    prefilled = true;
    decode(b, logits, background_steps, background_got);
  }
  focused.join();
  const Batcher::Stats after = batcher.stats();

  const size_t n = focused_got.tokens.size();
  REQUIRE(n < focused_alone.logits.size());
  CHECK(focused_got.tokens == std::vector<int32_t>(focused_alone.tokens.begin(), focused_alone.tokens.begin() + n));
  for (size_t i = 0; i <= n; ++i) {
    CAPTURE(i);
    CHECK(focused_got.logits[i] == focused_alone.logits[i]);
  }
  CHECK(background_got.tokens == background_alone.tokens);
  CHECK(background_got.logits == background_alone.logits);
  if (n + 1 == focused_alone.logits.size()) CHECK(focused_got.experts == focused_alone.experts);
  CHECK(background_got.experts == background_alone.experts);
  // The background prefill went on beside the focused decoding, a piece a
  // step: 61 rows are 16 pieces, and the focused session was busy for most.
  CHECK(after.ride_alongs > before.ride_alongs);
  CHECK(after.shared_steps > before.shared_steps);
  CHECK(after.prefill_chunks > before.prefill_chunks);
  CHECK(after.widest_step >= 2);
}
