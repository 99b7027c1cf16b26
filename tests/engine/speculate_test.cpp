// Speculation from the prompt (engine/speculate.h): the prompt-lookup index,
// the adaptive draft length, and generate's verification, which must give
// exactly the tokens one-at-a-time decoding gives.
#include <catch2/catch.hpp>

#include <cstring>

#include "engine/generate.h"
#include "engine/speculate.h"
#include "temp_dir.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::engine;
using astfill::testing::TempDir;

TEST_CASE("prompt lookup drafts what followed the latest occurrence of the longest tail", "[speculate]") {
  PromptLookup lookup(2, 4);
  std::vector<int32_t> context = {1, 2, 3, 4, 5, 6, 9, 2, 3, 7, 8, 1, 2, 3};
  lookup.set_context(context);
  // Tail 1 2 3: at 0..2 (then 4 5 6); the 2-gram 2 3 also at 7..8 (then 7 8), but the longer match wins.
  CHECK(lookup.draft(3) == std::vector<int32_t>{4, 5, 6});
  CHECK(lookup.draft(1) == std::vector<int32_t>{4});
  lookup.push(4);  // 2 3 4 / 1 2 3 4: still the first occurrence
  CHECK(lookup.draft(2) == std::vector<int32_t>{5, 6});
  lookup.push(42);  // 4 42 never occurred
  CHECK(lookup.draft(4).empty());
  // A repeated run continues periodically past what is known.
  PromptLookup run(2, 4);
  run.set_context(std::vector<int32_t>{3, 7, 8, 7, 8});
  CHECK(run.draft(5) == std::vector<int32_t>{7, 8, 7, 8, 7});
  CHECK(lookup.draft(0).empty());

  // A draft stops at the end of what is known, and never crosses from a source into the context.
  PromptLookup with_source(2, 3);
  std::vector<int32_t> accepted = {10, 11, 12, 13};
  with_source.add_source(accepted);
  std::vector<int32_t> now = {5, 10, 11};
  with_source.set_context(now);
  CHECK(with_source.draft(8) == std::vector<int32_t>{12, 13});
  with_source.set_context(std::vector<int32_t>{12, 13});  // a source's tail followed by the context's start: no n-gram spans both
  CHECK(with_source.draft(4).empty());
}

TEST_CASE("the draft length grows with acceptance and pauses after refusals", "[speculate]") {
  SpeculateOptions o;
  o.max_draft = 8;
  o.min_draft = 2;
  DraftLength length(o);
  size_t k = length.next();
  CHECK(k >= 2);
  length.record(k, k);
  CHECK(length.next() > k);
  length.record(length.next(), 1);
  CHECK(length.next() == 2);
  length.record(2, 0);  // refused outright: one step without a draft
  CHECK(length.next() == 0);
  CHECK(length.next() == 2);
  length.record(2, 0);  // again: two steps
  CHECK(length.next() == 0);
  CHECK(length.next() == 0);
  CHECK(length.next() == 2);
  o.enable = false;
  DraftLength off(o);
  CHECK(off.next() == 0);
}

TEST_CASE("draft length: no longer than its rows pay for", "[speculate]") {
  SpeculateOptions o;
  CHECK_FALSE(o.cost_aware);  // off by default (speculate.h says why)
  o.cost_aware = true;
  o.probe_interval = 8;
  // Untimed, or on a model where a row costs next to nothing: acceptance alone decides.
  DraftLength untimed(o);
  CHECK(untimed.row_cost() == 0);
  CHECK(untimed.next() == 6);
  DraftLength bandwidth_bound(o);
  bandwidth_bound.record_pass(1, 0.020);
  bandwidth_bound.record_pass(13, 0.023);  // 0.25 ms a row: c = 0.0125...
  CHECK(bandwidth_bound.row_cost() == 0);  // ...but one pass of each kind is no evidence
  bandwidth_bound.record_pass(1, 0.030);   // a pass slowed by other work
  bandwidth_bound.record_pass(7, 0.040);
  CHECK(bandwidth_bound.row_cost() == Approx(0.0125));
  CHECK(bandwidth_bound.next() == 6);
  bandwidth_bound.record(6, 3);  // half taken: p = (0.8 * 3 + 3) / (0.8 * 4 + 4) = 0.75
  CHECK(bandwidth_bound.acceptance() == Approx(0.75));
  CHECK(bandwidth_bound.next() == 4);  // what was taken plus one; 0.75^15 > 0.0125 allows more

  // A small model bound by arithmetic: a row costs 0.2 of a pass.
  DraftLength compute_bound(o);
  for (int i = 0; i < 2; ++i) {
    compute_bound.record_pass(1, 0.010);
    compute_bound.record_pass(3, 0.014);
  }
  CHECK(compute_bound.row_cost() == Approx(0.2));
  // p = 3/4 (the prior): 0.75^5 = 0.237 > 0.2 > 0.75^6, so 5 of the 6.
  CHECK(compute_bound.next() == 5);
  // Drafts refused outright (novel code): p falls, drafts get short and then
  // stop, save for a probe of min_draft every probe_interval steps.
  size_t drafts = 0, draft_tokens = 0;
  for (int step = 0; step < 64; ++step) {
    size_t k = compute_bound.next();
    if (k == 0) continue;
    ++drafts;
    draft_tokens += k;
    compute_bound.record(k, 0);
  }
  CHECK(compute_bound.acceptance() < 0.3);
  CHECK(drafts <= 2 + 64 / 8);
  // Without the cost rule, the same refusals draft more: pauses of at most 16 steps.
  o.cost_aware = false;
  DraftLength by_acceptance(o);
  for (int i = 0; i < 2; ++i) {
    by_acceptance.record_pass(1, 0.010);
    by_acceptance.record_pass(3, 0.014);
  }
  size_t plain_tokens = 0;
  for (int step = 0; step < 64; ++step)
    if (size_t k = by_acceptance.next()) {
      plain_tokens += k;
      by_acceptance.record(k, 0);
    }
  CHECK(draft_tokens < plain_tokens);
  // Taken again (edit-like code), drafts grow back.
  o.cost_aware = true;
  DraftLength recovering(o);
  for (int i = 0; i < 2; ++i) {
    recovering.record_pass(1, 0.010);
    recovering.record_pass(3, 0.014);
  }
  for (int i = 0; i < 4; ++i) recovering.record(2, 0);
  size_t k = 0;
  for (int step = 0; step < 64 && k < 4; ++step)
    if ((k = recovering.next()) > 0) recovering.record(k, k);
  CHECK(k >= 4);
}

namespace {
// Greedy generation from `prompt` with or without speculation.
GenerateStats run(const Model& model, const std::vector<int32_t>& prompt, bool speculate,
                  std::vector<int32_t>& out, std::vector<int32_t>& history) {
  Session session(model, 512);
  Sampler sampler;
  GenerateOptions o;
  o.max_tokens = 48;
  o.speculate.enable = speculate;
  out.clear();
  history.clear();
  auto stats = generate(session, history, prompt, o, sampler, [&](int32_t t, float) {
    out.push_back(t);
    return true;
  });
  CHECK(session.length() == history.size());
  return stats;
}
}  // namespace

TEST_CASE("speculation gives exactly the tokens of one-at-a-time greedy decoding", "[speculate]") {
  TempDir dir;
  for (auto [arch, mode] : {std::pair{"qwen2", WeightMode::F32}, std::pair{"qwen3", WeightMode::Int8},
                            std::pair{"qwen3moe", WeightMode::Int8}}) {
    INFO(arch);
    auto path = dir.file(std::string(arch) + ".gguf");
    write_random_model(path, tiny_spec(arch));
    auto model = Model::open(path, {mode, 1});
    // Edit-like: the same lines over and over, so that the model's own
    // (random) continuation is likely to repeat what the prompt holds.
    const std::string line = "    total = total + values[index] * weight\n";
    std::string text;
    for (int i = 0; i < 6; ++i) text += line;
    std::vector<int32_t> prompt = model->tokenizer().encode(text, false);
    std::vector<int32_t> plain, fast, plain_history, fast_history;
    auto off = run(*model, prompt, false, plain, plain_history);
    auto on = run(*model, prompt, true, fast, fast_history);
    CHECK(fast == plain);
    CHECK(fast_history == plain_history);
    CHECK(on.generated_tokens == off.generated_tokens);
    CHECK(off.forward_passes == off.generated_tokens - 1);
    CHECK(off.drafted_tokens == 0);
    CHECK(off.verified_drafts == 0);
    // Each verified draft rode on one pass and held at least one token.
    CHECK(on.verified_drafts > 0);
    CHECK(on.verified_drafts <= on.forward_passes);
    CHECK(on.verified_drafts <= on.drafted_tokens);
    // A random model falls into loops the lookup then predicts.
    CHECK(on.accepted_draft_tokens > 0);
    CHECK(on.forward_passes < off.forward_passes);
    // Every kept draft token saves a pass (one fewer when the last token came from a draft).
    CHECK(on.forward_passes + on.accepted_draft_tokens >= off.forward_passes);
    CHECK(on.forward_passes + on.accepted_draft_tokens <= off.forward_passes + 1);
  }
}

TEST_CASE("a verification pass gives each row the logits one-row decoding gives, bit for bit", "[speculate]") {
  // Speculation keeps its output only if a draft's rows come out exactly as
  // single tokens would: int8 weights with their bf16 cache (the default),
  // rows up to the longest draft plus the sampled token. From 8 queries on,
  // attention takes its prefill kernels (bf16 matmuls), whose logits differ:
  // with drafts of 12 this failed on every row, and the demo model's output
  // changed under speculation (bench_speculation, novel_function).
  TempDir dir;
  auto spec = tiny_spec("qwen3");
  spec.hp.head_dim = 64;  // the AVX-512 attention kernels' head size (as the demo model's)
  spec.hp.embedding_length = spec.hp.head_count * 64;
  const auto path = dir.file("m.gguf");
  write_random_model(path, spec);
  auto model = Model::open(path, {WeightMode::Int8, 2});
  // Past 256 slots engine/attention's decode splits a query's keys into
  // chunks; they used to be sized by the number of queries in the pass, so
  // rows differed in the last bits from a single query's (2 of 7 rows at 600
  // tokens, 5 of 7 at 2,000). Now a query's chunks depend on its own slots.
  for (const size_t context : {size_t{100}, size_t{600}, size_t{2000}}) {
    const size_t rows = SpeculateOptions{}.max_draft + 1;
    std::vector<int32_t> tokens(context + rows);
    for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>(7 + (i * 37) % 200);
    const std::vector<int32_t> prompt(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(context));
    const std::vector<int32_t> draft(tokens.begin() + static_cast<std::ptrdiff_t>(context), tokens.end());

    Session together(*model, tokens.size() + 8), alone(*model, tokens.size() + 8);
    std::vector<int32_t> h1, h2;
    prefill(together, h1, prompt);
    prefill(alone, h2, prompt);
    Session::Batch batch{draft, {}, {}};
    batch.logits.assign(draft.size(), true);
    const std::vector<float> all = together.evaluate(batch);
    const size_t vocab = all.size() / draft.size();
    REQUIRE(vocab == model->hparams().vocab_size);
    for (size_t j = 0; j < draft.size(); ++j) {
      const std::vector<float> one = alone.evaluate(Session::Batch{{draft[j]}, {}, {}});
      INFO("row " << j << " of " << draft.size() << ", after " << context << " tokens");
      REQUIRE(one.size() == vocab);
      CHECK(std::memcmp(one.data(), all.data() + j * vocab, vocab * sizeof(float)) == 0);
    }
  }
}
