// Speculation from the prompt (prompt-lookup drafting): code repeats itself —
// a renamed variable, a second call of the same shape, a branch like the one
// above — so the tokens that followed the last occurrence of what was just
// written are a good guess at what comes next. PromptLookup proposes such a
// draft; engine::generate verifies it in one forward pass with logits on
// every draft row and keeps it up to the first token the sampler would not
// have chosen, so the output is exactly what decoding one token at a time
// gives (at temperature 0).
//
// The index: for every n-gram of n in [min_ngram, max_ngram] tokens that is
// followed by a token, where it last occurred. Sources are the session's
// tokens (prompt: the current file and the cross-file context; then the
// completion so far) and extra sequences (recently accepted completions),
// kept apart so that no n-gram spans two of them. The longest n-gram that
// matches the tail wins; its most recent occurrence supplies the draft.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace astfill::engine {

struct SpeculateOptions {
  bool enable = true;
  // Tokens per draft at most. A verification pass carries the sampled token
  // and the draft: up to 7 rows, under the 8 queries from which
  // engine/attention switches to its prefill kernels (bf16 matmuls), whose
  // logits differ in the last bits from one-row decoding's, so that a longer
  // draft could change the output at a near tie (it did at 12).
  size_t max_draft = 6;
  size_t min_draft = 2;   // shorter drafts are not verified (one token is a plain decode step)
  size_t min_ngram = 2;   // the shortest tail that may match
  size_t max_ngram = 4;
  // Drafts no longer than their rows pay for (DraftLength): where a
  // verification row costs a good share of a pass (a small model, bound by
  // arithmetic rather than by reading its weights) and few drafts are taken
  // (novel code), drafting all but stops. Off by default: on the demo model
  // (a row about 0.2 of a pass) it stopped drafting after the first refused
  // drafts of tasks whose later drafts paid, and acceptance alone did not
  // slow novel code (bench_speculation's cost and acceptance policies). On
  // a model bound by bandwidth the cap hardly binds either way.
  bool cost_aware = false;
  // While no draft pays for its rows, one of min_draft tokens is still tried
  // when this many steps have passed since the last draft was verified, so
  // that a change in acceptance is noticed.
  size_t probe_interval = 32;
  // A verification row's cost in one-row passes to assume instead of timing
  // the passes (< 0: timed). For benchmarks that price a run at another
  // model's pass times.
  double fixed_row_cost = -1;
};

class PromptLookup {
 public:
  explicit PromptLookup(size_t min_ngram = 2, size_t max_ngram = 4);

  // A sequence to draft from that is not part of the session (a recently
  // accepted completion). Add sources before set_context.
  void add_source(std::span<const int32_t> tokens);
  // The session's tokens so far (replaces the previous context, keeps sources).
  void set_context(std::span<const int32_t> tokens);
  // A token appended to the context.
  void push(int32_t token);

  // Up to `k` tokens that followed the most recent earlier occurrence of the
  // longest matching tail (continuing periodically when that occurrence
  // overlaps the tail); empty when no tail of min_ngram tokens recurs.
  std::vector<int32_t> draft(size_t k) const;

  size_t size() const { return tokens_.size(); }

 private:
  // Indexes the n-grams ending at position `end - 1` (they are followed by tokens_[end]).
  void index_before(size_t end);
  uint64_t hash(size_t first, size_t n) const;

  size_t min_n_, max_n_;
  std::vector<int32_t> tokens_;  // sources, each followed by a separator (-1), then the context
  size_t context_start_ = 0;
  size_t sources_end_ = 0;       // tokens_ up to here are sources
  // Per n (index n - min_n_): hash of an n-gram -> the position of the token after its latest occurrence.
  std::vector<std::unordered_map<uint64_t, uint32_t>> last_;
  std::vector<std::unordered_map<uint64_t, uint32_t>> source_last_;  // the sources' part, restored by set_context
};

// How long the next draft may be, from how the last ones fared: a draft taken
// whole lets the next one grow, a partly taken one sets the length to what
// was taken plus one, and a draft refused outright pauses drafting for a few
// steps (doubling while refusals repeat) so that novel code, where lookups
// rarely guess right, pays for little failed verification.
//
// With cost_aware, what a row costs caps that length. The i-th token of a
// draft is taken with a probability of about p^i, p being the recent share
// of draft tokens taken given the one before (decayed counts, from a prior
// of 3 in 4), and it saves a pass when taken, while its row costs c of a
// one-row pass: a draft is worth its k-th token
// while p^k > c (the times: the least seen of a one-row pass, and of what a
// draft's pass took more per row, as preemption only adds time; no cap
// before two passes of each kind were timed). On a model
// bound by memory bandwidth c is a few percent
// and drafts run long; on one bound by arithmetic (the demo model: c about
// 0.2) drafts stop once acceptance falls below about a half, save for a
// probe of min_draft tokens every probe_interval steps.
class DraftLength {
 public:
  explicit DraftLength(const SpeculateOptions& options);
  // The length to ask for now (0: do not draft at this step).
  size_t next();
  // A draft of `drafted` tokens had its first `accepted` taken.
  void record(size_t drafted, size_t accepted);
  // A forward pass of `rows` rows (1: a plain decode step; more: a draft's
  // verification) took `seconds`.
  void record_pass(size_t rows, double seconds);

  // p and c above (c is 0 until two passes of each kind were timed).
  double acceptance() const { return taken_ / tried_; }
  double row_cost() const;

 private:
  SpeculateOptions options_;
  size_t length_;
  size_t pause_ = 0, backoff_ = 1;
  double taken_ = 3, tried_ = 4;
  double one_row_seconds_ = -1, row_seconds_ = -1;  // least seen; < 0: not timed yet
  size_t one_row_passes_ = 0, draft_passes_ = 0;     // timed
  size_t probe_wait_ = 0;
};

}  // namespace astfill::engine
