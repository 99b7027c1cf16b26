// The workspace core: what one editor session (or one CLI run) works on, in
// C++ types, below every front end (lsp/, cli/, later an HTTP server).
//
// A Workspace owns the session's folders and their indexes
// (workspace/folders.h), the open documents with their syntax trees kept in
// sync with the edits (workspace/documents.h), the recent edits, the session's
// settings, and answers the questions: inline completions, API suggestions,
// fills, definitions, symbols, status. It shares with other sessions, through
// explicit handles, the daemon's indexes (IndexRegistry: one index per folder
// and index settings) and the daemon's model (ModelHost). See
// workspace/settings.h for which settings are per session and which per
// daemon.
//
// Threads. A Workspace lives on one thread (the daemon's loop thread). Its
// questions are prepared there (they read documents and folders) and return a
// Task that the front end runs on a worker; long work it starts itself
// (opening indexes, loading a model) goes through the Executor, and what comes
// back is posted to its thread. Nothing here knows JSON-RPC.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "completion/service.h"
#include "workspace/documents.h"
#include "workspace/executor.h"
#include "workspace/folders.h"
#include "workspace/images.h"
#include "workspace/index_registry.h"
#include "workspace/model_host.h"
#include "workspace/positions.h"
#include "workspace/settings.h"

namespace astfill::workspace {

enum class MessageLevel { Error, Warning, Info };

struct WorkspaceOptions {
  std::shared_ptr<IndexRegistry> indexes;  // null: folders are not indexed
  std::shared_ptr<ModelHost> model;        // null: a host of its own, without a model
  std::string label = "workspace";         // for logs ("stdio", "tcp 127.0.0.1:5123")
  std::shared_ptr<ImageHost> images = nullptr;  // the VL model and its descriptions; null: a host of its own
};

struct WorkspaceEvents {
  // Something the user should read (a model loaded or failed, a folder that
  // cannot be indexed).
  std::function<void(MessageLevel, const std::string&)> message;
  // A folder's index changed state, percentage or message.
  std::function<void(const FolderStatus&)> folder_changed;
};

// A place in a file, in the position encoding the question asked for.
struct Location {
  std::string uri;
  Range range;
};

struct SymbolLocation {
  std::string name;
  parsing::SymbolKind kind = parsing::SymbolKind::Function;
  std::string container;
  Location location;
};

struct DocumentStatus {
  std::string uri;
  std::string language_id;
  int64_t version = 0;
  size_t bytes = 0;
  ParseCounts parses;
};

struct WorkspaceStatus {
  std::vector<Folder> folders;
  std::vector<DocumentStatus> documents;
  std::vector<FolderStatus> indexes;
  std::string model;        // the loaded model's path, "" when none
  std::string model_state;  // none, loading, ready, failed: <why>
  size_t completion_cache_hits = 0;
  // The loaded model's slots and batcher (completion/model_runner.h); none
  // before a model is loaded.
  std::optional<completion::ModelRunner::Stats> batching;
  Settings settings;
};

class Workspace {
 public:
  Workspace(WorkspaceOptions options, Executor executor, WorkspaceEvents events);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  // ---- Folders
  void set_folders(std::vector<Folder> folders);  // before start()
  const std::vector<Folder>& folders() const { return folders_; }
  // Opens the folders' indexes (LSP: on `initialized`).
  void start_indexing();
  void change_folders(const std::vector<Folder>& added, const std::vector<std::string>& removed_uris);
  // A file changed outside the editor (a file watcher's event).
  void file_changed_on_disk(const std::string& uri);
  // Releases every index now (the session is ending).
  void close_indexes();
  // Blocks until the folders' indexes are open and idle (the CLI, with the
  // inline executor; never on a loop thread).
  void wait_until_indexed();

  // ---- Settings
  const Settings& settings() const { return settings_; }
  // Takes new settings: index settings that changed reopen the indexes; a
  // model setting that changed loads that model (for the whole daemon).
  void set_settings(Settings settings);

  // ---- Documents (the editor's texts; see DocumentStore for the rules)
  std::optional<std::string> open(std::string uri, std::string language_id, int64_t version, std::string text);
  DocumentStore::ChangeResult change(const std::string& uri, std::optional<int64_t> version,
                                     const std::vector<ContentChange>& changes, PositionEncoding encoding);
  std::optional<std::string> save(const std::string& uri, std::optional<std::string> text);
  bool close(const std::string& uri);
  std::optional<DocumentSnapshot> document(const std::string& uri) const { return documents_.get(uri); }
  std::vector<std::string> document_uris() const { return documents_.uris(); }
  // Excerpts of other files a client hands in with a document (llama.cpp's
  // `input_extra`: llama.vim's and llama.vscode's ring buffer of chunks):
  // they enter that document's prompts as other files' context, after the
  // recent edits, until the document closes or new ones replace them.
  void set_client_context(const std::string& uri, std::vector<completion::ContextFile> files);
  // A completion the user accepted (astfill/suggestionEvent): speculation in
  // this workspace's later completions drafts from the last few accepted
  // (completion::ProjectContext::accepted); the output is the same.
  void note_accepted(std::string text);
  // An image's description (astfill.image.attach, workspace/images.h): it
  // enters that document's prompts as a context chunk named `name` until the
  // document closes; attaching an image of the same name again replaces it.
  void attach_image(const std::string& uri, const std::string& name, const std::string& description);
  // The names of the images attached to a document.
  std::vector<std::string> attached_images(const std::string& uri) const;
  std::shared_ptr<ImageHost> images() const { return images_; }
  // The paths astfill.vision names (pulled models' names resolved).
  VisionSettings vision_paths() const;
  // The cross-file context this document's prompts get (what project_for gives the questions).
  completion::ProjectContext project_context(const std::string& uri) const { return project_for(uri); }

  // ---- Questions: prepared here, run on a worker. `offset` is a byte offset
  // into the snapshot's text. A completion's or fill's time cap
  // (timeoutMs) runs from `arrived`, when the question came in: time spent
  // queued behind other model work counts, as the editor waits it too.
  using Clock = std::chrono::steady_clock;
  Task<completion::InlineCompletionResult> inline_completion(const DocumentSnapshot& doc, size_t offset,
                                                             completion::Trigger trigger,
                                                             Clock::time_point arrived = Clock::now()) const;
  Task<completion::ApiSuggestionResult> api_suggestions(const DocumentSnapshot& doc, size_t offset) const;
  Task<completion::FillResult> fill(const DocumentSnapshot& doc, size_t offset,
                                    Clock::time_point arrived = Clock::now()) const;
  // The definitions of the identifier at `offset`: only the nearest tier
  // (this file, else what it imports, else its directory, else anywhere).
  Task<std::vector<Location>> definitions(const DocumentSnapshot& doc, size_t offset,
                                          PositionEncoding encoding) const;
  // Symbols of every folder matching `query` (fuzzy), best first, at most 200.
  Task<std::vector<SymbolLocation>> symbols(std::string query, PositionEncoding encoding) const;

  WorkspaceStatus status() const;
  std::shared_ptr<ModelHost> model() const { return model_; }

 private:
  completion::ProjectContext project_for(const std::string& uri) const;
  completion::DocumentText text_of(const DocumentSnapshot& doc) const;
  void note_edit(const std::string& uri, uint32_t line);
  void feed_index(const std::string& uri, bool closed);
  void select_model();
  // The open documents' texts by absolute path (ranges of definitions in
  // them are computed from the editor's text, not the disk's).
  std::map<std::string, std::shared_ptr<const std::string>> open_texts() const;

  WorkspaceOptions options_;
  Executor executor_;
  WorkspaceEvents events_;
  std::shared_ptr<ModelHost> model_;
  std::shared_ptr<FolderIndexes> indexes_;
  std::vector<Folder> folders_;
  bool started_ = false;
  Settings settings_;
  DocumentStore documents_;
  struct RecentEdit {
    std::string uri;
    uint32_t line = 0;
  };
  std::vector<RecentEdit> recent_edits_;  // most recent first, a few
  std::map<std::string, std::vector<completion::ContextFile>> client_context_;  // by document URI
  std::vector<std::string> accepted_;  // accepted completions, most recent first, a few
  std::shared_ptr<ImageHost> images_;
  std::map<std::string, std::vector<completion::ContextFile>> image_context_;  // by document URI
};

}  // namespace astfill::workspace
