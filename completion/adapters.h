// The LoRA adapters completions run with (the astfill.adapter setting, the
// CLI's --adapter): files read once and kept while their size and
// modification time stay the same (an adapter `astfill tune` rewrites is read
// again), and the per-layer stacks built from them for the loaded model.
// Workspaces that name the same adapters share one stack. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/lora.h"

namespace astfill::completion {

class AdapterCache {
 public:
  // The stack for `specs` ("PATH" or "PATH:SCALE", applied in order) on a
  // model with `hp`; null for no specs. Throws engine::ModelError naming the
  // file (unreadable, not an adapter, or made for another model) and
  // std::invalid_argument for a malformed spec.
  std::shared_ptr<const engine::LoraStack> stack(const std::vector<std::string>& specs, const engine::HyperParams& hp);

 private:
  struct File {
    std::string stamp;  // size and modification time when read
    std::shared_ptr<const engine::LoraAdapter> adapter;
  };
  std::mutex mu_;
  std::map<std::string, File> files_;                                          // by path
  std::map<std::string, std::shared_ptr<const engine::LoraStack>> stacks_;     // by the specs' stamps
};

// What identifies an adapter file's current contents: its path, size and
// modification time (of adapter_model.safetensors in a PEFT directory).
// Throws engine::ModelError when the path does not exist.
std::string adapter_stamp(const std::string& path);

}  // namespace astfill::completion
