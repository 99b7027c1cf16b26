#include "workspace/workspace.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "hub/model_cache.h"
#include "index/deny.h"
#include "index/store.h"
#include "parsing/identifiers.h"
#include "support/files.h"
#include "support/log.h"
#include "workspace/uri.h"

namespace astfill::workspace {
namespace {

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

// Turns the index's byte spans into ranges in the asked encoding, reading
// each file once: from the editor's text when it is open, else from disk.
class RangeMaker {
 public:
  RangeMaker(std::map<std::string, std::shared_ptr<const std::string>> open_texts, PositionEncoding encoding)
      : open_(std::move(open_texts)), encoding_(encoding) {}

  Range range(const std::string& absolute_path, const parsing::Span& span) {
    const std::string* text = text_of(absolute_path);
    if (!text) {  // unreadable: byte columns are the best there is
      return Range{{span.start_line, span.start_column}, {span.end_line, span.end_column}};
    }
    return Range{position_at(*text, span.start_byte, encoding_), position_at(*text, span.end_byte, encoding_)};
  }

 private:
  const std::string* text_of(const std::string& path) {
    if (auto it = open_.find(path); it != open_.end()) return it->second.get();
    auto [it, fresh] = read_.try_emplace(path);
    if (fresh) {
      support::FileContent content = support::read_file(path, support::kMaxTextFileBytes);
      if (content.ok()) it->second = std::move(content.text);
    }
    return it->second ? &*it->second : nullptr;
  }

  std::map<std::string, std::shared_ptr<const std::string>> open_;
  std::map<std::string, std::optional<std::string>> read_;
  PositionEncoding encoding_;
};

std::string absolute_in(const std::string& root, const std::string& relative) {
  return root == "/" ? "/" + relative : root + "/" + relative;
}

}  // namespace

Workspace::Workspace(WorkspaceOptions options, Executor executor, WorkspaceEvents events)
    : options_(std::move(options)),
      executor_(std::move(executor)),
      events_(std::move(events)),
      model_(options_.model ? options_.model : std::make_shared<ModelHost>(ModelHost::Options{})) {
  // Its own image host shares the model host's completion model as the VL
  // model's LM when they are the same file (workspace/images.h).
  images_ = options_.images ? options_.images : std::make_shared<ImageHost>(shared_model_of(model_->service()));
  FolderIndexes::Events folder_events;
  folder_events.changed = [this](const FolderStatus& s) {
    if (events_.folder_changed) events_.folder_changed(s);
  };
  folder_events.warning = [this](const std::string& w) {
    if (events_.message) events_.message(MessageLevel::Warning, w);
  };
  folder_events.opened = [this] {
    for (const auto& uri : documents_.uris()) feed_index(uri, /*closed=*/false);
  };
  indexes_ = FolderIndexes::create(options_.indexes, executor_, std::move(folder_events), options_.label);
}

Workspace::~Workspace() { indexes_->close_all(); }

// ---- Folders -----------------------------------------------------------------------

void Workspace::set_folders(std::vector<Folder> folders) { folders_ = std::move(folders); }

void Workspace::start_indexing() {
  started_ = true;
  for (const auto& folder : folders_) indexes_->open(folder, settings_.index);
}

void Workspace::change_folders(const std::vector<Folder>& added, const std::vector<std::string>& removed_uris) {
  for (const auto& gone : removed_uris) {
    std::erase_if(folders_, [&](const Folder& f) { return f.uri == gone; });
    indexes_->close(gone);
  }
  for (const auto& folder : added) {
    bool known = std::any_of(folders_.begin(), folders_.end(), [&](const Folder& f) { return f.uri == folder.uri; });
    if (known) continue;
    folders_.push_back(folder);
    if (started_) indexes_->open(folder, settings_.index);
  }
}

void Workspace::file_changed_on_disk(const std::string& uri) {
  // A file the editor has open is the editor's: its text is already fed.
  if (documents_.get(uri)) return;
  auto path = file_uri_to_path(uri);
  if (!path) return;
  if (auto f = indexes_->folder_of(*path)) f->index->file_changed_on_disk(f->relative);
}

void Workspace::wait_until_indexed() { indexes_->wait_until_idle(); }

void Workspace::close_indexes() { indexes_->close_all(); }

// ---- Settings ----------------------------------------------------------------------

void Workspace::set_settings(Settings settings) {
  bool index_changed = !(settings.index == settings_.index);
  bool model_changed = settings.completion.model != settings_.completion.model;
  settings_ = std::move(settings);
  if (index_changed) {
    indexes_->release_all();
    if (started_) start_indexing();
  }
  if (model_changed) select_model();
}

void Workspace::select_model() {
  auto post = executor_.post;
  auto message = events_.message;
  model_->select(settings_.completion.model, executor_.background,
                 [post, message](const std::string& path, const std::string& error) {
                   if (!message) return;
                   post([message, path, error] {
                     if (error.empty()) message(MessageLevel::Info, "model loaded: " + path);
                     else message(MessageLevel::Error, "cannot load the model: " + error);
                   });
                 });
}

// ---- Documents ---------------------------------------------------------------------

std::optional<std::string> Workspace::open(std::string uri, std::string language_id, int64_t version,
                                           std::string text) {
  std::string key = uri;
  auto warning = documents_.open(std::move(uri), std::move(language_id), version, std::move(text));
  feed_index(key, /*closed=*/false);
  return warning;
}

DocumentStore::ChangeResult Workspace::change(const std::string& uri, std::optional<int64_t> version,
                                              const std::vector<ContentChange>& changes, PositionEncoding encoding) {
  auto result = documents_.change(uri, version, changes, encoding);
  if (!result.ok) return result;
  feed_index(uri, /*closed=*/false);
  if (!changes.empty()) note_edit(uri, changes.back().range ? changes.back().range->start.line : 0);
  return result;
}

std::optional<std::string> Workspace::save(const std::string& uri, std::optional<std::string> text) {
  // The index already has this text from the changes.
  return documents_.saved(uri, std::move(text));
}

void Workspace::set_client_context(const std::string& uri, std::vector<completion::ContextFile> files) {
  if (files.empty()) client_context_.erase(uri);
  else client_context_[uri] = std::move(files);
}

void Workspace::attach_image(const std::string& uri, const std::string& name, const std::string& description) {
  auto& chunks = image_context_[uri];
  std::erase_if(chunks, [&](const completion::ContextFile& f) { return f.path == name; });
  chunks.push_back({name, description});
}

std::vector<std::string> Workspace::attached_images(const std::string& uri) const {
  std::vector<std::string> names;
  if (auto it = image_context_.find(uri); it != image_context_.end())
    for (const auto& f : it->second) names.push_back(f.path);
  return names;
}

VisionSettings Workspace::vision_paths() const {
  VisionSettings v = settings_.vision;
  if (!v.model.empty()) v.model = model_->path_for(v.model);
  if (!v.mmproj.empty()) v.mmproj = model_->path_for(v.mmproj);
  // No tower named: the one `astfill pull` put beside a pulled VL model, else
  // the model's own checkpoint (HF's visual.* tensors).
  if (v.mmproj.empty() && !v.model.empty())
    if (auto tower = hub::projector_file_for(v.model)) v.mmproj = tower->string();
  return v;
}

bool Workspace::close(const std::string& uri) {
  client_context_.erase(uri);
  image_context_.erase(uri);
  if (!documents_.close(uri)) return false;
  std::erase_if(recent_edits_, [&](const RecentEdit& e) { return e.uri == uri; });
  feed_index(uri, /*closed=*/true);
  return true;
}

void Workspace::note_edit(const std::string& uri, uint32_t line) {
  std::erase_if(recent_edits_, [&](const RecentEdit& e) { return e.uri == uri; });
  recent_edits_.insert(recent_edits_.begin(), RecentEdit{uri, line});
  if (recent_edits_.size() > 4) recent_edits_.resize(4);
}

void Workspace::feed_index(const std::string& uri, bool closed) {
  if (indexes_->empty()) return;
  auto path = file_uri_to_path(uri);
  if (!path) return;
  auto f = indexes_->folder_of(*path);
  if (!f) return;
  if (closed) {
    f->index->close_file(f->relative);
    return;
  }
  auto doc = documents_.get(uri);
  if (!doc) return;
  // A copy per change; the index drops texts a newer one replaced before
  // they were parsed, so a burst of keystrokes costs about one parse.
  f->index->update_file(f->relative, *doc->text);
}

std::map<std::string, std::shared_ptr<const std::string>> Workspace::open_texts() const {
  std::map<std::string, std::shared_ptr<const std::string>> open;
  for (const auto& uri : documents_.uris())
    if (auto path = file_uri_to_path(uri))
      if (auto doc = documents_.get(uri)) open[*path] = doc->text;
  return open;
}

// ---- Questions ---------------------------------------------------------------------

void Workspace::note_accepted(std::string text) {
  // A few recent ones, each of a completion's size: drafting looks them up on
  // every step, and what the user accepted long ago is seldom what comes next.
  constexpr size_t kKept = 8, kMostBytes = 4096;
  if (text.empty()) return;
  if (text.size() > kMostBytes) text.resize(kMostBytes);
  std::erase(accepted_, text);
  accepted_.insert(accepted_.begin(), std::move(text));
  if (accepted_.size() > kKept) accepted_.resize(kKept);
}

completion::ProjectContext Workspace::project_for(const std::string& uri) const {
  completion::ProjectContext project;
  auto path = file_uri_to_path(uri);
  auto f = path ? indexes_->folder_of(*path) : std::nullopt;
  if (f) {
    project.index = f->index;
    project.root = f->root;
    project.name = f->name;
    project.path = f->relative;
  } else {
    // No index holds it: still place it in its folder (the prompt names the
    // file by its path in the repository).
    project.path = path.value_or(uri);
    if (!folders_.empty()) project.name = folders_.front().name;
    size_t best = 0;
    for (const auto& folder : folders_) {
      auto root = file_uri_to_path(folder.uri);
      if (!root || !path) continue;
      while (root->size() > 1 && root->back() == '/') root->pop_back();
      bool inside = *root == "/" || (path->size() > root->size() && path->compare(0, root->size(), *root) == 0 &&
                                     (*path)[root->size()] == '/');
      if (!inside || root->size() < best) continue;
      best = root->size();
      project.root = *root;
      project.name = folder.name.empty() ? *root : folder.name;
      project.path = relative_to(*root, *path);
    }
  }
  // Excerpts of the other files edited last, around where they were edited.
  for (const auto& e : recent_edits_) {
    if (e.uri == uri) continue;
    auto doc = documents_.get(e.uri);
    auto other = file_uri_to_path(e.uri);
    if (!doc || !other) continue;
    std::string rel = f && other->starts_with(f->root + "/") ? relative_to(f->root, *other) : *other;
    project.recent_edits.push_back({rel, lines_around(*doc->text, e.line, 10)});
  }
  if (auto it = client_context_.find(uri); it != client_context_.end())
    project.recent_edits.insert(project.recent_edits.end(), it->second.begin(), it->second.end());
  // Descriptions of the images attached to it (workspace/images.h).
  if (auto it = image_context_.find(uri); it != image_context_.end())
    project.recent_edits.insert(project.recent_edits.end(), it->second.begin(), it->second.end());
  project.accepted = accepted_;
  // The files open in the editor, named as the index names them: when the
  // context budget is short, files the user has not opened lose their
  // comments and docs first (completion/context.h, open_paths).
  for (const auto& open : documents_.uris()) {
    auto other = file_uri_to_path(open);
    if (!other) continue;
    project.open_paths.push_back(f && other->starts_with(f->root + "/") ? relative_to(f->root, *other) : *other);
  }
  return project;
}

completion::DocumentText Workspace::text_of(const DocumentSnapshot& doc) const {
  return completion::DocumentText{doc.uri, doc.language_id, doc.version, doc.text};
}

namespace {
// The document's tree as of the snapshot, parsed on the worker if an edit
// came since the last question (null: the service parses the text itself).
// `timeout` bounds the parse (0: none); `timed_out` says whether it ran out.
std::shared_ptr<const parsing::Document> tree_of(const DocumentSnapshot& doc, const CancellationToken& cancel,
                                                 std::chrono::milliseconds timeout, bool* timed_out) {
  if (!doc.tree) return nullptr;
  parsing::ParseLimits limits;
  limits.cancel = cancel;
  limits.timeout = timeout;
  return doc.tree->at(doc.sequence, limits, timed_out);
}
}  // namespace

namespace {
// A completion question as a task: on the worker, the request gets the
// document's tree (parsed there if an edit came since), then the service answers.
template <typename Request, typename Result>
Task<Result> service_task(std::shared_ptr<completion::CompletionService> service, Request request,
                          DocumentSnapshot doc,
                          Result (completion::CompletionService::*ask)(const Request&, const CancellationToken&,
                                                                      Progress&) const) {
  return [service = std::move(service), request = std::move(request), doc = std::move(doc), ask](
             const CancellationToken& cancel, Progress& progress) mutable {
    // The request's time cap started when it arrived (Workspace::inline_completion,
    // ::fill) and covers the wait for a worker and the parse: the parse gets
    // at most half the cap, less what the wait used; a document too large to
    // parse in that is answered from a window around the cursor instead
    // (completion/service.cpp).
    std::chrono::milliseconds timeout{0};
    if constexpr (requires { request.started; }) {
      using namespace std::chrono;
      auto now = steady_clock::now();
      if (request.started == steady_clock::time_point{} || request.started > now) request.started = now;
      auto waited = duration_cast<milliseconds>(now - request.started);
      auto half = completion::time_cap(request.options, std::is_same_v<Request, completion::FillRequest>) / 2;
      timeout = std::max(half - waited, milliseconds(1));
    }
    bool timed_out = false;
    request.document.parsed = tree_of(doc, cancel, timeout, &timed_out);
    request.document.parse_timed_out = timed_out;
    return ((*service).*ask)(request, cancel, progress);
  };
}
}  // namespace

namespace {
// Whether the file is deny-listed (credentials, index/deny.h) or left out by
// its folder's .astfillignore files: it gets no completions, and the log says
// why, once per file.
bool deny_listed(const completion::ProjectContext& project, const std::string& uri, const IndexSettings& settings) {
  const char* why = nullptr;
  if (index::DenyList(settings.deny_paths).denied(project.path))
    why = "it is deny-listed as a credentials file (index/deny.h, astfill.index.denyPaths)";
  else if (!project.root.empty() && index::astfill_ignored(project.root, project.path))
    why = "its folder's .astfillignore leaves it out";
  if (!why) return false;
  static std::mutex mu;
  static std::set<std::string> told;
  std::lock_guard lock(mu);
  if (told.insert(uri).second) log::info("workspace: no completions in '", project.path, "': ", why);
  return true;
}

template <typename Result>
Task<Result> refused() {
  return [](const CancellationToken&, Progress&) {
    Result result;
    result.empty_reason = completion::EmptyReason::Disabled;
    return result;
  };
}
}  // namespace

Task<completion::InlineCompletionResult> Workspace::inline_completion(const DocumentSnapshot& doc, size_t offset,
                                                                      completion::Trigger trigger,
                                                                      Clock::time_point arrived) const {
  completion::ProjectContext project = project_for(doc.uri);
  if (deny_listed(project, doc.uri, settings_.index)) return refused<completion::InlineCompletionResult>();
  completion::InlineCompletionRequest request{text_of(doc), offset, trigger, settings_.completion,
                                              std::move(project)};
  request.started = arrived;
  return service_task(model_->service(), std::move(request), doc, &completion::CompletionService::complete_inline);
}

Task<completion::ApiSuggestionResult> Workspace::api_suggestions(const DocumentSnapshot& doc, size_t offset) const {
  completion::ProjectContext project = project_for(doc.uri);
  if (deny_listed(project, doc.uri, settings_.index)) return refused<completion::ApiSuggestionResult>();
  completion::ApiSuggestionRequest request{text_of(doc), offset, settings_.completion, std::move(project)};
  return service_task(model_->service(), std::move(request), doc, &completion::CompletionService::suggest_api);
}

Task<completion::FillResult> Workspace::fill(const DocumentSnapshot& doc, size_t offset,
                                             Clock::time_point arrived) const {
  completion::ProjectContext project = project_for(doc.uri);
  if (deny_listed(project, doc.uri, settings_.index)) return refused<completion::FillResult>();
  completion::FillRequest request{text_of(doc), offset, settings_.completion, std::move(project)};
  request.started = arrived;
  return service_task(model_->service(), std::move(request), doc, &completion::CompletionService::fill);
}

Task<std::vector<Location>> Workspace::definitions(const DocumentSnapshot& doc, size_t offset,
                                                   PositionEncoding encoding) const {
  auto span = parsing::identifier_at(doc.language_id, *doc.text, offset);
  std::string name = doc.text->substr(span.begin, span.end - span.begin);
  auto path = file_uri_to_path(doc.uri);
  auto f = path ? indexes_->folder_of(*path) : std::nullopt;
  if (name.empty() || !f) return [](const CancellationToken&, Progress&) { return std::vector<Location>{}; };
  return [index = f->index, root = f->root, rel = f->relative, name, open = open_texts(), encoding](
             const CancellationToken&, Progress&) {
    auto found = index->definitions(name, rel, 50);
    // Only the best tier (index::SymbolIndex::definitions ranks them).
    int best = 4;
    for (const auto& s : found) best = std::min(best, s.proximity);
    RangeMaker ranges(open, encoding);
    std::vector<Location> out;
    for (const auto& s : found) {
      if (s.proximity != best) continue;
      std::string absolute = absolute_in(root, s.path);
      out.push_back(Location{path_to_file_uri(absolute), ranges.range(absolute, s.name_range)});
    }
    return out;
  };
}

Task<std::vector<SymbolLocation>> Workspace::symbols(std::string query, PositionEncoding encoding) const {
  return [sources = indexes_->indexed(), open = open_texts(), encoding, query = std::move(query)](
             const CancellationToken& cancel, Progress&) {
    constexpr size_t kLimit = 200;
    struct Hit {
      index::Symbol symbol;
      std::string absolute;
      int rank;
    };
    std::vector<Hit> hits;
    for (const auto& s : sources) {
      if (cancel.cancelled()) break;
      for (auto& sym : s.index->search_symbols(query, kLimit)) {
        int rank = index::queries::match_rank(sym.name, query).value_or(9);
        std::string absolute = absolute_in(s.root, sym.path);
        hits.push_back({std::move(sym), std::move(absolute), rank});
      }
    }
    // Folders' answers are each ranked; merge them the same way.
    std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
      return std::tie(a.rank, a.symbol.name) < std::tie(b.rank, b.symbol.name);
    });
    if (hits.size() > kLimit) hits.resize(kLimit);
    RangeMaker ranges(open, encoding);
    std::vector<SymbolLocation> out;
    for (const auto& h : hits)
      out.push_back(SymbolLocation{h.symbol.name, h.symbol.kind, h.symbol.container,
                                   Location{path_to_file_uri(h.absolute), ranges.range(h.absolute, h.symbol.range)}});
    return out;
  };
}

WorkspaceStatus Workspace::status() const {
  WorkspaceStatus s;
  s.folders = folders_;
  for (const auto& uri : documents_.uris()) {
    auto snap = documents_.get(uri);
    DocumentStatus d{uri, snap->language_id, snap->version, snap->text->size(), {}};
    if (snap->tree) d.parses = snap->tree->counts();
    s.documents.push_back(std::move(d));
  }
  s.indexes = indexes_->status();
  s.model = model_->model_path();
  s.model_state = model_->state();
  s.completion_cache_hits = model_->service()->cache_hits();
  if (const auto runner = model_->service()->runner()) s.batching = runner->stats();
  s.settings = settings_;
  return s;
}

}  // namespace astfill::workspace
