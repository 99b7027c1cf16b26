// textDocument/inlineCompletion (ghost text), textDocument/completion (API
// suggestions) and astfill.fill: positions in, the workspace core's answer
// computed on a worker, byte offsets turned back into the client's positions.
#include <algorithm>
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

// The answer's figures in its statistics record: latency from the request's
// arrival, the first item's size, and what `complete --json` details carry.
void record_answer(stats::Suggestion& s, const completion::InlineCompletionResult& result,
                   std::chrono::steady_clock::time_point arrived) {
  s.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - arrived).count();
  if (!result.items.empty()) {
    const std::string& shown = result.items.front().insert_text;
    s.chars = shown.size();
    s.lines = shown.empty() ? 0 : 1 + static_cast<size_t>(std::count(shown.begin(), shown.end(), '\n'));
  }
  const auto& d = result.details;
  s.from_cache = d.from_cache;
  s.end = d.end;
  s.prompt_tokens = d.prompt_tokens;
  s.generated_tokens = d.generated_tokens;
  s.rejected = d.rejected;
  s.restricted = d.restricted;
  s.secret_cut = d.secret_cut;
  s.check_ms = d.check_ms;
}

RpcError cancelled(const CancellationToken& t) {
  return RpcError{t.reason() == CancelReason::ContentModified ? ErrorCode::ContentModified
                                                              : ErrorCode::RequestCancelled,
                  to_string(t.reason()), std::nullopt};
}

// A byte range of `text` in the client's encoding.
Range range_of(const std::string& text, size_t begin, size_t end, PositionEncoding enc) {
  return Range{position_at(text, begin, enc), position_at(text, end, enc)};
}

}  // namespace

std::optional<LanguageServer::Located> LanguageServer::locate(const Reply& reply, const PositionRequestParams& p) {
  const std::string& uri = p.text_document.uri;
  auto doc = workspace_->document(uri);
  if (!doc) {
    reply.error(ErrorCode::InvalidParams,
                reply.method() + ": document " + uri + " is not open (send textDocument/didOpen first)");
    return std::nullopt;
  }
  auto offset = offset_at(*doc->text, p.position, encoding_);
  if (!offset) {
    reply.error(ErrorCode::InvalidParams,
                reply.method() + ": position " + std::to_string(p.position.line) + ":" +
                    std::to_string(p.position.character) + " is past the end of " + uri +
                    " (" + std::to_string(line_count(*doc->text)) + " lines)");
    return std::nullopt;
  }
  return Located{std::move(*doc), *offset};
}

void LanguageServer::on_inline_completion(const InlineCompletionParams& p, const Reply& reply) {
  auto at = locate(reply, p);
  if (!at) return;
  const std::string& uri = p.text_document.uri;
  // Only the newest request for a document can still be shown.
  cancel_for_document(uri, CancelReason::Superseded, /*inline_only=*/true);
  // The time cap runs from now: waiting for a worker counts. The simulated
  // latency (a test hook for clients) stands before our work and does not.
  auto task = workspace_->inline_completion(
      at->doc, at->offset, p.trigger_kind == 1 ? completion::Trigger::Invoked : completion::Trigger::Automatic,
      std::chrono::steady_clock::now() + options_.simulated_latency);
  auto text = at->doc.text;
  auto latency = options_.simulated_latency;
  auto enc = encoding_;
  // Its statistics record (docs/stats.md): written here when answered, by
  // cancel_in_flight when cancelled or superseded.
  std::optional<stats::Suggestion> suggestion = new_suggestion(at->doc, p.trigger_kind);
  auto store = options_.stats;  // null: the daemon's, opened when first needed
  auto arrived = std::chrono::steady_clock::now();
  auto shown = shown_;
  reply.later(RequestKind::InlineCompletion, uri, p.work_done_token, "astfill: inline completion",
            [=](const CancellationToken& cancel, Progress& progress) -> Result {
              if (!wait_simulated(latency, cancel, progress)) return cancelled(cancel);
              auto result = task(cancel, progress);
              if (cancel.cancelled()) return cancelled(cancel);
              InlineCompletionList list;
              for (auto& item : result.items)
                list.items.push_back({item.insert_text, range_of(*text, item.replace_begin, item.replace_end, enc), ""});
              list.timed_out = result.details.timed_out;
              list.prompt_tokens = result.details.prompt_tokens;
              list.prefilled_tokens = result.details.prefilled_tokens;
              // Without a model (or with completions off here) nothing was suggested.
              auto recorder = result.empty_reason == completion::EmptyReason::NoModel ||
                                      result.empty_reason == completion::EmptyReason::Disabled
                                  ? nullptr
                                  : store ? store : daemon_stats();
              if (recorder) {
                stats::Suggestion s = *suggestion;
                if (!list.items.empty()) {
                  list.items.front().suggestion_id = s.id;
                  std::lock_guard lock(shown->mu);
                  shown->texts.emplace_back(s.id, list.items.front().insert_text);
                  if (shown->texts.size() > 64) shown->texts.pop_front();
                }
                record_answer(s, result, arrived);
                try {
                  recorder->record(s);
                } catch (const std::exception& e) {
                  log::warn("statistics: ", e.what());
                }
              }
              if (list.items.empty() && result.empty_reason != completion::EmptyReason::None)
                log::debug("inline completion for ", uri, ": no items (", completion::to_string(result.empty_reason),
                           ")");
              const auto& d = result.details;
              log::debug("inline completion for ", uri, ": ", d.from_cache ? "from cache" : d.end, ", prompt ",
                         d.prompt_tokens, " (", d.reused_tokens, " reused, ", d.prefilled_tokens, " prefilled), ",
                         d.generated_tokens, " generated, ", static_cast<int>(d.elapsed_ms), " ms");
              return to_json(list);
            });
  if (auto it = in_flight_.find(reply.req_.id.key()); it != in_flight_.end()) it->second.suggestion = suggestion;
}

void LanguageServer::on_completion(const CompletionParams& p, const Reply& reply) {
  auto at = locate(reply, p);
  if (!at) return;
  const std::string& uri = p.text_document.uri;
  auto task = workspace_->api_suggestions(at->doc, at->offset);
  auto text = at->doc.text;
  auto latency = options_.simulated_latency;
  auto enc = encoding_;
  reply.later(RequestKind::Completion, uri, p.work_done_token, "astfill: suggestions",
            [=](const CancellationToken& cancel, Progress& progress) -> Result {
              if (!wait_simulated(latency, cancel, progress)) return cancelled(cancel);
              auto result = task(cancel, progress);
              if (cancel.cancelled()) return cancelled(cancel);
              CompletionList list;
              int rank = 0;
              for (auto& s : result.items) {
                char sort[16];
                std::snprintf(sort, sizeof sort, "%06d", rank++);
                list.items.push_back(CompletionItem{
                    s.label, s.kind, sort, TextEdit{range_of(*text, s.replace_begin, s.replace_end, enc), s.label},
                    s.detail, s.documentation});
              }
              return to_json(list);
            });
}

void LanguageServer::on_fill(const ExecuteCommandParams& params, const Reply& reply) {
  // arguments: [{textDocument: {uri}, position}] (TextDocumentPositionParams).
  PositionRequestParams p;
  Decoder d;
  if (params.arguments.size() != 1 || !from_json(params.arguments[0], p, "arguments[0]", d)) {
    reply.error(ErrorCode::InvalidParams,
                "astfill.fill: expected arguments [{textDocument: {uri}, position}]" +
                    (d.error().empty() ? std::string() : ": " + d.error()));
    return;
  }
  auto at = locate(reply, p);
  if (!at) return;
  const std::string& uri = p.text_document.uri;
  auto task = workspace_->fill(at->doc, at->offset);
  auto text = at->doc.text;
  auto enc = encoding_;
  reply.later(RequestKind::Command, uri, params.work_done_token, "astfill: fill",
            [=](const CancellationToken& cancel, Progress& progress) -> Result {
              auto result = task(cancel, progress);
              if (cancel.cancelled()) return cancelled(cancel);
              if (result.empty_reason == completion::EmptyReason::NoModel ||
                  result.empty_reason == completion::EmptyReason::Disabled)
                return RpcError{ErrorCode::RequestFailed,
                                std::string("astfill.fill: ") + completion::to_string(result.empty_reason),
                                std::nullopt};
              // A WorkspaceEdit, for the client to apply (workspace/applyEdit's shape).
              WorkspaceEdit edit;
              edit.changes.push_back({uri, {}});
              if (!result.text.empty())
                edit.changes.back().second.push_back(
                    TextEdit{range_of(*text, result.replace_begin, result.replace_end, enc), result.text});
              return to_json(edit);
            });
}

}  // namespace astfill::lsp
