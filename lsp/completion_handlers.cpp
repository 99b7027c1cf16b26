// textDocument/inlineCompletion (ghost text) and textDocument/completion (API
// suggestions): translate LSP params into completion/ requests, run them on a
// worker, and translate the answers back into the client's position encoding.
#include <cstdio>

#include "lsp/server.h"
#include "support/log.h"

namespace astfill::lsp {
namespace {

// The simulated latency (ServerOptions::simulated_latency): cancellable waits
// in four steps, each followed by a progress report. False when cancelled.
bool wait_simulated(std::chrono::milliseconds total, const CancellationToken& cancel,
                    Progress& progress) {
  if (total.count() <= 0) return true;
  constexpr int kSteps = 4;
  for (int step = 1; step <= kSteps; ++step) {
    if (!cancel.wait_for(total / kSteps)) return false;
    if (step < kSteps) progress.report(static_cast<uint32_t>(step * 100 / kSteps), "working");
  }
  return true;
}

completion::DocumentText text_of(const DocumentSnapshot& s) {
  return completion::DocumentText{s.uri, s.language_id, s.version, s.text};
}

RpcError cancelled(const CancellationToken& t) {
  return RpcError{t.reason() == CancelReason::ContentModified ? ErrorCode::ContentModified
                                                              : ErrorCode::RequestCancelled,
                  to_string(t.reason()), std::nullopt};
}

}  // namespace

std::optional<LanguageServer::Located> LanguageServer::locate(const Request& req,
                                                              const PositionRequestParams& p) {
  const std::string& uri = p.text_document.uri;
  auto doc = documents_.get(uri);
  if (!doc) {
    reply_error(req.id.value, ErrorCode::InvalidParams,
                req.method + ": document " + uri + " is not open (send textDocument/didOpen first)");
    return std::nullopt;
  }
  auto offset = offset_at(*doc->text, p.position, encoding_);
  if (!offset) {
    reply_error(req.id.value, ErrorCode::InvalidParams,
                req.method + ": position " + std::to_string(p.position.line) + ":" +
                    std::to_string(p.position.character) + " is past the end of " + uri +
                    " (" + std::to_string(line_count(*doc->text)) + " lines)");
    return std::nullopt;
  }
  return Located{std::move(*doc), *offset};
}

void LanguageServer::on_inline_completion(const Request& req) {
  auto p = decode_request<InlineCompletionParams>(req);
  if (!p) return;
  auto at = locate(req, *p);
  if (!at) return;
  const std::string& uri = p->text_document.uri;
  // Only the newest request for a document can still be shown.
  cancel_for_document(uri, CancelReason::Superseded, /*inline_only=*/true);

  completion::InlineCompletionRequest request{
      text_of(at->doc), at->offset,
      p->trigger_kind == 1 ? completion::Trigger::Invoked : completion::Trigger::Automatic,
      settings_.completion};
  auto service = completion_;
  auto latency = options_.simulated_latency;
  auto enc = encoding_;
  run_async(req, RequestKind::InlineCompletion, uri, p->work_done_token, "astfill: inline completion",
            [=](const CancellationToken& cancel, Progress& progress) -> Result {
              if (!wait_simulated(latency, cancel, progress)) return cancelled(cancel);
              auto result = service->complete_inline(request, cancel, progress);
              if (cancel.cancelled()) return cancelled(cancel);
              const std::string& text = *request.document.text;
              json::array items;
              for (auto& item : result.items) {
                Range range{position_at(text, item.replace_begin, enc),
                            position_at(text, item.replace_end, enc)};
                items.push_back(json::object{{"insertText", item.insert_text},
                                             {"range", to_json(range)}});
              }
              if (items.empty() && result.empty_reason != completion::EmptyReason::None)
                log::debug("inline completion for ", request.document.uri, ": no items (",
                           completion::to_string(result.empty_reason), ")");
              return json::value(json::object{{"items", std::move(items)}});
            });
}

void LanguageServer::on_completion(const Request& req) {
  auto p = decode_request<CompletionParams>(req);
  if (!p) return;
  auto at = locate(req, *p);
  if (!at) return;
  const std::string& uri = p->text_document.uri;
  completion::ApiSuggestionRequest request{text_of(at->doc), at->offset, settings_.completion};
  auto service = completion_;
  auto latency = options_.simulated_latency;
  run_async(req, RequestKind::Completion, uri, p->work_done_token, "astfill: suggestions",
            [=](const CancellationToken& cancel, Progress& progress) -> Result {
              if (!wait_simulated(latency, cancel, progress)) return cancelled(cancel);
              auto result = service->suggest_api(request, cancel, progress);
              if (cancel.cancelled()) return cancelled(cancel);
              json::array items;
              int rank = 0;
              for (auto& s : result.items) {
                char sort[16];
                std::snprintf(sort, sizeof sort, "%06d", rank++);
                json::object item{{"label", s.label}, {"sortText", sort}};
                if (!s.detail.empty()) item["detail"] = s.detail;
                if (!s.documentation.empty())
                  item["documentation"] =
                      json::object{{"kind", "markdown"}, {"value", s.documentation}};
                items.push_back(std::move(item));
              }
              return json::value(
                  json::object{{"isIncomplete", false}, {"items", std::move(items)}});
            });
}

}  // namespace astfill::lsp
