// Constrained decoding: the generation loop of a completion, with the syntax
// check and the API constraint plugged into the sampler's logit mask.
//
// Per step, in order:
//   1. special tokens other than the template's stop tokens are forbidden
//      (a completion never writes <|im_start|> or a FIM marker);
//   2. the API constraint, when the frontier is in a member name after a
//      resolvable receiver, forbids every token but the members' (a set found
//      through the vocabulary trie);
//   3. the syntax check is lazy: the best remaining candidate is asked
//      whether it keeps the file viable; if not it is forbidden and the next
//      best is asked, up to max_candidates. Only the few tokens the model
//      actually prefers are ever parsed, never the whole vocabulary.
// Decoding is greedy (temperature 0, no penalties), so the token the sampler
// picks is the one the check approved.
//
// After each chosen token the stop rule may end the completion (the statement
// or block is complete); stop tokens, the token cap, the time budget and
// cancellation end it too.
//
// Speculation (DecodeOptions::speculate): a draft looked up in the prompt is
// first run through the same checks on copies (the forbidden tokens, text,
// the API constraint, SyntaxHooks::fork) and cut at the first token they
// refuse or after one that ends the completion; engine::generate verifies the
// rest in one forward pass, each row through this same mask.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "completion/api_constraint.h"
#include "completion/model_runner.h"
#include "engine/generate.h"
#include "support/cancel.h"

namespace astfill::completion {

// What the syntax layer offers the loop (completion/syntax_guard.h adapts to
// it; tests use their own).
class SyntaxHooks {
 public:
  virtual ~SyntaxHooks() = default;
  // Would appending `piece` to the completion so far keep the file viable?
  virtual bool viable(std::string_view piece) = 0;
  // `piece` was chosen.
  virtual void accept(std::string_view piece) = 0;
  // Is the completion done (its statement or block complete)?
  virtual bool should_stop() = 0;
  // May the completion end here (a stop token)? The syntax check says so
  // only where what it wrote leaves the file whole: a model that would stop
  // mid-statement is asked for its next best token instead.
  virtual bool may_end() { return true; }
  // Does `piece` end the completion the way a stop token does (a line break
  // in a single-line completion)? Such a piece is refused where may_end()
  // would be.
  virtual bool ends_with(std::string_view /*piece*/) { return false; }
  // Would the completion with `piece` appended leave the file whole if it
  // ended there? Asked only when the model's first choice was to end and
  // that was refused: among its next choices, one that lets it end soon is
  // preferred over one that goes on (`make(line` wants to end: `)` rather
  // than `, err, err, ...`).
  virtual bool whole_after(std::string_view /*piece*/) { return false; }
  // A copy of the state so far that later calls on it leave this one alone,
  // for checking a speculative draft ahead of the real choices; null when
  // the hooks cannot be copied (drafts are then checked only for text and the
  // API constraint before they are verified: verification itself asks these
  // hooks, so the output is the same either way).
  virtual std::unique_ptr<SyntaxHooks> fork() const { return nullptr; }
  // After should_stop() said true: does what the stop rule keeps of the
  // completion hold more than blanks and leave the file whole? (The
  // search's test of a branch that the stop rule ended.)
  virtual bool kept_whole() { return may_end(); }
  // Whether decode() may search on forks of these hooks and adopt() what it
  // finds: only where they constrain (without constraints every end is
  // allowed, and an answer is whatever the model wrote).
  virtual bool can_adopt() const { return false; }
  // Whether some part of the completion so far leaves the file whole (cut
  // back, or with the brackets it left open closed: what the caller answers
  // with when decoding ends mid-statement). decode() searches only when none
  // does: the answer would otherwise be empty.
  virtual bool has_whole_part() { return false; }
  // After should_stop() said true: whether what the stop rule keeps holds
  // more than blanks but no part of it leaves the file whole, so the answer
  // would be empty although the model wrote something (`r, tuple, tuple`
  // cut at the repeat, a body of only comments). decode() searches then too.
  virtual bool kept_lacks_whole_part() { return false; }
  // Takes over the state of `other`, a fork of these hooks (or of a fork of
  // them), as if the completion it holds had been accepted here: the search
  // found it. False when these hooks cannot.
  virtual bool adopt(SyntaxHooks& /*other*/) { return false; }
};

class TokenTrie;

struct DecodeOptions {
  int max_tokens = 64;
  // Token healing (completion/healing.h): bytes the completion must begin
  // with (the word the cursor is in, taken out of the prompt). While they are
  // not all written only tokens that agree with what is left of them are
  // allowed (`heal_trie`, the model's vocabulary; without it no healing).
  // result.text holds them; the caller's hooks should pass them by
  // (HealingHooks).
  std::string heal;
  const TokenTrie* heal_trie = nullptr;
  std::chrono::milliseconds time_budget{1000};  // for decoding, after the prompt is in
  // When the request must be answered, prefill included (the epoch: only
  // time_budget). A prefill it cuts keeps its finished chunks in the slot,
  // writes nothing and ends with DecodeEnd::Timeout (engine/generate.h).
  std::chrono::steady_clock::time_point deadline{};
  std::vector<int32_t> stop_tokens;
  size_t max_candidates = 16;  // syntax checks per step before giving up
  // Tokens refused while the completion holds nothing but blanks: the
  // openings of earlier attempts that came to nothing (service.cpp's retry).
  std::vector<int32_t> banned_openers;
  // Tokens never written: special tokens and tokens without bytes (a padded
  // vocabulary's unused entries). Null: computed from the tokenizer (slow on
  // a large vocabulary; ModelRunner::unwritable_tokens keeps the list).
  const std::vector<int32_t>* unwritable = nullptr;
  // Speculation from the prompt (engine/speculate.h): drafts are cut at the
  // first token the constraints refuse, then verified; the output is the same
  // as without it. enable = false: one token per forward pass.
  engine::SpeculateOptions speculate;
  // More to draft from than the prompt: recently accepted completions.
  std::span<const std::vector<int32_t>> draft_sources;
  // Persisted prefixes (engine/prefix_store.h); null: none.
  engine::PrefixStore* prefix_store = nullptr;
  // The search for a whole completion when the greedy one is not (decode()
  // below): branches tried at most (0: no search), the tokens they may
  // generate in all, the alternatives kept per step and how much less
  // likely than the token taken they may be (natural log).
  size_t search_branches = 8;
  size_t search_tokens = 128;
  size_t search_branch_tokens = 24;  // the tokens one branch may add after its alternative
  // Search single-line completions too (where a line break ends the
  // completion: SyntaxHooks::ends_with("\n")). With the bundled model,
  // bench_quality --tasks 60 found whole answers for 14 more single-line
  // tasks in six languages; it was off while 4 of its answers were ones the
  // languages' own front ends refuse though the guard took them (`de` + `e:`
  // and `asser` + `, err := range(0)` in Python, `in` + `nce() {` in a Java
  // class, a C++ `TEST` + `struct {`), closed in parsing/syntax_errors.cpp.
  bool search_single_line = true;
  size_t search_alternatives = 3;
  float search_margin = 6.0f;
  // Wall time the search may take after greedy decoding ended, within the
  // time budget: an inline answer that comes late is not wanted either.
  std::chrono::milliseconds search_time{250};
};

// Special tokens and tokens without bytes, sorted.
std::vector<int32_t> unwritable_tokens(const engine::Tokenizer& tokenizer);

enum class DecodeEnd { StopToken, Complete, MaxTokens, Timeout, Cancelled, NoViableToken, ContextFull };
const char* to_string(DecodeEnd end);

// How speculation's drafts fared in the checks before verification.
struct DraftScreening {
  size_t drafts = 0;         // drafts screened
  size_t cut = 0;            // of those, cut short (a refused token, or one that ends the completion)
  size_t cut_by_syntax = 0;  // of the cut, at a token the syntax hooks refused
  size_t forks = 0;          // copies of the syntax hooks' state made (SyntaxHooks::fork)
  double fork_seconds = 0;   // making them
  double seconds = 0;        // screening in all, the forks included (also in check_seconds)
};

struct DecodeResult {
  std::string text;  // the bytes generated, stop token excluded
  std::vector<int32_t> tokens;
  DecodeEnd end = DecodeEnd::MaxTokens;
  engine::GenerateStats stats;
  size_t rejected = 0;      // candidates the syntax check refused
  // Steps where the model's first choice was to end, the file was not whole
  // there, and a later choice that let it end next was taken over the first
  // viable one (decode's closing choice).
  size_t closing_choices = 0;
  size_t restricted = 0;    // steps the API constraint restricted
  double check_seconds = 0; // time in the syntax hooks (checks, accepting, the stop rule)
  DraftScreening screening;
  // The search (decode()): the branches it tried, the tokens they generated,
  // whether one gave the answer, its time in all (its decoding is also in
  // stats.decode_seconds, its checks in check_seconds).
  struct Search {
    size_t branches = 0;
    size_t tokens = 0;
    bool found = false;
    double seconds = 0;
  } search;
};

// Generates after `prompt` in the lease's slot (reusing the prefix its cache
// shares with the prompt). Greedy first; when that ends at the token cap or
// with nothing viable (the file not whole: the answer would be cut back,
// often to nothing), or the stop rule ended it keeping text of which no part
// leaves the file whole, and `syntax` can fork and adopt, a bounded best-first
// search over the choices greedy passed by: each step keeps up to
// search_alternatives next choices the checks did not refuse (within
// search_margin of the token taken), scored by the log-probability of the
// whole path to them; the most probable is decoded greedily from there on a
// copy of the hooks (the prompt's cache reused up to where it diverges), its
// own choices join the queue, and the first branch that ends whole (a stop
// token the checks allow, the stop rule with what it keeps whole, or the cap
// reached whole) is the answer, adopted by `syntax`. Bounded by
// search_branches, search_tokens and the time budget; the stop rule (the
// repetition stop included) ends each branch as it ends greedy decoding. `text_before` is the document's text before the
// cursor (its last line is enough), for the API constraint. `syntax` and
// `api` may be null (unconstrained).
DecodeResult decode(ModelRunner::Lease& lease, const engine::Tokenizer& tokenizer, std::span<const int32_t> prompt,
                    std::string_view text_before, SyntaxHooks* syntax, ApiConstraint* api,
                    const DecodeOptions& options, const CancellationToken& cancel);

}  // namespace astfill::completion
