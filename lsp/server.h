// One client's LSP session: lifecycle, dispatch, requests in flight, and the
// translation between LSP and the workspace core (workspace/workspace.h).
//
// A LanguageServer is fed framed message bodies by a transport (stdio or one
// TCP connection) and answers through the `send` callback. It lives on the
// loop thread; see lsp/scheduler.h for how work leaves that thread and comes
// back. It owns no product logic: documents, folders and their indexes,
// settings, the model and the questions belong to its Workspace; handlers
// decode params (lsp/protocol.h), ask the workspace, and encode the answer.
// Handlers for each feature live in their own files (lsp/text_sync.cpp,
// lsp/workspace.cpp, lsp/indexing.cpp, lsp/completion_handlers.cpp).
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lsp/jsonrpc.h"
#include "lsp/protocol.h"
#include "lsp/scheduler.h"
#include "lsp/settings.h"
#include "stats/store.h"
#include "support/cancel.h"
#include "support/progress.h"
#include "workspace/workspace.h"

namespace astfill::lsp {

struct ServerOptions {
  std::string version = "0.0.0";
  // When set, `initialize` must carry initializationOptions.token equal to it,
  // and the session is closed on anything else (TCP sessions).
  std::optional<std::string> auth_token;
  // Adds this much cancellable work, with progress reports, before each
  // completion request is computed: it lets clients and tests exercise
  // cancellation, supersession and progress against a fixed latency.
  std::chrono::milliseconds simulated_latency{0};
  // A label for logs ("stdio", "tcp 127.0.0.1:5123").
  std::string peer = "stdio";
  // The daemon's project indexes (workspace/index_registry.h); null:
  // workspace folders are not indexed, and workspace/symbol and definition
  // find nothing.
  std::shared_ptr<workspace::IndexRegistry> indexes;
  // The daemon's model, shared by every session (workspace/model_host.h);
  // null: the session makes its own, without a model until astfill.model
  // names one.
  std::shared_ptr<workspace::ModelHost> model;
  // Where suggestions' statistics go (stats/store.h); null: the daemon's
  // store (daemon_stats(), opened when the first suggestion is recorded).
  std::shared_ptr<stats::Store> stats;
  // The vision model and its image descriptions (workspace/images.h), one
  // per daemon like `model`; null: the session makes its own on first use.
  std::shared_ptr<workspace::ImageHost> images = nullptr;
};

// The daemon's statistics store, opened on first use at
// $ASTFILL_STATS_DB or stats::Store::default_path(); null when
// ASTFILL_STATS=off or it cannot be opened (logged once).
std::shared_ptr<stats::Store> daemon_stats();

class LanguageServer : public std::enable_shared_from_this<LanguageServer> {
 public:
  ~LanguageServer();
  struct Callbacks {
    std::function<void(std::string body)> send;   // one JSON-RPC body, loop thread
    std::function<void(int exit_code)> exit;      // the `exit` notification arrived
    std::function<void(std::string why)> close;   // the session must end (auth failure)
  };

  static std::shared_ptr<LanguageServer> create(ServerOptions options, WorkerPool& workers,
                                                LoopPoster& loop, Callbacks callbacks);

  // A framed body arrived.
  void on_message(std::string_view body);
  // The framing layer could not read a message: answered with an error, id null.
  void on_framing_error(const std::string& error, ErrorCode code);
  // The connection is gone: cancel everything; nothing more is sent.
  void on_disconnect();

  size_t in_flight() const { return in_flight_.size(); }
  bool shutdown_requested() const { return shutdown_; }
  bool initialized() const { return state_ != State::Uninitialized; }

 private:
  LanguageServer(ServerOptions options, WorkerPool& workers, LoopPoster& loop, Callbacks callbacks);

  enum class State { Uninitialized, Initialized, ShutDown };
  // Index questions run in the pool's quick lane, inline completions in its
  // focused lane, the rest in its compute lane (lsp/scheduler.h).
  enum class RequestKind { InlineCompletion, Completion, Command, IndexQuestion };

  // A request running on a worker. Loop thread only.
  struct InFlight {
    RequestId id;
    std::string method;
    RequestKind kind;
    std::string uri;  // the document it reads, if any
    CancellationSource cancel;
    std::optional<json::value> progress_token;
    bool progress_open = false;
    std::chrono::steady_clock::time_point started;
    // An inline completion's statistics record (docs/stats.md), written as
    // cancelled if the request is cancelled or superseded.
    std::optional<stats::Suggestion> suggestion;
  };

  using Result = std::variant<json::value, RpcError>;
  // Runs on a worker; may report progress; returns the result or an error.
  using Work = std::function<Result(const CancellationToken&, Progress&)>;

  // The answer to one request. A handler answers through it exactly once:
  // now (a result or an error), or later, from work run on a worker.
  class Reply {
   public:
    void operator()(json::value result) const;
    void error(ErrorCode code, std::string message) const;
    // Runs `work` on a worker, with cancellation and work-done progress; its
    // result (or error) answers the request.
    void later(RequestKind kind, std::string uri, std::optional<IntOrString> progress_token, std::string title,
               Work work) const;
    const std::string& method() const { return req_.method; }

   private:
    friend class LanguageServer;
    Reply(LanguageServer& server, const Request& req) : server_(server), req_(req) {}
    LanguageServer& server_;
    const Request& req_;
  };
  // Decodes the params (or answers InvalidParams) and calls the handler.
  template <typename P>
  void handle(const Request& req, void (LanguageServer::*handler)(const P&, const Reply&));

  void handle_request(Request req);
  void handle_notification(Notification note);
  void handle_response(Response resp);

  // Lifecycle (lsp/server.cpp).
  void on_initialize(const Request& req);
  void on_shutdown(const Request& req);
  void on_exit();
  void on_cancel_request(const json::value& params);
  // Text synchronisation (lsp/text_sync.cpp).
  void on_did_open(const json::value& params);
  void on_did_change(const json::value& params);
  void on_did_close(const json::value& params);
  void on_did_save(const json::value& params);
  // Workspace (lsp/workspace.cpp).
  void on_did_change_workspace_folders(const json::value& params);
  void on_did_change_configuration(const json::value& params);
  void on_did_change_watched_files(const json::value& params);
  void on_execute_command(const ExecuteCommandParams& p, const Reply& reply);
  StatusReport status() const;
  // Completion (lsp/completion_handlers.cpp).
  struct Located {
    workspace::DocumentSnapshot doc;
    size_t offset;
  };
  // The open document and byte offset a position request names, or an
  // InvalidParams answer and nullopt.
  std::optional<Located> locate(const Reply& reply, const PositionRequestParams& p);
  void on_completion(const CompletionParams& p, const Reply& reply);
  void on_inline_completion(const InlineCompletionParams& p, const Reply& reply);
  void on_fill(const ExecuteCommandParams& params, const Reply& reply);
  // Images (lsp/image_commands.cpp, issue 19).
  void on_image_attach(const ExecuteCommandParams& params, const Reply& reply);
  void on_image_to_code(const ExecuteCommandParams& params, const Reply& reply);

  // Local statistics (lsp/stats_handlers.cpp, docs/stats.md).
  void on_suggestion_event(const json::value& params);
  void on_stats(const ExecuteCommandParams& params, const Reply& reply);
  // The record an inline completion starts with: a fresh id, the language,
  // the model, the trigger.
  stats::Suggestion new_suggestion(const workspace::DocumentSnapshot& doc, int trigger_kind) const;
  // options_.stats, else the daemon's store (null: statistics are off).
  std::shared_ptr<stats::Store> stats_store() const { return options_.stats ? options_.stats : daemon_stats(); }
  void record_cancelled(const InFlight& f);

  // The project index (lsp/indexing.cpp): the folders' $/progress, the file
  // watcher's registration, and the two requests answered from the index.
  struct FolderProgress {
    std::optional<json::value> token;  // once the client accepted it
    bool begun = false, ended = false;
    workspace::FolderStatus last;
  };
  void on_folder_changed(const workspace::FolderStatus& status);
  void begin_folder_progress(uint64_t id);
  void end_folder_progress(FolderProgress& p, const std::string& message);
  void register_file_watcher();
  void on_workspace_symbol(const WorkspaceSymbolParams& p, const Reply& reply);
  void on_definition(const PositionRequestParams& p, const Reply& reply);
  // A request to the client; `on_answer` runs on the loop thread when the
  // response comes.
  void send_request(std::string method, json::value params, std::function<void(const Response&)> on_answer);

  // Decodes params into P, or answers InvalidParams and returns nullopt.
  template <typename P>
  std::optional<P> decode_request(const Request& req);
  template <typename P>
  std::optional<P> decode_notification(const Notification& note);

  void run_async(const Request& req, RequestKind kind, std::string uri,
                 std::optional<IntOrString> progress_token, std::string title, Work work);
  void finish(const std::string& key, Result result);
  void progress(const std::string& key, std::optional<uint32_t> pct, std::string message);
  // Cancels a request and answers it now.
  void cancel_in_flight(const std::string& key, CancelReason reason);
  void cancel_for_document(const std::string& uri, CancelReason reason, bool inline_only,
                           const std::string& except_key = "");
  void close_progress(InFlight& f, const std::string& message);

  void reply(const RequestId& id, json::value result);
  void reply_error(const json::value& id, ErrorCode code, std::string message);
  void notify(std::string_view method, json::value params);
  // window/logMessage plus our own log.
  void tell(MessageType type, const std::string& message);

  ServerOptions options_;
  WorkerPool& workers_;
  LoopPoster& loop_;
  Callbacks cb_;

  State state_ = State::Uninitialized;
  bool shutdown_ = false;
  bool closed_ = false;
  bool authenticated_ = false;
  PositionEncoding encoding_ = PositionEncoding::Utf16;
  bool client_progress_ = false;
  std::string client_name_;
  std::unique_ptr<workspace::Workspace> workspace_;  // made in create(): it needs weak_from_this
  std::map<std::string, InFlight> in_flight_;  // by RequestId::key()
  // The text of the last suggestions shown, by statistics id, so that an
  // accepted one (astfill/suggestionEvent) feeds speculation's drafts
  // (Workspace::note_accepted). Written by the workers that answer.
  struct ShownSuggestions {
    std::mutex mu;
    std::deque<std::pair<std::string, std::string>> texts;  // (id, text), newest last
  };
  std::shared_ptr<ShownSuggestions> shown_ = std::make_shared<ShownSuggestions>();
  uint64_t next_server_request_ = 1;
  uint64_t watched_file_events_ = 0;
  std::map<std::string, std::function<void(const Response&)>> pending_requests_;  // by RequestId::key()
  std::map<uint64_t, FolderProgress> folder_progress_;  // by FolderStatus::id
  bool watched_files_registration_ = false;
  bool watcher_registered_ = false;
};

template <typename P>
std::optional<P> LanguageServer::decode_request(const Request& req) {
  P p{};
  Decoder d;
  if (!from_json(req.params, p, "params", d)) {
    reply_error(req.id.value, ErrorCode::InvalidParams, req.method + ": " + d.error());
    return std::nullopt;
  }
  return p;
}

template <typename P>
void LanguageServer::handle(const Request& req, void (LanguageServer::*handler)(const P&, const Reply&)) {
  auto p = decode_request<P>(req);
  if (!p) return;
  (this->*handler)(*p, Reply(*this, req));
}

template <typename P>
std::optional<P> LanguageServer::decode_notification(const Notification& note) {
  P p{};
  Decoder d;
  if (!from_json(note.params, p, "params", d)) {
    // A notification has no answer: tell the client through its log.
    tell(MessageType::Error, note.method + ": invalid params, ignored: " + d.error());
    return std::nullopt;
  }
  return p;
}

}  // namespace astfill::lsp
