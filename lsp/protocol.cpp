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

// ---- Results ------------------------------------------------------------------

namespace astfill::lsp {
namespace {

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

// LSP's SymbolKind numbers.
int symbol_kind(parsing::SymbolKind kind) {
  using K = parsing::SymbolKind;
  switch (kind) {
    case K::Function: return 12;
    case K::Method: return 6;
    case K::Class: return 5;
    case K::Struct: return 23;
    case K::Interface: return 11;
    case K::Trait: return 11;
    case K::Enum: return 10;
    case K::EnumMember: return 22;
    case K::Field: return 8;
    case K::Constant: return 14;
    case K::Variable: return 13;
    case K::TypeAlias: return 5;  // as clangd reports type aliases
    case K::Module: return 2;
    case K::Namespace: return 3;
  }
  return 13;
}

json::value to_json(const index::IndexStats& s) {
  return json::object{{"parsed", s.parsed},   {"unchanged", s.unchanged}, {"sameContent", s.same_content},
                      {"removed", s.removed}, {"failed", s.failed},       {"committed", s.committed}};
}

}  // namespace

json::value to_json(const InitializeResult& r) {
  json::object sync{{"openClose", true},
                    {"change", 2},  // incremental
                    {"save", json::object{{"includeText", false}}}};
  json::array commands;
  for (const auto& c : r.commands) commands.push_back(json::string(c));
  json::object caps{
      {"positionEncoding", encoding_name(r.encoding)},
      {"textDocumentSync", std::move(sync)},
      {"completionProvider",
       json::object{{"triggerCharacters", json::array{".", ":", ">"}},
                    {"resolveProvider", false},
                    {"workDoneProgress", true}}},
      {"inlineCompletionProvider", json::object{{"workDoneProgress", true}}},
      {"definitionProvider", true},
      {"workspaceSymbolProvider", json::object{{"workDoneProgress", true}}},
      {"executeCommandProvider", json::object{{"commands", std::move(commands)}, {"workDoneProgress", true}}},
      {"workspace",
       json::object{{"workspaceFolders", json::object{{"supported", true}, {"changeNotifications", true}}}}},
  };
  return json::object{{"capabilities", std::move(caps)},
                      {"serverInfo", json::object{{"name", "astfill"}, {"version", r.server_version}}}};
}

json::value to_json(const TextEdit& e) { return json::object{{"range", to_json(e.range)}, {"newText", e.new_text}}; }

json::value to_json(const InlineCompletionList& l) {
  json::array items;
  for (const auto& item : l.items) {
    json::object o{{"insertText", item.insert_text}, {"range", to_json(item.range)}};
    if (!item.suggestion_id.empty())
      o["command"] = json::object{{"title", "astfill: suggestion accepted"},
                                  {"command", "astfill.suggestionAccepted"},
                                  {"arguments", json::array{json::value(item.suggestion_id)}}};
    items.push_back(std::move(o));
  }
  json::object list{{"items", std::move(items)}};
  if (l.timed_out)
    list["data"] = json::object{
        {"timedOut", true}, {"promptTokens", l.prompt_tokens}, {"prefilledTokens", l.prefilled_tokens}};
  return list;
}

json::value to_json(const CompletionList& l) {
  json::array items;
  for (const auto& c : l.items) {
    json::object item{{"label", c.label},
                      {"kind", completion_kind(c.kind)},
                      {"sortText", c.sort_text},
                      {"filterText", c.label},
                      {"textEdit", to_json(c.text_edit)}};
    if (!c.detail.empty()) item["detail"] = c.detail;
    if (!c.documentation.empty()) item["documentation"] = json::object{{"kind", "markdown"}, {"value", c.documentation}};
    items.push_back(std::move(item));
  }
  return json::object{{"isIncomplete", l.is_incomplete}, {"items", std::move(items)}};
}

json::value to_json(const WorkspaceEdit& e) {
  json::object changes;
  for (const auto& [uri, edits] : e.changes) {
    json::array a;
    for (const auto& edit : edits) a.push_back(to_json(edit));
    changes[uri] = std::move(a);
  }
  return json::object{{"changes", std::move(changes)}};
}

json::value to_json(const workspace::Location& l) {
  return json::object{{"uri", l.uri}, {"range", to_json(l.range)}};
}

json::value to_json(const std::vector<workspace::Location>& ls) {
  json::array out;
  for (const auto& l : ls) out.push_back(to_json(l));
  return out;
}

json::value to_json(const std::vector<workspace::SymbolLocation>& symbols) {
  json::array out;
  for (const auto& s : symbols) {
    json::object item{{"name", s.name}, {"kind", symbol_kind(s.kind)}, {"location", to_json(s.location)}};
    if (!s.container.empty()) item["containerName"] = s.container;
    out.push_back(std::move(item));
  }
  return out;
}

json::value to_json(const StatusReport& s) {
  const workspace::WorkspaceStatus& w = s.workspace;
  json::array folders;
  for (const auto& f : w.folders) folders.push_back(to_json(f));
  json::array docs;
  for (const auto& d : w.documents)
    docs.push_back(json::object{{"uri", d.uri},
                                {"languageId", d.language_id},
                                {"version", d.version},
                                {"bytes", d.bytes},
                                {"parses", json::object{{"full", d.parses.full}, {"incremental", d.parses.incremental}}}});
  json::array indexes;
  for (const auto& f : w.indexes) {
    json::object o{{"folder", f.uri}, {"state", workspace::to_string(f.state)}, {"percentage", f.percent},
                   {"message", f.message}};
    if (!f.database.empty()) o["database"] = f.database;
    if (f.stats) o["stats"] = to_json(*f.stats);
    indexes.push_back(std::move(o));
  }
  json::value batching = nullptr;
  if (w.batching) {
    const engine::Batcher::Stats& b = w.batching->batcher;
    batching = json::object{{"slots", w.batching->slots},
                            {"leases", w.batching->leases},
                            {"slotHits", w.batching->slot_hits},
                            {"steps", b.steps},
                            {"rows", b.rows},
                            {"segments", b.segments},
                            {"sharedSteps", b.shared_steps},
                            {"widestStep", b.widest_step},
                            {"prefillChunks", b.prefill_chunks},
                            {"rideAlongChunks", b.ride_alongs},
                            {"heldBackChunks", b.held_back},
                            {"windowWaits", b.window_waits},
                            {"windowWaitMs", static_cast<double>(b.window_wait_us) / 1000.0},
                            {"givenUp", b.given_up}};
  }
  return json::object{
      {"version", s.version},
      {"client", s.client},
      {"positionEncoding", encoding_name(s.encoding)},
      {"workspaceFolders", std::move(folders)},
      {"documents", std::move(docs)},
      {"requestsInFlight", s.requests_in_flight},
      {"workers", s.workers},
      {"watchedFileEvents", s.watched_file_events},
      {"indexes", std::move(indexes)},
      {"model", w.model.empty() ? json::value(nullptr) : json::value(w.model)},
      {"modelState", w.model_state},
      {"completionCacheHits", w.completion_cache_hits},
      {"batching", std::move(batching)},
      {"settings", to_json(w.settings)},
  };
}

json::value register_file_watcher_params() {
  json::object watcher{{"globPattern", "**/*"}};
  json::object registration{{"id", "astfill-watched-files"},
                            {"method", "workspace/didChangeWatchedFiles"},
                            {"registerOptions", json::object{{"watchers", json::array{watcher}}}}};
  return json::object{{"registrations", json::array{registration}}};
}

json::value progress_create_params(const json::value& token) { return json::object{{"token", token}}; }

}  // namespace astfill::lsp

// ---- Local statistics (docs/stats.md) ---------------------------------------

namespace astfill::lsp {

bool from_json(const json::value& v, stats::Event& e, const std::string& path, Decoder& d) {
  auto* o = as_object(v, path, d);
  if (!o) return false;
  std::string kind;
  if (!required(*o, "id", e.id, path, d) || !required(*o, "kind", kind, path, d)) return false;
  auto outcome = stats::parse_outcome(kind);
  if (!outcome)
    return d.fail(path + ".kind", "'" + kind +
                                      "' is not one of shown, accepted, acceptedWord, acceptedLine, dismissed, typedOver");
  e.outcome = *outcome;
  std::optional<uint32_t> chars, lines;
  if (!optional(*o, "acceptedChars", chars, path, d) || !optional(*o, "acceptedLines", lines, path, d)) return false;
  e.accepted_chars = chars.value_or(0);
  e.accepted_lines = lines.value_or(0);
  return true;
}

namespace {
json::object to_json(const stats::Summary& s, const char* key_name) {
  json::object o{{"suggestions", s.suggestions},
                 {"empty", s.empty},
                 {"cancelled", s.cancelled},
                 {"shown", s.shown},
                 {"accepted", s.accepted},
                 {"acceptedPartly", s.accepted_partly},
                 {"dismissed", s.dismissed},
                 {"typedOver", s.typed_over},
                 {"acceptedChars", s.accepted_chars},
                 {"acceptedLines", s.accepted_lines},
                 {"secretCuts", s.secret_cuts},
                 {"acceptanceRate", s.acceptance_rate},
                 {"emptyShare", s.empty_share},
                 {"cancelledShare", s.cancelled_share},
                 {"latencyP50Ms", s.latency_p50_ms},
                 {"latencyP95Ms", s.latency_p95_ms}};
  if (key_name) o[key_name] = s.key;
  return o;
}
}  // namespace

json::value to_json(const stats::Report& r) {
  json::array languages, models;
  for (const auto& s : r.by_language) languages.push_back(to_json(s, "language"));
  for (const auto& s : r.by_model) models.push_back(to_json(s, "model"));
  return json::object{{"sinceMs", r.since_ms},
                      {"all", to_json(r.all, nullptr)},
                      {"byLanguage", std::move(languages)},
                      {"byModel", std::move(models)}};
}

}  // namespace astfill::lsp
