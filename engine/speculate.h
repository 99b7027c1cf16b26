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
  size_t max_draft = 12;  // tokens per draft at most
  size_t min_draft = 2;   // shorter drafts are not verified (one token is a plain decode step)
  size_t min_ngram = 2;   // the shortest tail that may match
  size_t max_ngram = 4;
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
// rarely guess right, pays for almost no failed verification.
class DraftLength {
 public:
  explicit DraftLength(const SpeculateOptions& options);
  // The length to ask for now (0: do not draft at this step).
  size_t next();
  // A draft of `drafted` tokens had its first `accepted` taken.
  void record(size_t drafted, size_t accepted);

 private:
  SpeculateOptions options_;
  size_t length_;
  size_t pause_ = 0, backoff_ = 1;
};

}  // namespace astfill::engine
