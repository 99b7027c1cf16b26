#include "completion/service.h"

#include <chrono>

#include "completion/decoder.h"
#include "completion/guard_hooks.h"
#include "completion/model_prompt.h"
#include "completion/healing.h"
#include "completion/postprocess.h"
#include "completion/receivers.h"
#include "completion/remote_decoder.h"
#include "trust/secret_stream.h"
#include "completion/stopping.h"
#include "completion/syntax_guard.h"
#include "support/log.h"

namespace astfill::completion {
namespace {

using clock = std::chrono::steady_clock;

double ms_since(clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
}

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

// The document's text parsed: the request's tree when it is that text's,
// else one full parse.
// The parse stops at `timeout` (then the tree is not Parsed and the caller
// works from a window of the text around the cursor instead).
std::shared_ptr<const parsing::Document> parsed_document(const DocumentText& document,
                                                         const CancellationToken& cancel,
                                                         std::chrono::milliseconds timeout) {
  const parsing::Document* given = document.parsed.get();
  if (given && given->status() == parsing::ParseStatus::Parsed &&
      given->language() == parsing::find_language(document.language_id) && given->text() == *document.text)
    return document.parsed;
  return std::make_shared<const parsing::Document>(document.language_id, *document.text,
                                                   parsing::ParseLimits{cancel, std::max(timeout, std::chrono::milliseconds(1))});
}

// What is left of a time cap that started at `started`, never negative.
std::chrono::milliseconds left_of(clock::time_point started, std::chrono::milliseconds cap) {
  auto used = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started);
  return used >= cap ? std::chrono::milliseconds(0) : cap - used;
}

// Without a tree of the whole document (its parse did not fit in the time
// cap), the syntax guard holds this much around the cursor, cut at lines: a
// window that parses in milliseconds, so a huge document still gets a
// checked completion within its cap.
constexpr size_t kWindowPrefixBytes = 64 << 10;
constexpr size_t kWindowSuffixBytes = 16 << 10;

// Where the text before `cursor` is cut to keep at most about `max` bytes:
// at the start of a top-level statement of `doc` (the document parsed), else
// at a line. 0 when the whole fits.
size_t prefix_begin(const parsing::Document* doc, std::string_view text, size_t cursor, size_t max) {
  if (cursor <= max) return 0;
  if (doc && doc->status() == parsing::ParseStatus::Parsed) {
    TSNode root = doc->root();
    for (uint32_t i = 0, n = ts_node_child_count(root); i < n; ++i) {
      uint32_t start = ts_node_start_byte(ts_node_child(root, i));
      if (start >= cursor) break;
      if (start >= cursor - max) return start;
    }
  }
  // No grammar, or one statement spans the whole window: cut at a line.
  size_t from = text.find('\n', cursor - max);
  return from == std::string::npos || from >= cursor ? cursor - max : from + 1;
}

// Where the text after `from` is cut to keep at most about `max` bytes, the
// same way: at the end of a top-level statement, else at a line.
size_t suffix_end(const parsing::Document* doc, std::string_view text, size_t from, size_t max) {
  if (text.size() - from <= max) return text.size();
  if (doc && doc->status() == parsing::ParseStatus::Parsed) {
    TSNode root = doc->root();
    size_t end = 0;
    for (uint32_t i = 0, n = ts_node_child_count(root); i < n; ++i) {
      uint32_t e = ts_node_end_byte(ts_node_child(root, i));
      if (e <= from) continue;
      if (e - from > max) break;
      end = e - from;
    }
    if (end > 0) return from + end;
  }
  size_t to = text.rfind('\n', from + max);
  return to == std::string::npos || to < from ? from + max : to + 1;
}

// `doc` cut to [begin, cursor) + [resume, end): a copy with the rest taken
// away (incremental reparses), or `doc` itself when nothing is cut.
std::shared_ptr<const parsing::Document> cut(std::shared_ptr<const parsing::Document> doc, size_t begin,
                                             size_t cursor, size_t resume, size_t end,
                                             const CancellationToken& cancel) {
  if (begin == 0 && cursor == resume && end == doc->text().size()) return doc;
  auto out = std::make_shared<parsing::Document>(*doc);
  parsing::ParseLimits limits{cancel};
  if (end < out->text().size()) out->edit(static_cast<uint32_t>(end), static_cast<uint32_t>(out->text().size()), "", limits);
  if (resume > cursor) out->edit(static_cast<uint32_t>(cursor), static_cast<uint32_t>(resume), "", limits);
  if (begin > 0) out->edit(0, static_cast<uint32_t>(begin), "", limits);
  return out;
}

}  // namespace

std::chrono::milliseconds time_cap(const Options& options, bool fill) {
  return std::chrono::milliseconds(fill ? std::max(10u * options.timeout_ms, 5000u) : options.timeout_ms);
}

const char* to_string(EmptyReason reason) {
  switch (reason) {
    case EmptyReason::None: return "none";
    case EmptyReason::Disabled: return "completions are disabled for this language";
    case EmptyReason::NoModel: return "no model is loaded";
    case EmptyReason::NothingToSay: return "the model had nothing valid to add";
    case EmptyReason::TimedOut: return "timed out";
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
                                                          clock::time_point started,
                                                          const CancellationToken& cancel) const {
  auto t0 = started;
  Generation g;
  auto runner = this->runner();
  const auto& tokenizer = runner->tokenizer();
  std::string_view text = *document.text;
  std::string prefix(text.substr(0, cursor));
  std::string suffix(text.substr(replace_end));

  int max_tokens = static_cast<int>(fill ? std::max(4u * options.max_tokens, 256u) : options.max_tokens);
  auto timeout = time_cap(options, fill);

  // Token healing (completion/healing.h): the word the cursor is in leaves
  // the prompt and is written again first. Not with a remote backend (its
  // server samples without our mask).
  const std::string heal = options.heal && !options.backend.remote() ? word_to_heal(prefix) : std::string();
  g.details.healed = heal;

  ModelPromptRequest pr;
  pr.index = options.cross_file_tokens > 0 ? project.index.get() : nullptr;
  pr.path = project.path.empty() ? document.uri : project.path;
  pr.language_id = document.language_id;
  pr.text = text;
  pr.cursor = cursor - heal.size();
  pr.suffix_begin = replace_end;
  pr.repo_name = project.name;
  if (options.cross_file_tokens > 0) pr.recent_edits = project.recent_edits;
  pr.open_paths = project.open_paths;
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
  // The time cap covers everything the request does: what context building
  // and parsing used is not left for decoding.
  auto timed_out = [&] {
    g.details.timed_out = true;
    g.details.end = "time cap";
    g.details.elapsed_ms = ms_since(t0);
    return std::move(g);
  };
  if (left_of(t0, timeout).count() == 0) return timed_out();
  // A prompt the slot cannot hold with room to generate is cut from the
  // front (the context files go first, the cursor stays).
  size_t capacity = runner->options().context_tokens;
  if (prompt.tokens.size() + static_cast<size_t>(max_tokens) + 1 > capacity) {
    size_t keep = capacity > static_cast<size_t>(max_tokens) + 1 ? capacity - static_cast<size_t>(max_tokens) - 1 : 0;
    prompt.tokens.erase(prompt.tokens.begin(), prompt.tokens.end() - static_cast<std::ptrdiff_t>(std::min(keep, prompt.tokens.size())));
  }

  // The document is parsed once (not at all when the request brings its
  // tree); every other tree below is a copy of it edited and reparsed
  // incrementally.
  // The whole document's parse may take at most half of what is left, so
  // that a huge document still leaves time to decode.
  std::shared_ptr<const parsing::Document> parsed =
      document.parse_timed_out ? nullptr : parsed_document(document, cancel, left_of(t0, timeout) / 2);
  if (cancel.cancelled()) {
    g.cancelled = true;
    return g;
  }
  const bool whole_tree = parsed && parsed->status() != parsing::ParseStatus::TimedOut &&
                          parsed->status() != parsing::ParseStatus::Cancelled;
  // Each check copies the text the guard holds and reparses it
  // incrementally, at a cost that grows with the text (~100 ms a check for
  // 1 MiB): a file of any usual size is held whole. Past 256 KiB of prefix
  // (64 KiB of suffix) the guard holds the code near the cursor, cut
  // where a top-level statement starts (a cut inside a multi-line string
  // would turn code into text and text into code). Without a whole tree
  // (its parse ran out of time) the window is smaller and cut at lines.
  if (!whole_tree) parsed.reset();  // a partial tree: nothing below may read it
  size_t begin = prefix_begin(parsed.get(), text, cursor, whole_tree ? size_t{256} << 10 : kWindowPrefixBytes);
  size_t end = suffix_end(parsed.get(), text, replace_end, whole_tree ? size_t{64} << 10 : kWindowSuffixBytes);
  std::string guard_prefix(text.substr(begin, cursor - begin)), guard_suffix(text.substr(replace_end, end - replace_end));
  CompletionMode mode = fill         ? CompletionMode::MultiLine
                        : whole_tree ? mode_at(document.language_id, prefix, suffix, parsed.get())
                                     : mode_at(document.language_id, guard_prefix, guard_suffix, nullptr);
  g.details.mode = to_string(mode);
  SyntaxGuard guard(document.language_id, std::move(guard_prefix), std::move(guard_suffix), cancel,
                    whole_tree ? cut(parsed, begin, cursor, replace_end, end, cancel) : nullptr);
  if (left_of(t0, timeout).count() == 0) return timed_out();
  // Without a whole tree the receivers are resolved from the guard's window
  // (parsing the whole text here would break the time cap again).
  std::string_view receiver_text = whole_tree ? text : text.substr(begin, end - begin);
  ReceiverContext receivers{project.index.get(), project.root, pr.path, document.language_id, receiver_text,
                            whole_tree ? cursor : cursor - begin, parsed.get()};

  // One decoding from `guard`'s state, judged: the answer (whole, or empty
  // under the constraints), what the model wrote, and how decoding went.
  // `banned`: tokens refused while the answer holds only blanks (a retry).
  struct Attempt {
    DecodeResult r;
    std::string text, raw;
    bool secret_cut = false;
    std::optional<int32_t> opener;  // the first token written with more than blanks in it
  };
  // The document's slot, held for every attempt (none with a remote
  // backend). A fill does not take the focus from the newest inline
  // completion, nor go first (model_runner.h).
  std::optional<ModelRunner::Lease> lease =
      options.backend.remote()
          ? std::optional<ModelRunner::Lease>()
          : runner->acquire(document.uri, cancel, runner->adapters(adapter_specs(options)), /*focused=*/!fill);
  if (!options.backend.remote() && !lease) {
    g.cancelled = true;
    return g;
  }
  auto attempt = [&](SyntaxGuard& guard, const std::vector<int32_t>& banned) -> Attempt {
    Attempt a;
    StopRule stop(guard, mode);
    trust::SecretStreamCheck secrets(prefix, suffix);
    GuardHooks hooks(guard, stop, options.constrain, &secrets);
    HealingHooks healing(hooks, heal);
    std::optional<ApiConstraint> api;
    if (options.constrain && options.api_constraint)
      api.emplace(runner->trie(), document.language_id,
                  [&](const MemberAccess& access) { return resolve_members(receivers, access); });
    DecodeResult& r = a.r;
    if (options.backend.remote()) {
      // The same prompt and checks, decoded on the backend's server
      // (completion/remote_decoder.h); the template's stop tokens go as text.
      // The local model is not used, so no slot is taken.
      RemoteDecodeOptions ro;
      ro.max_tokens = max_tokens;
      ro.time_budget = left_of(t0, timeout);
      for (int32_t t : prompt.stop_tokens) ro.stop.push_back(tokenizer.token_bytes(t));
      RemoteDecodeResult remote = decode_remote(options.backend, tokenizer.decode(prompt.tokens), prefix, &hooks,
                                                api ? &*api : nullptr, &tokenizer, ro, cancel);
      g.details.remote_requests = remote.requests;
      g.details.remote_error = std::move(remote.error);
      r = std::move(remote.decode);
    } else {
      DecodeOptions d;
      d.max_tokens = max_tokens;
      d.time_budget = left_of(t0, timeout);
      d.deadline = t0 + timeout;  // the prefill too: a cold prompt may not run past the cap
      d.stop_tokens = prompt.stop_tokens;
      d.unwritable = &runner->unwritable_tokens();
      d.banned_openers = banned;
      d.speculate.enable = options.speculate;
      std::vector<std::vector<int32_t>> accepted;
      if (options.speculate)
        for (const std::string& text : project.accepted) accepted.push_back(tokenizer.encode(text, false));
      d.draft_sources = accepted;
      if (options.kv_persist) d.prefix_store = runner->prefix_store();
      d.heal = heal;
      d.heal_trie = heal.empty() ? nullptr : &runner->trie();
      const std::string_view before = std::string_view(prefix).substr(0, prefix.size() - heal.size());
      SyntaxHooks* syntax = heal.empty() ? static_cast<SyntaxHooks*>(&hooks) : &healing;
      r = decode(*lease, tokenizer, prompt.tokens, before, syntax, api ? &*api : nullptr, d, cancel);
      // The answer is what follows the word's bytes (nothing when decoding
      // ended before they were all written).
      if (!heal.empty()) {
        const size_t drop = std::min(heal.size(), r.text.size());
        r.text.erase(0, drop);
        if (!healing.healed()) r.text.clear();
      }
    }
    // The opener: the first token with more than blanks after the healed word's bytes.
    size_t forced = heal.size();
    for (int32_t t : r.tokens) {
      const std::string piece = tokenizer.token_bytes(t);
      const size_t skip = std::min(forced, piece.size());
      forced -= skip;
      if (piece.find_first_not_of(" \t\r\n", skip) != std::string::npos) {
        a.opener = t;
        break;
      }
    }
    a.raw = guard.completion();
    if (auto cut = hooks.secret_cut()) a.raw.resize(std::min(*cut, a.raw.size()));
    if (r.end == DecodeEnd::Cancelled) return a;
    // What the guard accepted, less a character the last token left unfinished.
    std::string out = guard.completion().substr(0, r.text.size());
    if (r.end == DecodeEnd::Complete) out.resize(std::min(stop.keep(), out.size()));
    if (auto cut = hooks.secret_cut()) out.resize(std::min(*cut, out.size()));
    if (!options.constrain && r.end != DecodeEnd::StopToken && r.end != DecodeEnd::Complete) {
      // Cut by a cap (or nothing viable): keep the longest part that adds no error.
      out.resize(std::min(guard.longest_valid_prefix(), out.size()));
    }
    a.text = postprocess(document.language_id, prefix, suffix, out, mode);
    const auto whole_t0 = clock::now();
    if (options.constrain && !a.text.empty() && !guard.whole_with(a.text)) {
      // However decoding ended (the stop rule, a stop token, a cap, nothing
      // viable), the answer leaves the file whole (syntax_guard.h, whole_with).
      // The tidied text is judged first (postprocessing drops the overlap with
      // the suffix, `foo(a, b)` before `)`); else the longest part of what the
      // model wrote that is whole, as it is or with what it left open closed
      // (SyntaxGuard::whole_answer), tidied and judged again; else nothing.
      a.text = postprocess(document.language_id, prefix, suffix, guard.whole_answer(out), mode);
      if (!a.text.empty() && !guard.whole_with(a.text)) a.text = guard.whole_answer(a.text);
    }
    // A secret that the suffix completes (the closing quote of a password
    // literal) is cut too; what is left must still leave the file whole.
    if (auto cut = secrets.finish(a.text)) {
      a.text.resize(*cut);
      if (options.constrain && !a.text.empty() && !guard.whole_with(a.text))
        a.text.resize(guard.longest_whole_prefix(a.text));
    }
    a.secret_cut = hooks.secret_cut().has_value() || secrets.cuts() > 0;
    // The final judgement is part of what the checks cost.
    r.check_seconds += std::chrono::duration<double>(clock::now() - whole_t0).count();
    return a;
  };

  // A retry starts from the guard as it is before any decoding.
  std::optional<SyntaxGuard> pristine;
  if (options.constrain && !options.backend.remote()) pristine.emplace(guard);
  Attempt a = attempt(guard, {});
  DecodeResult first = a.r;  // the prompt's figures: a retry reuses the whole prompt
  size_t retried_tokens = 0, passes = a.r.stats.forward_passes,
         drafted = a.r.stats.accepted_draft_tokens, rejected = a.r.rejected, closing = a.r.closing_choices,
         restricted = a.r.restricted, cut_drafts = a.r.screening.cut_by_syntax,
         search_branches = a.r.search.branches, search_tokens = a.r.search.tokens;
  double decode_s = a.r.stats.decode_seconds, check_s = a.r.check_seconds, search_s = a.r.search.seconds;
  // Under the constraints, an answer cut to nothing although the model
  // wrote code is asked for again with the first token it opened with
  // refused until something other than blanks is written (at most twice,
  // while the time left holds another decoding as long as the last): its
  // next best way to begin. A weak model's first choice of opening (`#` in
  // a body that needs a statement, a word that cannot be finished) is often
  // all that stood between it and a whole answer.
  std::vector<int32_t> banned;
  constexpr int kRetries = 2;
  while (pristine && a.text.empty() && a.opener && a.r.end != DecodeEnd::Cancelled &&
         a.r.end != DecodeEnd::Timeout && g.details.retries < kRetries &&
         left_of(t0, timeout) > std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::duration<double>(a.r.stats.decode_seconds + a.r.check_seconds))) {
    banned.push_back(*a.opener);
    retried_tokens += a.r.stats.generated_tokens;
    SyntaxGuard again = *pristine;
    a = attempt(again, banned);
    ++g.details.retries;
    passes += a.r.stats.forward_passes;
    drafted += a.r.stats.accepted_draft_tokens;
    rejected += a.r.rejected;
    closing += a.r.closing_choices;
    restricted += a.r.restricted;
    cut_drafts += a.r.screening.cut_by_syntax;
    search_branches += a.r.search.branches;
    search_tokens += a.r.search.tokens;
    decode_s += a.r.stats.decode_seconds;
    check_s += a.r.check_seconds;
    search_s += a.r.search.seconds;
  }
  const DecodeResult& r = a.r;
  g.details.prompt_tokens = first.stats.prompt_tokens;
  g.details.reused_tokens = first.stats.reused_tokens;
  g.details.prefilled_tokens = first.stats.prefilled_tokens;
  g.details.prefill_ms = first.stats.prefill_seconds * 1000;
  g.details.generated_tokens = r.stats.generated_tokens;  // the answer's: each attempt has the cap
  g.details.retried_tokens = retried_tokens;
  g.details.forward_passes = passes;
  g.details.accepted_draft_tokens = drafted;
  g.details.drafts_cut_by_syntax = cut_drafts;
  g.details.decode_ms = decode_s * 1000;
  g.details.end = to_string(r.end);
  g.details.timed_out = r.end == DecodeEnd::Timeout;
  g.details.rejected = rejected;
  g.details.closing_choices = closing;
  g.details.restricted = restricted;
  g.details.check_ms = check_s * 1000;
  g.details.search_branches = search_branches;
  g.details.search_tokens = search_tokens;
  g.details.search_ms = search_s * 1000;
  g.details.search_found = r.search.found && !a.text.empty();
  g.details.raw = a.raw;
  if (r.end == DecodeEnd::Cancelled) {
    g.cancelled = true;
    return g;
  }
  g.text = std::move(a.text);
  g.details.secret_cut = a.secret_cut;
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
  // Completions are reused only under the LoRA adapters they were made with.
  const auto model = runner();
  const auto adapters = model ? model->adapters(adapter_specs(request.options)) : nullptr;
  const std::string made_with = adapters ? adapters->key() : std::string();
  if (auto hit = cache_.lookup(request.document.uri, prefix, rest, made_with)) {
    result.items.push_back({hit->rest, cursor, cursor});
    result.details.from_cache = true;
    result.details.elapsed_ms = ms_since(t0);
    return result;
  }
  const uint64_t parses_before = parsing::full_parses_on_this_thread();
  Generation g = generate(request.document, cursor, cursor, request.options, request.project, false,
                          request.started == clock::time_point{} ? t0 : request.started, cancel);
  result.details = std::move(g.details);
  result.details.document_parses = parsing::full_parses_on_this_thread() - parses_before;
  if (g.cancelled) return result;
  if (g.text.empty()) {
    result.empty_reason = result.details.timed_out ? EmptyReason::TimedOut : EmptyReason::NothingToSay;
    return result;
  }
  cache_.put(request.document.uri, prefix, rest, g.text, made_with);
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
  const uint64_t parses_before = parsing::full_parses_on_this_thread();
  Generation g = generate(request.document, begin, end, request.options, request.project, true,
                          request.started == clock::time_point{} ? clock::now() : request.started, cancel);
  result.details = std::move(g.details);
  result.details.document_parses = parsing::full_parses_on_this_thread() - parses_before;
  if (g.cancelled) return result;
  result.replace_begin = begin;
  result.replace_end = end;
  result.text = std::move(g.text);
  if (result.text.empty())
    result.empty_reason = result.details.timed_out ? EmptyReason::TimedOut : EmptyReason::NothingToSay;
  return result;
}

}  // namespace astfill::completion
