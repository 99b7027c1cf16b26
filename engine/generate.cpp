#include "engine/generate.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "engine/batcher.h"

namespace astfill::engine {

namespace {

using Clock = std::chrono::steady_clock;

bool past(Clock::time_point deadline) { return deadline != Clock::time_point{} && Clock::now() >= deadline; }

}  // namespace

PrefillResult prefill(Session& session, std::vector<int32_t>& history, std::span<const int32_t> prompt,
                      size_t chunk, const CancellationToken& cancel, PrefixStore* store,
                      Clock::time_point deadline) {
  PrefillResult r;
  if (prompt.empty()) return r;
  // One batch per pass: the batcher would cut a longer one into its chunks
  // anyway, but undo them all on a cancel or the deadline; cut here, the
  // chunks that ran stay in the cache for the next request.
  if (const Batcher* b = session.batcher()) chunk = std::min(chunk, b->options().prefill_chunk);
  chunk = std::max<size_t>(chunk, 1);
  size_t shared = 0;
  const size_t limit = std::min({history.size(), session.length(), prompt.size() - 1});
  while (shared < limit && history[shared] == prompt[shared]) ++shared;
  session.truncate(shared);
  history.assign(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(shared));
  if (store) {
    const size_t restored = store->restore(session, history, prompt, shared, prompt.size() - 1);
    if (restored > shared) r.restored_tokens = restored - shared;
    shared = restored;
  }
  r.reused_tokens = shared;
  for (size_t at = shared; at < prompt.size(); at += chunk) {
    if (past(deadline)) {
      r.timed_out = true;
      r.logits.clear();
      return r;
    }
    size_t end = std::min(prompt.size(), at + chunk);
    Session::Batch batch{{prompt.begin() + static_cast<std::ptrdiff_t>(at), prompt.begin() + static_cast<std::ptrdiff_t>(end)}, {}, {}};
    batch.deadline = deadline;
    r.logits = session.evaluate(batch, cancel);
    if (r.logits.empty()) {
      // Cancelled, or the deadline passed while the batch waited its turn.
      r.cancelled = cancel.cancelled() || !past(deadline);
      r.timed_out = !r.cancelled;
      session.truncate(history.size());
      return r;
    }
    history.insert(history.end(), batch.tokens.begin(), batch.tokens.end());
    r.prefilled_tokens += batch.tokens.size();
  }
  if (store) store->record(session, prompt);
  return r;
}

namespace {

// The draft to verify after `history` (which ends with the token just
// chosen): looked up, capped, and cut where the caller's constraints refuse.
std::vector<int32_t> next_draft(const PromptLookup& lookup, DraftLength& length, const GenerateOptions& options,
                                const Session& session, size_t generated) {
  size_t k = length.next();
  if (k == 0) return {};
  // Room: the draft and the bonus row fit the cache, and no more than the
  // token cap could still use.
  const size_t room = session.capacity() - std::min(session.capacity(), session.length() + 1);
  const size_t left = static_cast<size_t>(options.max_tokens) - std::min<size_t>(options.max_tokens, generated + 1);
  k = std::min({k, room, left});
  if (k < options.speculate.min_draft) return {};
  std::vector<int32_t> draft = lookup.draft(k);
  // Too short already: not worth screening (a copy of the constraints' state).
  if (draft.size() < options.speculate.min_draft) return {};
  if (options.screen_draft) draft.resize(std::min(draft.size(), options.screen_draft(draft)));
  if (draft.size() < options.speculate.min_draft) draft.clear();
  return draft;
}

}  // namespace

GenerateStats generate(Session& session, std::vector<int32_t>& history, std::span<const int32_t> prompt,
                       const GenerateOptions& options, Sampler& sampler, const TokenCallback& on_token,
                       const CancellationToken& cancel) {
  GenerateStats stats;
  stats.prompt_tokens = prompt.size();
  if (prompt.empty()) return stats;

  auto t0 = Clock::now();
  PrefillResult p =
      prefill(session, history, prompt, options.prefill_chunk, cancel, options.prefix_store, options.deadline);
  stats.reused_tokens = p.reused_tokens;
  stats.restored_tokens = p.restored_tokens;
  stats.prefilled_tokens = p.prefilled_tokens;
  auto t1 = Clock::now();
  stats.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
  if (p.cancelled || p.timed_out) {
    stats.cancelled = p.cancelled;
    stats.timed_out = p.timed_out;
    return stats;
  }

  const bool speculate = options.speculate.enable && options.speculate.max_draft >= options.speculate.min_draft;
  PromptLookup lookup(options.speculate.min_ngram, options.speculate.max_ngram);
  DraftLength draft_length(options.speculate);
  if (speculate) {
    for (const auto& source : options.draft_sources) lookup.add_source(source);
    lookup.set_context(history);
  }
  // `rows` holds the logits of the last evaluate; `row` is the one after
  // history. A token chosen from a draft's row against the draft is carried
  // to the next iteration in `pending` (it was sampled already).
  std::vector<float> rows = std::move(p.logits);
  std::span<float> row(rows);
  std::optional<Sampler::Choice> pending;
  // Ends generation after `token` was streamed: the callback, a stop token,
  // the token cap, a full cache.
  auto finished = [&](const Sampler::Choice& c) {
    ++stats.generated_tokens;
    bool keep_going = on_token ? on_token(c.token, c.probability) : true;
    bool stop = std::find(options.stop_tokens.begin(), options.stop_tokens.end(), c.token) != options.stop_tokens.end();
    if (!keep_going) stats.stopped_by_callback = true;
    if (keep_going && !stop && past(options.deadline)) stats.timed_out = true;
    return !keep_going || stop || stats.timed_out ||
           stats.generated_tokens >= static_cast<size_t>(std::max(options.max_tokens, 0)) ||
           history.size() >= session.capacity();
  };
  if (options.max_tokens <= 0) row = {};
  while (!row.empty() || pending) {
    Sampler::Choice choice = pending ? *pending : sampler.sample(row, history);
    pending.reset();
    if (choice.token < 0) break;  // everything masked: nothing valid to say
    // The last token is not evaluated: `history` mirrors the cache, which a
    // later call reuses up to where its prompt diverges.
    if (finished(choice)) break;
    std::vector<int32_t> draft;
    if (speculate) {
      lookup.push(choice.token);
      draft = next_draft(lookup, draft_length, options, session, stats.generated_tokens - 1);
    }
    Session::Batch batch{{choice.token}, {}, {}};
    if (!draft.empty()) {
      batch.tokens.insert(batch.tokens.end(), draft.begin(), draft.end());
      batch.logits.assign(batch.tokens.size(), true);
    }
    const auto pass_start = Clock::now();
    rows = session.evaluate(batch, cancel);
    if (speculate)
      draft_length.record_pass(batch.tokens.size(), std::chrono::duration<double>(Clock::now() - pass_start).count());
    ++stats.forward_passes;
    if (rows.empty()) {
      stats.cancelled = true;
      break;
    }
    history.push_back(choice.token);
    const size_t vocab = rows.size() / batch.tokens.size();
    row = std::span<float>(rows.data(), vocab);
    if (draft.empty()) continue;
    // Row j follows history + draft[0, j): take the draft while the sampler agrees.
    ++stats.verified_drafts;
    stats.drafted_tokens += draft.size();
    size_t j = 0;
    bool ended = false;
    while (j < draft.size()) {
      if (cancel.cancelled()) {  // taking a row costs no evaluate, which would have noticed
        stats.cancelled = true;
        ended = true;
        break;
      }
      Sampler::Choice c = sampler.sample(row, history);
      if (c.token != draft[j]) {
        pending = c;  // (a token < 0 ends the loop above)
        break;
      }
      ++j;
      ++stats.accepted_draft_tokens;
      if (finished(c)) {
        ended = true;
        break;
      }
      history.push_back(c.token);
      lookup.push(c.token);
      row = std::span<float>(rows.data() + j * vocab, vocab);
    }
    draft_length.record(draft.size(), j);
    session.truncate(history.size());  // the draft's tokens past what was taken
    if (ended) break;
  }
  stats.decode_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  return stats;
}

}  // namespace astfill::engine
