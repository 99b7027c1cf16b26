// textDocument/didOpen, didChange, didClose, didSave: the editor's texts go to
// the workspace core, which keeps them (with their trees) and feeds the index.
#include "lsp/server.h"
#include "support/log.h"

namespace astfill::lsp {

void LanguageServer::on_did_open(const json::value& params) {
  Notification note{"textDocument/didOpen", params};
  auto p = decode_notification<DidOpenParams>(note);
  if (!p) return;
  auto& item = p->text_document;
  std::string uri = item.uri;
  size_t bytes = item.text.size();
  if (auto warning = workspace_->open(item.uri, item.language_id, item.version, std::move(item.text)))
    tell(MessageType::Warning, *warning);
  log::debug(options_.peer, ": opened ", uri, " (", item.language_id, ", ", bytes, " bytes)");
}

void LanguageServer::on_did_change(const json::value& params) {
  Notification note{"textDocument/didChange", params};
  auto p = decode_notification<DidChangeParams>(note);
  if (!p) return;
  std::vector<workspace::ContentChange> changes;
  changes.reserve(p->content_changes.size());
  for (auto& c : p->content_changes) changes.push_back(workspace::ContentChange{c.range, std::move(c.text)});
  const std::string& uri = p->text_document.uri;
  auto result = workspace_->change(uri, p->text_document.version, changes, encoding_);
  if (!result.ok) {
    tell(MessageType::Error, "textDocument/didChange: " + result.error);
    return;
  }
  if (!result.warning.empty()) tell(MessageType::Warning, result.warning);
  // An inline completion computed for the old text can no longer be shown.
  cancel_for_document(uri, CancelReason::ContentModified, /*inline_only=*/true);
}

void LanguageServer::on_did_close(const json::value& params) {
  Notification note{"textDocument/didClose", params};
  auto p = decode_notification<DidCloseParams>(note);
  if (!p) return;
  const std::string& uri = p->text_document.uri;
  cancel_for_document(uri, CancelReason::ContentModified, /*inline_only=*/false);
  if (!workspace_->close(uri)) tell(MessageType::Warning, "textDocument/didClose: " + uri + " was not open");
}

void LanguageServer::on_did_save(const json::value& params) {
  Notification note{"textDocument/didSave", params};
  auto p = decode_notification<DidSaveParams>(note);
  if (!p) return;
  const std::string& uri = p->text_document.uri;
  if (!workspace_->document(uri)) {
    log::debug(options_.peer, ": didSave for ", uri, ", which is not open");
    return;
  }
  if (auto warning = workspace_->save(uri, std::move(p->text))) tell(MessageType::Warning, *warning);
}

}  // namespace astfill::lsp
