#include "completion/decoder.h"

#include <algorithm>
#include <limits>

#include "engine/sampler.h"

namespace astfill::completion {

const char* to_string(DecodeEnd end) {
  switch (end) {
    case DecodeEnd::StopToken: return "stop token";
    case DecodeEnd::Complete: return "complete";
    case DecodeEnd::MaxTokens: return "token cap";
    case DecodeEnd::Timeout: return "time cap";
    case DecodeEnd::Cancelled: return "cancelled";
    case DecodeEnd::NoViableToken: return "no viable token";
    case DecodeEnd::ContextFull: return "context full";
  }
  return "unknown";
}

DecodeResult decode(ModelRunner::Lease& lease, const engine::Tokenizer& tokenizer, std::span<const int32_t> prompt,
                    std::string_view text_before, SyntaxHooks* syntax, ApiConstraint* api,
                    const DecodeOptions& options, const CancellationToken& cancel) {
  using clock = std::chrono::steady_clock;
  constexpr float kForbidden = -std::numeric_limits<float>::infinity();
  DecodeResult result;
  const size_t vocab = tokenizer.vocab_size();

  // Special tokens the completion may not write; stop tokens end it instead.
  std::vector<char> is_stop(vocab, 0);
  for (auto t : options.stop_tokens)
    if (t >= 0 && static_cast<size_t>(t) < vocab) is_stop[static_cast<size_t>(t)] = 1;
  std::vector<int32_t> forbidden;
  for (size_t id = 0; id < vocab; ++id)
    if (!is_stop[id] && tokenizer.is_special(static_cast<int32_t>(id))) forbidden.push_back(static_cast<int32_t>(id));

  // The last line before the cursor: all the API constraint looks at.
  size_t nl = text_before.rfind('\n');
  std::string line_before(nl == std::string_view::npos ? text_before : text_before.substr(nl + 1));

  engine::Sampler sampler;  // greedy
  std::vector<char> allowed_mask;
  sampler.set_mask([&](std::span<float> logits) {
    for (auto t : forbidden)
      if (static_cast<size_t>(t) < logits.size()) logits[static_cast<size_t>(t)] = kForbidden;
    if (api) {
      if (auto allowed = api->allowed(line_before + result.text)) {
        ++result.restricted;
        allowed_mask.assign(logits.size(), 0);
        for (auto t : *allowed)
          if (static_cast<size_t>(t) < logits.size()) allowed_mask[static_cast<size_t>(t)] = 1;
        for (size_t i = 0; i < logits.size(); ++i)
          if (!allowed_mask[i]) logits[i] = kForbidden;
      }
    }
    if (!syntax) return;
    auto t0 = clock::now();
    for (size_t tries = 0; tries < options.max_candidates; ++tries) {
      auto best = std::max_element(logits.begin(), logits.end());
      if (best == logits.end() || *best == kForbidden) break;
      auto id = static_cast<size_t>(best - logits.begin());
      if (is_stop[id] || syntax->viable(tokenizer.token_bytes(static_cast<int32_t>(id)))) {
        result.check_seconds += std::chrono::duration<double>(clock::now() - t0).count();
        return;
      }
      *best = kForbidden;
      ++result.rejected;
    }
    // Nothing the model likes keeps the file viable: say nothing more.
    std::fill(logits.begin(), logits.end(), kForbidden);
    result.check_seconds += std::chrono::duration<double>(clock::now() - t0).count();
  });

  engine::GenerateOptions gen;
  gen.max_tokens = options.max_tokens;
  gen.stop_tokens = options.stop_tokens;
  bool timed_out = false, complete = false, stop_token = false;
  clock::time_point decode_start{};
  bool started = false;
  auto on_token = [&](int32_t token, float) {
    if (!started) {
      started = true;
      decode_start = clock::now();
    }
    if (is_stop[static_cast<size_t>(token)]) {
      stop_token = true;
      return false;
    }
    std::string piece = tokenizer.token_bytes(token);
    result.text += piece;
    result.tokens.push_back(token);
    if (syntax) {
      syntax->accept(piece);
      if (syntax->should_stop()) {
        complete = true;
        return false;
      }
    }
    if (clock::now() - decode_start >= options.time_budget) {
      timed_out = true;
      return false;
    }
    return true;
  };
  result.stats = engine::generate(lease.session(), lease.history(), prompt, gen, sampler, on_token, cancel);
  if (result.stats.cancelled || cancel.cancelled()) result.end = DecodeEnd::Cancelled;
  else if (stop_token) result.end = DecodeEnd::StopToken;
  else if (complete) result.end = DecodeEnd::Complete;
  else if (timed_out) result.end = DecodeEnd::Timeout;
  else if (static_cast<int>(result.stats.generated_tokens) >= options.max_tokens) result.end = DecodeEnd::MaxTokens;
  else if (lease.session().length() >= lease.session().capacity()) result.end = DecodeEnd::ContextFull;
  else result.end = DecodeEnd::NoViableToken;
  return result;
}

}  // namespace astfill::completion
