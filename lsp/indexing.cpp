// The project index in the daemon: one index per workspace folder, opened
// when the session is initialized (and as folders come and go), synced in the
// background with $/progress the server creates (window/workDoneProgress/
// create), fed by the editor's text (didOpen/didChange/didSave/didClose) and
// the client's file watcher; and the two requests answered from it,
// workspace/symbol and textDocument/definition.
//
// Nothing here waits for indexing: questions read the last commit (see
// index/index.h), so a request during the first sync gets what is indexed so
// far.
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "index/store.h"
#include "lsp/index_registry.h"
#include "lsp/server.h"
#include "lsp/uri.h"
#include "support/log.h"

namespace astfill::lsp {
namespace {

using parsing::SymbolKind;

// LSP's SymbolKind numbers.
int lsp_symbol_kind(SymbolKind kind) {
  switch (kind) {
    case SymbolKind::Function: return 12;
    case SymbolKind::Method: return 6;
    case SymbolKind::Class: return 5;
    case SymbolKind::Struct: return 23;
    case SymbolKind::Interface: return 11;
    case SymbolKind::Trait: return 11;
    case SymbolKind::Enum: return 10;
    case SymbolKind::EnumMember: return 22;
    case SymbolKind::Field: return 8;
    case SymbolKind::Constant: return 14;
    case SymbolKind::Variable: return 13;
    case SymbolKind::TypeAlias: return 5;  // as clangd reports type aliases
    case SymbolKind::Module: return 2;
    case SymbolKind::Namespace: return 3;
  }
  return 13;
}

// Turns the index's byte spans into ranges in the client's encoding, reading
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
      std::ifstream in(path, std::ios::binary);
      if (in) {
        std::ostringstream s;
        s << in.rdbuf();
        it->second = s.str();
      } else {
        it->second.reset();
      }
    }
    return it->second ? &*it->second : nullptr;
  }

  std::map<std::string, std::shared_ptr<const std::string>> open_;
  std::map<std::string, std::optional<std::string>> read_;
  PositionEncoding encoding_;
};

bool identifier_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
         c >= 0x80;
}

// The identifier under (or just before) byte `offset`.
std::string identifier_at(std::string_view text, size_t offset) {
  size_t begin = std::min(offset, text.size()), end = begin;
  while (begin > 0 && identifier_byte(static_cast<unsigned char>(text[begin - 1]))) --begin;
  while (end < text.size() && identifier_byte(static_cast<unsigned char>(text[end]))) ++end;
  std::string word(text.substr(begin, end - begin));
  if (!word.empty() && word[0] >= '0' && word[0] <= '9') return {};  // a number
  return word;
}

std::string parent_of(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

}  // namespace

// ---- Folders -------------------------------------------------------------------

void LanguageServer::start_indexing() {
  if (!options_.indexes) return;
  if (watched_files_registration_ && !watcher_registered_) {
    // The client watches the folders for us; deletions and renames outside the
    // editor reach the index through didChangeWatchedFiles.
    watcher_registered_ = true;
    json::object watcher{{"globPattern", "**/*"}};
    json::object registration{{"id", "astfill-watched-files"},
                              {"method", "workspace/didChangeWatchedFiles"},
                              {"registerOptions", json::object{{"watchers", json::array{watcher}}}}};
    send_request("client/registerCapability", json::object{{"registrations", json::array{registration}}},
                 [](const Response&) {});
  }
  for (const auto& folder : folders_) open_folder_index(folder);
}

void LanguageServer::open_folder_index(const WorkspaceFolder& folder) {
  if (!options_.indexes || !settings_.index.enable) return;
  if (std::any_of(folder_indexes_.begin(), folder_indexes_.end(),
                  [&](const FolderIndex& f) { return f.uri == folder.uri; }))
    return;
  auto root = file_uri_to_path(folder.uri);
  if (!root) {
    tell(MessageType::Warning, "workspace folder " + folder.uri + " is not a local file URI: it is not indexed");
    return;
  }
  while (root->size() > 1 && root->back() == '/') root->pop_back();
  FolderIndex& f = folder_indexes_.emplace_back();
  f.id = next_folder_index_++;
  f.uri = folder.uri;
  f.name = folder.name.empty() ? *root : folder.name;
  f.root = *root;
  f.state = FolderIndex::State::Opening;
  f.message = "opening the index";
  uint64_t id = f.id;

  if (client_progress_) {
    json::value token(json::string("astfill/index/" + std::to_string(id)));
    f.progress_token = token;
    send_request("window/workDoneProgress/create", json::object{{"token", token}},
                 [weak = weak_from_this(), id](const Response& r) {
                   auto self = weak.lock();
                   if (!self) return;
                   FolderIndex* f = self->folder_index(id);
                   if (!f) return;
                   if (r.error) {
                     log::warn(self->options_.peer, ": the client refused a progress token: ", r.error->message);
                     f->progress_token.reset();
                     return;
                   }
                   self->begin_index_progress(*f);
                 });
  }

  std::weak_ptr<LanguageServer> weak = weak_from_this();
  LoopPoster& loop = loop_;
  auto registry = options_.indexes;
  uint64_t max_bytes = uint64_t{settings_.index.max_file_kb} * 1024;
  auto include_dirs = settings_.index.include_dirs;
  std::string path = f.root;
  workers_.submit([weak, id, registry, path, max_bytes, include_dirs, &loop] {
    std::shared_ptr<index::Index> opened;
    std::string error;
    try {
      opened = registry->acquire(path, max_bytes, include_dirs);
    } catch (const std::exception& e) {
      error = e.what();
    }
    loop.post([weak, id, opened = std::move(opened), error = std::move(error)]() mutable {
      if (auto self = weak.lock()) self->on_index_opened(id, std::move(opened), std::move(error));
    });
  });
}

// Progress sink for a sync: reports go to the loop thread, where they update
// the folder's state and its $/progress.
class LanguageServer::IndexProgress final : public Progress {
 public:
  IndexProgress(std::weak_ptr<LanguageServer> server, LoopPoster& loop, uint64_t id)
      : server_(std::move(server)), loop_(loop), id_(id) {}
  void report(std::optional<uint32_t> pct, const std::string& message) override {
    loop_.post([server = server_, id = id_, pct, message] {
      if (auto self = server.lock()) self->on_index_progress(id, pct, message);
    });
  }

 private:
  std::weak_ptr<LanguageServer> server_;
  LoopPoster& loop_;
  uint64_t id_;
};

void LanguageServer::on_index_opened(uint64_t id, std::shared_ptr<index::Index> opened, std::string error) {
  FolderIndex* f = folder_index(id);
  if (!f) {
    release_index(std::move(opened));  // the folder went away while it opened
    return;
  }
  if (!opened) {
    f->state = FolderIndex::State::Failed;
    f->message = error;
    tell(MessageType::Warning, "workspace folder " + f->root + " is not indexed: " + error);
    end_index_progress(*f, "indexing failed");
    return;
  }
  f->index = std::move(opened);
  f->state = FolderIndex::State::Indexing;
  f->message = "scanning files";
  log::info(options_.peer, ": indexing ", f->root, " into ", f->index->database_path().string());
  // The editor's texts of files already open take precedence over the disk.
  for (const auto& uri : documents_.uris()) feed_index(uri, /*closed=*/false);
  f->index->sync_with_disk(std::make_shared<IndexProgress>(weak_from_this(), loop_, id));
}

void LanguageServer::on_index_progress(uint64_t id, std::optional<uint32_t> pct, std::string message) {
  FolderIndex* f = folder_index(id);
  if (!f || f->state == FolderIndex::State::Failed) return;
  if (pct) f->percent = *pct;
  f->message = message;
  if (pct && *pct >= 100) {
    bool first = f->state != FolderIndex::State::Ready;
    f->state = FolderIndex::State::Ready;
    if (first) {
      auto stats = f->index ? f->index->stats() : index::IndexStats{};
      log::info(options_.peer, ": ", f->root, ": ", message, " (", stats.parsed, " parsed, ", stats.unchanged,
                " unchanged, ", stats.failed, " failed)");
    }
    end_index_progress(*f, message);
    return;
  }
  f->state = FolderIndex::State::Indexing;
  if (f->progress_begun && !f->progress_ended)
    notify("$/progress", progress_report(*f->progress_token, message, f->percent));
}

void LanguageServer::begin_index_progress(FolderIndex& f) {
  if (!f.progress_token || f.progress_begun) return;
  f.progress_begun = true;
  notify("$/progress", progress_begin(*f.progress_token, "Indexing " + f.name, f.message, false, f.percent));
  if (f.state == FolderIndex::State::Ready || f.state == FolderIndex::State::Failed)
    end_index_progress(f, f.message);
}

void LanguageServer::end_index_progress(FolderIndex& f, const std::string& message) {
  if (!f.progress_begun || f.progress_ended) return;
  f.progress_ended = true;
  notify("$/progress", progress_end(*f.progress_token, message));
}

void LanguageServer::close_folder_index(const std::string& uri) {
  auto it = std::find_if(folder_indexes_.begin(), folder_indexes_.end(),
                         [&](const FolderIndex& f) { return f.uri == uri; });
  if (it == folder_indexes_.end()) return;
  end_index_progress(*it, "folder removed");
  release_index(std::move(it->index));
  folder_indexes_.erase(it);
}

void LanguageServer::close_all_indexes() {
  for (auto& f : folder_indexes_) {
    end_index_progress(f, "stopped");
    f.index.reset();  // here, not on a worker: the session is ending and the loop may be too
  }
  folder_indexes_.clear();
}

void LanguageServer::release_index(std::shared_ptr<index::Index> index) {
  // An index's destructor finishes its commits and joins its threads: not on
  // the loop thread. (Another session may still hold it, then nothing happens.)
  if (index) workers_.submit([index = std::move(index)]() mutable { index.reset(); });
}

void LanguageServer::reopen_indexes() {
  for (auto& f : folder_indexes_) {
    end_index_progress(f, "settings changed");
    release_index(std::move(f.index));
  }
  folder_indexes_.clear();
  if (state_ == State::Initialized) start_indexing();
}

LanguageServer::FolderIndex* LanguageServer::folder_index(uint64_t id) {
  for (auto& f : folder_indexes_)
    if (f.id == id) return &f;
  return nullptr;
}

// The index holding `path` (absolute): the folder with the longest root that
// contains it.
LanguageServer::FolderIndex* LanguageServer::folder_of(const std::string& path) {
  FolderIndex* best = nullptr;
  for (auto& f : folder_indexes_) {
    if (!f.index) continue;
    bool inside = f.root == "/" || (path.size() > f.root.size() && path.compare(0, f.root.size(), f.root) == 0 &&
                                    path[f.root.size()] == '/');
    if (inside && (!best || f.root.size() > best->root.size())) best = &f;
  }
  return best;
}

std::string LanguageServer::relative_to(const FolderIndex& f, const std::string& path) {
  return f.root == "/" ? path.substr(1) : path.substr(f.root.size() + 1);
}

// ---- Feeding the index -----------------------------------------------------------

void LanguageServer::feed_index(const std::string& uri, bool closed) {
  if (folder_indexes_.empty()) return;
  auto path = file_uri_to_path(uri);
  if (!path) return;
  FolderIndex* f = folder_of(*path);
  if (!f) return;
  std::string rel = relative_to(*f, *path);
  if (closed) {
    f->index->close_file(rel);
    return;
  }
  auto doc = documents_.get(uri);
  if (!doc) return;
  // A copy per change; the index drops texts a newer one replaced before
  // they were parsed, so a burst of keystrokes costs about one parse.
  f->index->update_file(rel, *doc->text);
}

void LanguageServer::index_watched_file(const std::string& uri) {
  auto path = file_uri_to_path(uri);
  if (!path) return;
  if (FolderIndex* f = folder_of(*path)) f->index->file_changed_on_disk(relative_to(*f, *path));
}

// ---- Server -> client requests -------------------------------------------------------

void LanguageServer::send_request(std::string method, json::value params,
                                  std::function<void(const Response&)> on_answer) {
  if (closed_) return;
  json::value id(json::string("astfill-" + std::to_string(next_server_request_++)));
  pending_requests_[RequestId{id}.key()] = std::move(on_answer);
  cb_.send(serialize_request(id, method, params));
}

// ---- Requests answered from the index -------------------------------------------------

void LanguageServer::on_workspace_symbol(const Request& req) {
  auto p = decode_request<WorkspaceSymbolParams>(req);
  if (!p) return;
  struct Source {
    std::shared_ptr<index::Index> index;
    std::string root;
  };
  std::vector<Source> sources;
  for (auto& f : folder_indexes_)
    if (f.index) sources.push_back({f.index, f.root});
  std::map<std::string, std::shared_ptr<const std::string>> open;
  for (const auto& uri : documents_.uris())
    if (auto path = file_uri_to_path(uri))
      if (auto doc = documents_.get(uri)) open[*path] = doc->text;
  auto encoding = encoding_;
  std::string query = p->query;
  run_async(req, RequestKind::Command, "", p->work_done_token, "Searching symbols",
            [sources, open, encoding, query](const CancellationToken& cancel, Progress&) -> Result {
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
                  std::string absolute = s.root == "/" ? "/" + sym.path : s.root + "/" + sym.path;
                  hits.push_back({std::move(sym), std::move(absolute), rank});
                }
              }
              // Folders' answers are each ranked; merge them the same way.
              std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
                return std::tie(a.rank, a.symbol.name) < std::tie(b.rank, b.symbol.name);
              });
              if (hits.size() > kLimit) hits.resize(kLimit);
              RangeMaker ranges(open, encoding);
              json::array out;
              for (const auto& h : hits) {
                json::object item{{"name", h.symbol.name},
                                  {"kind", lsp_symbol_kind(h.symbol.kind)},
                                  {"location", json::object{{"uri", path_to_file_uri(h.absolute)},
                                                            {"range", to_json(ranges.range(h.absolute, h.symbol.range))}}}};
                if (!h.symbol.container.empty()) item["containerName"] = h.symbol.container;
                out.push_back(std::move(item));
              }
              return json::value(std::move(out));
            });
}

void LanguageServer::on_definition(const Request& req) {
  auto p = decode_request<PositionRequestParams>(req);
  if (!p) return;
  auto at = locate(req, *p);
  if (!at) return;
  std::string name = identifier_at(*at->doc.text, at->offset);
  auto path = file_uri_to_path(p->text_document.uri);
  FolderIndex* f = path ? folder_of(*path) : nullptr;
  if (name.empty() || !f) {
    reply(req.id, json::array{});
    return;
  }
  auto index = f->index;
  std::string root = f->root;
  std::string rel = relative_to(*f, *path);
  std::map<std::string, std::shared_ptr<const std::string>> open;
  for (const auto& uri : documents_.uris())
    if (auto doc_path = file_uri_to_path(uri))
      if (auto doc = documents_.get(uri)) open[*doc_path] = doc->text;
  auto encoding = encoding_;
  run_async(req, RequestKind::Command, p->text_document.uri, p->work_done_token, "Finding definitions",
            [index, root, rel, name, open, encoding](const CancellationToken&, Progress&) -> Result {
              auto found = index->definitions(name, rel, 50);
              // Only the best tier: this file, else what it imports, else its
              // directory, else anywhere (index::SymbolIndex's order).
              std::vector<std::string> imported_files, imported_dirs;
              for (const auto& imp : index->imports_of(rel))
                if (imp.resolved_path)
                  (imp.resolved_is_directory ? imported_dirs : imported_files).push_back(*imp.resolved_path);
              auto tier = [&](const index::Symbol& s) {
                if (s.path == rel) return 0;
                if (std::find(imported_files.begin(), imported_files.end(), s.path) != imported_files.end() ||
                    std::find(imported_dirs.begin(), imported_dirs.end(), parent_of(s.path)) != imported_dirs.end())
                  return 1;
                if (parent_of(s.path) == parent_of(rel)) return 2;
                return 3;
              };
              int best = 4;
              for (const auto& s : found) best = std::min(best, tier(s));
              RangeMaker ranges(open, encoding);
              json::array out;
              for (const auto& s : found) {
                if (tier(s) != best) continue;
                std::string absolute = root == "/" ? "/" + s.path : root + "/" + s.path;
                out.push_back(json::object{{"uri", path_to_file_uri(absolute)},
                                           {"range", to_json(ranges.range(absolute, s.name_range))}});
              }
              return json::value(std::move(out));
            });
}

json::value LanguageServer::index_status() const {
  json::array out;
  for (const auto& f : folder_indexes_) {
    const char* state = f.state == FolderIndex::State::Opening    ? "opening"
                        : f.state == FolderIndex::State::Indexing ? "indexing"
                        : f.state == FolderIndex::State::Ready    ? "ready"
                                                                  : "failed";
    json::object o{{"folder", f.uri}, {"state", state}, {"percentage", f.percent}, {"message", f.message}};
    if (f.index) {
      auto s = f.index->stats();
      o["database"] = f.index->database_path().string();
      o["stats"] = json::object{{"parsed", s.parsed},   {"unchanged", s.unchanged}, {"sameContent", s.same_content},
                                {"removed", s.removed}, {"failed", s.failed},       {"committed", s.committed}};
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace astfill::lsp
