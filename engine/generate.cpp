#include "engine/generate.h"

#include <algorithm>
#include <chrono>

namespace astfill::engine {

GenerateStats generate(Session& session, std::vector<int32_t>& history, std::span<const int32_t> prompt,
                       const GenerateOptions& options, Sampler& sampler, const TokenCallback& on_token,
                       const CancellationToken& cancel) {
  using clock = std::chrono::steady_clock;
  GenerateStats stats;
  stats.prompt_tokens = prompt.size();
  if (prompt.empty()) return stats;

  // Keep the longest shared prefix, but always evaluate at least the last
  // prompt token: its logits choose the first new token.
  size_t shared = 0;
  const size_t limit = std::min({history.size(), session.length(), prompt.size() - 1});
  while (shared < limit && history[shared] == prompt[shared]) ++shared;
  session.truncate(shared);
  history.assign(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(shared));
  stats.reused_tokens = shared;

  auto t0 = clock::now();
  std::vector<float> logits;
  for (size_t at = shared; at < prompt.size(); at += options.prefill_chunk) {
    size_t end = std::min(prompt.size(), at + options.prefill_chunk);
    Session::Batch batch{{prompt.begin() + static_cast<std::ptrdiff_t>(at), prompt.begin() + static_cast<std::ptrdiff_t>(end)}, {}, {}};
    logits = session.evaluate(batch, cancel);
    if (logits.empty()) {
      stats.cancelled = true;
      session.truncate(history.size());
      return stats;
    }
    history.insert(history.end(), batch.tokens.begin(), batch.tokens.end());
  }
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
