// textDocument/inlineCompletion (ghost text) and textDocument/completion (API
// suggestions): translate LSP params into completion/ requests, run them on a
// worker, and translate the answers back into the client's position encoding.
#include <cstdio>

#include "lsp/server.h"
#include "lsp/uri.h"
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

// LSP's CompletionItemKind numbers.
int completion_kind(parsing::SymbolKind kind) {
  using K = parsing::SymbolKind;
  switch (kind) {
    case K::Function: return 3;
    case K::Method: return 2;
    case K::Class: return 7;
    case K::Struct: return 22;
    case K::Interface: return 8;
    case K::Trait: return 8;
    case K::Enum: return 13;
    case K::EnumMember: return 20;
    case K::Field: return 5;
    case K::Constant: return 21;
    case K::Variable: return 6;
    case K::TypeAlias: return 7;
    case K::Module: return 9;
    case K::Namespace: return 9;
  }
  return 1;
}

// Lines [line - radius, line + radius] of `text`.
std::string lines_around(std::string_view text, uint32_t line, uint32_t radius) {
  uint32_t first = line > radius ? line - radius : 0, last = line + radius;
  size_t begin = 0;
  for (uint32_t l = 0; l < first && begin != std::string_view::npos; ++l) {
    begin = text.find('\n', begin);
    if (begin != std::string_view::npos) ++begin;
  }
  if (begin == std::string_view::npos) return {};
  size_t end = begin;
  for (uint32_t l = first; l <= last && end != std::string_view::npos; ++l) {
    end = text.find('\n', end);
    if (end != std::string_view::npos) ++end;
  }
  return std::string(text.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
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

void LanguageServer::note_edit(const std::string& uri, uint32_t line) {
  std::erase_if(recent_edits_, [&](const RecentEdit& e) { return e.uri == uri; });
  recent_edits_.insert(recent_edits_.begin(), RecentEdit{uri, line});
  if (recent_edits_.size() > 4) recent_edits_.resize(4);
}

completion::ProjectContext LanguageServer::project_for(const std::string& uri) {
  completion::ProjectContext project;
  auto path = file_uri_to_path(uri);
  FolderIndex* f = path ? folder_of(*path) : nullptr;
  if (f) {
    project.index = f->index;
    project.root = f->root;
    project.name = f->name;
    project.path = relative_to(*f, *path);
  } else {
    project.path = path.value_or(uri);
    if (!folders_.empty()) project.name = folders_.front().name;
  }
  // Excerpts of the other files edited last, around where they were edited.
  for (const auto& e : recent_edits_) {
    if (e.uri == uri) continue;
    auto doc = documents_.get(e.uri);
    auto other = file_uri_to_path(e.uri);
    if (!doc || !other) continue;
    std::string rel = f && other->starts_with(f->root + "/") ? relative_to(*f, *other) : *other;
    project.recent_edits.push_back({rel, lines_around(*doc->text, e.line, 10)});
  }
  return project;
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
      settings_.completion, project_for(uri)};
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
              const auto& d = result.details;
              log::debug("inline completion for ", request.document.uri, ": ", d.from_cache ? "from cache" : d.end,
                         ", prompt ", d.prompt_tokens, " (", d.reused_tokens, " reused), ", d.generated_tokens,
                         " generated, ", static_cast<int>(d.elapsed_ms), " ms");
              return json::value(json::object{{"items", std::move(items)}});
            });
}

void LanguageServer::on_completion(const Request& req) {
  auto p = decode_request<CompletionParams>(req);
  if (!p) return;
  auto at = locate(req, *p);
  if (!at) return;
  const std::string& uri = p->text_document.uri;
  completion::ApiSuggestionRequest request{text_of(at->doc), at->offset, settings_.completion, project_for(uri)};
  auto service = completion_;
  auto latency = options_.simulated_latency;
  auto enc = encoding_;
  run_async(req, RequestKind::Completion, uri, p->work_done_token, "astfill: suggestions",
            [=](const CancellationToken& cancel, Progress& progress) -> Result {
              if (!wait_simulated(latency, cancel, progress)) return cancelled(cancel);
              auto result = service->suggest_api(request, cancel, progress);
              if (cancel.cancelled()) return cancelled(cancel);
              const std::string& text = *request.document.text;
              json::array items;
              int rank = 0;
              for (auto& s : result.items) {
                char sort[16];
                std::snprintf(sort, sizeof sort, "%06d", rank++);
                Range range{position_at(text, s.replace_begin, enc), position_at(text, s.replace_end, enc)};
                json::object item{{"label", s.label},
                                  {"kind", completion_kind(s.kind)},
                                  {"sortText", sort},
                                  {"filterText", s.label},
                                  {"textEdit", json::object{{"range", to_json(range)}, {"newText", s.label}}}};
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

void LanguageServer::on_fill(const Request& req, const ExecuteCommandParams& params) {
  // arguments: [{textDocument: {uri}, position}] (TextDocumentPositionParams).
  PositionRequestParams p;
  Decoder d;
  if (params.arguments.size() != 1 || !from_json(params.arguments[0], p, "arguments[0]", d)) {
    reply_error(req.id.value, ErrorCode::InvalidParams,
                "astfill.fill: expected arguments [{textDocument: {uri}, position}]" +
                    (d.error().empty() ? std::string() : ": " + d.error()));
    return;
  }
  auto at = locate(req, p);
  if (!at) return;
  const std::string& uri = p.text_document.uri;
  completion::FillRequest request{text_of(at->doc), at->offset, settings_.completion, project_for(uri)};
  auto service = completion_;
  auto enc = encoding_;
  run_async(req, RequestKind::Command, uri, params.work_done_token, "astfill: fill",
            [=](const CancellationToken& cancel, Progress& progress) -> Result {
              auto result = service->fill(request, cancel, progress);
              if (cancel.cancelled()) return cancelled(cancel);
              if (result.empty_reason == completion::EmptyReason::NoModel ||
                  result.empty_reason == completion::EmptyReason::Disabled)
                return RpcError{ErrorCode::RequestFailed,
                                std::string("astfill.fill: ") + completion::to_string(result.empty_reason),
                                std::nullopt};
              const std::string& text = *request.document.text;
              Range range{position_at(text, result.replace_begin, enc), position_at(text, result.replace_end, enc)};
              json::array edits;
              if (!result.text.empty())
                edits.push_back(json::object{{"range", to_json(range)}, {"newText", result.text}});
              // A WorkspaceEdit, for the client to apply (workspace/applyEdit's shape).
              return json::value(json::object{{"changes", json::object{{uri, std::move(edits)}}}});
            });
}

}  // namespace astfill::lsp
