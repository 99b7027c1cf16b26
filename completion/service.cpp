#include "completion/service.h"

#include <chrono>

#include "completion/decoder.h"
#include "completion/model_prompt.h"
#include "completion/postprocess.h"
#include "completion/receivers.h"
#include "completion/stopping.h"
#include "completion/syntax_guard.h"
#include "support/log.h"

namespace astfill::completion {
namespace {

using clock = std::chrono::steady_clock;

double ms_since(clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
}

// The decoder's hooks over the syntax guard and the stop rule. Without
// constraints every candidate is viable, but the stop rule still ends the
// completion where the code does.
class GuardHooks final : public SyntaxHooks {
 public:
  GuardHooks(SyntaxGuard& guard, StopRule& stop, bool constrain) : guard_(guard), stop_(stop), constrain_(constrain) {}
  bool viable(std::string_view piece) override { return !constrain_ || guard_.viable(piece); }
  void accept(std::string_view piece) override { guard_.accept(piece); }
  bool should_stop() override { return stop_.should_stop(); }

 private:
  SyntaxGuard& guard_;
  StopRule& stop_;
  bool constrain_;
};

// The rest of the cursor's line.
std::string_view line_rest(std::string_view text, size_t offset) {
  std::string_view rest = text.substr(std::min(offset, text.size()));
  return rest.substr(0, rest.find('\n'));
}

// For a fill: the placeholder body at the cursor's line that the fill
// replaces (`pass`, `...`, `todo!()`, a TODO comment), as [begin, end).
std::pair<size_t, size_t> placeholder_at(std::string_view text, size_t offset) {
  size_t line_start = 0;
  if (offset > 0) {
    size_t nl = text.rfind('\n', offset - 1);
    line_start = nl == std::string_view::npos ? 0 : nl + 1;
  }
  size_t line_end = text.find('\n', offset);
  if (line_end == std::string_view::npos) line_end = text.size();
  std::string_view line = text.substr(line_start, line_end - line_start);
  size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {offset, offset};
  std::string_view body = line.substr(first);
  while (!body.empty() && (body.back() == ' ' || body.back() == '\t' || body.back() == '\r')) body.remove_suffix(1);
  for (std::string_view p : {"pass", "...", "todo!()", "unimplemented!()", "// TODO", "# TODO", "/* TODO */"}) {
    bool comment = p.starts_with("//") || p.starts_with("#") || p.starts_with("/*");
    if (body == p || (comment && body.starts_with(p))) return {line_start + first, line_start + first + body.size()};
  }
  return {offset, offset};
}

// `text` (a prefix when keep_end, else a suffix) cut to at most about `max`
// bytes at a boundary between top-level statements.
std::string near_cursor(std::string_view language, const std::string& text, size_t max, bool keep_end) {
  if (text.size() <= max) return text;
  parsing::Document doc(language, text);
  if (doc.status() == parsing::ParseStatus::Parsed) {
    TSNode root = doc.root();
    uint32_t n = ts_node_child_count(root);
    if (keep_end) {
      for (uint32_t i = 0; i < n; ++i) {
        uint32_t start = ts_node_start_byte(ts_node_child(root, i));
        if (start >= text.size() - max) return text.substr(start);
      }
    } else {
      uint32_t end = 0;
      for (uint32_t i = 0; i < n; ++i) {
        uint32_t e = ts_node_end_byte(ts_node_child(root, i));
        if (e > max) break;
        end = e;
      }
      if (end > 0) return text.substr(0, end);
    }
  }
  // No grammar, or one statement spans the whole window: cut at a line.
  if (keep_end) {
    size_t from = text.find('\n', text.size() - max);
    return from == std::string::npos ? text.substr(text.size() - max) : text.substr(from + 1);
  }
  size_t to = text.rfind('\n', max);
  return text.substr(0, to == std::string::npos ? max : to + 1);
}

// Whether prefix + completion + suffix has more syntax errors than prefix +
// suffix.
bool introduces_errors(std::string_view language, std::string_view prefix, std::string_view completion,
                       std::string_view suffix) {
  std::string without(prefix);
  without.append(suffix);
  std::string with(prefix);
  with.append(completion).append(suffix);
  parsing::Document before(language, std::move(without)), after(language, std::move(with));
  if (after.status() != parsing::ParseStatus::Parsed) return false;
  return count_syntax_errors(after) > count_syntax_errors(before);
}

}  // namespace

const char* to_string(EmptyReason reason) {
  switch (reason) {
    case EmptyReason::None: return "none";
    case EmptyReason::Disabled: return "completions are disabled for this language";
    case EmptyReason::NoModel: return "no model is loaded";
    case EmptyReason::NothingToSay: return "the model had nothing valid to add";
  }
  return "unknown";
}

CompletionService::CompletionService(ServiceOptions options)
    : options_(std::move(options)), cache_(options_.cache_entries) {}

CompletionService::~CompletionService() = default;

void CompletionService::load_model(const std::string& path) {
  RunnerOptions r;
  r.model_path = path;
  r.load = options_.load;
  r.context_tokens = options_.context_tokens;
  r.slots = options_.slots;
  auto runner = std::make_shared<ModelRunner>(std::move(r));
  std::lock_guard lock(mu_);
  runner_ = std::move(runner);
}

bool CompletionService::has_model() const {
  std::lock_guard lock(mu_);
  return runner_ != nullptr;
}

std::string CompletionService::model_path() const {
  std::lock_guard lock(mu_);
  return runner_ ? runner_->options().model_path : std::string();
}

std::shared_ptr<ModelRunner> CompletionService::runner() const {
  std::lock_guard lock(mu_);
  return runner_;
}

struct CompletionService::Generation {
  std::string text;
  CompletionDetails details;
  bool cancelled = false;
};

CompletionService::Generation CompletionService::generate(const DocumentText& document, size_t cursor,
                                                          size_t replace_end, const Options& options,
                                                          const ProjectContext& project, bool fill,
                                                          const CancellationToken& cancel) const {
  auto t0 = clock::now();
  Generation g;
  auto runner = this->runner();
  const auto& tokenizer = runner->tokenizer();
  std::string_view text = *document.text;
  std::string prefix(text.substr(0, cursor));
  std::string suffix(text.substr(replace_end));

  int max_tokens = static_cast<int>(fill ? std::max(4u * options.max_tokens, 256u) : options.max_tokens);
  auto timeout = std::chrono::milliseconds(fill ? std::max(10u * options.timeout_ms, 5000u) : options.timeout_ms);

  ModelPromptRequest pr;
  pr.index = options.cross_file_tokens > 0 ? project.index.get() : nullptr;
  pr.path = project.path.empty() ? document.uri : project.path;
  pr.language_id = document.language_id;
  pr.text = text;
  pr.cursor = cursor;
  pr.suffix_begin = replace_end;
  pr.repo_name = project.name;
  if (options.cross_file_tokens > 0) pr.recent_edits = project.recent_edits;
  Options budget_options = options;
  if (fill) budget_options.cross_file_tokens = std::max(budget_options.cross_file_tokens, 2048u);
  pr.budgets = budgets_for(budget_options, runner->options().context_tokens, static_cast<size_t>(max_tokens));
  const FimTemplate& fim = template_for(tokenizer, options.fim_template);
  ModelPrompt prompt = build_model_prompt(tokenizer, fim, pr, cancel);
  g.details.context = prompt.report;
  if (cancel.cancelled()) {
    g.cancelled = true;
    return g;
  }
  // A prompt the slot cannot hold with room to generate is cut from the
  // front (the context files go first, the cursor stays).
  size_t capacity = runner->options().context_tokens;
  if (prompt.tokens.size() + static_cast<size_t>(max_tokens) + 1 > capacity) {
    size_t keep = capacity > static_cast<size_t>(max_tokens) + 1 ? capacity - static_cast<size_t>(max_tokens) - 1 : 0;
    prompt.tokens.erase(prompt.tokens.begin(), prompt.tokens.end() - static_cast<std::ptrdiff_t>(std::min(keep, prompt.tokens.size())));
  }

  CompletionMode mode = fill ? CompletionMode::MultiLine : mode_at(document.language_id, prefix, suffix);
  g.details.mode = to_string(mode);
  // Each check copies the text the guard holds and reparses it
  // incrementally: a file of any usual size is held whole. Past 1 MiB of
  // prefix (256 KiB of suffix) the guard holds the code near the cursor, cut
  // where a top-level statement starts (a cut inside a multi-line string
  // would turn code into text and text into code).
  SyntaxGuard guard(document.language_id, near_cursor(document.language_id, prefix, 1 << 20, true),
                    near_cursor(document.language_id, suffix, 256 << 10, false), cancel);
  StopRule stop(guard, mode);
  GuardHooks hooks(guard, stop, options.constrain);

  ReceiverContext receivers{project.index.get(), project.root, pr.path, document.language_id, text, cursor};
  std::optional<ApiConstraint> api;
  if (options.constrain && options.api_constraint)
    api.emplace(runner->trie(), document.language_id,
                [&](const MemberAccess& access) { return resolve_members(receivers, access); });

  auto lease = runner->acquire(document.uri, cancel);
  if (!lease) {
    g.cancelled = true;
    return g;
  }
  DecodeOptions d;
  d.max_tokens = max_tokens;
  d.time_budget = timeout;
  d.stop_tokens = prompt.stop_tokens;
  d.unwritable = &runner->unwritable_tokens();
  DecodeResult r = decode(*lease, tokenizer, prompt.tokens, prefix, &hooks, api ? &*api : nullptr, d, cancel);
  g.details.prompt_tokens = r.stats.prompt_tokens;
  g.details.reused_tokens = r.stats.reused_tokens;
  g.details.generated_tokens = r.stats.generated_tokens;
  g.details.prefill_ms = r.stats.prefill_seconds * 1000;
  g.details.decode_ms = r.stats.decode_seconds * 1000;
  g.details.end = to_string(r.end);
  g.details.rejected = r.rejected;
  g.details.restricted = r.restricted;
  g.details.check_ms = r.check_seconds * 1000;
  g.details.raw = guard.completion();
  if (r.end == DecodeEnd::Cancelled) {
    g.cancelled = true;
    return g;
  }
  // What the guard accepted, less a character the last token left unfinished.
  std::string out = guard.completion().substr(0, r.text.size());
  if (r.end == DecodeEnd::Complete) {
    out.resize(std::min(stop.keep(), out.size()));
  } else if (r.end != DecodeEnd::StopToken) {
    // Cut by a cap (or nothing viable): keep the longest part that leaves
    // the file valid.
    out.resize(std::min(guard.longest_valid_prefix(), out.size()));
  }
  if (options.constrain && !out.empty() && introduces_errors(document.language_id, guard.prefix(), out, guard.suffix())) {
    // The checks look at the code before the frontier; the finished text
    // meets the suffix too. Fall back to the longest valid part.
    size_t valid = guard.longest_valid_prefix();
    out.resize(valid <= out.size() ? valid : 0);
  }
  g.text = postprocess(document.language_id, prefix, suffix, out, mode);
  g.details.elapsed_ms = ms_since(t0);
  return g;
}

InlineCompletionResult CompletionService::complete_inline(const InlineCompletionRequest& request,
                                                          const CancellationToken& cancel, Progress&) const {
  InlineCompletionResult result;
  auto t0 = clock::now();
  if (!request.options.enabled_for(request.document.language_id)) {
    result.empty_reason = EmptyReason::Disabled;
    return result;
  }
  if (!has_model()) {
    result.empty_reason = EmptyReason::NoModel;
    return result;
  }
  const std::string& text = *request.document.text;
  size_t cursor = std::min(request.offset, text.size());
  std::string_view prefix = std::string_view(text).substr(0, cursor);
  std::string_view rest = line_rest(text, cursor);
  if (auto hit = cache_.lookup(request.document.uri, prefix, rest)) {
    result.items.push_back({hit->rest, cursor, cursor});
    result.details.from_cache = true;
    result.details.elapsed_ms = ms_since(t0);
    return result;
  }
  Generation g = generate(request.document, cursor, cursor, request.options, request.project, false, cancel);
  result.details = std::move(g.details);
  if (g.cancelled) return result;
  if (g.text.empty()) {
    result.empty_reason = EmptyReason::NothingToSay;
    return result;
  }
  cache_.put(request.document.uri, prefix, rest, g.text);
  result.items.push_back({std::move(g.text), cursor, cursor});
  return result;
}

FillResult CompletionService::fill(const FillRequest& request, const CancellationToken& cancel, Progress& progress) const {
  FillResult result;
  if (!request.options.enabled_for(request.document.language_id)) {
    result.empty_reason = EmptyReason::Disabled;
    return result;
  }
  if (!has_model()) {
    result.empty_reason = EmptyReason::NoModel;
    return result;
  }
  const std::string& text = *request.document.text;
  size_t cursor = std::min(request.offset, text.size());
  auto [begin, end] = placeholder_at(text, cursor);
  progress.report(std::nullopt, "writing");
  Generation g = generate(request.document, begin, end, request.options, request.project, true, cancel);
  result.details = std::move(g.details);
  if (g.cancelled) return result;
  result.replace_begin = begin;
  result.replace_end = end;
  result.text = std::move(g.text);
  if (result.text.empty()) result.empty_reason = EmptyReason::NothingToSay;
  return result;
}

}  // namespace astfill::completion
