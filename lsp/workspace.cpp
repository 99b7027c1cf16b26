// Workspace folders, configuration, watched files and executeCommand.
#include <algorithm>

#include "lsp/server.h"
#include "support/log.h"

namespace astfill::lsp {

void LanguageServer::on_did_change_workspace_folders(const json::value& params) {
  Notification note{"workspace/didChangeWorkspaceFolders", params};
  auto p = decode_notification<DidChangeWorkspaceFoldersParams>(note);
  if (!p) return;
  for (auto& gone : p->removed) {
    std::erase_if(folders_, [&](const WorkspaceFolder& f) { return f.uri == gone.uri; });
    close_folder_index(gone.uri);
  }
  for (auto& added : p->added) {
    bool known = std::any_of(folders_.begin(), folders_.end(),
                             [&](const WorkspaceFolder& f) { return f.uri == added.uri; });
    if (!known) {
      folders_.push_back(added);
      open_folder_index(added);
    }
  }
  log::info(options_.peer, ": workspace folders now ", folders_.size(), " (+", p->added.size(),
            " -", p->removed.size(), ")");
}

void LanguageServer::on_did_change_configuration(const json::value& params) {
  Notification note{"workspace/didChangeConfiguration", params};
  auto p = decode_notification<DidChangeConfigurationParams>(note);
  if (!p) return;
  // Settings arrive as {"astfill": {...}}. Other sections belong to other tools.
  auto* o = p->settings.if_object();
  if (!o) return;
  auto* section = o->if_contains("astfill");
  if (!section) return;
  IndexSettings before = settings_.index;
  std::string model_before = settings_.completion.model;
  for (auto& w : apply_settings(*section, settings_)) tell(MessageType::Warning, w);
  log::info(options_.peer, ": settings updated: ", json::serialize(to_json(settings_)));
  if (!(settings_.index == before)) reopen_indexes();
  if (settings_.completion.model != model_before) load_configured_model();
}

void LanguageServer::on_did_change_watched_files(const json::value& params) {
  Notification note{"workspace/didChangeWatchedFiles", params};
  auto p = decode_notification<DidChangeWatchedFilesParams>(note);
  if (!p) return;
  watched_file_events_ += p->changes.size();
  for (auto& c : p->changes) {
    const char* what = c.type == FileChangeType::Created   ? "created"
                       : c.type == FileChangeType::Deleted ? "deleted"
                                                           : "changed";
    log::debug(options_.peer, ": watched file ", what, ": ", c.uri);
    // A file the editor has open is the editor's: its text is already fed.
    if (!documents_.get(c.uri)) index_watched_file(c.uri);
  }
}

json::value LanguageServer::status() const {
  json::array folders;
  for (auto& f : folders_) folders.push_back(to_json(f));
  json::array docs;
  for (auto& uri : documents_.uris()) {
    auto snap = documents_.get(uri);
    docs.push_back(json::object{{"uri", uri},
                                {"languageId", snap->language_id},
                                {"version", snap->version},
                                {"bytes", snap->text->size()}});
  }
  return json::object{
      {"version", options_.version},
      {"client", client_name_},
      {"positionEncoding", encoding_name(encoding_)},
      {"workspaceFolders", std::move(folders)},
      {"documents", std::move(docs)},
      {"requestsInFlight", in_flight_.size()},
      {"workers", workers_.threads()},
      {"watchedFileEvents", watched_file_events_},
      {"indexes", index_status()},
      {"model", completion_->has_model() ? json::value(completion_->model_path()) : json::value(nullptr)},
      {"modelState", model_state_},
      {"completionCacheHits", completion_->cache_hits()},
      {"settings", to_json(settings_)},
  };
}

void LanguageServer::load_configured_model() {
  const std::string& setting = settings_.completion.model;
  std::string path = setting.empty()           ? options_.default_model
                     : options_.resolve_model ? options_.resolve_model(setting)
                                              : setting;
  if (!path.empty() && path != completion_->model_path()) load_model(path);
}

void LanguageServer::load_model(const std::string& path) {
  model_state_ = "loading";
  std::weak_ptr<LanguageServer> weak = weak_from_this();
  LoopPoster& loop = loop_;
  auto service = completion_;
  workers_.submit([weak, service, path, &loop] {
    std::string error;
    try {
      service->load_model(path);
    } catch (const std::exception& e) {
      error = e.what();
    }
    loop.post([weak, path, error] {
      auto self = weak.lock();
      if (!self) return;
      if (error.empty()) {
        self->model_state_ = "ready";
        self->tell(MessageType::Info, "model loaded: " + path);
      } else {
        self->model_state_ = "failed: " + error;
        self->tell(MessageType::Error, "cannot load the model: " + error);
      }
    });
  });
}

void LanguageServer::on_execute_command(const Request& req) {
  auto p = decode_request<ExecuteCommandParams>(req);
  if (!p) return;
  if (p->command == "astfill.status") {
    reply(req.id, status());
    return;
  }
  if (p->command == "astfill.fill") return on_fill(req, *p);
  reply_error(req.id.value, ErrorCode::InvalidParams,
              "workspace/executeCommand: unknown command '" + p->command +
                  "' (this server provides: astfill.status, astfill.fill)");
}

}  // namespace astfill::lsp
