#include "http/completions.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <future>
#include <iterator>
#include <limits>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "completion/service.h"
#include "engine/generate.h"
#include "engine/sampler.h"
#include "parsing/extract.h"
#include "support/log.h"
#include "support/progress.h"
#include "workspace/uri.h"
#include "workspace/workspace.h"

namespace astfill::http {
namespace asio = boost::asio;

// ---- Stop strings ------------------------------------------------------------------

std::string StopMatcher::push(std::string_view text) {
  if (stopped_) return {};
  pending_ += text;
  size_t cut = std::string::npos;
  for (const auto& s : stops_) cut = std::min(cut, pending_.find(s));
  if (cut != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, cut);
    pending_.clear();
    return out;
  }
  // Hold back the longest tail that begins some stop string.
  size_t hold = 0;
  for (const auto& s : stops_)
    for (size_t n = std::min(s.size() - 1, pending_.size()); n > hold; --n)
      if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StopMatcher::flush() {
  std::string out;
  if (!stopped_) out.swap(pending_);
  return out;
}

// ---- A workspace session per root -------------------------------------------------

struct Completions::RootSession {
  asio::io_context context;
  asio::executor_work_guard<asio::io_context::executor_type> work{context.get_executor()};
  std::thread thread;
  std::unique_ptr<workspace::Workspace> workspace;
  int64_t version = 0;
  std::string root;  // "" = no folder
  std::mutex fill_mu;

  RootSession() : thread([this] { context.run(); }) {}
  ~RootSession() {
    run([this] {
      if (workspace) workspace->close_indexes();
      workspace.reset();
    });
    work.reset();
    thread.join();
  }

  // Runs `f` on the session's thread and waits for it.
  template <typename F>
  auto run(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(context, [&task] { task(); });
    return result.get();
  }
};

Completions::Completions(std::shared_ptr<workspace::ModelHost> model, std::shared_ptr<workspace::IndexRegistry> indexes,
                         completion::RemoteBackend backend)
    : model_(std::move(model)), indexes_(std::move(indexes)), backend_(std::move(backend)) {}

Completions::~Completions() = default;

std::string Completions::model_name() const {
  std::string path = model_->model_path();
  if (path.empty()) return "";
  std::filesystem::path p(path);
  std::string name = p.filename().string();
  if (name.empty()) name = p.parent_path().filename().string();
  return name;
}

std::variant<std::shared_ptr<Completions::RootSession>, ApiError> Completions::session_for(const std::string& root) {
  std::string key;
  if (!root.empty()) {
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(root, ec);
    if (ec || !std::filesystem::path(root).is_absolute() || !std::filesystem::is_directory(canonical))
      return ApiError{400, "'astfill.root' must be the absolute path of a directory on the server: '" + root +
                               "' is not one",
                      "invalid_request_error", "invalid_value", "astfill.root"};
    key = canonical.string();
  }
  std::lock_guard lock(mu_);
  auto& slot = sessions_[key];
  if (slot) return slot;
  auto session = std::make_shared<RootSession>();
  session->root = key;
  auto* s = session.get();
  auto model = model_;
  auto indexes = indexes_;
  // The workspace is made, and its folder's index opened and brought up to
  // date, on its own thread: the first question about a root waits for its
  // index (as `astfill complete` does); later ones find it ready.
  s->run([s, model, indexes, key] {
    workspace::WorkspaceOptions wo;
    wo.model = model;
    wo.indexes = key.empty() ? nullptr : indexes;
    wo.label = key.empty() ? "http" : "http " + key;
    workspace::Executor executor{[](std::function<void()> f) { f(); },
                                 [s](std::function<void()> f) { asio::post(s->context, std::move(f)); }};
    workspace::WorkspaceEvents events;
    events.message = [label = wo.label](workspace::MessageLevel level, const std::string& m) {
      if (level == workspace::MessageLevel::Error) log::error(label, ": ", m);
      else log::info(label, ": ", m);
    };
    s->workspace = std::make_unique<workspace::Workspace>(std::move(wo), std::move(executor), std::move(events));
    if (!key.empty()) {
      s->workspace->set_folders(
          {workspace::Folder{workspace::path_to_file_uri(key), std::filesystem::path(key).filename().string()}});
      s->workspace->start_indexing();
    }
  });
  // The folder's opening was posted behind the job above; wait after it.
  if (!key.empty()) s->run([s] { s->workspace->wait_until_indexed(); });
  slot = session;
  return session;
}

// ---- Plain generation ---------------------------------------------------------------

namespace {

constexpr float kForbidden = -std::numeric_limits<float>::infinity();

// The top `n` candidates of raw logits as log-probabilities.
struct LogitsView {
  std::vector<float> logits;  // a copy of the step's raw logits
  float log_sum = 0;          // log of the softmax's denominator
};

float log_sum_exp(std::span<const float> x) {
  float m = kForbidden;
  for (float v : x) m = std::max(m, v);
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (float v : x) s += std::exp(static_cast<double>(v - m));
  return m + static_cast<float>(std::log(s));
}

}  // namespace

std::variant<CompletionAnswer, ApiError> Completions::generate(const CompletionQuery& q, const CancellationToken& cancel,
                                                               const Sink& sink) {
  auto runner = model_->service()->runner();
  if (!runner) return ApiError{503, "no model is loaded", "server_error", "model_not_loaded", ""};
  const engine::Tokenizer& tok = runner->tokenizer();
  std::vector<int32_t> prompt = tok.encode(q.prompt);
  if (prompt.empty()) return ApiError{400, "'prompt' is empty", "invalid_request_error", "invalid_value", "prompt"};
  size_t capacity = runner->options().context_tokens;
  if (prompt.size() + static_cast<size_t>(q.max_tokens) > capacity)
    return ApiError{400,
                    "the prompt is " + std::to_string(prompt.size()) + " tokens and max_tokens " +
                        std::to_string(q.max_tokens) + ": together more than the context of " +
                        std::to_string(capacity) + " tokens",
                    "invalid_request_error", "context_length_exceeded", "prompt"};

  engine::GenerateOptions go;
  go.max_tokens = q.max_tokens;
  // As `astfill generate`: the control tokens end a continuation (end of
  // text, the start of another FIM section or file).
  for (int32_t id = 0; id < static_cast<int32_t>(tok.vocab_size()); ++id)
    if (tok.is_special(id) && tok.token_text(id).rfind("<|", 0) == 0 && tok.token_text(id) != "<|fim_middle|>")
      go.stop_tokens.push_back(id);

  engine::SamplingParams sp;
  sp.temperature = q.temperature;
  sp.seed = q.seed;
  engine::Sampler sampler(sp);
  // Special tokens other than the stop tokens, and tokens without bytes, are
  // never written (as vLLM skips special tokens): a client reading the text
  // never sees a FIM marker. The logits of each step, so masked, give the
  // log-probabilities (before the sampler's temperature: the model's own
  // distribution).
  std::vector<int32_t> never;
  std::set_difference(runner->unwritable_tokens().begin(), runner->unwritable_tokens().end(),
                      go.stop_tokens.begin(), go.stop_tokens.end(), std::back_inserter(never));
  bool want_logprobs = q.logprobs.has_value();
  size_t top_n = want_logprobs ? static_cast<size_t>(*q.logprobs) : 0;
  LogitsView view;
  sampler.set_mask([&](std::span<float> logits) {
    for (int32_t t : never)
      if (static_cast<size_t>(t) < logits.size()) logits[static_cast<size_t>(t)] = kForbidden;
    if (!want_logprobs) return;
    view.logits.assign(logits.begin(), logits.end());
    view.log_sum = log_sum_exp(logits);
  });

  // A slot per prompt beginning: requests on the same file (the same first
  // tokens) reuse one slot's cache, and requests on different files run at
  // once, their decoding batched.
  uint64_t key = 1469598103934665603ull;
  for (size_t i = 0; i < std::min<size_t>(prompt.size(), 64); ++i)
    key = (key ^ static_cast<uint32_t>(prompt[i])) * 1099511628211ull;
  auto lease = runner->acquire("http:" + std::to_string(key), cancel);
  if (!lease) return ApiError{499, "cancelled", "server_error", "cancelled", ""};

  CompletionAnswer answer;
  answer.prompt_tokens = prompt.size();
  answer.has_logprobs = want_logprobs;
  engine::StreamDecoder decoder(tok);
  StopMatcher stops(q.stop);
  std::vector<TokenInfo> pending;  // tokens whose text is not yet passed on
  bool client_gone = false;
  bool stop_token = false;
  // Text goes on with the tokens generated since the last text went (a
  // token that ends inside a character, or inside a possible stop string,
  // waits for the text it completes).
  auto pass_on = [&](const std::string& text, bool last) {
    answer.text += text;
    if (text.empty() && !(last && !pending.empty())) return;
    if (sink && !sink(text, pending)) client_gone = true;
    pending.clear();
  };
  auto stats = engine::generate(
      lease->session(), lease->history(), prompt, go, sampler,
      [&](int32_t t, float) {
        if (std::find(go.stop_tokens.begin(), go.stop_tokens.end(), t) != go.stop_tokens.end()) {
          stop_token = true;
          return true;
        }
        ++answer.completion_tokens;
        if (want_logprobs && !view.logits.empty()) {
          TokenInfo info;
          info.chosen = Candidate{t, tok.token_bytes(t), view.logits[static_cast<size_t>(t)] - view.log_sum};
          std::vector<int32_t> ids(view.logits.size());
          for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
          size_t n = std::min(top_n, ids.size());
          std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end(),
                            [&](int32_t a, int32_t b) { return view.logits[a] > view.logits[b]; });
          for (size_t i = 0; i < n && std::isfinite(view.logits[ids[i]]); ++i)
            info.top.push_back(Candidate{ids[i], tok.token_bytes(ids[i]), view.logits[ids[i]] - view.log_sum});
          answer.tokens.push_back(info);
          pending.push_back(std::move(info));
        }
        pass_on(stops.push(decoder.push(t)), false);
        return !stops.stopped() && !client_gone && !cancel.cancelled();
      },
      cancel);
  if (!stops.stopped()) {
    std::string rest = stops.push(decoder.flush());
    pass_on(rest + stops.flush(), true);
  }
  if (client_gone || stats.cancelled || cancel.cancelled())
    return ApiError{499, "cancelled", "server_error", "cancelled", ""};
  answer.finish_reason = (stop_token || stops.stopped()) ? "stop" : "length";
  answer.cached_tokens = stats.reused_tokens;
  answer.prompt_ms = stats.prefill_seconds * 1000;
  answer.predicted_ms = stats.decode_seconds * 1000;
  return answer;
}

// ---- Fill in the middle through the workspace core -----------------------------------

std::variant<CompletionAnswer, ApiError> Completions::fill(const CompletionQuery& q, const CancellationToken& cancel,
                                                           const Sink& sink) {
  if (!model_->service()->has_model())
    return ApiError{503, "no model is loaded", "server_error", "model_not_loaded", ""};
  AstfillExtension ext = q.astfill.value_or(AstfillExtension{});
  auto found = session_for(ext.root);
  if (auto* e = std::get_if<ApiError>(&found)) return *e;
  auto session = std::get<std::shared_ptr<RootSession>>(found);

  std::string language = ext.language;
  if (language.empty() && !ext.path.empty()) language = parsing::language_of_path(ext.path);
  // The document's place: the path given (under the root when relative), or
  // an untitled file of the language.
  std::filesystem::path where = ext.path.empty() ? std::filesystem::path("untitled") : std::filesystem::path(ext.path);
  if (where.is_relative()) {
    std::filesystem::path base = ext.root.empty() ? std::filesystem::path("/astfill-http") : std::filesystem::path(ext.root);
    where = base / where;
  }
  std::string uri = workspace::path_to_file_uri(where.lexically_normal().string());
  std::string text = q.prompt + q.suffix.value_or("");
  size_t offset = q.prompt.size();

  // One fill at a time per root: the document stays open (the index holding
  // its text, which the context and the API constraint read while the task
  // runs) until the task is done. The model takes one request at a time
  // anyway.
  std::lock_guard fill_lock(session->fill_mu);
  auto task = session->run([&, session]() {
    workspace::Workspace& ws = *session->workspace;
    workspace::Settings settings = ws.settings();
    settings.completion.max_tokens = static_cast<unsigned>(q.max_tokens);
    settings.completion.backend = backend_;
    if (ext.constraints) {
      settings.completion.constrain = *ext.constraints != "off";
      settings.completion.api_constraint = *ext.constraints == "syntax+api";
    }
    ws.set_settings(std::move(settings));
    if (auto warning = ws.open(uri, language, ++session->version, text)) log::warn("http: ", *warning);
    // llama.cpp's input_extra: other files' chunks, as context.
    std::vector<completion::ContextFile> extra;
    for (const auto& e : q.extra) extra.push_back({e.filename, e.text});
    ws.set_client_context(uri, std::move(extra));
    // The index is fed the text as an editor's would be; the context reads
    // it from there (as `astfill complete` waits for it).
    if (!session->root.empty()) ws.wait_until_indexed();
    auto doc = ws.document(uri);
    return ws.inline_completion(*doc, offset, completion::Trigger::Invoked);
  });
  NoProgress progress;
  completion::InlineCompletionResult result;
  try {
    result = task(cancel, progress);
  } catch (...) {
    session->run([&] { session->workspace->close(uri); });
    throw;
  }
  session->run([&] { session->workspace->close(uri); });
  if (cancel.cancelled()) return ApiError{499, "cancelled", "server_error", "cancelled", ""};
  if (result.empty_reason == completion::EmptyReason::NoModel)
    return ApiError{503, "no model is loaded", "server_error", "model_not_loaded", ""};

  CompletionAnswer answer;
  answer.prompt_tokens = result.details.prompt_tokens;
  answer.completion_tokens = result.details.generated_tokens;
  answer.cached_tokens = result.details.reused_tokens;
  answer.prompt_ms = result.details.prefill_ms;
  answer.predicted_ms = result.details.decode_ms;
  std::string insert = result.items.empty() ? std::string() : result.items.front().insert_text;
  StopMatcher stops(q.stop);
  answer.text = stops.push(insert) + stops.flush();
  answer.finish_reason = (result.details.end == "token cap" && !stops.stopped()) ? "length" : "stop";
  if (sink && !answer.text.empty()) sink(answer.text, {});
  return answer;
}

std::variant<CompletionAnswer, ApiError> Completions::run(const CompletionQuery& q, const CancellationToken& cancel,
                                                          const Sink& sink) {
  if (q.is_fill()) return fill(q, cancel, sink);
  return generate(q, cancel, sink);
}

}  // namespace astfill::http
