// The completion core's entry points, as the LSP layer and the CLI call them.
//
// The core speaks C++ types, never JSON-RPC: a request names a document
// snapshot and a byte offset; positions in the client's encoding are the LSP
// layer's business. Every call takes a CancellationToken that is polled at
// token granularity, and a Progress sink for long work.
//
// An inline completion, in order: the typed-through cache; the context
// (completion/context.h) rendered as the model's FIM prompt
// (completion/prompt.h); constrained decoding (completion/decoder.h) with the
// syntax guard and stop rule (completion/syntax_guard.h, stopping.h) and the
// API constraint (completion/api_constraint.h, receivers.h) in the document's
// KV slot (completion/model_runner.h); then trimming and post-processing
// (completion/postprocess.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "completion/completion_cache.h"
#include "completion/context.h"
#include "completion/model_runner.h"
#include "completion/options.h"
#include "index/symbol_index.h"
#include "parsing/document.h"
#include "support/cancel.h"
#include "support/progress.h"

namespace astfill::completion {

struct DocumentText {
  std::string uri;
  std::string language_id;
  int64_t version = 0;
  std::shared_ptr<const std::string> text;
  // The text parsed, or null: the service parses it. Its text() equals *text
  // byte for byte (a holder of open documents keeps each one's tree up to
  // date incrementally and passes it, so a request makes no full parse).
  // Never edited: the service copies it where it needs another text.
  std::shared_ptr<const parsing::Document> parsed = nullptr;
  // The holder's parse of the whole text ran out of the request's time: the
  // service does not try again, it works from a window around the cursor.
  bool parse_timed_out = false;
};

// Where a document lives: its workspace, and the workspace's index.
struct ProjectContext {
  std::shared_ptr<const index::SymbolIndex> index;  // null: no cross-file context
  std::string root;   // the workspace folder's path ("" when outside any)
  std::string name;   // the workspace's name (the prompt's repository name)
  std::string path;   // the document's path relative to root (or its absolute path)
  std::vector<ContextFile> recent_edits;  // excerpts of recently edited files, most recent first
  std::vector<std::string> open_paths;    // files open in the editor, named as `path` is
  // Completions the user accepted lately in this workspace, most recent
  // first: speculation drafts from them too (engine/speculate.h), so a
  // pattern accepted once is verified in one pass the next time. The
  // output is the same with or without them.
  std::vector<std::string> accepted;
};

enum class Trigger { Invoked, Automatic };

struct InlineCompletionRequest {
  DocumentText document;
  size_t offset = 0;  // byte offset of the cursor in document.text
  Trigger trigger = Trigger::Automatic;
  Options options;
  ProjectContext project;
  // When the request's time cap (options.timeout_ms) started: the cap covers
  // parsing and context building, not only decoding. Default: when the
  // service is called.
  std::chrono::steady_clock::time_point started{};
};

struct InlineCompletionItem {
  std::string insert_text;
  size_t replace_begin = 0;  // byte range of the document the text replaces
  size_t replace_end = 0;
};

// How a completion was made, for `--json`, batch results and logs.
struct CompletionDetails {
  size_t prompt_tokens = 0;
  size_t reused_tokens = 0;     // prompt tokens the KV cache already held
  size_t prefilled_tokens = 0;  // prompt tokens evaluated (fewer than prompt - reused when the time cap cut the
                                // prefill: those stay in the slot's cache for the next request)
  size_t generated_tokens = 0;
  size_t forward_passes = 0;    // decoding's evaluates (fewer than generated tokens when drafts were taken)
  size_t accepted_draft_tokens = 0;  // generated tokens that speculation's drafts supplied
  size_t drafts_cut_by_syntax = 0;   // drafts the syntax guard cut before verification (on a copy of its state)
  double elapsed_ms = 0;
  double prefill_ms = 0;
  double decode_ms = 0;
  bool from_cache = false;      // typed-through: no model call
  bool timed_out = false;       // the time cap ended it (parsing, context building, prefill or decoding)
  std::string end;              // why decoding ended (DecodeEnd), "" when the model was not asked
  std::string mode;             // single-line or multi-line
  size_t rejected = 0;          // candidates the syntax check refused
  size_t closing_choices = 0;   // tokens chosen because they let a refused end come next (decoder.h)
  size_t retries = 0;           // decodings again after an answer cut to nothing, its opening refused (service.cpp)
  size_t retried_tokens = 0;    // tokens the attempts before the last generated (generated_tokens: the last one's)
  size_t restricted = 0;        // steps the API constraint restricted
  double check_ms = 0;          // time spent in syntax checks while decoding and judging the answer whole
  // The decoder's search for a whole answer (decoder.h), over every attempt:
  // branches tried, tokens they generated, its time (also in decode_ms and
  // check_ms); search_found: the answer given came from a branch.
  size_t search_branches = 0;
  size_t search_tokens = 0;
  double search_ms = 0;
  bool search_found = false;
  size_t document_parses = 0;   // full parses (from scratch) the request made: 0 when DocumentText::parsed
                                // was given, 1 otherwise; incremental reparses of copies are not counted
  std::string raw;              // what the model wrote, before trimming and post-processing
  std::string healed;           // the word before the cursor the model wrote again first (token healing), "" for none
  bool secret_cut = false;       // the answer was cut before a secret-shaped string (trust/secret_stream.h)
  size_t remote_requests = 0;   // with a remote backend: HTTP requests made (1 + re-requests at refused tokens)
  std::string remote_error;     // with a remote backend: the transport or server error that ended it ("" = none)
  ContextReport context;
};

struct ApiSuggestionRequest {
  DocumentText document;
  size_t offset = 0;
  Options options;
  ProjectContext project;
};

struct ApiSuggestion {
  std::string label;
  std::string detail;         // signature
  std::string documentation;
  parsing::SymbolKind kind = parsing::SymbolKind::Function;
  double score = 0;           // the model's log-probability in context (0 when unranked)
  size_t replace_begin = 0;   // the identifier part already typed
  size_t replace_end = 0;
};

// Why a request produced nothing; shown in logs and `astfill.status`.
// TimedOut: the time cap ran out before the model wrote anything (parsing
// and context building of a huge document count against it).
enum class EmptyReason { None, Disabled, NoModel, NothingToSay, TimedOut };

struct InlineCompletionResult {
  std::vector<InlineCompletionItem> items;
  EmptyReason empty_reason = EmptyReason::None;
  CompletionDetails details;
};

struct ApiSuggestionResult {
  std::vector<ApiSuggestion> items;
  EmptyReason empty_reason = EmptyReason::None;
  bool ranked = false;  // the model ordered them
};

// A whole body or block written at a position (astfill.fill).
struct FillRequest {
  DocumentText document;
  size_t offset = 0;
  Options options;
  ProjectContext project;
  std::chrono::steady_clock::time_point started{};  // as InlineCompletionRequest::started
};

struct FillResult {
  std::string text;          // replaces [replace_begin, replace_end)
  size_t replace_begin = 0;
  size_t replace_end = 0;
  EmptyReason empty_reason = EmptyReason::None;
  CompletionDetails details;
};

struct ServiceOptions {
  engine::LoadOptions load;      // weights and threads
  size_t context_tokens = 4096;  // KV capacity per slot
  size_t slots = 3;
  size_t cache_entries = 256;
  // LoRA adapters ("PATH[:SCALE]", `astfill serve --adapter`) for requests
  // whose options name none (Options::adapters).
  std::vector<std::string> adapters;
};

// Thread-safe: calls may run concurrently on worker threads (they take turns
// on the model). Settings travel with each request, so a configuration change
// never races a running call.
class CompletionService {
 public:
  explicit CompletionService(ServiceOptions options = {});
  ~CompletionService();

  // Loads a model (replacing the current one once loaded). Throws
  // engine::ModelError or std::runtime_error naming the file.
  void load_model(const std::string& path);
  bool has_model() const;
  // The loaded model's path ("" when none).
  std::string model_path() const;
  // The runner of the loaded model (null when none): tests and benchmarks.
  std::shared_ptr<ModelRunner> runner() const;

  InlineCompletionResult complete_inline(const InlineCompletionRequest& request, const CancellationToken& cancel,
                                         Progress& progress) const;
  ApiSuggestionResult suggest_api(const ApiSuggestionRequest& request, const CancellationToken& cancel,
                                  Progress& progress) const;
  FillResult fill(const FillRequest& request, const CancellationToken& cancel, Progress& progress) const;

  size_t cache_hits() const { return cache_.hits(); }

 private:
  struct Generation;
  Generation generate(const DocumentText& document, size_t cursor, size_t replace_end, const Options& options,
                      const ProjectContext& project, bool fill, std::chrono::steady_clock::time_point started,
                      const CancellationToken& cancel) const;

  // The LoRA adapters a request runs with: its own, else the service's.
  const std::vector<std::string>& adapter_specs(const Options& options) const {
    return options.adapters.empty() ? options_.adapters : options.adapters;
  }

  ServiceOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<ModelRunner> runner_;  // guarded by mu_ (the pointer; the runner is thread-safe)
  mutable CompletionCache cache_;
};

const char* to_string(EmptyReason reason);
// A request's time cap: options.timeout_ms for an inline completion, ten
// times that (at least 5 s) for a fill.
std::chrono::milliseconds time_cap(const Options& options, bool fill);

}  // namespace astfill::completion
