#include "cli/completion_setup.h"

#include <atomic>
#include <cstdio>

#include "cli/progress_bar.h"
#include "engine/bundled_model.h"
#include "parsing/extract.h"
#include "support/utf8.h"
#include "workspace/uri.h"

namespace astfill::cli {
namespace json = boost::json;

void CompletionSetupOptions::add_to(ArgParser& p) {
  model.add_to(p);
  index.add_to(p);
  p.option("--root", "DIR", "the workspace folder (default: the current directory)",
           [this](const std::string& v) -> std::optional<std::string> {
             root = v;
             return std::nullopt;
           });
  p.flag("--no-constraints", "decode without the syntax and API constraints (stop rules still apply)",
         [this] { completion.constrain = false; });
  p.flag("--no-api-constraint", "keep the syntax constraint, but let members after `receiver.` be any name",
         [this] { completion.api_constraint = false; });
  p.flag("--no-context", "no cross-file context: the current file only", [this] { context = false; });
  p.flag("--no-speculate", "decode one token per forward pass (no drafts looked up in the prompt; same output)",
         [this] { completion.speculate = false; });
  p.flag("--no-heal",
         "no token healing: the prompt ends at the cursor even inside a word (by default the word's bytes before "
         "the cursor are taken out of the prompt and the model writes them again first)",
         [this] { completion.heal = false; });
  p.flag("--no-kv-persist", "keep no prompt prefix's KV cache on disk ($XDG_CACHE_HOME/astfill/kv) across runs",
         [this] { completion.kv_persist = false; });
  p.option("--max-tokens", "N", "tokens to generate at most (default 64)",
           [this](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "token count", 1, 4096, n)) return e;
             completion.max_tokens = static_cast<unsigned>(n);
             return std::nullopt;
           });
  p.option("--timeout-ms", "MS", "decoding time per completion at most (default 1000)",
           [this](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "millisecond count", 1, 600000, n)) return e;
             completion.timeout_ms = static_cast<unsigned>(n);
             return std::nullopt;
           });
  p.option("--fim-template", "NAME", "qwen, starcoder2, deepseek or codellama (default: from the model)",
           [this](const std::string& v) -> std::optional<std::string> {
             completion.fim_template = v;
             return std::nullopt;
           });
  p.option("--backend", "URL",
           "decode on a server instead of here: an OpenAI-compatible one (vLLM, astfill serve\n"
           "--http) or llama.cpp's (--backend-api llamacpp); the prompt is built here and every\n"
           "streamed token checked here; https unless the host is loopback",
           [this](const std::string& v) -> std::optional<std::string> {
             completion.backend.url = v;
             return std::nullopt;
           });
  p.option("--backend-api", "API", "openai (default) or llamacpp",
           [this](const std::string& v) -> std::optional<std::string> {
             if (v != "openai" && v != "llamacpp") return "'" + v + "' is not openai or llamacpp";
             completion.backend.api = v == "openai" ? completion::RemoteBackend::Api::OpenAI
                                                    : completion::RemoteBackend::Api::LlamaCpp;
             return std::nullopt;
           });
  p.option("--backend-model", "NAME", "the model name the backend server knows",
           [this](const std::string& v) -> std::optional<std::string> {
             completion.backend.model = v;
             return std::nullopt;
           });
  p.option("--backend-token-env", "VAR", "the environment variable holding the backend's bearer token",
           [this](const std::string& v) -> std::optional<std::string> {
             completion.backend.token_env = v;
             return std::nullopt;
           });
  p.option("--context-tokens", "N", "KV-cache capacity (default 4096)",
           [this](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "token count", 256, 131072, n)) return e;
             context_tokens = n;
             return std::nullopt;
           });
}

CompletionSetup set_up_completion(const CompletionSetupOptions& options) {
  CompletionSetup setup;
  if (std::string problem = completion::check_backend(options.completion.backend); !problem.empty()) {
    setup.error = problem;
    return setup;
  }
  // Without --model: the bundled demo model.
  std::string model = options.model.model;
  if (model.empty()) model = engine::bundled_model_path().value_or("");
  if (model.empty()) {
    setup.error = std::string("no model: pass --model (a GGUF file, a checkpoint directory or a pulled model's name); "
                              "the bundled models/") + engine::kBundledModelFile + " was not found";
    return setup;
  }
  std::error_code ec;
  setup.root = std::filesystem::weakly_canonical(options.root, ec);
  if (ec || !std::filesystem::is_directory(setup.root)) {
    setup.error = "'" + options.root + "' is not a directory";
    return setup;
  }
  setup.name = setup.root.filename().string();
  completion::ServiceOptions so;
  so.load = options.model.load;
  so.context_tokens = options.context_tokens;
  so.adapters = options.model.adapters;
  auto service = std::make_shared<completion::CompletionService>(so);
  try {
    service->load_model(model);
    service->runner()->adapters(so.adapters);  // a bad adapter is an error now, not at the first completion
  } catch (const std::exception& e) {
    setup.error = e.what();
    return setup;
  }

  // The workspace core, run inline on this thread: the CLI's own session.
  workspace::WorkspaceOptions wo;
  wo.model = std::make_shared<workspace::ModelHost>(workspace::ModelHost::Options{service, model, nullptr});
  wo.label = "cli";
  if (options.context) {
    ProjectIndexOptions index_options = options.index;
    wo.indexes = std::make_shared<workspace::IndexRegistry>([index_options](index::IndexOptions o) {
      OpenedIndex opened = open_index(o.root.string(), index_options);
      if (!opened.index) throw std::runtime_error(opened.error);
      return std::move(opened.index);
    });
  }
  // Progress comes from the index's writer thread (the inline executor runs
  // it there); the bar is thread-safe.
  auto committed = std::make_shared<std::atomic<size_t>>(0);
  std::shared_ptr<ProgressBar> bar;
  if (options.context && stderr_is_terminal())
    bar = std::make_shared<ProgressBar>(stderr, [committed] { return committed->load(); }, "files");
  auto failure = std::make_shared<std::string>();
  workspace::WorkspaceEvents events;
  events.folder_changed = [bar, committed, failure](const workspace::FolderStatus& s) {
    if (s.state == workspace::FolderStatus::State::Failed) *failure = s.message;
    if (s.stats) committed->store(s.stats->committed);
    if (bar && s.state == workspace::FolderStatus::State::Indexing) bar->report(s.percent, s.message);
  };
  setup.workspace = std::make_unique<workspace::Workspace>(std::move(wo), workspace::Executor::inline_executor(),
                                                           std::move(events));
  workspace::Settings settings;
  settings.completion = options.completion;
  if (!options.context) settings.completion.cross_file_tokens = 0;
  settings.index.enable = options.context;
  settings.index.max_file_kb = static_cast<unsigned>((options.index.max_file_bytes + 1023) / 1024);
  settings.index.include_dirs = options.index.include_dirs;
  setup.workspace->set_settings(std::move(settings));
  setup.workspace->set_folders({workspace::Folder{workspace::path_to_file_uri(setup.root.string()), setup.name}});
  setup.workspace->start_indexing();
  setup.workspace->wait_until_indexed();
  if (bar) bar->finish();
  if (!failure->empty()) setup.error = *failure;
  return setup;
}

std::string language_for(const std::string& path) { return parsing::language_of_path(path); }

std::string workspace_path(const CompletionSetup& setup, const std::string& path) {
  std::error_code ec;
  auto absolute = std::filesystem::weakly_canonical(std::filesystem::path(path).is_absolute() ? std::filesystem::path(path)
                                                                                             : setup.root / path, ec);
  auto rel = absolute.lexically_relative(setup.root);
  if (!ec && !rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return absolute.generic_string();
}

std::string document_uri(const CompletionSetup& setup, const std::string& rel) {
  std::string absolute = std::filesystem::path(rel).is_absolute() ? rel : (setup.root / rel).string();
  return workspace::path_to_file_uri(absolute);
}

void wait_for_index(CompletionSetup& setup) { setup.workspace->wait_until_indexed(); }

json::string json_text(std::string text) {
  sanitize_utf8(text);
  return json::string(text);
}

json::object details_json(const completion::CompletionDetails& d) {
  auto source = [](const completion::SourceReport& s) {
    return json::object{{"items", s.items}, {"tokens", s.tokens}};
  };
  json::object o{
      {"prompt_tokens", d.prompt_tokens},
      {"reused_tokens", d.reused_tokens},
      {"prefilled_tokens", d.prefilled_tokens},
      {"generated_tokens", d.generated_tokens},
      {"forward_passes", d.forward_passes},
      {"accepted_draft_tokens", d.accepted_draft_tokens},
      {"drafts_cut_by_syntax", d.drafts_cut_by_syntax},
      {"elapsed_ms", d.elapsed_ms},
      {"prefill_ms", d.prefill_ms},
      {"decode_ms", d.decode_ms},
      {"from_cache", d.from_cache},
      {"timed_out", d.timed_out},
      {"end", d.end},
      {"mode", d.mode},
      {"rejected_candidates", d.rejected},
      {"closing_choices", d.closing_choices},
      {"retries", d.retries},
      {"retried_tokens", d.retried_tokens},
      {"restricted_steps", d.restricted},
      {"check_ms", d.check_ms},
      {"search", json::object{{"branches", d.search_branches},
                              {"tokens", d.search_tokens},
                              {"ms", d.search_ms},
                              {"found", d.search_found}}},
      // What the model wrote may end in a cut multi-byte character: JSON text
      // must be UTF-8 (strict readers such as Python's json and jq refuse it).
      {"raw", json_text(d.raw)},
      {"healed", d.healed},
      {"document_parses", d.document_parses},
      {"secret_cut", d.secret_cut},
      {"context", json::object{{"prefix", source(d.context.prefix)},
                               {"suffix", source(d.context.suffix)},
                               {"imports", source(d.context.imports)},
                               {"definitions", source(d.context.definitions)},
                               {"similar", source(d.context.similar)},
                               {"recent", source(d.context.recent)},
                               {"secrets_redacted", d.context.secrets_redacted},
                               {"invisible_removed", d.context.invisible_removed},
                               {"code_only_files", d.context.code_only_files}}},
  };
  // With a remote backend: how many requests it took, and what went wrong.
  if (d.remote_requests > 0) o["remote_requests"] = d.remote_requests;
  if (!d.remote_error.empty()) o["remote_error"] = json_text(d.remote_error);
  return o;
}

}  // namespace astfill::cli
