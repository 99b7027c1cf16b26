// A session's workspace folders and their project indexes: opened on a
// worker when the session is ready (and as folders come and go), synced in
// the background, reported as they progress, released on a worker.
//
// Indexes come from the daemon's IndexRegistry, so sessions on the same
// folder with the same index settings share one. Lives on the session's
// thread; the executor brings results back there.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "index/index.h"
#include "workspace/executor.h"
#include "workspace/index_registry.h"
#include "workspace/settings.h"

namespace astfill::workspace {

// A workspace folder as the front end names it.
struct Folder {
  std::string uri;
  std::string name;
};

struct FolderStatus {
  enum class State { Opening, Indexing, Ready, Failed, Removed };
  uint64_t id = 0;  // tells a reopened folder from the one before it
  std::string uri, name, root;
  State state = State::Opening;
  uint32_t percent = 0;
  std::string message;
  std::string database;  // "" until opened
  std::optional<index::IndexStats> stats;
};
const char* to_string(FolderStatus::State state);

class FolderIndexes : public std::enable_shared_from_this<FolderIndexes> {
 public:
  struct Events {
    std::function<void(const FolderStatus&)> changed;      // state, percentage or message changed
    std::function<void(const std::string&)> warning;        // for the user
    std::function<void()> opened;                           // an index became available (feed it the editor's texts)
  };
  static std::shared_ptr<FolderIndexes> create(std::shared_ptr<IndexRegistry> registry, Executor executor,
                                               Events events, std::string label);
  ~FolderIndexes();

  void open(const Folder& folder, const IndexSettings& settings);
  void close(const std::string& uri);
  // Releases every index now, on this thread (the session is ending).
  void close_all();
  // Closes every index (released on workers) and forgets the folders.
  void release_all();

  // The folder that holds `path` (absolute) and has an index: the one with
  // the longest root that contains it.
  struct Match {
    std::shared_ptr<index::Index> index;
    std::string root, name;
    std::string relative;  // `path` relative to root
  };
  std::optional<Match> folder_of(const std::string& path) const;
  // Every folder with an index, in the order opened.
  std::vector<Match> indexed() const;
  std::vector<FolderStatus> status() const;
  bool empty() const { return folders_.empty(); }
  // Blocks until every opened index is idle (the CLI; never on a loop thread).
  void wait_until_idle() const;

 private:
  FolderIndexes(std::shared_ptr<IndexRegistry> registry, Executor executor, Events events, std::string label);
  struct Entry {
    FolderStatus status;
    std::shared_ptr<index::Index> index;  // null while opening, or after a failure
  };
  class SyncProgress;
  Entry* find(uint64_t id);
  void on_opened(uint64_t id, std::shared_ptr<index::Index> opened, std::string error);
  void on_progress(uint64_t id, std::optional<uint32_t> pct, std::string message);
  void release(std::shared_ptr<index::Index> index);

  std::shared_ptr<IndexRegistry> registry_;
  Executor executor_;
  Events events_;
  std::string label_;
  std::vector<Entry> folders_;
  uint64_t next_id_ = 1;
};

// `path` relative to `root` (which contains it).
std::string relative_to(const std::string& root, const std::string& path);

}  // namespace astfill::workspace
