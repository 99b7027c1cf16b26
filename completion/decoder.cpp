#include "completion/decoder.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <queue>

#include "completion/token_trie.h"
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

namespace {

using clock = std::chrono::steady_clock;
constexpr float kForbidden = -std::numeric_limits<float>::infinity();

// A token the search may take instead of the one chosen at a step.
struct Alternative {
  int32_t token;
  float logprob;
};
// A chosen token, its log-probability and the next choices the checks did
// not refuse (the search's branch points).
struct Step {
  int32_t token = -1;
  float logprob = 0;
  std::vector<Alternative> alternatives;
};

// What every decoding of one request shares.
struct Shared {
  const engine::Tokenizer& tokenizer;
  const DecodeOptions& options;
  std::vector<char> is_stop, is_forbidden;
  std::vector<int32_t> forbidden;
  std::string line_before;  // the last line before the cursor: all the API constraint looks at
};

// One greedy decoding after `prompt` from the hooks' state. `result.text`
// and `result.tokens` hold the completion before it (what the prompt's end
// already says) and grow. `steps`, when non-null, gets a Step per token
// generated. `stop_at`: when decoding must end (unset: the time budget after
// its first token). `record_prefix`: the prompt goes to the prefix store.
void run(ModelRunner::Lease& lease, std::span<const int32_t> prompt, SyntaxHooks* syntax, ApiConstraint* api,
         const Shared& shared, int max_tokens, std::optional<clock::time_point> stop_at, bool record_prefix,
         const CancellationToken& cancel, DecodeResult& result, std::vector<Step>* steps) {
  const engine::Tokenizer& tokenizer = shared.tokenizer;
  const DecodeOptions& options = shared.options;
  const std::vector<char>& is_stop = shared.is_stop;
  const size_t vocab = tokenizer.vocab_size();

  engine::Sampler sampler;  // greedy
  std::vector<char> allowed_mask;
  constexpr size_t kTop = 32;
  std::vector<std::pair<float, int32_t>> top, first_top;
  top.reserve(kTop + 1);
  std::vector<int32_t> refused;      // this step's candidates the checks refused
  std::deque<Step> decided;          // steps chosen in the mask, not yet streamed
  // The approved token is the only one left: the sampler's choice is it.
  auto keep_only = [&](std::span<float> logits, size_t id) {
    float v = logits[id];
    std::fill(logits.begin(), logits.end(), kForbidden);
    logits[id] = v;
  };
  sampler.set_mask([&](std::span<float> logits) {
    // The model's own distribution, before any mask: log-probabilities for
    // the search.
    float lse = 0;
    if (steps) {
      float mx = kForbidden;
      for (float x : logits) mx = std::max(mx, x);
      double sum = 0;
      for (float x : logits) sum += std::exp(static_cast<double>(x - mx));
      lse = mx + static_cast<float>(std::log(sum));
      refused.clear();
      first_top.clear();
    }
    auto record = [&](size_t id, float logit) {
      if (!steps) return;
      Step step;
      step.token = static_cast<int32_t>(id);
      step.logprob = logit - lse;
      for (const auto& [score, token] : first_top) {
        if (step.alternatives.size() >= options.search_alternatives) break;
        if (static_cast<size_t>(token) == id || std::find(refused.begin(), refused.end(), token) != refused.end())
          continue;
        if (score - lse < step.logprob - options.search_margin) break;
        step.alternatives.push_back({token, score - lse});
      }
      decided.push_back(std::move(step));
    };
    for (auto t : shared.forbidden)
      if (static_cast<size_t>(t) < logits.size()) logits[static_cast<size_t>(t)] = kForbidden;
    if (!options.banned_openers.empty() &&
        result.text.find_first_not_of(" \t\r\n", std::min(options.heal_trie ? options.heal.size() : 0, result.text.size())) ==
            std::string::npos)
      for (auto t : options.banned_openers)
        if (t >= 0 && static_cast<size_t>(t) < logits.size()) logits[static_cast<size_t>(t)] = kForbidden;
    if (options.heal_trie && result.text.size() < options.heal.size()) {
      // Token healing: only tokens that agree with the word's bytes still to write.
      const std::string_view left = std::string_view(options.heal).substr(result.text.size());
      allowed_mask.assign(logits.size(), 0);
      for (int32_t t : options.heal_trie->consistent_with(left))
        if (static_cast<size_t>(t) < logits.size()) allowed_mask[static_cast<size_t>(t)] = 1;
      for (size_t i = 0; i < logits.size(); ++i)
        if (!allowed_mask[i]) logits[i] = kForbidden;
    }
    if (api) {
      if (auto allowed = api->allowed(shared.line_before + result.text)) {
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
      if (steps && pass == 0) first_top = top;
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
          if (!ok && ++tries >= options.max_candidates) {
            if (steps) refused.push_back(token);
            break;
          }
        }
        if (!ok && steps) refused.push_back(token);
        if (ok && end_refused) {
          if (!fallback) fallback.emplace(id, logits[id]);
          auto t0 = clock::now();
          const bool closes = syntax->whole_after(piece);
          result.check_seconds += std::chrono::duration<double>(clock::now() - t0).count();
          if (closes) {
            if (id != fallback->first) ++result.closing_choices;
            record(id, logits[id]);
            keep_only(logits, id);
            return;
          }
          if (++closing_checks >= kClosingChecks) break;
          logits[id] = kForbidden;
          continue;
        }
        if (ok) {
          record(id, logits[id]);
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
      record(fallback->first, fallback->second);
      return;
    }
    // Nothing the model likes keeps the file viable: say nothing more.
    std::fill(logits.begin(), logits.end(), kForbidden);
  });

  engine::GenerateOptions gen;
  gen.max_tokens = max_tokens;
  gen.stop_tokens = options.stop_tokens;
  gen.speculate = options.speculate;
  gen.draft_sources = options.draft_sources;
  gen.prefix_store = record_prefix ? options.prefix_store : nullptr;
  gen.deadline = options.deadline;
  // How much of a draft the checks would let through after the text so far,
  // on copies of their state: the verification's rows go through the mask
  // above, which would refuse the same tokens.
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
      if (token < 0 || static_cast<size_t>(token) >= vocab || shared.is_forbidden[static_cast<size_t>(token)]) break;
      if (options.heal_trie && text.size() < options.heal.size()) {
        // Token healing: the mask allows only tokens that agree with the word's bytes still to write.
        const std::string_view left = std::string_view(options.heal).substr(text.size());
        const std::string bytes = is_stop[static_cast<size_t>(token)] ? std::string() : tokenizer.token_bytes(token);
        if (!TokenTrie::agrees_with(bytes, left)) break;
      }
      if (is_stop[static_cast<size_t>(token)]) {
        ++n;  // a stop token ends the completion: nothing after it matters
        break;
      }
      std::string piece = tokenizer.token_bytes(token);
      if (!keeps_text(std::string_view(text).substr(text.size() - pending_bytes(text)), piece)) break;
      if (api_copy) {
        auto allowed = api_copy->allowed(shared.line_before + text);
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
  auto on_token = [&](int32_t token, float) {
    if (!stop_at) stop_at = clock::now() + options.time_budget;
    if (steps) {
      if (!decided.empty() && decided.front().token == token) steps->push_back(std::move(decided.front()));
      else steps->push_back(Step{token, 0, {}});  // (not from the mask: no branch point)
      if (!decided.empty()) decided.pop_front();
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
    if (clock::now() >= *stop_at) {
      timed_out = true;
      return false;
    }
    return true;
  };
  result.stats = engine::generate(lease.session(), lease.history(), prompt, gen, sampler, on_token, cancel);
  if (result.stats.cancelled || cancel.cancelled()) result.end = DecodeEnd::Cancelled;
  else if (stop_token) result.end = DecodeEnd::StopToken;
  else if (complete) result.end = DecodeEnd::Complete;
  else if (timed_out || result.stats.timed_out) result.end = DecodeEnd::Timeout;
  else if (static_cast<int>(result.stats.generated_tokens) >= max_tokens) result.end = DecodeEnd::MaxTokens;
  else if (lease.session().length() >= lease.session().capacity()) result.end = DecodeEnd::ContextFull;
  else result.end = DecodeEnd::NoViableToken;
}

// A branch point of the search: the path up to it, the alternative taken
// there, and the log-probability of the path and the alternative.
struct Node {
  double score;
  std::vector<int32_t> path;
  Alternative alternative;
  bool operator<(const Node& other) const { return score < other.score; }
};

}  // namespace

DecodeResult decode(ModelRunner::Lease& lease, const engine::Tokenizer& tokenizer, std::span<const int32_t> prompt,
                    std::string_view text_before, SyntaxHooks* syntax, ApiConstraint* api,
                    const DecodeOptions& options, const CancellationToken& cancel) {
  DecodeResult result;
  const size_t vocab = tokenizer.vocab_size();
  Shared shared{tokenizer, options, std::vector<char>(vocab, 0), std::vector<char>(vocab, 0), {}, {}};

  // Special tokens the completion may not write; stop tokens end it instead.
  for (auto t : options.stop_tokens)
    if (t >= 0 && static_cast<size_t>(t) < vocab) shared.is_stop[static_cast<size_t>(t)] = 1;
  std::vector<int32_t> computed;
  if (!options.unwritable) computed = unwritable_tokens(tokenizer);
  for (auto t : options.unwritable ? *options.unwritable : computed)
    if (static_cast<size_t>(t) < vocab && !shared.is_stop[static_cast<size_t>(t)]) {
      shared.forbidden.push_back(t);
      shared.is_forbidden[static_cast<size_t>(t)] = 1;
    }
  size_t nl = text_before.rfind('\n');
  shared.line_before = std::string(nl == std::string_view::npos ? text_before : text_before.substr(nl + 1));

  // The search starts from the hooks' state before anything is accepted. A
  // single-line completion (a line break ends it) is searched only with
  // search_single_line.
  std::unique_ptr<SyntaxHooks> base;
  if (syntax && syntax->can_adopt() && options.search_branches > 0 && options.max_tokens > 0 &&
      (options.search_single_line || !syntax->ends_with("\n")))
    base = syntax->fork();
  std::vector<Step> steps;
  clock::time_point started = clock::now();
  run(lease, prompt, syntax, api, shared, options.max_tokens, std::nullopt, true, cancel, result,
      base ? &steps : nullptr);

  bool failed = result.end == DecodeEnd::MaxTokens || result.end == DecodeEnd::NoViableToken;
  if (base && !cancel.cancelled() && (failed || result.end == DecodeEnd::Complete)) {
    auto t0 = clock::now();
    failed = failed ? !syntax->has_whole_part() : syntax->kept_lacks_whole_part();
    result.check_seconds += std::chrono::duration<double>(clock::now() - t0).count();
  }
  if (base && failed && !cancel.cancelled()) {
    const auto search_t0 = clock::now();
    // Time left: the budget counts from the first token (as greedy's) or,
    // without one, from the start of decoding; the deadline caps it.
    clock::time_point end = started + std::chrono::duration_cast<clock::duration>(
                                          std::chrono::duration<double>(result.stats.prefill_seconds)) +
                            options.time_budget;
    if (options.deadline != clock::time_point{}) end = std::min(end, options.deadline);
    end = std::min(end, search_t0 + std::chrono::duration_cast<clock::duration>(options.search_time));
    std::priority_queue<Node> queue;
    auto push_steps = [&](double score, const std::vector<int32_t>& tokens, size_t first,
                          const std::vector<Step>& from) {
      for (size_t i = 0; i < from.size() && first + i <= tokens.size(); ++i) {
        for (const Alternative& alt : from[i].alternatives) {
          Node node{score + alt.logprob, std::vector<int32_t>(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(first + i)), alt};
          queue.push(std::move(node));
        }
        score += from[i].logprob;
      }
    };
    push_steps(0, result.tokens, 0, steps);
    const size_t capacity = lease.session().capacity();
    while (!queue.empty() && result.search.branches < options.search_branches &&
           result.search.tokens < options.search_tokens && clock::now() < end && !cancel.cancelled()) {
      Node node = queue.top();
      queue.pop();
      if (node.path.size() + 1 > static_cast<size_t>(options.max_tokens) ||
          prompt.size() + node.path.size() + 2 >= capacity)
        continue;
      ++result.search.branches;
      DecodeResult branch;
      auto t0 = clock::now();
      std::unique_ptr<SyntaxHooks> hooks = base->fork();
      if (!hooks) break;
      for (int32_t t : node.path) {
        std::string piece = tokenizer.token_bytes(t);
        hooks->accept(piece);
        branch.text += piece;
      }
      branch.tokens = node.path;
      const int32_t alt = node.alternative.token;
      bool whole = false;
      if (shared.is_stop[static_cast<size_t>(alt)]) {
        whole = branch.text.find_first_not_of(" \t\r\n") != std::string::npos && hooks->may_end();
        branch.end = DecodeEnd::StopToken;
      } else {
        const std::string piece = tokenizer.token_bytes(alt);
        std::string_view pending =
            std::string_view(branch.text).substr(branch.text.size() - pending_bytes(branch.text));
        if (!keeps_text(pending, piece) || !hooks->viable(piece)) {
          result.check_seconds += std::chrono::duration<double>(clock::now() - t0).count();
          continue;
        }
        hooks->accept(piece);
        branch.text += piece;
        branch.tokens.push_back(alt);
        if (hooks->should_stop()) {
          whole = hooks->kept_whole();
          branch.end = DecodeEnd::Complete;
        }
      }
      result.check_seconds += std::chrono::duration<double>(clock::now() - t0).count();
      if (!whole && !shared.is_stop[static_cast<size_t>(alt)] && branch.end != DecodeEnd::Complete) {
        // Greedy from the alternative on, in the same slot (its cache holds
        // the prompt and the path up to where the last decoding diverged).
        std::vector<int32_t> branch_prompt(prompt.begin(), prompt.end());
        branch_prompt.insert(branch_prompt.end(), branch.tokens.begin(), branch.tokens.end());
        std::optional<ApiConstraint> api_copy;
        if (api) api_copy.emplace(*api);
        std::vector<Step> branch_steps;
        const size_t before = branch.tokens.size();
        const int left = std::min(options.max_tokens - static_cast<int>(before),
                                  static_cast<int>(options.search_branch_tokens));
        if (left > 0) {
          run(lease, branch_prompt, hooks.get(), api_copy ? &*api_copy : nullptr, shared, left, end, false, cancel,
              branch, &branch_steps);
        } else {
          branch.end = DecodeEnd::MaxTokens;
        }
        result.search.tokens += branch.stats.generated_tokens;
        result.stats.decode_seconds += branch.stats.decode_seconds + branch.stats.prefill_seconds;
        result.stats.forward_passes += branch.stats.forward_passes;
        result.check_seconds += branch.check_seconds;
        result.rejected += branch.rejected;
        result.closing_choices += branch.closing_choices;
        result.restricted += branch.restricted;
        if (branch.end == DecodeEnd::Cancelled) break;
        auto t1 = clock::now();
        if (branch.end == DecodeEnd::StopToken) whole = true;  // the checks allowed the end
        else if (branch.end == DecodeEnd::Complete) whole = hooks->kept_whole();
        else if (branch.end == DecodeEnd::MaxTokens) whole = hooks->may_end();
        result.check_seconds += std::chrono::duration<double>(clock::now() - t1).count();
        if (!whole && branch.end != DecodeEnd::Complete)
          push_steps(node.score, branch.tokens, before, branch_steps);
      }
      // An answer of blanks is no answer (Complete: kept_whole says so of
      // what the stop rule keeps).
      if (whole && branch.end != DecodeEnd::Complete && branch.text.find_first_not_of(" \t\r\n") == std::string::npos)
        whole = false;
      if (!whole) continue;
      // The answer: the hooks take the branch's state over.
      if (!syntax->adopt(*hooks)) break;
      if (branch.end == DecodeEnd::Complete) syntax->should_stop();  // the stop rule's cut, over the adopted text
      result.search.found = true;
      result.text = std::move(branch.text);
      result.tokens = std::move(branch.tokens);
      result.end = branch.end;
      result.stats.generated_tokens = result.tokens.size();
      break;
    }
    result.search.seconds = std::chrono::duration<double>(clock::now() - search_t0).count();
  }
  // A character left unfinished by the last token is not text.
  result.text.resize(result.text.size() - pending_bytes(result.text));
  return result;
}

}  // namespace astfill::completion
