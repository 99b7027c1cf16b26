#include "lsp/protocol.h"

#include <cmath>
#include <limits>

namespace astfill::lsp {

const json::object* as_object(const json::value& v, const std::string& path, Decoder& d) {
  auto* o = v.if_object();
  if (!o) d.fail(path, "expected an object");
  return o;
}

bool from_json(const json::value& v, std::string& out, const std::string& path, Decoder& d) {
  auto* s = v.if_string();
  if (!s) return d.fail(path, "expected a string");
  out.assign(s->data(), s->size());
  return true;
}

namespace {
std::optional<int64_t> integer_of(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    uint64_t u = v.get_uint64();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return static_cast<int64_t>(u);
    return std::nullopt;
  }
  if (v.is_double()) {
    double x = v.get_double();
    if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 9.0e15) return static_cast<int64_t>(x);
  }
  return std::nullopt;
}
}  // namespace

bool from_json(const json::value& v, int64_t& out, const std::string& path, Decoder& d) {
  auto i = integer_of(v);
  if (!i) return d.fail(path, "expected an integer");
  out = *i;
  return true;
}

bool from_json(const json::value& v, uint32_t& out, const std::string& path, Decoder& d) {
  auto i = integer_of(v);
  if (!i) return d.fail(path, "expected a non-negative integer");
  if (*i < 0 || *i > std::numeric_limits<uint32_t>::max())
    return d.fail(path, "integer " + std::to_string(*i) + " is out of range (0 to 2^32-1)");
  out = static_cast<uint32_t>(*i);
  return true;
}

bool from_json(const json::value& v, bool& out, const std::string& path, Decoder& d) {
  if (!v.is_bool()) return d.fail(path, "expected a boolean");
  out = v.get_bool();
  return true;
}

bool from_json(const json::value& v, json::value& out, const std::string&, Decoder&) {
  out = v;
  return true;
}

bool from_json(const json::value& v, Position& out, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && required(*o, "line", out.line, path, d) &&
         required(*o, "character", out.character, path, d);
}

bool from_json(const json::value& v, Range& out, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && required(*o, "start", out.start, path, d) && required(*o, "end", out.end, path, d);
}

json::value to_json(const Position& p) {
  return json::object{{"line", p.line}, {"character", p.character}};
}

json::value to_json(const Range& r) {
  return json::object{{"start", to_json(r.start)}, {"end", to_json(r.end)}};
}

bool from_json(const json::value& v, IntOrString& out, const std::string& path, Decoder& d) {
  if (v.is_string()) {
    out.value = v;
    return true;
  }
  auto i = integer_of(v);
  if (!i) return d.fail(path, "expected an integer or a string");
  out.value = *i;
  return true;
}

bool from_json(const json::value& v, TextDocumentItem& out, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && required(*o, "uri", out.uri, path, d) &&
         required(*o, "languageId", out.language_id, path, d) &&
         required(*o, "version", out.version, path, d) && required(*o, "text", out.text, path, d);
}

bool from_json(const json::value& v, TextDocumentIdentifier& out, const std::string& path,
               Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && required(*o, "uri", out.uri, path, d);
}

bool from_json(const json::value& v, VersionedTextDocumentIdentifier& out,
               const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && required(*o, "uri", out.uri, path, d) && optional(*o, "version", out.version, path, d);
}

bool from_json(const json::value& v, TextDocumentContentChangeEvent& out,
               const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && optional(*o, "range", out.range, path, d) && required(*o, "text", out.text, path, d);
}

bool from_json(const json::value& v, WorkspaceFolder& out, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && required(*o, "uri", out.uri, path, d) && required(*o, "name", out.name, path, d);
}

json::value to_json(const WorkspaceFolder& f) {
  return json::object{{"uri", f.uri}, {"name", f.name}};
}

bool from_json(const json::value& v, InitializeParams& out, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  if (!o) return false;
  if (!optional(*o, "processId", out.process_id, path, d) ||
      !optional(*o, "rootUri", out.root_uri, path, d) ||
      !optional(*o, "rootPath", out.root_path, path, d) ||
      !optional(*o, "workspaceFolders", out.workspace_folders, path, d) ||
      !optional(*o, "initializationOptions", out.initialization_options, path, d))
    return false;
  if (auto* info = o->if_contains("clientInfo")) {
    std::string p = path + ".clientInfo";
    auto* io = as_object(*info, p, d);
    if (!io || !required(*io, "name", *(out.client_name = std::string()), p, d) ||
        !optional(*io, "version", out.client_version, p, d))
      return false;
  }
  if (auto* caps = o->if_contains("capabilities")) {
    std::string p = path + ".capabilities";
    auto* co = as_object(*caps, p, d);
    if (!co) return false;
    if (auto* general = co->if_contains("general"); general && general->is_object()) {
      if (auto* enc = general->get_object().if_contains("positionEncodings")) {
        if (!from_json(*enc, out.position_encodings, p + ".general.positionEncodings", d))
          return false;
      }
    }
    if (auto* window = co->if_contains("window"); window && window->is_object()) {
      if (auto* wdp = window->get_object().if_contains("workDoneProgress"); wdp && wdp->is_bool())
        out.work_done_progress = wdp->get_bool();
    }
    if (auto* ws = co->if_contains("workspace"); ws && ws->is_object()) {
      if (auto* watched = ws->get_object().if_contains("didChangeWatchedFiles"); watched && watched->is_object())
        if (auto* dyn = watched->get_object().if_contains("dynamicRegistration"); dyn && dyn->is_bool())
          out.watched_files_registration = dyn->get_bool();
    }
  }
  return true;
}

bool from_json(const json::value& v, DidOpenParams& out, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && required(*o, "textDocument", out.text_document, path, d);
}

bool from_json(const json::value& v, DidChangeParams& out, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && required(*o, "textDocument", out.text_document, path, d) &&
         required(*o, "contentChanges", out.content_changes, path, d);
}

bool from_json(const json::value& v, DidCloseParams& out, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && required(*o, "textDocument", out.text_document, path, d);
}

bool from_json(const json::value& v, DidSaveParams& out, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && required(*o, "textDocument", out.text_document, path, d) &&
         optional(*o, "text", out.text, path, d);
}

bool from_json(const json::value& v, DidChangeWorkspaceFoldersParams& out,
               const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  if (!o) return false;
  auto* ev = o->if_contains("event");
  if (!ev) return d.fail(path + ".event", "required field is missing");
  std::string p = path + ".event";
  auto* eo = as_object(*ev, p, d);
  return eo && required(*eo, "added", out.added, p, d) && required(*eo, "removed", out.removed, p, d);
}

bool from_json(const json::value& v, DidChangeConfigurationParams& out,
               const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  if (!o) return false;
  auto* s = o->if_contains("settings");
  out.settings = s ? *s : json::value();
  return true;
}

bool from_json(const json::value& v, FileEvent& out, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  uint32_t type = 0;
  if (!o || !required(*o, "uri", out.uri, path, d) || !required(*o, "type", type, path, d))
    return false;
  if (type < 1 || type > 3)
    return d.fail(path + ".type", "expected 1 (Created), 2 (Changed) or 3 (Deleted), got " +
                                      std::to_string(type));
  out.type = static_cast<FileChangeType>(type);
  return true;
}

bool from_json(const json::value& v, DidChangeWatchedFilesParams& out,
               const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && required(*o, "changes", out.changes, path, d);
}

bool from_json(const json::value& v, ExecuteCommandParams& out, const std::string& path,
               Decoder& d) {
  auto* o = as_object(v, path, d);
  if (!o || !required(*o, "command", out.command, path, d)) return false;
  std::optional<std::vector<json::value>> args;
  if (!optional(*o, "arguments", args, path, d)) return false;
  out.arguments = args ? std::move(*args) : std::vector<json::value>{};
  return optional(*o, "workDoneToken", out.work_done_token, path, d);
}

bool from_json(const json::value& v, CancelParams& out, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && required(*o, "id", out.id, path, d);
}

namespace {
bool position_request(const json::object& o, PositionRequestParams& out, const std::string& path,
                      Decoder& d) {
  return required(o, "textDocument", out.text_document, path, d) &&
         required(o, "position", out.position, path, d) &&
         optional(o, "workDoneToken", out.work_done_token, path, d);
}
}  // namespace

bool from_json(const json::value& v, PositionRequestParams& out, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && position_request(*o, out, path, d);
}

bool from_json(const json::value& v, WorkspaceSymbolParams& out, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  return o && required(*o, "query", out.query, path, d) &&
         optional(*o, "workDoneToken", out.work_done_token, path, d);
}

bool from_json(const json::value& v, CompletionParams& out, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  if (!o || !position_request(*o, out, path, d)) return false;
  if (auto* ctx = o->if_contains("context"); ctx && !ctx->is_null()) {
    std::string p = path + ".context";
    auto* co = as_object(*ctx, p, d);
    uint32_t kind = 1;
    if (!co || !required(*co, "triggerKind", kind, p, d) ||
        !optional(*co, "triggerCharacter", out.trigger_character, p, d))
      return false;
    if (kind < 1 || kind > 3)
      return d.fail(p + ".triggerKind", "expected 1, 2 or 3, got " + std::to_string(kind));
    out.trigger_kind = static_cast<int>(kind);
  }
  return true;
}

bool from_json(const json::value& v, InlineCompletionParams& out, const std::string& path,
               Decoder& d) {
  auto* o = as_object(v, path, d);
  if (!o || !position_request(*o, out, path, d)) return false;
  // The spec makes context required; VS Code always sends it, but hand-written
  // clients often omit it, and nothing is lost by assuming "invoked".
  if (auto* ctx = o->if_contains("context"); ctx && !ctx->is_null()) {
    std::string p = path + ".context";
    auto* co = as_object(*ctx, p, d);
    uint32_t kind = 1;
    if (!co || !required(*co, "triggerKind", kind, p, d)) return false;
    if (kind < 1 || kind > 2)
      return d.fail(p + ".triggerKind", "expected 1 (Invoked) or 2 (Automatic), got " +
                                            std::to_string(kind));
    out.trigger_kind = static_cast<int>(kind);
    if (auto* sel = co->if_contains("selectedCompletionInfo"); sel && !sel->is_null()) {
      std::string sp = p + ".selectedCompletionInfo";
      auto* so = as_object(*sel, sp, d);
      Range r;
      std::string text;
      if (!so || !required(*so, "range", r, sp, d) || !required(*so, "text", text, sp, d))
        return false;
      out.selected_completion_range = r;
      out.selected_completion_text = std::move(text);
    }
  }
  return true;
}

json::value log_message(MessageType type, const std::string& message) {
  return json::object{{"type", static_cast<int>(type)}, {"message", message}};
}

json::value progress_begin(const json::value& token, const std::string& title,
                           std::optional<std::string> message, bool cancellable,
                           std::optional<uint32_t> percentage) {
  json::object v{{"kind", "begin"}, {"title", title}, {"cancellable", cancellable}};
  if (message) v["message"] = *message;
  if (percentage) v["percentage"] = *percentage;
  return json::object{{"token", token}, {"value", std::move(v)}};
}

json::value progress_report(const json::value& token, std::optional<std::string> message,
                            std::optional<uint32_t> percentage) {
  json::object v{{"kind", "report"}};
  if (message) v["message"] = *message;
  if (percentage) v["percentage"] = *percentage;
  return json::object{{"token", token}, {"value", std::move(v)}};
}

json::value progress_end(const json::value& token, std::optional<std::string> message) {
  json::object v{{"kind", "end"}};
  if (message) v["message"] = *message;
  return json::object{{"token", token}, {"value", std::move(v)}};
}

}  // namespace astfill::lsp
