// The index's moving parts behind index.h: the database connections, the job
// queues, the parse threads and the writer thread. See index.h for the
// concurrency policy; this header is for index.cpp and background.cpp only.
#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "index/database.h"
#include "index/files.h"
#include "index/imports.h"
#include "index/index.h"
#include "index/store.h"
#include "index/walk.h"

namespace astfill::index {

class Index::Background {
 public:
  Background(IndexOptions options, Extractor extract, LanguageOf language_of);
  ~Background();

  void sync(std::shared_ptr<Progress> progress, CancellationToken cancel);
  void update_file(const std::string& path, std::string text);
  void remove(const std::string& path);
  void close_file(const std::string& path);
  void disk_changed(const std::string& path);
  void wait_until_idle();
  IndexStats stats() const;

  // `path` relative to the root, or nullopt (outside the workspace).
  std::optional<std::string> relative(std::string_view path) const { return workspace_relative(root_, path); }
  ReadConnections& readers() { return readers_; }
  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& database_path() const { return database_path_; }

 private:
  // One sync_with_disk: its token, its progress sink, how far it got.
  struct SyncRun {
    CancellationToken cancel;
    std::shared_ptr<Progress> progress;
    size_t total = 0;  // files to process; set by the walk before any is queued
    size_t done = 0;   // written by the writer thread only
  };

  struct Job {
    enum class Kind { Sync, ParseDisk, ParseText } kind = Kind::ParseDisk;
    std::string path;
    std::string text;  // ParseText
    uint64_t generation = 0;
    std::optional<StoredFile> stored;  // ParseDisk: what the database held when the job was made
    bool look_up_stored = false;       // ParseDisk without `stored`: ask the database
    std::shared_ptr<SyncRun> sync;
  };

  struct Result {
    enum class Kind { Nothing, Indexed, Touched, Removed, ResolveAgain } kind = Kind::Nothing;
    std::string path;
    uint64_t generation = 0;
    FileRecord file;                // Indexed, Touched
    parsing::FileSymbols symbols;   // Indexed
    std::vector<CodeChunk> chunks;  // Indexed
    bool resolve_unresolved = false;  // ResolveAgain: imports that did not resolve
    bool resolve_all = false;         // ResolveAgain: every import (a go.mod changed)
    std::shared_ptr<SyncRun> sync;
  };

  // What a sync found to do.
  struct SyncPlan {
    std::vector<Job> jobs;          // files to read (their mtime or size changed, or they are new)
    std::vector<std::string> gone;  // stored files no longer on disk
    size_t unchanged = 0;
    bool new_files = false;         // files the import resolver did not know
  };

  // What a batch changed that other files' imports may depend on.
  struct BatchEffects {
    size_t written = 0;
    bool new_files = false;
    bool resolve_all = false;
    std::vector<std::string> removed;
  };

  void parse_loop();
  void writer_loop();
  Result run_job(Job& job);
  Result run_sync(Job& job);
  SyncPlan plan_sync(const WalkResult& walk, const std::unordered_map<std::string, StoredFile>& stored,
                     const std::shared_ptr<SyncRun>& sync);
  void queue_sync(SyncPlan& plan, const std::shared_ptr<SyncRun>& sync);
  Result parse_from_disk(Job& job);
  Result parse_text(Job& job);
  Result indexed(const std::string& path, const std::string& text, int64_t mtime_ns, uint64_t size);
  Result removal(const std::string& path, uint64_t generation);

  void commit(std::vector<Result>& batch);
  void apply(Result& result, IndexWriter& writer, BatchEffects& effects);
  void remove_stored(const std::string& path, IndexWriter& writer, BatchEffects& effects);
  void resolve_again(IndexWriter& writer, const BatchEffects& effects);
  void report_progress(const std::vector<Result>& batch);

  // Under mu_: queue work, counting it as outstanding until committed.
  void push_job_locked(Job job, bool urgent);
  void push_result_locked(Result result);
  uint64_t next_generation_locked(const std::string& path) { return ++generations_[path]; }
  bool current(const Result& result);
  bool superseded(const std::string& path, uint64_t generation);
  bool owned_by_editor(const std::string& path);
  std::string language(std::string_view path);  // language_of_, or "" when it throws
  bool stopping() const { return shutdown_.cancelled(); }
  template <typename F> void count(F change);

  IndexOptions options_;
  Extractor extract_;
  LanguageOf language_of_;
  std::filesystem::path root_;
  std::filesystem::path database_path_;
  std::unique_ptr<Database> db_;  // the writer's connection; used by the writer thread only
  ReadConnections readers_;
  WorkspaceFiles files_;
  ImportResolver resolver_;
  IgnoreCache ignores_;
  DenyList deny_;
  CancellationSource shutdown_;

  std::mutex mu_;
  std::condition_variable work_cv_;    // parse threads wait for jobs
  std::condition_variable result_cv_;  // the writer waits for results
  std::condition_variable idle_cv_;    // wait_until_idle
  std::deque<Job> urgent_;             // the editor's requests, and walks
  std::deque<Job> background_;         // files a sync found changed
  std::deque<Result> results_;
  size_t outstanding_ = 0;             // jobs and results not yet committed or dropped
  bool stop_parsers_ = false;
  bool stop_writer_ = false;
  std::unordered_map<std::string, uint64_t> generations_;
  std::unordered_set<std::string> editor_files_;

  mutable std::mutex stats_mu_;
  IndexStats stats_;

  std::vector<std::thread> parsers_;
  std::thread writer_;
};

}  // namespace astfill::index
