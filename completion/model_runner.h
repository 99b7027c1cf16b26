// One loaded model and a few KV-cache slots, shared by the daemon's requests.
//
// Requests run at once, each on its own slot, and their sessions are stepped
// together by one engine::Batcher (engine/batcher.h): a decode step reads the
// weights once for every request in it, so several documents, suggestions
// and batch tasks cost little more than one. The newest request is the
// focused one (the inline completion the user waits for): its rows go first
// and other requests' prefill rides along with it capped (engine/batcher.h:
// ride_along_rows) while it runs. A slot is a Session plus
// the tokens its cache holds; a request asks for the slot last used for its
// document, so the next keystroke in the same file reuses the longest shared
// token prefix (engine::generate truncates the cache to it) and only new
// tokens are prefilled. A document's slot serves one request at a time (a
// newer one waits for the older, which is being superseded); free slots are
// recycled least recently used first, and a request waits when all are busy.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "completion/adapters.h"
#include "completion/token_trie.h"
#include "engine/batcher.h"
#include "engine/model.h"
#include "engine/prefix_store.h"
#include "support/cancel.h"

namespace astfill::completion {

struct RunnerOptions {
  std::string model_path;
  engine::LoadOptions load;
  size_t context_tokens = 4096;  // KV capacity of each slot
  size_t slots = 3;              // requests that run at once (each holds a slot)
  engine::BatcherOptions batching;
  // Where hot prompt prefixes' KV blocks persist (engine/prefix_store.h); a
  // request uses the store only when its options say so (Options::kv_persist).
  engine::PrefixStoreOptions prefix_store;
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
  // The persisted prefixes, opened on first use (its directory is made then,
  // not by a runner that never completes).
  engine::PrefixStore* prefix_store() const;
  // Tokens a completion never writes (decoder.h: unwritable_tokens), built on first use.
  const std::vector<int32_t>& unwritable_tokens() const;

  struct Slot {
    engine::Session session;
    std::vector<int32_t> history;  // the tokens the session's cache holds
    std::string key;               // the document it was last used for
    bool in_use = false;           // a lease holds it (guarded by the runner's mutex)
    explicit Slot(const engine::Model& model, size_t capacity) : session(model, capacity) {}
  };

  // A request's use of the slot for its document, beside other requests'
  // leases on other slots. Destroying it frees the slot.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : runner_(std::exchange(other.runner_, nullptr)), slot_(other.slot_) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Slot& slot() { return *slot_; }
    engine::Session& session() { return slot_->session; }
    std::vector<int32_t>& history() { return slot_->history; }

   private:
    friend class ModelRunner;
    Lease(ModelRunner* runner, Slot* slot) : runner_(runner), slot_(slot) {}
    ModelRunner* runner_;
    Slot* slot_;
  };

  // The LoRA adapters `specs` name ("PATH[:SCALE]", completion/adapters.h),
  // ready for this model; null for none. Throws engine::ModelError naming the file.
  std::shared_ptr<const engine::LoraStack> adapters(const std::vector<std::string>& specs) const {
    return adapter_cache_.stack(specs, model_->hparams());
  }

  // Waits for a slot (the document's own, once an older request for it is
  // done; else a free one), polling `cancel`; nullopt when cancelled first.
  // The lease's session becomes the focused one (the newest inline completion).
  // The slot's session runs `adapters` (null: none): a slot keeps the
  // document's cache only while its adapters stay the same, so a cache
  // computed with other adapters is never reused.
  // `focused` false (API suggestions, fills, HTTP, batch work): the lease
  // neither takes the focus nor goes first, and its prefill is capped while the
  // focused request runs.
  std::optional<Lease> acquire(const std::string& key, const CancellationToken& cancel,
                               std::shared_ptr<const engine::LoraStack> adapters = nullptr, bool focused = true);

  // At least `n` slots from now on (batch --parallel N runs N requests at once).
  void set_slots(size_t n);

  // Requests served and tokens reused, for astfill.status.
  struct Stats {
    uint64_t leases = 0;
    uint64_t slot_hits = 0;  // the document's own slot was still there
    size_t slots = 0;        // KV slots requests may hold at once
    // The batcher's forward passes: steps, rows, segments (requests' chunks
    // over all passes; > steps: passes were shared), ... (engine/batcher.h).
    engine::Batcher::Stats batcher;
  };
  Stats stats() const;

 private:
  RunnerOptions options_;
  std::unique_ptr<engine::Model> model_;
  mutable std::once_flag trie_once_;
  mutable std::unique_ptr<TokenTrie> trie_;
  mutable std::once_flag unwritable_once_;
  mutable std::vector<int32_t> unwritable_;
  void release(Slot* slot);
  mutable AdapterCache adapter_cache_;
  // Declared before the slots: their sessions use it until they go.
  std::unique_ptr<engine::Batcher> batcher_;
  mutable std::once_flag prefix_store_once_;
  mutable std::unique_ptr<engine::PrefixStore> prefix_store_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  // Most recently used first. Guarded by mu_.
  std::list<std::unique_ptr<Slot>> slots_;
  mutable std::mutex stats_mu_;
  Stats stats_;
};

}  // namespace astfill::completion
