// The one place where LSP's JSON meets C++: plain structs for the parts of the
// protocol astfill uses, with from_json / to_json.
//
// Decoding never throws. A wrong type or a missing field yields an error that
// names the JSON path ("params.textDocument.uri: expected a string"), which the
// server returns as InvalidParams. Unknown fields are ignored, as the spec asks.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lsp/settings.h"
#include "parsing/symbols.h"
#include "stats/store.h"
#include "workspace/positions.h"
#include "workspace/workspace.h"

namespace astfill::lsp {

namespace json = boost::json;

// Positions, ranges and encodings are the workspace core's (workspace/positions.h).
using workspace::encoding_name;
using workspace::line_count;
using workspace::offset_at;
using workspace::parse_encoding;
using workspace::Position;
using workspace::position_at;
using workspace::PositionEncoding;
using workspace::Range;

// Collects the first decoding error; `path` names where it happened.
class Decoder {
 public:
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool fail(const std::string& path, const std::string& what) {
    if (error_.empty()) error_ = path + ": " + what;
    return false;
  }

 private:
  std::string error_;
};

// Field helpers: `required` fails when the key is absent; `optional` leaves
// `out` empty when the key is absent or null.
template <typename T>
bool required(const json::object& o, const char* key, T& out, const std::string& path, Decoder& d);
template <typename T>
bool optional(const json::object& o, const char* key, std::optional<T>& out,
              const std::string& path, Decoder& d);
const json::object* as_object(const json::value& v, const std::string& path, Decoder& d);

bool from_json(const json::value& v, std::string& out, const std::string& path, Decoder& d);
bool from_json(const json::value& v, int64_t& out, const std::string& path, Decoder& d);
bool from_json(const json::value& v, uint32_t& out, const std::string& path, Decoder& d);
bool from_json(const json::value& v, bool& out, const std::string& path, Decoder& d);
bool from_json(const json::value& v, json::value& out, const std::string& path, Decoder& d);
template <typename T>
bool from_json(const json::value& v, std::vector<T>& out, const std::string& path, Decoder& d) {
  auto* a = v.if_array();
  if (!a) return d.fail(path, "expected an array");
  out.clear();
  out.reserve(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    T item{};
    if (!from_json((*a)[i], item, path + "[" + std::to_string(i) + "]", d)) return false;
    out.push_back(std::move(item));
  }
  return true;
}

template <typename T>
bool required(const json::object& o, const char* key, T& out, const std::string& path, Decoder& d) {
  auto* v = o.if_contains(key);
  if (!v) return d.fail(path + "." + key, "required field is missing");
  return from_json(*v, out, path + "." + key, d);
}

template <typename T>
bool optional(const json::object& o, const char* key, std::optional<T>& out,
              const std::string& path, Decoder& d) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) {
    out.reset();
    return true;
  }
  T value{};
  if (!from_json(*v, value, path + "." + key, d)) return false;
  out = std::move(value);
  return true;
}

// ---- Basic structures ---------------------------------------------------

bool from_json(const json::value& v, Position& out, const std::string& path, Decoder& d);
bool from_json(const json::value& v, Range& out, const std::string& path, Decoder& d);
json::value to_json(const Position& p);
json::value to_json(const Range& r);

// integer | string, used by $/cancelRequest ids and progress tokens.
struct IntOrString {
  json::value value;
};
bool from_json(const json::value& v, IntOrString& out, const std::string& path, Decoder& d);

struct TextDocumentItem {
  std::string uri;
  std::string language_id;
  int64_t version = 0;
  std::string text;
};
bool from_json(const json::value& v, TextDocumentItem& out, const std::string& path, Decoder& d);

struct TextDocumentIdentifier {
  std::string uri;
};
bool from_json(const json::value& v, TextDocumentIdentifier& out, const std::string& path,
               Decoder& d);

struct VersionedTextDocumentIdentifier {
  std::string uri;
  std::optional<int64_t> version;
};
bool from_json(const json::value& v, VersionedTextDocumentIdentifier& out,
               const std::string& path, Decoder& d);

struct TextDocumentContentChangeEvent {
  std::optional<Range> range;
  std::string text;
};
bool from_json(const json::value& v, TextDocumentContentChangeEvent& out,
               const std::string& path, Decoder& d);

// ---- Lifecycle ----------------------------------------------------------

using WorkspaceFolder = workspace::Folder;
bool from_json(const json::value& v, WorkspaceFolder& out, const std::string& path, Decoder& d);
json::value to_json(const WorkspaceFolder& f);

struct InitializeParams {
  std::optional<int64_t> process_id;
  std::optional<std::string> root_uri;
  std::optional<std::string> root_path;
  std::optional<std::vector<WorkspaceFolder>> workspace_folders;
  std::vector<std::string> position_encodings;  // capabilities.general.positionEncodings
  bool work_done_progress = false;              // capabilities.window.workDoneProgress
  // capabilities.workspace.didChangeWatchedFiles.dynamicRegistration
  bool watched_files_registration = false;
  std::optional<json::value> initialization_options;
  std::optional<std::string> client_name;
  std::optional<std::string> client_version;
};
bool from_json(const json::value& v, InitializeParams& out, const std::string& path, Decoder& d);

// ---- Text synchronisation -----------------------------------------------

struct DidOpenParams {
  TextDocumentItem text_document;
};
bool from_json(const json::value& v, DidOpenParams& out, const std::string& path, Decoder& d);

struct DidChangeParams {
  VersionedTextDocumentIdentifier text_document;
  std::vector<TextDocumentContentChangeEvent> content_changes;
};
bool from_json(const json::value& v, DidChangeParams& out, const std::string& path, Decoder& d);

struct DidCloseParams {
  TextDocumentIdentifier text_document;
};
bool from_json(const json::value& v, DidCloseParams& out, const std::string& path, Decoder& d);

struct DidSaveParams {
  TextDocumentIdentifier text_document;
  std::optional<std::string> text;
};
bool from_json(const json::value& v, DidSaveParams& out, const std::string& path, Decoder& d);

// ---- Workspace ----------------------------------------------------------

struct DidChangeWorkspaceFoldersParams {
  std::vector<WorkspaceFolder> added;
  std::vector<WorkspaceFolder> removed;
};
bool from_json(const json::value& v, DidChangeWorkspaceFoldersParams& out,
               const std::string& path, Decoder& d);

struct DidChangeConfigurationParams {
  json::value settings;
};
bool from_json(const json::value& v, DidChangeConfigurationParams& out,
               const std::string& path, Decoder& d);

enum class FileChangeType { Created = 1, Changed = 2, Deleted = 3 };
struct FileEvent {
  std::string uri;
  FileChangeType type = FileChangeType::Changed;
};
bool from_json(const json::value& v, FileEvent& out, const std::string& path, Decoder& d);

struct DidChangeWatchedFilesParams {
  std::vector<FileEvent> changes;
};
bool from_json(const json::value& v, DidChangeWatchedFilesParams& out,
               const std::string& path, Decoder& d);

struct ExecuteCommandParams {
  std::string command;
  std::vector<json::value> arguments;
  std::optional<IntOrString> work_done_token;
};
bool from_json(const json::value& v, ExecuteCommandParams& out, const std::string& path,
               Decoder& d);

struct CancelParams {
  IntOrString id;
};
bool from_json(const json::value& v, CancelParams& out, const std::string& path, Decoder& d);

// ---- Language features ----------------------------------------------------

// TextDocumentPositionParams + WorkDoneProgressParams, the shape of completion
// and inline completion requests.
struct PositionRequestParams {
  TextDocumentIdentifier text_document;
  Position position;
  std::optional<IntOrString> work_done_token;
};

// textDocument/definition (and any other plain position request).
bool from_json(const json::value& v, PositionRequestParams& out, const std::string& path, Decoder& d);

struct WorkspaceSymbolParams {
  std::string query;
  std::optional<IntOrString> work_done_token;
};
bool from_json(const json::value& v, WorkspaceSymbolParams& out, const std::string& path, Decoder& d);

struct CompletionParams : PositionRequestParams {
  int trigger_kind = 1;  // 1 Invoked, 2 TriggerCharacter, 3 TriggerForIncompleteCompletions
  std::optional<std::string> trigger_character;
};
bool from_json(const json::value& v, CompletionParams& out, const std::string& path, Decoder& d);

struct InlineCompletionParams : PositionRequestParams {
  int trigger_kind = 1;  // 1 Invoked, 2 Automatic
  std::optional<Range> selected_completion_range;
  std::optional<std::string> selected_completion_text;
};
bool from_json(const json::value& v, InlineCompletionParams& out, const std::string& path,
               Decoder& d);

// ---- Results ----------------------------------------------------------------

struct InitializeResult {
  PositionEncoding encoding = PositionEncoding::Utf16;
  std::string server_version;
  std::vector<std::string> commands;
};
json::value to_json(const InitializeResult& r);

struct TextEdit {
  Range range;
  std::string new_text;
};
json::value to_json(const TextEdit& e);

struct InlineCompletionItem {
  std::string insert_text;
  Range range;
  // The daemon's id for the suggestion (local statistics, docs/stats.md):
  // sent as the item's command, `astfill.suggestionAccepted` with the id as
  // its one argument, which an editor runs when the user accepts it whole.
  std::string suggestion_id;
};
struct InlineCompletionList {
  std::vector<InlineCompletionItem> items;
  // The request's time cap (astfill.timeoutMs) ended it, perhaps before the
  // model wrote anything: sent as `data: {timedOut: true, prefilledTokens,
  // promptTokens}` beside the items, so a client can tell "out of time" from
  // "nothing to say".
  bool timed_out = false;
  size_t prompt_tokens = 0;
  size_t prefilled_tokens = 0;
};
json::value to_json(const InlineCompletionList& l);

struct CompletionItem {
  std::string label;
  parsing::SymbolKind kind = parsing::SymbolKind::Function;
  std::string sort_text;
  TextEdit text_edit;
  std::string detail;         // "" = none
  std::string documentation;  // markdown; "" = none
};
struct CompletionList {
  bool is_incomplete = false;
  std::vector<CompletionItem> items;
};
json::value to_json(const CompletionList& l);

// A WorkspaceEdit in its `changes` form (uri -> edits).
struct WorkspaceEdit {
  std::vector<std::pair<std::string, std::vector<TextEdit>>> changes;
};
json::value to_json(const WorkspaceEdit& e);

json::value to_json(const workspace::Location& l);
json::value to_json(const std::vector<workspace::Location>& ls);
// SymbolInformation[] for workspace/symbol.
json::value to_json(const std::vector<workspace::SymbolLocation>& symbols);

// astfill.status: the session's protocol state and its workspace's.
struct StatusReport {
  std::string version;
  std::string client;
  PositionEncoding encoding = PositionEncoding::Utf16;
  size_t requests_in_flight = 0;
  unsigned workers = 0;
  uint64_t watched_file_events = 0;
  workspace::WorkspaceStatus workspace;
};
json::value to_json(const StatusReport& s);

// astfill/suggestionEvent: what the user did with a suggestion.
//   {id, kind: shown|accepted|acceptedWord|acceptedLine|dismissed|typedOver,
//    acceptedChars?, acceptedLines?}
bool from_json(const json::value& v, stats::Event& e, const std::string& where, Decoder& d);
// astfill.stats: the local statistics (stats/store.h), also `astfill stats --json`.
json::value to_json(const stats::Report& r);

// ---- Server -> client -----------------------------------------------------

// client/registerCapability params: watch every file of the workspace folders.
json::value register_file_watcher_params();
// window/workDoneProgress/create params.
json::value progress_create_params(const json::value& token);

enum class MessageType { Error = 1, Warning = 2, Info = 3, Log = 4 };
json::value log_message(MessageType type, const std::string& message);

// $/progress values for work-done progress.
json::value progress_begin(const json::value& token, const std::string& title,
                           std::optional<std::string> message, bool cancellable,
                           std::optional<uint32_t> percentage);
json::value progress_report(const json::value& token, std::optional<std::string> message,
                            std::optional<uint32_t> percentage);
json::value progress_end(const json::value& token, std::optional<std::string> message);

}  // namespace astfill::lsp
