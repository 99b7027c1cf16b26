// The project index as the client sees it: each folder's indexing as
// server-created work-done progress (window/workDoneProgress/create), the file
// watcher's registration, and the two requests answered from the index,
// workspace/symbol and textDocument/definition. The indexes themselves belong
// to the workspace core (workspace/folders.h).
//
// Nothing here waits for indexing: questions read the last commit (see
// index/index.h), so a request during the first sync gets what is indexed so
// far.
#include "lsp/server.h"
#include "support/log.h"

namespace astfill::lsp {

// ---- Progress and the file watcher -------------------------------------------------

void LanguageServer::register_file_watcher() {
  if (!options_.indexes || !watched_files_registration_ || watcher_registered_) return;
  // The client watches the folders for us; deletions and renames outside the
  // editor reach the index through didChangeWatchedFiles.
  watcher_registered_ = true;
  send_request("client/registerCapability", register_file_watcher_params(), [](const Response&) {});
}

void LanguageServer::on_folder_changed(const workspace::FolderStatus& status) {
  using State = workspace::FolderStatus::State;
  auto [it, fresh] = folder_progress_.try_emplace(status.id);
  FolderProgress& p = it->second;
  p.last = status;
  if (fresh && client_progress_ && status.state != State::Removed) {
    json::value token(json::string("astfill/index/" + std::to_string(status.id)));
    p.token = token;
    uint64_t id = status.id;
    send_request("window/workDoneProgress/create", progress_create_params(token),
                 [weak = weak_from_this(), id](const Response& r) {
                   auto self = weak.lock();
                   if (!self) return;
                   auto found = self->folder_progress_.find(id);
                   if (found == self->folder_progress_.end()) return;
                   if (r.error) {
                     log::warn(self->options_.peer, ": the client refused a progress token: ", r.error->message);
                     found->second.token.reset();
                     return;
                   }
                   self->begin_folder_progress(id);
                 });
  }
  switch (status.state) {
    case State::Opening: break;
    case State::Indexing:
      if (p.begun && !p.ended) notify("$/progress", progress_report(*p.token, status.message, status.percent));
      break;
    case State::Ready: end_folder_progress(p, status.message); break;
    case State::Failed: end_folder_progress(p, "indexing failed"); break;
    case State::Removed:
      end_folder_progress(p, status.message);
      folder_progress_.erase(it);
      break;
  }
}

void LanguageServer::begin_folder_progress(uint64_t id) {
  auto it = folder_progress_.find(id);
  if (it == folder_progress_.end()) return;
  FolderProgress& p = it->second;
  if (!p.token || p.begun) return;
  p.begun = true;
  notify("$/progress", progress_begin(*p.token, "Indexing " + p.last.name, p.last.message, false, p.last.percent));
  using State = workspace::FolderStatus::State;
  if (p.last.state == State::Ready) end_folder_progress(p, p.last.message);
  if (p.last.state == State::Failed) end_folder_progress(p, "indexing failed");
}

void LanguageServer::end_folder_progress(FolderProgress& p, const std::string& message) {
  if (!p.begun || p.ended) return;
  p.ended = true;
  notify("$/progress", progress_end(*p.token, message));
}

// ---- Server -> client requests -------------------------------------------------------

void LanguageServer::send_request(std::string method, json::value params,
                                  std::function<void(const Response&)> on_answer) {
  if (closed_) return;
  json::value id(json::string("astfill-" + std::to_string(next_server_request_++)));
  pending_requests_[RequestId{id}.key()] = std::move(on_answer);
  cb_.send(serialize_request(id, method, params));
}

// ---- Requests answered from the index -------------------------------------------------

void LanguageServer::on_workspace_symbol(const WorkspaceSymbolParams& p, const Reply& reply) {
  auto task = workspace_->symbols(p.query, encoding_);
  reply.later(RequestKind::IndexQuestion, "", p.work_done_token, "Searching symbols",
            [task](const CancellationToken& cancel, Progress& progress) -> Result {
              return to_json(task(cancel, progress));
            });
}

void LanguageServer::on_definition(const PositionRequestParams& p, const Reply& reply) {
  auto at = locate(reply, p);
  if (!at) return;
  auto task = workspace_->definitions(at->doc, at->offset, encoding_);
  reply.later(RequestKind::IndexQuestion, p.text_document.uri, p.work_done_token, "Finding definitions",
            [task](const CancellationToken& cancel, Progress& progress) -> Result {
              return to_json(task(cancel, progress));
            });
}

}  // namespace astfill::lsp
