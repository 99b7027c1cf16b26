#include "lsp/server.h"

#include "support/log.h"

namespace astfill::lsp {
namespace {

// Sends a worker's progress reports to the loop thread, where they become
// $/progress notifications if the request is still in flight.
class PostedProgress final : public Progress {
 public:
  PostedProgress(LoopPoster& loop, std::function<void(std::optional<uint32_t>, std::string)> fn)
      : loop_(loop), fn_(std::move(fn)) {}
  void report(std::optional<uint32_t> pct, const std::string& message) override {
    loop_.post([fn = fn_, pct, message] { fn(pct, message); });
  }

 private:
  LoopPoster& loop_;
  std::function<void(std::optional<uint32_t>, std::string)> fn_;
};

ErrorCode code_for(CancelReason reason) {
  return reason == CancelReason::ContentModified ? ErrorCode::ContentModified
                                                 : ErrorCode::RequestCancelled;
}

log::Level level_for(MessageType type) {
  switch (type) {
    case MessageType::Error: return log::Level::Error;
    case MessageType::Warning: return log::Level::Warn;
    case MessageType::Info: return log::Level::Info;
    case MessageType::Log: return log::Level::Debug;
  }
  return log::Level::Info;
}

// Tokens are compared in constant time so a remote client learns nothing from
// how long a refusal takes.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ (i < b.size() ? b[i] : 0);
  return diff == 0;
}

std::string folder_name(const std::string& uri) {
  auto slash = uri.find_last_of('/', uri.size() > 1 && uri.back() == '/' ? uri.size() - 2 : std::string::npos);
  std::string name = slash == std::string::npos ? uri : uri.substr(slash + 1);
  if (!name.empty() && name.back() == '/') name.pop_back();
  return name.empty() ? uri : name;
}

MessageType message_type(workspace::MessageLevel level) {
  switch (level) {
    case workspace::MessageLevel::Error: return MessageType::Error;
    case workspace::MessageLevel::Warning: return MessageType::Warning;
    case workspace::MessageLevel::Info: return MessageType::Info;
  }
  return MessageType::Info;
}

}  // namespace

std::shared_ptr<LanguageServer> LanguageServer::create(ServerOptions options, WorkerPool& workers,
                                                       LoopPoster& loop, Callbacks callbacks) {
  std::shared_ptr<LanguageServer> server(new LanguageServer(std::move(options), workers, loop, std::move(callbacks)));
  std::weak_ptr<LanguageServer> weak = server;
  workspace::Executor executor{[&workers](std::function<void()> job) { workers.submit(std::move(job)); },
                               [&loop](std::function<void()> fn) { loop.post(std::move(fn)); }};
  workspace::WorkspaceEvents events;
  events.message = [weak](workspace::MessageLevel level, const std::string& message) {
    if (auto self = weak.lock()) self->tell(message_type(level), message);
  };
  events.folder_changed = [weak](const workspace::FolderStatus& status) {
    if (auto self = weak.lock()) self->on_folder_changed(status);
  };
  workspace::WorkspaceOptions wo{server->options_.indexes, server->options_.model, server->options_.peer,
                                 server->options_.images};
  server->workspace_ = std::make_unique<workspace::Workspace>(std::move(wo), std::move(executor), std::move(events));
  return server;
}

LanguageServer::LanguageServer(ServerOptions options, WorkerPool& workers, LoopPoster& loop,
                               Callbacks callbacks)
    : options_(std::move(options)),
      workers_(workers),
      loop_(loop),
      cb_(std::move(callbacks)),
      authenticated_(!options_.auth_token) {}

LanguageServer::~LanguageServer() = default;

// ---- Messages ---------------------------------------------------------------

void LanguageServer::on_message(std::string_view body) {
  if (closed_) return;
  size_t repaired = 0;
  Incoming msg = classify(body, &repaired);
  if (repaired) {
    std::string what = std::get_if<Request>(&msg)        ? std::get<Request>(msg).method
                       : std::get_if<Notification>(&msg) ? std::get<Notification>(msg).method
                                                         : std::string("a message");
    tell(MessageType::Warning, what + ": " + std::to_string(repaired) + " unpaired UTF-16 surrogate escape" +
                                   (repaired == 1 ? "" : "s") + " in the message replaced with U+FFFD");
  }
  if (auto* m = std::get_if<Malformed>(&msg)) {
    log::warn(options_.peer, ": ", m->error.message);
    reply_error(m->id, m->error.code, m->error.message);
    if (!authenticated_) cb_.close("unauthenticated client sent a malformed message");
    return;
  }
  // The loop thread's exception boundary, like the workers': a handler that
  // throws answers its request with InternalError (or reports a notification
  // it could not handle), and the session keeps serving.
  std::optional<json::value> id;
  std::string method;
  try {
    if (auto* r = std::get_if<Request>(&msg)) {
      id = r->id.value;
      method = r->method;
      return handle_request(std::move(*r));
    }
    if (auto* n = std::get_if<Notification>(&msg)) {
      method = n->method;
      return handle_notification(std::move(*n));
    }
    method = "a response";
    handle_response(std::get<Response>(std::move(msg)));
  } catch (const std::exception& e) {
    std::string what = "internal error handling " + method + ": " + e.what();
    if (id && !in_flight_.count(RequestId{*id}.key())) reply_error(*id, ErrorCode::InternalError, what);
    else tell(MessageType::Error, what);
  }
}

void LanguageServer::on_framing_error(const std::string& error, ErrorCode code) {
  if (closed_) return;
  log::warn(options_.peer, ": ", error);
  reply_error(nullptr, code, error);
}

void LanguageServer::on_disconnect() {
  if (closed_) return;
  closed_ = true;
  for (auto& [key, f] : in_flight_) f.cancel.cancel(CancelReason::ClientRequest);
  if (!in_flight_.empty())
    log::info(options_.peer, ": disconnected; cancelled ", in_flight_.size(), " request(s) in flight");
  in_flight_.clear();
  pending_requests_.clear();
  workspace_->close_indexes();
}

void LanguageServer::handle_request(Request req) {
  log::debug(options_.peer, ": --> ", req.method, " #", req.id.to_string());
  if (!authenticated_ && req.method != "initialize") {
    reply_error(req.id.value, ErrorCode::ServerNotInitialized,
                "authentication required: the first message must be 'initialize' with "
                "initializationOptions.token");
    cb_.close("request before authentication");
    return;
  }
  if (state_ == State::ShutDown) {
    reply_error(req.id.value, ErrorCode::InvalidRequest,
                "the server is shutting down: only the 'exit' notification is accepted after "
                "'shutdown' (got '" + req.method + "')");
    return;
  }
  if (req.method == "initialize") {
    if (state_ != State::Uninitialized) {
      reply_error(req.id.value, ErrorCode::InvalidRequest,
                  "'initialize' may be sent only once per session");
      return;
    }
    return on_initialize(req);
  }
  if (state_ == State::Uninitialized) {
    reply_error(req.id.value, ErrorCode::ServerNotInitialized,
                "the server is not initialized: send 'initialize' before '" + req.method + "'");
    return;
  }
  if (in_flight_.count(req.id.key())) {
    reply_error(req.id.value, ErrorCode::InvalidRequest,
                "request id " + req.id.to_string() + " is already in use by a request in flight");
    return;
  }
  if (req.method == "shutdown") return on_shutdown(req);
  if (req.method == "textDocument/inlineCompletion") return handle(req, &LanguageServer::on_inline_completion);
  if (req.method == "textDocument/completion") return handle(req, &LanguageServer::on_completion);
  if (req.method == "workspace/executeCommand") return handle(req, &LanguageServer::on_execute_command);
  if (req.method == "workspace/symbol") return handle(req, &LanguageServer::on_workspace_symbol);
  if (req.method == "textDocument/definition") return handle(req, &LanguageServer::on_definition);
  reply_error(req.id.value, ErrorCode::MethodNotFound, "unknown method '" + req.method + "'");
}

void LanguageServer::handle_notification(Notification note) {
  log::debug(options_.peer, ": --> ", note.method);
  if (note.method == "exit") return on_exit();
  if (!authenticated_) {
    cb_.close("notification '" + note.method + "' before authentication");
    return;
  }
  if (state_ == State::Uninitialized) {
    // The spec: notifications before initialize are dropped.
    log::warn(options_.peer, ": dropped '", note.method, "' received before 'initialize'");
    return;
  }
  const json::value& p = note.params;
  if (note.method == "initialized") {
    register_file_watcher();
    return workspace_->start_indexing();
  }
  if (note.method == "$/cancelRequest") return on_cancel_request(p);
  if (state_ == State::ShutDown) return;
  if (note.method == "textDocument/didOpen") return on_did_open(p);
  if (note.method == "textDocument/didChange") return on_did_change(p);
  if (note.method == "textDocument/didClose") return on_did_close(p);
  if (note.method == "textDocument/didSave") return on_did_save(p);
  if (note.method == "workspace/didChangeWorkspaceFolders") return on_did_change_workspace_folders(p);
  if (note.method == "workspace/didChangeConfiguration") return on_did_change_configuration(p);
  if (note.method == "workspace/didChangeWatchedFiles") return on_did_change_watched_files(p);
  if (note.method == "astfill/suggestionEvent") return on_suggestion_event(p);
  if (note.method == "$/setTrace" || note.method == "textDocument/willSave") return;
  // Unknown notifications are ignored, as the spec asks ($/ ones silently).
  if (note.method.rfind("$/", 0) != 0)
    log::debug(options_.peer, ": ignored unknown notification '", note.method, "'");
}

void LanguageServer::handle_response(Response resp) {
  if (auto it = pending_requests_.find(resp.id.key()); it != pending_requests_.end()) {
    auto on_answer = std::move(it->second);
    pending_requests_.erase(it);
    if (resp.error)
      log::debug(options_.peer, ": client answered request ", resp.id.to_string(), " with error ",
                 static_cast<int>(resp.error->code), ": ", resp.error->message);
    on_answer(resp);
    return;
  }
  if (resp.error)
    log::warn(options_.peer, ": client answered request ", resp.id.to_string(), " with error ",
              static_cast<int>(resp.error->code), ": ", resp.error->message);
  else
    log::debug(options_.peer, ": client answered request ", resp.id.to_string());
}

// ---- Lifecycle ----------------------------------------------------------------

void LanguageServer::on_initialize(const Request& req) {
  auto params = decode_request<InitializeParams>(req);
  if (!params) {
    if (!authenticated_) cb_.close("malformed initialize before authentication");
    return;
  }
  if (!authenticated_) {
    std::string presented;
    if (params->initialization_options && params->initialization_options->is_object()) {
      if (auto* t = params->initialization_options->get_object().if_contains("token"); t && t->is_string())
        presented = std::string(t->get_string());
    }
    if (presented.empty() || !same_secret(presented, *options_.auth_token)) {
      reply_error(req.id.value, ErrorCode::InvalidRequest,
                  presented.empty() ? "authentication required: initializationOptions.token is missing"
                                    : "authentication failed: initializationOptions.token is wrong");
      cb_.close("authentication failed");
      return;
    }
    authenticated_ = true;
  }

  // Position encoding: the first of the client's choices (in its order of
  // preference) that we support; UTF-16 when it offers none.
  encoding_ = PositionEncoding::Utf16;
  for (const auto& name : params->position_encodings) {
    if (auto e = parse_encoding(name)) {
      encoding_ = *e;
      break;
    }
  }
  client_progress_ = params->work_done_progress;
  watched_files_registration_ = params->watched_files_registration;
  client_name_ = params->client_name.value_or("unknown client");
  if (params->client_version) client_name_ += " " + *params->client_version;

  if (params->workspace_folders) {
    workspace_->set_folders(*params->workspace_folders);
  } else if (params->root_uri) {
    workspace_->set_folders({WorkspaceFolder{*params->root_uri, folder_name(*params->root_uri)}});
  } else if (params->root_path && !params->root_path->empty()) {
    std::string uri = "file://" + *params->root_path;
    workspace_->set_folders({WorkspaceFolder{uri, folder_name(uri)}});
  }

  state_ = State::Initialized;
  if (params->initialization_options && params->initialization_options->is_object()) {
    if (auto* section = params->initialization_options->get_object().if_contains("astfill")) {
      Settings settings = workspace_->settings();
      for (auto& w : apply_settings(*section, settings, settings_base_dir(workspace_->folders())))
        tell(MessageType::Warning, w);
      workspace_->set_settings(std::move(settings));
    }
  }

  reply(req.id, to_json(InitializeResult{encoding_, options_.version,
                                         {"astfill.status", "astfill.fill", "astfill.stats", "astfill.image.attach",
                                          "astfill.image.toCode"}}));
  log::info(options_.peer, ": initialized for ", client_name_, ", ", workspace_->folders().size(),
            " workspace folder(s), position encoding ", encoding_name(encoding_));
}

void LanguageServer::on_shutdown(const Request& req) {
  std::vector<std::string> keys;
  for (auto& [key, _] : in_flight_) keys.push_back(key);
  for (auto& key : keys) cancel_in_flight(key, CancelReason::Shutdown);
  state_ = State::ShutDown;
  shutdown_ = true;
  reply(req.id, nullptr);
}

void LanguageServer::on_exit() {
  for (auto& [key, f] : in_flight_) f.cancel.cancel(CancelReason::Shutdown);
  in_flight_.clear();
  workspace_->close_indexes();
  int code = shutdown_ ? 0 : 1;
  log::info(options_.peer, ": exit", shutdown_ ? "" : " without shutdown", " (code ", code, ")");
  closed_ = true;
  cb_.exit(code);
}

void LanguageServer::on_cancel_request(const json::value& params) {
  Decoder d;
  CancelParams p;
  if (!from_json(params, p, "params", d)) {
    tell(MessageType::Warning, "$/cancelRequest: " + d.error());
    return;
  }
  std::string key = RequestId{p.id.value}.key();
  if (in_flight_.count(key)) cancel_in_flight(key, CancelReason::ClientRequest);
  // Otherwise it was already answered: nothing to do.
}

// ---- Requests in flight ---------------------------------------------------------

void LanguageServer::Reply::operator()(json::value result) const { server_.reply(req_.id, std::move(result)); }

void LanguageServer::Reply::error(ErrorCode code, std::string message) const {
  server_.reply_error(req_.id.value, code, std::move(message));
}

void LanguageServer::Reply::later(RequestKind kind, std::string uri, std::optional<IntOrString> progress_token,
                                  std::string title, Work work) const {
  server_.run_async(req_, kind, std::move(uri), std::move(progress_token), std::move(title), std::move(work));
}

void LanguageServer::run_async(const Request& req, RequestKind kind, std::string uri,
                               std::optional<IntOrString> progress_token, std::string title,
                               Work work) {
  std::string key = req.id.key();
  InFlight& f = in_flight_[key];
  f.id = req.id;
  f.method = req.method;
  f.kind = kind;
  f.uri = std::move(uri);
  f.started = std::chrono::steady_clock::now();
  if (progress_token) {
    f.progress_token = progress_token->value;
    f.progress_open = true;
    notify("$/progress", progress_begin(progress_token->value, title, std::nullopt, true, 0));
  }
  CancellationToken token = f.cancel.token();
  std::weak_ptr<LanguageServer> weak = weak_from_this();
  LoopPoster& loop = loop_;
  // Index questions never wait behind model work; the newest inline
  // completion is taken before queued background work (lsp/scheduler.h).
  Lane lane = kind == RequestKind::IndexQuestion     ? Lane::Quick
              : kind == RequestKind::InlineCompletion ? Lane::Focused
                                                      : Lane::Compute;
  workers_.submit([weak, key, token, work = std::move(work), &loop] {
    Result result = RpcError{code_for(token.reason()), to_string(token.reason()), std::nullopt};
    if (!token.cancelled()) {
      PostedProgress progress(loop, [weak, key](std::optional<uint32_t> pct, std::string msg) {
        if (auto self = weak.lock()) self->progress(key, pct, std::move(msg));
      });
      try {
        result = work(token, progress);
      } catch (const std::exception& e) {
        result = RpcError{ErrorCode::InternalError, std::string("internal error: ") + e.what(),
                          std::nullopt};
      }
    }
    loop.post([weak, key, result = std::move(result)]() mutable {
      if (auto self = weak.lock()) self->finish(key, std::move(result));
    });
  }, lane);
}

void LanguageServer::progress(const std::string& key, std::optional<uint32_t> pct,
                              std::string message) {
  auto it = in_flight_.find(key);
  if (it == in_flight_.end() || !it->second.progress_open || closed_) return;
  notify("$/progress", progress_report(*it->second.progress_token,
                                       message.empty() ? std::nullopt : std::optional(message), pct));
}

void LanguageServer::close_progress(InFlight& f, const std::string& message) {
  if (!f.progress_open) return;
  f.progress_open = false;
  notify("$/progress", progress_end(*f.progress_token, message));
}

void LanguageServer::finish(const std::string& key, Result result) {
  auto it = in_flight_.find(key);
  if (it == in_flight_.end()) return;  // already answered (cancelled) or session gone
  InFlight f = std::move(it->second);
  in_flight_.erase(it);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - f.started).count();
  if (auto* err = std::get_if<RpcError>(&result)) {
    close_progress(f, "failed");
    log::debug(options_.peer, ": <-- ", f.method, " #", f.id.to_string(), " error after ", ms,
               " ms: ", err->message);
    reply_error(f.id.value, err->code, err->message);
    return;
  }
  close_progress(f, "done");
  log::debug(options_.peer, ": <-- ", f.method, " #", f.id.to_string(), " in ", ms, " ms");
  reply(f.id, std::move(std::get<json::value>(result)));
}

void LanguageServer::cancel_in_flight(const std::string& key, CancelReason reason) {
  auto it = in_flight_.find(key);
  if (it == in_flight_.end()) return;
  InFlight f = std::move(it->second);
  in_flight_.erase(it);
  f.cancel.cancel(reason);
  record_cancelled(f);
  close_progress(f, "cancelled");
  log::debug(options_.peer, ": <-- ", f.method, " #", f.id.to_string(), " ", to_string(reason));
  reply_error(f.id.value, code_for(reason),
              f.method + " request " + f.id.to_string() + " " + to_string(reason));
}

void LanguageServer::cancel_for_document(const std::string& uri, CancelReason reason,
                                         bool inline_only, const std::string& except_key) {
  std::vector<std::string> keys;
  for (auto& [key, f] : in_flight_) {
    if (f.uri != uri || key == except_key) continue;
    if (inline_only && f.kind != RequestKind::InlineCompletion) continue;
    keys.push_back(key);
  }
  for (auto& key : keys) cancel_in_flight(key, reason);
}

// ---- Output ---------------------------------------------------------------------

void LanguageServer::reply(const RequestId& id, json::value result) {
  if (closed_) return;
  cb_.send(serialize_result(id, result));
}

void LanguageServer::reply_error(const json::value& id, ErrorCode code, std::string message) {
  if (closed_) return;
  cb_.send(serialize_error(id, RpcError{code, std::move(message), std::nullopt}));
}

void LanguageServer::notify(std::string_view method, json::value params) {
  if (closed_) return;
  cb_.send(serialize_notification(method, params));
}

void LanguageServer::tell(MessageType type, const std::string& message) {
  log::emit(level_for(type), options_.peer, ": ", message);
  if (state_ != State::Uninitialized) notify("window/logMessage", log_message(type, message));
}

}  // namespace astfill::lsp
