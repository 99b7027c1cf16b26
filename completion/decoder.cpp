#include "completion/decoder.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>

#include "engine/sampler.h"
#include "support/utf8.h"

namespace astfill::completion {
namespace {

// Whether `bytes` could be the start of a UTF-8 sequence still to be
// completed (a lead byte and valid continuation bytes, fewer than it needs).
bool incomplete_sequence(std::string_view bytes) {
  if (bytes.empty() || bytes.size() > 3) return false;
  auto b0 = static_cast<unsigned char>(bytes[0]);
  size_t need = b0 >= 0xC2 && b0 <= 0xDF ? 2 : b0 >= 0xE0 && b0 <= 0xEF ? 3 : b0 >= 0xF0 && b0 <= 0xF4 ? 4 : 0;
  if (need == 0 || bytes.size() >= need) return false;
  for (size_t i = 1; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    unsigned char lo = 0x80, hi = 0xBF;
    if (i == 1) {
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    }
    if (b < lo || b > hi) return false;
  }
  return true;
}

// The bytes at the end of `text` that start a sequence not yet complete.
size_t pending_bytes(std::string_view text) {
  for (size_t n = 1; n <= 3 && n <= text.size(); ++n)
    if (incomplete_sequence(text.substr(text.size() - n))) return n;
  return 0;
}

// Whether appending `piece` to text whose last `pending` bytes are an
// unfinished sequence keeps it text: valid UTF-8 (possibly unfinished at the
// end) without control characters other than tab, newline and carriage
// return. Code never holds the rest; a model writing it writes noise.
bool keeps_text(std::string_view pending, std::string_view piece) {
  std::string s(pending);
  s.append(piece);
  size_t i = 0;
  while (i < s.size()) {
    size_t len = utf8_sequence_length(s, i);
    if (len == 0) return incomplete_sequence(std::string_view(s).substr(i));
    if (len == 1) {
      auto c = static_cast<unsigned char>(s[i]);
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

std::vector<int32_t> unwritable_tokens(const engine::Tokenizer& tokenizer) {
  std::vector<int32_t> out;
  for (size_t id = 0; id < tokenizer.vocab_size(); ++id) {
    auto t = static_cast<int32_t>(id);
    if (tokenizer.is_special(t) || tokenizer.token_bytes(t).empty()) out.push_back(t);
  }
  return out;
}

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
  std::vector<int32_t> computed;
  if (!options.unwritable) computed = unwritable_tokens(tokenizer);
  std::vector<int32_t> forbidden;
  for (auto t : options.unwritable ? *options.unwritable : computed)
    if (static_cast<size_t>(t) < vocab && !is_stop[static_cast<size_t>(t)]) forbidden.push_back(t);

  // The last line before the cursor: all the API constraint looks at.
  size_t nl = text_before.rfind('\n');
  std::string line_before(nl == std::string_view::npos ? text_before : text_before.substr(nl + 1));

  engine::Sampler sampler;  // greedy
  std::vector<char> allowed_mask;
  constexpr size_t kTop = 32;
  std::vector<std::pair<float, int32_t>> top;
  top.reserve(kTop + 1);
  // The approved token is the only one left: the sampler's choice is it.
  auto keep_only = [&](std::span<float> logits, size_t id) {
    float v = logits[id];
    std::fill(logits.begin(), logits.end(), kForbidden);
    logits[id] = v;
  };
  sampler.set_mask([&](std::span<float> logits) {
    for (auto t : forbidden)
      if (static_cast<size_t>(t) < logits.size()) logits[static_cast<size_t>(t)] = kForbidden;
    if (!options.banned_openers.empty() && result.text.find_first_not_of(" \t\r\n") == std::string::npos)
      for (auto t : options.banned_openers)
        if (t >= 0 && static_cast<size_t>(t) < logits.size()) logits[static_cast<size_t>(t)] = kForbidden;
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
    std::string_view pending = std::string_view(result.text).substr(result.text.size() - pending_bytes(result.text));
    // The best candidates in order, from one pass over the logits (another
    // pass only if all of them are refused).
    size_t tries = 0;
    // The model's first choice was to end (a stop token, or a line break
    // that ends a single-line completion) and the file is not whole there:
    // among its next choices, the first that would let it end right after
    // is taken (a few checks at most), else the first viable one. Going on
    // with the next best token alone tends to loop (`make(line, err, err`)
    // until a cap, and the answer is then cut to nothing.
    constexpr size_t kClosingChecks = 6;
    bool first_candidate = true, end_refused = false;
    size_t closing_checks = 0;
    std::optional<std::pair<size_t, float>> fallback;
    for (int pass = 0; pass < 16; ++pass) {
      top.clear();
      for (size_t i = 0; i < logits.size(); ++i) {
        float x = logits[i];
        if (x == kForbidden || (top.size() == kTop && x <= top.back().first)) continue;
        auto at = std::upper_bound(top.begin(), top.end(), x, [](float v, const auto& e) { return v > e.first; });
        top.insert(at, {x, static_cast<int32_t>(i)});
        if (top.size() > kTop) top.pop_back();
      }
      if (top.empty()) break;
      for (const auto& [score, token] : top) {
        auto id = static_cast<size_t>(token);
        // A stop token ends the completion: the syntax check says whether it
        // may end here. Any other token: its text first (cheap, always);
        // then, with the syntax check, viability.
        const bool stop = is_stop[id];
        const std::string piece = stop ? std::string() : tokenizer.token_bytes(token);
        const bool ends = syntax && first_candidate && (stop || syntax->ends_with(piece));
        first_candidate = false;
        bool ok = stop || keeps_text(pending, piece);
        if (ok && syntax) {
          auto t0 = clock::now();
          ok = stop ? syntax->may_end() : syntax->viable(piece);
          result.check_seconds += std::chrono::duration<double>(clock::now() - t0).count();
          if (!ok) ++result.rejected;
          if (!ok && ends) end_refused = true;
          if (!ok && ++tries >= options.max_candidates) break;
        }
        if (ok && end_refused) {
          if (!fallback) fallback.emplace(id, logits[id]);
          auto t0 = clock::now();
          const bool closes = syntax->whole_after(piece);
          result.check_seconds += std::chrono::duration<double>(clock::now() - t0).count();
          if (closes) {
            if (id != fallback->first) ++result.closing_choices;
            keep_only(logits, id);
            return;
          }
          if (++closing_checks >= kClosingChecks) break;
          logits[id] = kForbidden;
          continue;
        }
        if (ok) {
          keep_only(logits, id);
          return;
        }
        logits[id] = kForbidden;
      }
      if (tries >= options.max_candidates || closing_checks >= kClosingChecks) break;
    }
    if (fallback) {
      std::fill(logits.begin(), logits.end(), kForbidden);
      logits[fallback->first] = fallback->second;
      return;
    }
    // Nothing the model likes keeps the file viable: say nothing more.
    std::fill(logits.begin(), logits.end(), kForbidden);
  });

  engine::GenerateOptions gen;
  gen.max_tokens = options.max_tokens;
  gen.stop_tokens = options.stop_tokens;
  gen.speculate = options.speculate;
  gen.draft_sources = options.draft_sources;
  gen.prefix_store = options.prefix_store;
  gen.deadline = options.deadline;
  // How much of a draft the checks would let through after the text so far,
  // on copies of their state: the verification's rows go through the mask
  // above, which would refuse the same tokens.
  std::vector<char> is_forbidden(vocab, 0);
  for (auto t : forbidden) is_forbidden[static_cast<size_t>(t)] = 1;
  gen.screen_draft = [&](std::span<const int32_t> draft) -> size_t {
    auto t0 = clock::now();
    std::string text = result.text;
    std::unique_ptr<SyntaxHooks> fork = syntax ? syntax->fork() : nullptr;
    if (fork) {
      ++result.screening.forks;
      result.screening.fork_seconds += std::chrono::duration<double>(clock::now() - t0).count();
    }
    std::optional<ApiConstraint> api_copy;
    if (api) api_copy.emplace(*api);
    ++result.screening.drafts;
    bool refused_by_syntax = false;
    size_t n = 0;
    for (; n < draft.size(); ++n) {
      const int32_t token = draft[n];
      if (token < 0 || static_cast<size_t>(token) >= vocab || is_forbidden[static_cast<size_t>(token)]) break;
      if (is_stop[static_cast<size_t>(token)]) {
        ++n;  // a stop token ends the completion: nothing after it matters
        break;
      }
      std::string piece = tokenizer.token_bytes(token);
      if (!keeps_text(std::string_view(text).substr(text.size() - pending_bytes(text)), piece)) break;
      if (api_copy) {
        auto allowed = api_copy->allowed(line_before + text);
        if (allowed && std::find(allowed->begin(), allowed->end(), token) == allowed->end()) break;
      }
      if (fork) {
        if (!fork->viable(piece)) {
          refused_by_syntax = true;
          break;
        }
        fork->accept(piece);
        if (fork->should_stop()) {
          ++n;
          break;
        }
      }
      text += piece;
    }
    const double seconds = std::chrono::duration<double>(clock::now() - t0).count();
    result.check_seconds += seconds;
    result.screening.seconds += seconds;
    if (n < draft.size()) ++result.screening.cut;
    if (refused_by_syntax) ++result.screening.cut_by_syntax;
    return n;
  };
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
      auto t0 = clock::now();
      syntax->accept(piece);
      bool done = syntax->should_stop();
      result.check_seconds += std::chrono::duration<double>(clock::now() - t0).count();
      if (done) {
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
  // A character left unfinished by the last token is not text.
  result.text.resize(result.text.size() - pending_bytes(result.text));
  if (result.stats.cancelled || cancel.cancelled()) result.end = DecodeEnd::Cancelled;
  else if (stop_token) result.end = DecodeEnd::StopToken;
  else if (complete) result.end = DecodeEnd::Complete;
  else if (timed_out || result.stats.timed_out) result.end = DecodeEnd::Timeout;
  else if (static_cast<int>(result.stats.generated_tokens) >= options.max_tokens) result.end = DecodeEnd::MaxTokens;
  else if (lease.session().length() >= lease.session().capacity()) result.end = DecodeEnd::ContextFull;
  else result.end = DecodeEnd::NoViableToken;
  return result;
}

}  // namespace astfill::completion
