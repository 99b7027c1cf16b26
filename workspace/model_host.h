// The daemon's model: which one is loaded, which one is loading, and why the
// last one failed. One per daemon, shared by every session (see
// workspace/settings.h for why the model is per daemon): every session reads
// the same state, so a session that did not change the setting never shows a
// stale one.
//
// Thread-safe. Held by shared_ptr (a load in flight keeps it alive).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "completion/service.h"

namespace astfill::workspace {

class ModelHost : public std::enable_shared_from_this<ModelHost> {
 public:
  struct Options {
    // The service every session completes with; its model is what this host
    // loads. Null: a service without a model is made.
    std::shared_ptr<completion::CompletionService> service;
    // The model to go back to when the setting is "" (the daemon's --model,
    // or the bundled demo model); "" when there is none.
    std::string default_model;
    // What a setting names, as a path (pulled models' names: cli/model_name.h).
    // Null: the setting is a path.
    std::function<std::string(const std::string&)> resolve;
  };
  explicit ModelHost(Options options);

  std::shared_ptr<completion::CompletionService> service() const { return service_; }

  // The file the astfill.model setting names ("" = the default).
  std::string path_for(const std::string& setting) const;

  // Loads what `setting` names unless it is loaded or already loading: the
  // load runs through `background` (a worker); `done` runs there afterwards
  // with the path and "" or the error. A newer selection supersedes an older
  // one that has not started loading. Returns false when nothing was started.
  using Background = std::function<void(std::function<void()>)>;
  bool select(const std::string& setting, const Background& background,
              std::function<void(const std::string& path, const std::string& error)> done);

  // "none", "loading", "ready" or "failed: <why>".
  std::string state() const;
  // The loaded model's path ("" when none).
  std::string model_path() const { return service_->model_path(); }

 private:
  void load(const std::string& path, uint64_t generation,
            const std::function<void(const std::string&, const std::string&)>& done);

  std::shared_ptr<completion::CompletionService> service_;
  std::string default_model_;
  std::function<std::string(const std::string&)> resolve_;

  mutable std::mutex mu_;
  std::string state_ = "none";
  std::string wanted_;        // the path of the newest selection
  uint64_t generation_ = 0;   // of the newest selection
  std::mutex load_mu_;        // one load at a time, in order
};

}  // namespace astfill::workspace
