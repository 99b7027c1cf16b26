// textDocument/didOpen, didChange, didClose, didSave.
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
  if (auto warning = documents_.open(item.uri, item.language_id, item.version, std::move(item.text)))
    tell(MessageType::Warning, *warning);
  log::debug(options_.peer, ": opened ", uri, " (", item.language_id, ", ", bytes, " bytes)");
  feed_index(uri, /*closed=*/false);
}

void LanguageServer::on_did_change(const json::value& params) {
  Notification note{"textDocument/didChange", params};
  auto p = decode_notification<DidChangeParams>(note);
  if (!p) return;
  std::vector<ContentChange> changes;
  changes.reserve(p->content_changes.size());
  for (auto& c : p->content_changes) changes.push_back(ContentChange{c.range, std::move(c.text)});
  const std::string& uri = p->text_document.uri;
  auto result = documents_.change(uri, p->text_document.version, changes, encoding_);
  if (!result.ok) {
    tell(MessageType::Error, "textDocument/didChange: " + result.error);
    return;
  }
  if (!result.warning.empty()) tell(MessageType::Warning, result.warning);
  feed_index(uri, /*closed=*/false);
  if (!changes.empty()) note_edit(uri, changes.back().range ? changes.back().range->start.line : 0);
  // An inline completion computed for the old text can no longer be shown.
  cancel_for_document(uri, CancelReason::ContentModified, /*inline_only=*/true);
}

void LanguageServer::on_did_close(const json::value& params) {
  Notification note{"textDocument/didClose", params};
  auto p = decode_notification<DidCloseParams>(note);
  if (!p) return;
  const std::string& uri = p->text_document.uri;
  cancel_for_document(uri, CancelReason::ContentModified, /*inline_only=*/false);
  if (!documents_.close(uri))
    tell(MessageType::Warning, "textDocument/didClose: " + uri + " was not open");
  else
    feed_index(uri, /*closed=*/true);
}

void LanguageServer::on_did_save(const json::value& params) {
  Notification note{"textDocument/didSave", params};
  auto p = decode_notification<DidSaveParams>(note);
  if (!p) return;
  const std::string& uri = p->text_document.uri;
  if (!documents_.get(uri)) {
    log::debug(options_.peer, ": didSave for ", uri, ", which is not open");
    return;
  }
  // The index already has this text from didChange.
  if (auto warning = documents_.saved(uri, std::move(p->text))) tell(MessageType::Warning, *warning);
}

}  // namespace astfill::lsp
