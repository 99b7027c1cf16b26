// One loaded model and a few KV-cache slots, shared by the daemon's requests.
//
// Requests take turns: decoding on 2 cores gains nothing from running two at
// once, and a request that waits for its turn is cancelled (superseded by a
// newer keystroke) without ever touching the model. A slot is a Session plus
// the tokens its cache holds; a request asks for the slot last used for its
// document, so the next keystroke in the same file reuses the longest shared
// token prefix (engine::generate truncates the cache to it) and only new
// tokens are prefilled. Slots are recycled least recently used first.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "completion/adapters.h"
#include "completion/token_trie.h"
#include "engine/model.h"
#include "support/cancel.h"

namespace astfill::completion {

struct RunnerOptions {
  std::string model_path;
  engine::LoadOptions load;
  size_t context_tokens = 4096;  // KV capacity of each slot
  size_t slots = 3;
};

class ModelRunner {
 public:
  // Loads the model. Throws engine::ModelError (naming the file and what is
  // wrong) or std::runtime_error.
  explicit ModelRunner(RunnerOptions options);
  ~ModelRunner();

  const engine::Model& model() const { return *model_; }
  const engine::Tokenizer& tokenizer() const { return model_->tokenizer(); }
  const RunnerOptions& options() const { return options_; }
  // The vocabulary trie for the API constraint, built on first use.
  const TokenTrie& trie() const;
  // Tokens a completion never writes (decoder.h: unwritable_tokens), built on first use.
  const std::vector<int32_t>& unwritable_tokens() const;

  struct Slot {
    engine::Session session;
    std::vector<int32_t> history;  // the tokens the session's cache holds
    std::string key;               // the document it was last used for
    explicit Slot(const engine::Model& model, size_t capacity) : session(model, capacity) {}
  };

  // Exclusive use of the model with the slot for `key`. Destroying it hands
  // the model to the next request.
  class Lease {
   public:
    Lease(Lease&&) noexcept = default;
    Slot& slot() { return *slot_; }
    engine::Session& session() { return slot_->session; }
    std::vector<int32_t>& history() { return slot_->history; }

   private:
    friend class ModelRunner;
    Lease(std::unique_lock<std::timed_mutex> lock, Slot* slot) : lock_(std::move(lock)), slot_(slot) {}
    std::unique_lock<std::timed_mutex> lock_;
    Slot* slot_;
  };

  // The LoRA adapters `specs` name ("PATH[:SCALE]", completion/adapters.h),
  // ready for this model; null for none. Throws engine::ModelError naming the file.
  std::shared_ptr<const engine::LoraStack> adapters(const std::vector<std::string>& specs) const {
    return adapter_cache_.stack(specs, model_->hparams());
  }

  // Waits for the model, polling `cancel`; nullopt when cancelled first.
  // The slot's session runs `adapters` (null: none): a slot keeps the
  // document's cache only while its adapters stay the same, so a cache
  // computed with other adapters is never reused.
  std::optional<Lease> acquire(const std::string& key, const CancellationToken& cancel,
                               std::shared_ptr<const engine::LoraStack> adapters = nullptr);

  // Requests served and tokens reused, for astfill.status.
  struct Stats {
    uint64_t leases = 0;
    uint64_t slot_hits = 0;  // the document's own slot was still there
  };
  Stats stats() const;

 private:
  RunnerOptions options_;
  std::unique_ptr<engine::Model> model_;
  mutable std::once_flag trie_once_;
  mutable std::unique_ptr<TokenTrie> trie_;
  mutable std::once_flag unwritable_once_;
  mutable std::vector<int32_t> unwritable_;
  std::timed_mutex busy_;
  mutable AdapterCache adapter_cache_;
  // Most recently used first. Guarded by busy_.
  std::list<std::unique_ptr<Slot>> slots_;
  mutable std::mutex stats_mu_;
  Stats stats_;
};

}  // namespace astfill::completion
