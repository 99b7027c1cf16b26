#include "bench/harness.h"

#include <unistd.h>

#include "index/parsed.h"

namespace astfill::bench {
namespace fs = std::filesystem;

TaskIndex::TaskIndex(const fs::path& root, const std::string& label)
    : dir_(fs::temp_directory_path() / ("astfill-" + label + "-" + std::to_string(::getpid()))) {
  index::IndexOptions io;
  io.root = root;
  io.database = dir_ / "index.db";
  io.background_nice = 0;
  index_ = index::open_project_index(io);
  index_->sync_with_disk();
  index_->wait_until_idle();
}

TaskIndex::~TaskIndex() {
  index_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

completion::ServiceOptions bench_service_options(int threads) {
  completion::ServiceOptions so;
  so.load.threads = threads;
  so.context_tokens = 4096;
  so.slots = 2;
  so.cache_entries = 0;
  return so;
}

completion::InlineCompletionRequest request_for(const FimTask& task, const std::string& root,
                                                std::shared_ptr<index::Index> index) {
  completion::InlineCompletionRequest r;
  r.document = {"file://" + (fs::path(root) / task.path).string(), task.language, 1,
                std::make_shared<const std::string>(task.prefix + task.suffix)};
  r.offset = task.prefix.size();
  if (!index) r.options.cross_file_tokens = 0;
  r.project.index = std::move(index);
  r.project.root = root;
  r.project.name = fs::path(root).filename().string();
  r.project.path = task.path;
  return r;
}

}  // namespace astfill::bench
