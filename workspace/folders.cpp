#include "workspace/folders.h"

#include <algorithm>

#include "support/log.h"
#include "workspace/uri.h"

namespace astfill::workspace {

const char* to_string(FolderStatus::State state) {
  switch (state) {
    case FolderStatus::State::Opening: return "opening";
    case FolderStatus::State::Indexing: return "indexing";
    case FolderStatus::State::Ready: return "ready";
    case FolderStatus::State::Failed: return "failed";
    case FolderStatus::State::Removed: return "removed";
  }
  return "failed";
}

std::string relative_to(const std::string& root, const std::string& path) {
  return root == "/" ? path.substr(1) : path.substr(root.size() + 1);
}

std::shared_ptr<FolderIndexes> FolderIndexes::create(std::shared_ptr<IndexRegistry> registry, Executor executor,
                                                     Events events, std::string label) {
  return std::shared_ptr<FolderIndexes>(
      new FolderIndexes(std::move(registry), std::move(executor), std::move(events), std::move(label)));
}

FolderIndexes::FolderIndexes(std::shared_ptr<IndexRegistry> registry, Executor executor, Events events,
                             std::string label)
    : registry_(std::move(registry)),
      executor_(std::move(executor)),
      events_(std::move(events)),
      label_(std::move(label)) {}

FolderIndexes::~FolderIndexes() { close_all(); }

void FolderIndexes::open(const Folder& folder, const IndexSettings& settings) {
  if (!registry_ || !settings.enable) return;
  if (std::any_of(folders_.begin(), folders_.end(), [&](const Entry& e) { return e.status.uri == folder.uri; }))
    return;
  auto root = file_uri_to_path(folder.uri);
  if (!root) {
    if (events_.warning)
      events_.warning("workspace folder " + folder.uri + " is not a local file URI: it is not indexed");
    return;
  }
  while (root->size() > 1 && root->back() == '/') root->pop_back();
  Entry& e = folders_.emplace_back();
  FolderStatus& f = e.status;
  f.id = next_id_++;
  f.uri = folder.uri;
  f.name = folder.name.empty() ? *root : folder.name;
  f.root = *root;
  f.state = FolderStatus::State::Opening;
  f.message = "opening the index";
  uint64_t id = f.id;
  if (events_.changed) events_.changed(f);

  std::weak_ptr<FolderIndexes> weak = weak_from_this();
  auto registry = registry_;
  uint64_t max_bytes = uint64_t{settings.max_file_kb} * 1024;
  auto include_dirs = settings.include_dirs;
  auto deny_paths = settings.deny_paths;
  std::string path = f.root;
  auto post = executor_.post;
  executor_.background([weak, id, registry, path, max_bytes, include_dirs, deny_paths, post] {
    std::shared_ptr<index::Index> opened;
    std::string error;
    try {
      opened = registry->acquire(path, max_bytes, include_dirs, deny_paths);
    } catch (const std::exception& e) {
      error = e.what();
    }
    post([weak, id, opened = std::move(opened), error = std::move(error)]() mutable {
      if (auto self = weak.lock()) self->on_opened(id, std::move(opened), std::move(error));
      // else: the session went away while it opened; `opened` is released here
    });
  });
}

// A sync's progress: reports go to the workspace's thread, where they update
// the folder's state.
class FolderIndexes::SyncProgress final : public Progress {
 public:
  SyncProgress(std::weak_ptr<FolderIndexes> folders, std::function<void(std::function<void()>)> post, uint64_t id)
      : folders_(std::move(folders)), post_(std::move(post)), id_(id) {}
  void report(std::optional<uint32_t> pct, const std::string& message) override {
    post_([folders = folders_, id = id_, pct, message] {
      if (auto self = folders.lock()) self->on_progress(id, pct, message);
    });
  }

 private:
  std::weak_ptr<FolderIndexes> folders_;
  std::function<void(std::function<void()>)> post_;
  uint64_t id_;
};

void FolderIndexes::on_opened(uint64_t id, std::shared_ptr<index::Index> opened, std::string error) {
  Entry* e = find(id);
  if (!e) {
    release(std::move(opened));  // the folder went away while it opened
    return;
  }
  FolderStatus& f = e->status;
  if (!opened) {
    f.state = FolderStatus::State::Failed;
    f.message = error;
    if (events_.warning) events_.warning("workspace folder " + f.root + " is not indexed: " + error);
    if (events_.changed) events_.changed(f);
    return;
  }
  e->index = std::move(opened);
  f.state = FolderStatus::State::Indexing;
  f.message = "scanning files";
  f.database = e->index->database_path().string();
  log::info(label_, ": indexing ", f.root, " into ", f.database);
  if (events_.changed) events_.changed(f);
  // The editor's texts of files already open take precedence over the disk.
  if (events_.opened) events_.opened();
  // (find again: the callbacks above may not change folders_, but be safe)
  if (Entry* again = find(id); again && again->index)
    again->index->sync_with_disk(std::make_shared<SyncProgress>(weak_from_this(), executor_.post, id));
}

void FolderIndexes::on_progress(uint64_t id, std::optional<uint32_t> pct, std::string message) {
  Entry* e = find(id);
  if (!e || e->status.state == FolderStatus::State::Failed) return;
  FolderStatus& f = e->status;
  if (pct) f.percent = *pct;
  f.message = message;
  if (e->index) f.stats = e->index->stats();
  if (pct && *pct >= 100) {
    bool first = f.state != FolderStatus::State::Ready;
    f.state = FolderStatus::State::Ready;
    if (first) {
      auto stats = e->index ? e->index->stats() : index::IndexStats{};
      log::info(label_, ": ", f.root, ": ", message, " (", stats.parsed, " parsed, ", stats.unchanged,
                " unchanged, ", stats.failed, " failed)");
    }
  } else {
    f.state = FolderStatus::State::Indexing;
  }
  if (events_.changed) events_.changed(f);
}

void FolderIndexes::close(const std::string& uri) {
  auto it = std::find_if(folders_.begin(), folders_.end(), [&](const Entry& e) { return e.status.uri == uri; });
  if (it == folders_.end()) return;
  Entry gone = std::move(*it);
  folders_.erase(it);
  gone.status.state = FolderStatus::State::Removed;
  gone.status.message = "folder removed";
  release(std::move(gone.index));
  if (events_.changed) events_.changed(gone.status);
}

void FolderIndexes::close_all() {
  for (auto& e : folders_) e.index.reset();  // here: the session is ending, and the loop may be too
  folders_.clear();
}

void FolderIndexes::release_all() {
  std::vector<Entry> gone = std::move(folders_);
  folders_.clear();
  for (auto& e : gone) {
    e.status.state = FolderStatus::State::Removed;
    e.status.message = "settings changed";
    release(std::move(e.index));
    if (events_.changed) events_.changed(e.status);
  }
}

void FolderIndexes::release(std::shared_ptr<index::Index> index) {
  // An index's destructor finishes its commits and joins its threads: not on
  // the loop thread. (Another session may still hold it, then nothing happens.)
  if (index) executor_.background([index = std::move(index)]() mutable { index.reset(); });
}

FolderIndexes::Entry* FolderIndexes::find(uint64_t id) {
  for (auto& e : folders_)
    if (e.status.id == id) return &e;
  return nullptr;
}

std::optional<FolderIndexes::Match> FolderIndexes::folder_of(const std::string& path) const {
  const Entry* best = nullptr;
  for (const auto& e : folders_) {
    if (!e.index) continue;
    const std::string& root = e.status.root;
    bool inside = root == "/" || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                                  path[root.size()] == '/');
    if (inside && (!best || root.size() > best->status.root.size())) best = &e;
  }
  if (!best) return std::nullopt;
  return Match{best->index, best->status.root, best->status.name, relative_to(best->status.root, path)};
}

std::vector<FolderIndexes::Match> FolderIndexes::indexed() const {
  std::vector<Match> out;
  for (const auto& e : folders_)
    if (e.index) out.push_back(Match{e.index, e.status.root, e.status.name, ""});
  return out;
}

std::vector<FolderStatus> FolderIndexes::status() const {
  std::vector<FolderStatus> out;
  for (const auto& e : folders_) {
    FolderStatus s = e.status;
    if (e.index) s.stats = e.index->stats();
    out.push_back(std::move(s));
  }
  return out;
}

void FolderIndexes::wait_until_idle() const {
  for (const auto& e : folders_)
    if (e.index) e.index->wait_until_idle();
}

}  // namespace astfill::workspace
