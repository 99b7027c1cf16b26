// API suggestions (textDocument/completion): the members and functions the
// index knows for the identifier at the cursor, ranked by the model.
//
// Candidates: after `receiver.` the receiver's members (completion/
// receivers.h), else the definitions whose name starts with what is typed
// (index, then the current file). Ranking: the prompt ends where the
// identifier starts; each candidate's score is the log-probability the model
// gives its tokens there. Candidates that share leading tokens share their
// evaluation; single-token ones cost nothing beyond the prompt. Past the time
// budget the rest keep the index's order after the ranked ones.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <span>

#include "completion/model_prompt.h"
#include "completion/receivers.h"
#include "completion/service.h"
#include "engine/generate.h"
#include "engine/logprobs.h"
#include "parsing/extract.h"
#include "parsing/identifiers.h"

namespace astfill::completion {
namespace {

constexpr size_t kMaxCandidates = 40;

bool starts_with_ci(std::string_view s, std::string_view p) {
  if (p.size() > s.size()) return false;
  for (size_t i = 0; i < p.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(p[i]))) return false;
  return true;
}

ApiSuggestion suggestion_of(const index::Symbol& s) {
  ApiSuggestion a;
  a.label = s.name;
  a.detail = s.signature;
  a.documentation = s.doc;
  a.kind = s.kind;
  return a;
}

}  // namespace

ApiSuggestionResult CompletionService::suggest_api(const ApiSuggestionRequest& request, const CancellationToken& cancel,
                                                   Progress&) const {
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  ApiSuggestionResult result;
  if (!request.options.enabled_for(request.document.language_id)) {
    result.empty_reason = EmptyReason::Disabled;
    return result;
  }
  const std::string& text = *request.document.text;
  size_t cursor = std::min(request.offset, text.size());
  const std::string& lang = request.document.language_id;
  size_t start = parsing::identifier_run_begin(lang, text, cursor);
  std::string typed = text.substr(start, cursor - start);
  std::string path = request.project.path.empty() ? request.document.uri : request.project.path;
  // The document's tree when the workspace brought one for this very text.
  const parsing::Document* tree =
      request.document.parsed && request.document.parsed->text() == text ? request.document.parsed.get() : nullptr;

  // Candidates, best known first, one per name.
  std::vector<index::Symbol> found;
  auto access = member_access_at_end(std::string_view(text).substr(0, cursor), lang);
  if (access) {
    ReceiverContext rc{request.project.index.get(), request.project.root, path, lang, text, cursor, tree};
    for (auto& s : member_symbols(rc, *access))
      if (starts_with_ci(s.name, typed)) found.push_back(std::move(s));
  } else if (!typed.empty()) {
    auto current = tree ? parsing::extract_symbols(*tree) : parsing::extract_symbols(lang, text);
    for (auto& d : current.definitions)
      if (d.name.starts_with(typed) && d.name != typed) {
        index::Symbol s;
        s.name = d.name;
        s.kind = d.kind;
        s.signature = d.signature;
        s.doc = d.doc;
        s.container = d.container;
        s.path = path;
        found.push_back(std::move(s));
      }
    if (request.project.index)
      for (auto& s : request.project.index->symbols_with_prefix(typed, 200))
        if (s.name != typed) found.push_back(std::move(s));
  }
  std::set<std::string> seen;
  for (auto& s : found) {
    if (!seen.insert(s.name).second) continue;
    auto a = suggestion_of(s);
    a.replace_begin = start;
    a.replace_end = cursor;
    result.items.push_back(std::move(a));
    if (result.items.size() >= kMaxCandidates) break;
  }
  auto runner = this->runner();
  if (result.items.size() < 2 || !runner) {
    if (!runner) result.empty_reason = result.items.empty() ? EmptyReason::NoModel : EmptyReason::None;
    return result;
  }

  // Rank with the model.
  const auto& tokenizer = runner->tokenizer();
  ModelPromptRequest pr;
  pr.index = request.options.cross_file_tokens > 0 ? request.project.index.get() : nullptr;
  pr.path = path;
  pr.language_id = lang;
  pr.text = text;
  pr.cursor = start;
  pr.suffix_begin = cursor;
  pr.repo_name = request.project.name;
  pr.budgets = budgets_for(request.options, runner->options().context_tokens, 16);
  const FimTemplate& fim = template_for(tokenizer, request.options.fim_template);
  ModelPrompt prompt = build_model_prompt(tokenizer, fim, pr, cancel);
  // Scoring suggestions never takes the focus from the inline completion.
  auto lease = runner->acquire(request.document.uri, cancel, runner->adapters(adapter_specs(request.options)),
                               /*focused=*/false);
  if (!lease || cancel.cancelled()) return result;
  auto& session = lease->session();
  auto& history = lease->history();
  const size_t vocab = tokenizer.vocab_size();
  if (prompt.tokens.empty() || prompt.tokens.size() + 16 > session.capacity()) return result;

  // The prompt, reusing what the slot holds.
  engine::PrefillResult prefilled = engine::prefill(session, history, prompt.tokens, 512, cancel);
  if (prefilled.cancelled) return result;
  const std::vector<float>& last = prefilled.logits;
  const size_t base = history.size();

  // Each candidate's tokens; evaluations shared by common leading tokens.
  std::vector<std::vector<int32_t>> tokens;
  for (auto& item : result.items) tokens.push_back(tokenizer.encode(item.label, false));
  std::map<std::vector<int32_t>, std::vector<float>> rows;  // leading tokens -> logits after them
  auto budget = std::chrono::milliseconds(std::max(request.options.timeout_ms, 50u));
  std::vector<double> score(result.items.size(), -INFINITY);
  std::vector<bool> ranked(result.items.size(), false);
  for (size_t i = 0; i < result.items.size(); ++i) {
    if (cancel.cancelled() || clock::now() - t0 > budget) break;
    const auto& t = tokens[i];
    if (t.empty()) continue;
    double s = engine::log_probability(last, t[0]);
    if (t.size() > 1) {
      std::vector<int32_t> lead(t.begin(), t.end() - 1);
      auto it = rows.find(lead);
      if (it == rows.end()) {
        engine::Session::Batch batch{lead, {}, std::vector<bool>(lead.size(), true)};
        auto logits = session.evaluate(batch, cancel);
        session.truncate(base);
        if (logits.empty()) break;
        it = rows.emplace(std::move(lead), std::move(logits)).first;
      }
      for (size_t k = 1; k < t.size(); ++k)
        s += engine::log_probability(std::span<const float>(it->second).subspan((k - 1) * vocab, vocab), t[k]);
    }
    score[i] = s;
    ranked[i] = true;
  }
  // Ranked ones by score, then the rest in their order.
  std::vector<size_t> order(result.items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) -> bool {
    if (ranked[a] != ranked[b]) return ranked[a];
    return ranked[a] && score[a] > score[b];
  });
  std::vector<ApiSuggestion> sorted;
  for (size_t i : order) {
    result.items[i].score = ranked[i] ? score[i] : 0;
    sorted.push_back(std::move(result.items[i]));
  }
  result.items = std::move(sorted);
  result.ranked = true;
  return result;
}

}  // namespace astfill::completion
