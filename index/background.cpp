#include "index/background.h"

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "index/schema.h"
#include "support/files.h"
#include "support/log.h"
#include "trust/secrets.h"

namespace astfill::index {
namespace {

// Indexing yields the CPU to completion and to the editor: its threads run
// nicer than the daemon's. Per-thread on Linux (a thread's nice value is its
// own); failure only costs responsiveness.
void lower_priority(int nice) {
  if (nice <= 0) return;
  auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  int current = ::getpriority(PRIO_PROCESS, tid);
  if (errno != 0) return;
  if (::setpriority(PRIO_PROCESS, tid, std::min(19, current + nice)) != 0)
    log::debug("index: cannot lower the priority of an indexing thread");
}

// A file modified within the last moments may be modified again within the
// same mtime tick, invisibly to an mtime+size check (git's "racy clean"
// problem). Storing 0 for such files makes the next sync confirm them by hash.
int64_t settled_mtime(int64_t mtime_ns) {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  int64_t now_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  return now_ns - mtime_ns < 2'000'000'000 ? 0 : mtime_ns;
}

// Runs code that is not the index's own (a progress sink, the commit hook):
// whatever it throws is logged, and never ends an indexing thread.
template <typename F>
void call_outside(const char* what, F f) {
  try {
    f();
  } catch (const std::exception& e) {
    log::warn("index: ", what, " threw: ", e.what());
  } catch (...) {
    log::warn("index: ", what, " threw");
  }
}

std::filesystem::path canonical_root(const std::filesystem::path& root) {
  std::error_code ec;
  auto canonical = std::filesystem::canonical(root, ec);
  return ec ? std::filesystem::absolute(root).lexically_normal() : canonical;
}

}  // namespace

template <typename F>
void Index::Background::count(F change) {
  std::lock_guard lock(stats_mu_);
  change(stats_);
}

Index::Background::Background(IndexOptions options, Extractor extract, LanguageOf language_of)
    : options_(std::move(options)),
      extract_(std::move(extract)),
      language_of_(std::move(language_of)),
      root_(canonical_root(options_.root)),
      database_path_(options_.database.empty() ? default_database_path(root_) : options_.database),
      db_(open_index_database(database_path_, root_.string())),
      readers_(database_path_.string()),
      resolver_(root_, files_, options_.include_dirs),
      ignores_(root_, DenyList(options_.deny_paths)),
      deny_(options_.deny_paths) {
  for (const auto& path : load_stored_paths(*db_)) files_.add(path);
  unsigned threads = options_.parse_threads ? options_.parse_threads : std::thread::hardware_concurrency();
  for (unsigned i = 0; i < std::max(1u, threads); ++i) parsers_.emplace_back([this] { parse_loop(); });
  writer_ = std::thread([this] { writer_loop(); });
}

Index::Background::~Background() {
  shutdown_.cancel(CancelReason::Shutdown);
  {
    std::lock_guard lock(mu_);
    stop_parsers_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : parsers_) t.join();
  {
    std::lock_guard lock(mu_);
    // Jobs never started are dropped; results already parsed are committed.
    outstanding_ -= urgent_.size() + background_.size();
    urgent_.clear();
    background_.clear();
    stop_writer_ = true;
  }
  result_cv_.notify_all();
  writer_.join();
  try {
    db_->exec("PRAGMA optimize");
    mark_closed_cleanly(*db_, true);
  } catch (const IndexError& e) {
    log::debug("index: ", e.what());
  }
}

// ---- requests -----------------------------------------------------------------

void Index::Background::push_job_locked(Job job, bool urgent) {
  ++outstanding_;
  (urgent ? urgent_ : background_).push_back(std::move(job));
  work_cv_.notify_one();
}

void Index::Background::push_result_locked(Result result) {
  ++outstanding_;
  results_.push_back(std::move(result));
  result_cv_.notify_one();
}

void Index::Background::sync(std::shared_ptr<Progress> progress, CancellationToken cancel) {
  Job job;
  job.kind = Job::Kind::Sync;
  job.sync = std::make_shared<SyncRun>();
  job.sync->cancel = std::move(cancel);
  job.sync->progress = std::move(progress);
  std::lock_guard lock(mu_);
  push_job_locked(std::move(job), true);
}

void Index::Background::update_file(const std::string& path, std::string text) {
  if (language(path).empty() || ignores_.ignored(path)) return;
  std::lock_guard lock(mu_);
  editor_files_.insert(path);
  Job job;
  job.kind = Job::Kind::ParseText;
  job.path = path;
  job.text = std::move(text);
  job.generation = next_generation_locked(path);
  push_job_locked(std::move(job), true);
}

Index::Background::Result Index::Background::removal(const std::string& path, uint64_t generation) {
  Result r;
  r.kind = Result::Kind::Removed;
  r.path = path;
  r.generation = generation;
  return r;
}

void Index::Background::remove(const std::string& path) {
  std::lock_guard lock(mu_);
  editor_files_.erase(path);
  push_result_locked(removal(path, next_generation_locked(path)));
}

void Index::Background::close_file(const std::string& path) {
  {
    std::lock_guard lock(mu_);
    editor_files_.erase(path);
  }
  disk_changed(path);
}

void Index::Background::disk_changed(const std::string& path) {
  std::string_view name = base_name(path);
  if (is_ignore_file_name(name) || path == ".git/info/exclude") {
    ignores_.clear();
    return sync(nullptr, {});  // which files belong in the index may have changed anywhere below
  }
  if (name == "go.mod") {
    resolver_.forget_module_files();
    Result r;
    r.kind = Result::Kind::ResolveAgain;
    r.resolve_all = true;
    std::lock_guard lock(mu_);
    return push_result_locked(std::move(r));
  }
  // Paths the walk leaves out were never indexed (an ignore file's change
  // starts a sync, which handles files it newly leaves out); this also drops
  // the many events from inside .git.
  if (ignores_.ignored(path)) return;
  struct stat st {};
  bool exists = ::stat((root_ / path).c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) return sync(nullptr, {});  // a new or renamed directory
  if (!exists) {
    // A deleted file, or a deleted directory and everything stored under it.
    std::lock_guard lock(mu_);
    if (editor_files_.count(path)) return;
    return push_result_locked(removal(path, next_generation_locked(path)));
  }
  if (language(path).empty()) return;
  std::lock_guard lock(mu_);
  if (editor_files_.count(path)) return;  // the editor's text wins while it is open
  bool indexable = S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) <= options_.max_file_bytes;
  if (!indexable) return push_result_locked(removal(path, next_generation_locked(path)));
  Job job;
  job.kind = Job::Kind::ParseDisk;
  job.path = path;
  job.look_up_stored = true;
  job.generation = next_generation_locked(path);
  push_job_locked(std::move(job), true);
}

std::string Index::Background::language(std::string_view path) {
  try {
    return language_of_(path);
  } catch (...) {
    // The table is someone else's code; one path it cannot place is not indexed.
    log::warn("index: cannot tell the language of '", (root_ / path).string(), "'");
    return {};
  }
}

void Index::Background::wait_until_idle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return outstanding_ == 0; });
}

IndexStats Index::Background::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

bool Index::Background::owned_by_editor(const std::string& path) {
  std::lock_guard lock(mu_);
  return editor_files_.count(path) != 0;
}

bool Index::Background::superseded(const std::string& path, uint64_t generation) {
  std::lock_guard lock(mu_);
  auto it = generations_.find(path);
  return it == generations_.end() || it->second != generation;
}

bool Index::Background::current(const Result& result) {
  std::lock_guard lock(mu_);
  auto it = generations_.find(result.path);
  return it != generations_.end() && it->second == result.generation;
}

// ---- parse threads ------------------------------------------------------------

void Index::Background::parse_loop() {
  lower_priority(options_.background_nice);
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stop_parsers_ || !urgent_.empty() || !background_.empty(); });
      if (stop_parsers_) return;
      auto& queue = urgent_.empty() ? background_ : urgent_;
      job = std::move(queue.front());
      queue.pop_front();
    }
    Result result = run_job(job);
    if (job.kind != Job::Kind::Sync) result.sync = job.sync;  // a walk is not one of its own files
    std::lock_guard lock(mu_);
    results_.push_back(std::move(result));  // takes over the job's place in outstanding_
    result_cv_.notify_one();
  }
}

Index::Background::Result Index::Background::run_job(Job& job) {
  if (stopping() || (job.sync && job.sync->cancel.cancelled())) return {};
  // The editor sends a file's text on each change: a text that a newer one
  // replaced while it waited is not parsed at all.
  if (job.kind == Job::Kind::ParseText && superseded(job.path, job.generation)) {
    count([](IndexStats& s) { ++s.superseded; });
    return {};
  }
  std::string failure;
  try {
    switch (job.kind) {
      case Job::Kind::Sync: return run_sync(job);
      case Job::Kind::ParseDisk: return parse_from_disk(job);
      case Job::Kind::ParseText: return parse_text(job);
    }
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {  // from the extractor or the language table: not ours to trust
    failure = "unknown exception";
  }
  auto where = job.kind == Job::Kind::Sync ? root_ : root_ / job.path;
  log::error("index: ", job.kind == Job::Kind::Sync ? "syncing '" : "indexing '", where.string(), "' failed: ",
             failure);
  count([](IndexStats& s) { ++s.failed; });
  return {};
}

Index::Background::Result Index::Background::run_sync(Job& job) {
  ignores_.clear();
  resolver_.forget_module_files();
  WalkOptions walk_options;
  walk_options.max_file_bytes = options_.max_file_bytes;
  walk_options.follow_symlinks = options_.follow_symlinks;
  walk_options.wanted = [this](std::string_view path) { return !language(path).empty(); };
  walk_options.deny = &deny_;
  auto sync = job.sync;
  walk_options.cancelled = [this, sync] { return stopping() || sync->cancel.cancelled(); };
  WalkResult walk = walk_workspace(root_, walk_options);
  if (walk.cancelled) return {};
  SyncPlan plan = plan_sync(walk, load_stored_files(*readers_.acquire()), sync);
  count([&](IndexStats& s) { s.unchanged += plan.unchanged; });
  log::info("index: '", root_.string(), "': ", walk.files.size(), " files, ", plan.jobs.size(), " to index, ",
            plan.gone.size(), " gone");
  {
    std::lock_guard lock(mu_);
    // The walk's jobs supersede parse jobs still queued from an earlier sync;
    // those are dropped (as results, so that their sync's progress completes).
    for (auto& old : background_) {
      Result dropped;
      dropped.sync = old.sync;
      results_.push_back(std::move(dropped));
    }
    background_.clear();
    sync->total = plan.jobs.size() + plan.gone.size();
  }
  // Reported before any file is queued, so that it comes before the writer's
  // reports, and outside the lock, since the sink is someone else's code.
  if (sync->progress) {
    call_outside("a progress report", [&] {
      if (sync->total == 0) sync->progress->report(100, "index up to date");
      else sync->progress->report(0, "indexing " + std::to_string(sync->total) + " files");
    });
  }
  queue_sync(plan, sync);
  return {};
}

Index::Background::SyncPlan Index::Background::plan_sync(const WalkResult& walk,
                                                         const std::unordered_map<std::string, StoredFile>& stored,
                                                         const std::shared_ptr<SyncRun>& sync) {
  SyncPlan plan;
  std::unordered_set<std::string> on_disk;
  for (const auto& f : walk.files) {
    on_disk.insert(f.path);
    if (!files_.contains(f.path)) files_.add(f.path), plan.new_files = true;
    auto it = stored.find(f.path);
    if (it != stored.end() && it->second.state != FileState::Stale && it->second.mtime_ns == f.mtime_ns &&
        it->second.size == f.size) {
      ++plan.unchanged;
      continue;
    }
    Job parse;
    parse.path = f.path;
    if (it != stored.end()) parse.stored = it->second;
    parse.sync = sync;
    plan.jobs.push_back(std::move(parse));
  }
  for (const auto& [path, _] : stored)
    if (!on_disk.count(path)) plan.gone.push_back(path);
  std::lock_guard lock(mu_);
  for (const auto& path : files_.all())
    if (!on_disk.count(path) && !stored.count(path) && !editor_files_.count(path)) files_.remove(path);
  return plan;
}

void Index::Background::queue_sync(SyncPlan& plan, const std::shared_ptr<SyncRun>& sync) {
  std::lock_guard lock(mu_);
  // Files the editor owns keep the editor's text. Checked under the lock, so
  // that an update_file racing with this sync keeps the newest generation;
  // a skipped file still counts as done for the progress.
  for (auto& parse : plan.jobs) {
    if (editor_files_.count(parse.path)) {
      Result skipped;
      skipped.sync = sync;
      push_result_locked(std::move(skipped));
      continue;
    }
    parse.generation = next_generation_locked(parse.path);
    push_job_locked(std::move(parse), false);
  }
  for (const auto& path : plan.gone) {
    Result r = editor_files_.count(path) ? Result{} : removal(path, next_generation_locked(path));
    r.sync = sync;
    push_result_locked(std::move(r));
  }
  if (plan.new_files) {
    // Imports of unchanged files may land on a file that is new since.
    Result r;
    r.kind = Result::Kind::ResolveAgain;
    r.resolve_unresolved = true;
    push_result_locked(std::move(r));
  }
}

Index::Background::Result Index::Background::parse_from_disk(Job& job) {
  support::FileContent content = support::read_file(root_ / job.path, options_.max_file_bytes);
  if (!content.error.empty()) {
    if (content.error_code == ENOENT || content.error_code == ENOTDIR || content.error_code == EFBIG ||
        content.error_code == EINVAL)
      return removal(job.path, job.generation);  // gone, or no longer something we index
    log::warn("index: cannot read '", (root_ / job.path).string(), "': ", content.error);
    count([](IndexStats& s) { ++s.failed; });
    return {};
  }
  if (job.look_up_stored && !job.stored) job.stored = load_stored_file(*readers_.acquire(), job.path);
  uint64_t hash = content_hash(content.text);
  Result r;
  if (job.stored && job.stored->state != FileState::Stale && job.stored->content_hash == hash) {
    r.kind = Result::Kind::Touched;
    r.file.path = job.path;
    r.file.mtime_ns = settled_mtime(content.mtime_ns);
    r.file.size = content.size;
    count([](IndexStats& s) { ++s.same_content; });
  } else {
    r = indexed(job.path, content.text, settled_mtime(content.mtime_ns), content.size);
  }
  r.path = job.path;
  r.generation = job.generation;
  return r;
}

Index::Background::Result Index::Background::parse_text(Job& job) {
  if (job.text.size() > options_.max_file_bytes) return removal(job.path, job.generation);
  // mtime 0: the next sync compares the disk's content by hash, since the
  // editor's text may never be saved.
  Result r = indexed(job.path, job.text, 0, job.text.size());
  r.path = job.path;
  r.generation = job.generation;
  return r;
}

Index::Background::Result Index::Background::indexed(const std::string& path, const std::string& text,
                                                     int64_t mtime_ns, uint64_t size) {
  Result r;
  r.kind = Result::Kind::Indexed;
  r.file = {path, language(path), content_hash(text), mtime_ns, size, FileState::Indexed};
  if (looks_binary(text)) {
    r.file.state = FileState::Binary;
    return r;
  }
  std::optional<std::string> failure;
  try {
    r.symbols = extract_(r.file.language, text);
    count([](IndexStats& s) { ++s.parsed; });
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (failure) {
    log::warn("index: extracting symbols from '", (root_ / path).string(), "' failed: ", *failure);
    r.file.state = FileState::ExtractFailed;
    r.symbols = {};
    count([](IndexStats& s) { ++s.failed; });
  }
  // Chunks are cut from the redacted text (line numbers are kept), so a
  // private key split across two chunks is still replaced whole.
  r.chunks = chunk_file(trust::redact(text), r.symbols.definitions, options_.chunks);
  return r;
}

// ---- writer thread ------------------------------------------------------------

void Index::Background::writer_loop() {
  lower_priority(options_.background_nice);
  for (;;) {
    std::vector<Result> batch;
    {
      std::unique_lock lock(mu_);
      result_cv_.wait(lock, [&] { return stop_writer_ || !results_.empty(); });
      if (results_.empty()) return;  // stopping, and everything is written
      while (!results_.empty() && batch.size() < std::max<size_t>(1, options_.max_batch_files)) {
        batch.push_back(std::move(results_.front()));
        results_.pop_front();
      }
    }
    commit(batch);
    std::lock_guard lock(mu_);
    outstanding_ -= batch.size();
    if (outstanding_ == 0) idle_cv_.notify_all();
  }
}

void Index::Background::commit(std::vector<Result>& batch) {
  BatchEffects effects;
  try {
    Transaction tx(*db_);
    IndexWriter writer(*db_);
    for (auto& result : batch) apply(result, writer, effects);
    resolve_again(writer, effects);
    tx.commit();
  } catch (const IndexError& e) {
    // Nothing of the batch is stored; the next sync finds these files changed.
    log::error("index: could not store ", batch.size(), " results: ", e.what());
    count([&](IndexStats& s) { s.failed += batch.size(); });
    effects.written = 0;
  }
  size_t committed = 0;
  count([&](IndexStats& s) { committed = s.committed += effects.written; });
  report_progress(batch);
  if (effects.written && options_.on_commit)
    call_outside("the commit hook", [&] { options_.on_commit(committed); });
}

void Index::Background::apply(Result& result, IndexWriter& writer, BatchEffects& effects) {
  switch (result.kind) {
    case Result::Kind::Nothing: return;
    case Result::Kind::ResolveAgain:
      effects.new_files |= result.resolve_unresolved;
      effects.resolve_all |= result.resolve_all;
      return;
    default: break;
  }
  if (!current(result)) return;  // a newer request for this path is on its way
  if (result.kind == Result::Kind::Removed) {
    remove_stored(result.path, writer, effects);
    for (const auto& child : writer.paths_under(result.path))  // a removed directory
      if (!owned_by_editor(child)) remove_stored(child, writer, effects);
    return;
  }
  if (result.kind == Result::Kind::Touched) {
    writer.touch_file(result.path, result.file.mtime_ns, result.file.size);
    ++effects.written;
    return;
  }
  if (!files_.contains(result.path)) {
    files_.add(result.path);
    effects.new_files = true;
  }
  std::vector<std::optional<ImportTarget>> targets;
  for (const auto& import : result.symbols.imports)
    targets.push_back(resolver_.resolve(result.file.language, result.path, import));
  writer.put_file(result.file, result.symbols, result.chunks, targets);
  ++effects.written;
}

void Index::Background::remove_stored(const std::string& path, IndexWriter& writer, BatchEffects& effects) {
  if (writer.remove_file(path)) {
    ++effects.written;
    count([](IndexStats& s) { ++s.removed; });
  }
  if (files_.contains(path)) {
    files_.remove(path);
    effects.removed.push_back(path);
  }
}

void Index::Background::resolve_again(IndexWriter& writer, const BatchEffects& effects) {
  if (!effects.new_files && !effects.resolve_all && effects.removed.empty()) return;
  auto rows = effects.resolve_all ? writer.all_imports()
                                  : writer.imports_to_resolve_again(effects.new_files, effects.removed);
  for (const auto& row : rows) {
    auto target = resolver_.resolve(row.language, row.importer, row.import);
    if (target || row.resolved) writer.set_import_target(row.rowid, target);
  }
}

void Index::Background::report_progress(const std::vector<Result>& batch) {
  std::vector<SyncRun*> touched;
  for (const auto& result : batch) {
    if (!result.sync) continue;
    ++result.sync->done;
    if (std::find(touched.begin(), touched.end(), result.sync.get()) == touched.end())
      touched.push_back(result.sync.get());
  }
  for (SyncRun* run : touched) {
    if (!run->progress || run->total == 0) continue;
    size_t done = std::min(run->done, run->total);
    auto percent = static_cast<uint32_t>(done * 100 / run->total);
    std::string message = done == run->total ? "indexed " + std::to_string(run->total) + " files"
                                             : "indexing " + std::to_string(done) + "/" +
                                                   std::to_string(run->total) + " files";
    call_outside("a progress report", [&] { run->progress->report(percent, message); });
  }
}

}  // namespace astfill::index
