// astfill.image.attach and astfill.image.toCode (issue 19): an image (a file
// URI or a data URI) read by the vision-language model astfill.vision names
// (workspace/images.h). Attach: the image's description, written once per
// image (cached by its bytes' hash), enters the document's completions and
// fills as a context chunk named after the image, until the document closes.
// toCode: the model writes code for the image in the document's language,
// with the code around the position in its prompt, and the answer is a
// WorkspaceEdit inserting it there.
#include "lsp/server.h"
#include "support/log.h"
#include "workspace/images.h"
#include "workspace/uri.h"

namespace astfill::lsp {
namespace {

RpcError failed(const std::string& command, const std::string& why) {
  return RpcError{ErrorCode::RequestFailed, command + ": " + why, std::nullopt};
}

RpcError cancelled_error(const CancellationToken& t) {
  return RpcError{t.reason() == CancelReason::ContentModified ? ErrorCode::ContentModified
                                                              : ErrorCode::RequestCancelled,
                  to_string(t.reason()), std::nullopt};
}

}  // namespace

void LanguageServer::on_image_attach(const ExecuteCommandParams& params, const Reply& reply) {
  // arguments: [{textDocument: {uri}, source: "file:///..." | "data:image/png;base64,..."}]
  const char* usage = "astfill.image.attach: expected arguments [{textDocument: {uri}, source: a file:// URI or a "
                      "data:image/...;base64, URI}]";
  const json::object* arg = params.arguments.size() == 1 ? params.arguments[0].if_object() : nullptr;
  const json::value* doc_v = arg ? arg->if_contains("textDocument") : nullptr;
  const json::value* source_v = arg ? arg->if_contains("source") : nullptr;
  TextDocumentIdentifier id;
  Decoder d;
  if (!doc_v || !source_v || !source_v->is_string() || !from_json(*doc_v, id, "arguments[0].textDocument", d)) {
    reply.error(ErrorCode::InvalidParams, std::string(usage) + (d.error().empty() ? "" : ": " + d.error()));
    return;
  }
  if (!workspace_->document(id.uri)) {
    reply.error(ErrorCode::InvalidParams,
                "astfill.image.attach: document " + id.uri + " is not open (send textDocument/didOpen first)");
    return;
  }
  std::string source(source_v->get_string());
  std::string uri = id.uri;
  auto images = workspace_->images();
  workspace::VisionSettings vision;
  try {
    vision = workspace_->vision_paths();
  } catch (const std::exception& e) {
    reply.error(ErrorCode::RequestFailed, std::string("astfill.image.attach: astfill.vision: ") + e.what());
    return;
  }
  std::weak_ptr<LanguageServer> weak = weak_from_this();
  LoopPoster* loop = &loop_;
  reply.later(RequestKind::Command, uri, params.work_done_token, "astfill: reading the image",
              [=](const CancellationToken& cancel, Progress& progress) -> Result {
                workspace::ImageSource image;
                workspace::ImageHost::Description desc;
                try {
                  image = workspace::read_image_source(source);
                  progress.report(std::nullopt, "describing " + image.name);
                  desc = images->describe(image, vision, cancel, progress);
                } catch (const vision::ImageError& e) {
                  return RpcError{ErrorCode::InvalidParams, std::string("astfill.image.attach: ") + e.what(),
                                  std::nullopt};
                } catch (const std::exception& e) {
                  return failed("astfill.image.attach", e.what());
                }
                if (cancel.cancelled()) return cancelled_error(cancel);
                std::string chunk_name = "image " + image.name;
                std::string chunk = "Attached image " + image.name + ", as a vision model described it:\n" +
                                    desc.text + "\n";
                // Stored on the loop thread, before the answer is sent (posts run in order).
                loop->post([weak, uri, chunk_name, chunk] {
                  auto self = weak.lock();
                  if (!self || !self->workspace_->document(uri)) return;  // closed meanwhile
                  self->workspace_->attach_image(uri, chunk_name, chunk);
                  log::info(self->options_.peer, ": attached ", chunk_name, " to ", uri);
                });
                return json::object{{"name", chunk_name},
                                    {"hash", desc.hash},
                                    {"cached", desc.cached},
                                    {"description", desc.text},
                                    {"imageTokens", desc.image_tokens},
                                    {"towerRuns", images->tower_runs()},
                                    {"lmShared", images->lm_shared()}};
              });
}

void LanguageServer::on_image_to_code(const ExecuteCommandParams& params, const Reply& reply) {
  // arguments: [{textDocument: {uri}, position, source, instruction?}]
  const char* usage = "astfill.image.toCode: expected arguments [{textDocument: {uri}, position, source: a file:// "
                      "URI or a data:image/...;base64, URI, instruction?: string}]";
  const json::object* arg = params.arguments.size() == 1 ? params.arguments[0].if_object() : nullptr;
  const json::value* source_v = arg ? arg->if_contains("source") : nullptr;
  const json::value* instruction_v = arg ? arg->if_contains("instruction") : nullptr;
  PositionRequestParams p;
  Decoder d;
  if (!arg || !source_v || !source_v->is_string() ||
      (instruction_v && !instruction_v->is_string() && !instruction_v->is_null()) ||
      !from_json(params.arguments[0], p, "arguments[0]", d)) {
    reply.error(ErrorCode::InvalidParams, std::string(usage) + (d.error().empty() ? "" : ": " + d.error()));
    return;
  }
  auto at = locate(reply, p);
  if (!at) return;
  std::string source(source_v->get_string());
  std::string instruction = instruction_v && instruction_v->is_string() ? std::string(instruction_v->get_string()) : "";
  std::string uri = p.text_document.uri;
  auto images = workspace_->images();
  workspace::VisionSettings vision;
  try {
    vision = workspace_->vision_paths();
  } catch (const std::exception& e) {
    reply.error(ErrorCode::RequestFailed, std::string("astfill.image.toCode: astfill.vision: ") + e.what());
    return;
  }
  auto text = at->doc.text;
  size_t offset = at->offset;
  std::string language_id = at->doc.language_id;
  std::string file_name = workspace::file_uri_to_path(uri).value_or(uri);
  file_name = file_name.substr(file_name.find_last_of('/') + 1);
  auto enc = encoding_;
  const std::string peer = options_.peer;
  reply.later(RequestKind::Command, uri, params.work_done_token, "astfill: image to code",
              [=](const CancellationToken& cancel, Progress& progress) -> Result {
                const workspace::CodePrompt q = workspace::code_prompt(*text, offset, language_id, file_name,
                                                                       instruction);
                std::string answer, name;
                try {
                  auto image = workspace::read_image_source(source);
                  name = image.name;
                  progress.report(std::nullopt, "reading " + image.name);
                  answer = images->ask(image, vision, q.prompt, 512, cancel, progress);
                } catch (const vision::ImageError& e) {
                  return RpcError{ErrorCode::InvalidParams, std::string("astfill.image.toCode: ") + e.what(),
                                  std::nullopt};
                } catch (const std::exception& e) {
                  return failed("astfill.image.toCode", e.what());
                }
                if (cancel.cancelled()) return cancelled_error(cancel);
                WorkspaceEdit edit;
                edit.changes.push_back({uri, {}});
                std::string code = workspace::code_from_answer(answer, q.indent);
                log::info(peer, ": image to code: ", code.size(), " bytes of code for ", name, " at ", uri);
                if (!code.empty()) {
                  Position pos = position_at(*text, offset, enc);
                  edit.changes.back().second.push_back(TextEdit{Range{pos, pos}, code});
                }
                return to_json(edit);
              });
}

}  // namespace astfill::lsp
