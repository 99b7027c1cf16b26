#include "workspace/model_host.h"

namespace astfill::workspace {

ModelHost::ModelHost(Options options)
    : service_(options.service ? std::move(options.service) : std::make_shared<completion::CompletionService>()),
      default_model_(std::move(options.default_model)),
      resolve_(std::move(options.resolve)) {
  if (service_->has_model()) {
    state_ = "ready";
    wanted_ = service_->model_path();
  }
}

std::string ModelHost::path_for(const std::string& setting) const {
  if (setting.empty()) return default_model_;
  return resolve_ ? resolve_(setting) : setting;
}

bool ModelHost::select(const std::string& setting, const Background& background,
                       std::function<void(const std::string&, const std::string&)> done) {
  std::string path = path_for(setting);
  uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    if (path.empty() || path == wanted_) return false;  // loaded, or loading
    wanted_ = path;
    generation = ++generation_;
    state_ = "loading";
  }
  background([self = shared_from_this(), path, generation, done = std::move(done)] {
    self->load(path, generation, done);
  });
  return true;
}

void ModelHost::load(const std::string& path, uint64_t generation,
                     const std::function<void(const std::string&, const std::string&)>& done) {
  {
    std::lock_guard load(load_mu_);
    {
      std::lock_guard lock(mu_);
      if (generation != generation_) return;  // a newer selection came first
    }
    std::string error;
    try {
      service_->load_model(path);
    } catch (const std::exception& e) {
      error = e.what();
    }
    {
      std::lock_guard lock(mu_);
      if (generation == generation_) {
        state_ = error.empty() ? "ready" : "failed: " + error;
        if (!error.empty()) wanted_ = service_->model_path();  // the old model still serves
      }
    }
    if (done) done(path, error);
  }
}

std::string ModelHost::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

}  // namespace astfill::workspace
