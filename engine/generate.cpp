#include "engine/generate.h"

#include <algorithm>
#include <chrono>

namespace astfill::engine {

PrefillResult prefill(Session& session, std::vector<int32_t>& history, std::span<const int32_t> prompt,
                      size_t chunk, const CancellationToken& cancel) {
  PrefillResult r;
  if (prompt.empty()) return r;
  chunk = std::max<size_t>(chunk, 1);
  size_t shared = 0;
  const size_t limit = std::min({history.size(), session.length(), prompt.size() - 1});
  while (shared < limit && history[shared] == prompt[shared]) ++shared;
  session.truncate(shared);
  history.assign(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(shared));
  r.reused_tokens = shared;
  for (size_t at = shared; at < prompt.size(); at += chunk) {
    size_t end = std::min(prompt.size(), at + chunk);
    Session::Batch batch{{prompt.begin() + static_cast<std::ptrdiff_t>(at), prompt.begin() + static_cast<std::ptrdiff_t>(end)}, {}, {}};
    r.logits = session.evaluate(batch, cancel);
    if (r.logits.empty()) {
      r.cancelled = true;
      session.truncate(history.size());
      return r;
    }
    history.insert(history.end(), batch.tokens.begin(), batch.tokens.end());
  }
  return r;
}

GenerateStats generate(Session& session, std::vector<int32_t>& history, std::span<const int32_t> prompt,
                       const GenerateOptions& options, Sampler& sampler, const TokenCallback& on_token,
                       const CancellationToken& cancel) {
  using clock = std::chrono::steady_clock;
  GenerateStats stats;
  stats.prompt_tokens = prompt.size();
  if (prompt.empty()) return stats;

  auto t0 = clock::now();
  PrefillResult p = prefill(session, history, prompt, options.prefill_chunk, cancel);
  stats.reused_tokens = p.reused_tokens;
  if (p.cancelled) {
    stats.cancelled = true;
    return stats;
  }
  std::vector<float> logits = std::move(p.logits);
  auto t1 = clock::now();
  stats.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();

  for (int i = 0; i < options.max_tokens; ++i) {
    auto choice = sampler.sample(logits, history);
    if (choice.token < 0) break;  // everything masked: nothing valid to say
    ++stats.generated_tokens;
    bool keep_going = on_token ? on_token(choice.token, choice.probability) : true;
    bool stop = std::find(options.stop_tokens.begin(), options.stop_tokens.end(), choice.token) !=
                options.stop_tokens.end();
    if (!keep_going) stats.stopped_by_callback = true;
    // The last token is not evaluated: `history` mirrors the cache, which a
    // later call reuses up to where its prompt diverges.
    if (!keep_going || stop || i + 1 == options.max_tokens || session.length() >= session.capacity()) break;
    logits = session.evaluate({{choice.token}, {}, {}}, cancel);
    if (logits.empty()) {
      stats.cancelled = true;
      break;
    }
    history.push_back(choice.token);
  }
  stats.decode_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return stats;
}

}  // namespace astfill::engine
