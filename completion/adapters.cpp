#include "completion/adapters.h"

#include <chrono>

#include "engine/errors.h"

namespace astfill::completion {

namespace fs = std::filesystem;

std::string adapter_stamp(const std::string& path) {
  std::error_code ec;
  fs::path file = path;
  if (fs::is_directory(file, ec)) file /= "adapter_model.safetensors";
  const auto size = fs::file_size(file, ec);
  if (ec) throw engine::ModelError(path + ": no such LoRA adapter (" + ec.message() + ")");
  const auto mtime = fs::last_write_time(file, ec);
  if (ec) throw engine::ModelError(path + ": cannot read: " + ec.message());
  return path + "#" + std::to_string(size) + "." +
         std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count());
}

std::shared_ptr<const engine::LoraStack> AdapterCache::stack(const std::vector<std::string>& specs,
                                                             const engine::HyperParams& hp) {
  if (specs.empty()) return nullptr;
  std::vector<engine::AdapterSpec> parsed;
  // The model's shapes too: a stack is checked against and laid out for them.
  std::string key = hp.arch + ":" + std::to_string(hp.block_count) + ":" + std::to_string(hp.embedding_length) + ":" +
                    std::to_string(hp.feed_forward_length) + ":" + std::to_string(hp.head_count) + ":" +
                    std::to_string(hp.head_count_kv) + ":" + std::to_string(hp.head_dim) + "\n";
  for (const std::string& s : specs) {
    parsed.push_back(engine::parse_adapter_spec(s));
    key += adapter_stamp(parsed.back().path) + "@" + std::to_string(parsed.back().scale) + "\n";
  }
  std::lock_guard lock(mu_);
  if (auto it = stacks_.find(key); it != stacks_.end()) return it->second;
  std::vector<engine::AdapterChoice> choices;
  for (const engine::AdapterSpec& spec : parsed) {
    const std::string stamp = adapter_stamp(spec.path);
    File& f = files_[spec.path];
    if (f.stamp != stamp || !f.adapter) {
      f.adapter = std::make_shared<const engine::LoraAdapter>(engine::read_lora_adapter(spec.path));
      f.stamp = stamp;
    }
    // The stamp in the id: a rewritten file is another adapter to every cache.
    choices.push_back({f.adapter, spec.scale, stamp});
  }
  auto stack = engine::LoraStack::build(choices, hp);
  if (stacks_.size() >= 8) stacks_.clear();  // settings rarely name more; old entries are cheap to rebuild
  stacks_[key] = stack;
  return stack;
}

}  // namespace astfill::completion
