// Workspace folders, configuration, watched files and executeCommand.
#include <algorithm>

#include "lsp/server.h"
#include "support/log.h"

namespace astfill::lsp {

void LanguageServer::on_did_change_workspace_folders(const json::value& params) {
  Notification note{"workspace/didChangeWorkspaceFolders", params};
  auto p = decode_notification<DidChangeWorkspaceFoldersParams>(note);
  if (!p) return;
  std::vector<std::string> removed;
  for (auto& gone : p->removed) removed.push_back(gone.uri);
  workspace_->change_folders(p->added, removed);
  log::info(options_.peer, ": workspace folders now ", workspace_->folders().size(), " (+", p->added.size(),
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
  Settings settings = workspace_->settings();
  for (auto& w : apply_settings(*section, settings, settings_base_dir(workspace_->folders())))
    tell(MessageType::Warning, w);
  log::info(options_.peer, ": settings updated: ", json::serialize(to_json(settings)));
  workspace_->set_settings(std::move(settings));
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
    workspace_->file_changed_on_disk(c.uri);
  }
}

StatusReport LanguageServer::status() const {
  return StatusReport{options_.version, client_name_,       encoding_, in_flight_.size(),
                      workers_.threads(), watched_file_events_, workspace_->status()};
}

void LanguageServer::on_execute_command(const ExecuteCommandParams& p, const Reply& reply) {
  if (p.command == "astfill.status") return reply(to_json(status()));
  if (p.command == "astfill.fill") return on_fill(p, reply);
  if (p.command == "astfill.stats") return on_stats(p, reply);
  if (p.command == "astfill.image.attach") return on_image_attach(p, reply);
  if (p.command == "astfill.image.toCode") return on_image_to_code(p, reply);
  reply.error(ErrorCode::InvalidParams,
              "workspace/executeCommand: unknown command '" + p.command +
                  "' (this server provides: astfill.status, astfill.fill, astfill.stats, astfill.image.attach, "
                  "astfill.image.toCode)");
}

}  // namespace astfill::lsp
