// One client's LSP session: lifecycle, dispatch, documents, requests in flight.
//
// A LanguageServer is fed framed message bodies by a transport (stdio or one
// TCP connection) and answers through the `send` callback. It lives on the
// loop thread; see lsp/scheduler.h for how work leaves that thread and comes
// back. Handlers for each feature live in their own files
// (lsp/text_sync.cpp, lsp/workspace.cpp, lsp/completion_handlers.cpp).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "completion/service.h"
#include "index/index.h"
#include "lsp/documents.h"
#include "lsp/index_registry.h"
#include "lsp/jsonrpc.h"
#include "lsp/protocol.h"
#include "lsp/scheduler.h"
#include "lsp/settings.h"
#include "support/cancel.h"
#include "support/progress.h"

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
  // The daemon's project indexes (lsp/index_registry.h); null: workspace
  // folders are not indexed, and workspace/symbol and definition find nothing.
  std::shared_ptr<IndexRegistry> indexes;
  // The daemon's completion service (its model is shared by every session);
  // null: the session makes its own, without a model until astfill.model
  // names one.
  std::shared_ptr<completion::CompletionService> completion;
  // What the astfill.model setting names, as a path: the CLI resolves the
  // names of pulled models (cli/model_name.h). Null: the setting is a path.
  std::function<std::string(const std::string&)> resolve_model;
  // The model to go back to when astfill.model is set to "" (the daemon's
  // --model, or the bundled demo model); "" when there is none.
  std::string default_model;
};

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
  enum class RequestKind { InlineCompletion, Completion, Command };

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
  };

  using Result = std::variant<json::value, RpcError>;
  // Runs on a worker; may report progress; returns the result or an error.
  using Work = std::function<Result(const CancellationToken&, Progress&)>;

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
  void on_execute_command(const Request& req);
  json::value status() const;
  // Completion (lsp/completion_handlers.cpp).
  struct Located {
    DocumentSnapshot doc;
    size_t offset;
  };
  // The open document and byte offset a position request names, or an
  // InvalidParams answer and nullopt.
  std::optional<Located> locate(const Request& req, const PositionRequestParams& p);
  void on_completion(const Request& req);
  void on_inline_completion(const Request& req);
  void on_fill(const Request& req, const ExecuteCommandParams& params);
  // Where a document lives for completion: its folder's index, root, name,
  // relative path, and excerpts of the files edited most recently.
  completion::ProjectContext project_for(const std::string& uri);
  void note_edit(const std::string& uri, uint32_t line);
  // Loads what astfill.model names (or the default when it is "") unless it is loaded.
  void load_configured_model();
  void load_model(const std::string& path);

  // The project index (lsp/indexing.cpp).
  struct FolderIndex {
    enum class State { Opening, Indexing, Ready, Failed };
    uint64_t id = 0;  // tells a reopened folder's callbacks from the old one's
    std::string uri, name, root;
    std::shared_ptr<index::Index> index;  // null while opening, or after a failure
    State state = State::Opening;
    uint32_t percent = 0;
    std::string message;
    std::optional<json::value> progress_token;  // once the client accepted it
    bool progress_begun = false, progress_ended = false;
  };
  class IndexProgress;
  void start_indexing();
  void open_folder_index(const WorkspaceFolder& folder);
  void on_index_opened(uint64_t id, std::shared_ptr<index::Index> opened, std::string error);
  void on_index_progress(uint64_t id, std::optional<uint32_t> pct, std::string message);
  void begin_index_progress(FolderIndex& f);
  void end_index_progress(FolderIndex& f, const std::string& message);
  void close_folder_index(const std::string& uri);
  void close_all_indexes();
  void release_index(std::shared_ptr<index::Index> index);
  void reopen_indexes();
  FolderIndex* folder_index(uint64_t id);
  FolderIndex* folder_of(const std::string& path);
  static std::string relative_to(const FolderIndex& f, const std::string& path);
  void feed_index(const std::string& uri, bool closed);
  void index_watched_file(const std::string& uri);
  void on_workspace_symbol(const Request& req);
  void on_definition(const Request& req);
  json::value index_status() const;
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
  std::vector<WorkspaceFolder> folders_;
  Settings settings_;
  DocumentStore documents_;
  std::shared_ptr<completion::CompletionService> completion_;
  std::string model_state_ = "none";  // none, loading, ready, failed: <why>
  struct RecentEdit {
    std::string uri;
    uint32_t line = 0;
  };
  std::vector<RecentEdit> recent_edits_;  // most recent first, a few
  std::map<std::string, InFlight> in_flight_;  // by RequestId::key()
  uint64_t next_server_request_ = 1;
  uint64_t watched_file_events_ = 0;
  std::map<std::string, std::function<void(const Response&)>> pending_requests_;  // by RequestId::key()
  std::vector<FolderIndex> folder_indexes_;
  uint64_t next_folder_index_ = 1;
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
