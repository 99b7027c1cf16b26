// What bench_completion and bench_quality share around the tasks: a
// throw-away index of the task project, the completion service the way the
// benchmarks run it, and a task turned into an inline completion request.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "bench/tasks.h"
#include "completion/service.h"
#include "index/index.h"

namespace astfill::bench {

// An index of `root` in a temporary folder, synced; removed on destruction.
class TaskIndex {
 public:
  TaskIndex(const std::filesystem::path& root, const std::string& label);
  ~TaskIndex();
  TaskIndex(const TaskIndex&) = delete;
  TaskIndex& operator=(const TaskIndex&) = delete;

  const std::shared_ptr<index::Index>& get() const { return index_; }

 private:
  std::filesystem::path dir_;
  std::shared_ptr<index::Index> index_;
};

// A completion service with `threads`, 2 KV slots and no typed-through cache
// (every request asks the model); the KV capacity is capped at the model's
// trained context.
completion::ServiceOptions bench_service_options(int threads);

// The request for `task`: the file is prefix + suffix, the cursor between;
// with `index` (null: no cross-file context) for the project at `root`.
// Options other than the context are the caller's to set.
completion::InlineCompletionRequest request_for(const FimTask& task, const std::string& root,
                                                std::shared_ptr<index::Index> index);

}  // namespace astfill::bench
