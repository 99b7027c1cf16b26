#include "completion/model_runner.h"

#include "completion/decoder.h"

namespace astfill::completion {

ModelRunner::ModelRunner(RunnerOptions options) : options_(std::move(options)) {
  model_ = engine::Model::open(options_.model_path, options_.load);
  size_t context = model_->hparams().context_length;
  if (context > 0 && options_.context_tokens > context) options_.context_tokens = context;
  if (options_.slots == 0) options_.slots = 1;
}

ModelRunner::~ModelRunner() = default;

const TokenTrie& ModelRunner::trie() const {
  std::call_once(trie_once_, [this] { trie_ = std::make_unique<TokenTrie>(model_->tokenizer()); });
  return *trie_;
}

const std::vector<int32_t>& ModelRunner::unwritable_tokens() const {
  std::call_once(unwritable_once_, [this] { unwritable_ = completion::unwritable_tokens(model_->tokenizer()); });
  return unwritable_;
}

std::optional<ModelRunner::Lease> ModelRunner::acquire(const std::string& document, const CancellationToken& cancel,
                                                       std::shared_ptr<const engine::LoraStack> adapters) {
  // A document's slot is its own under the same adapters only.
  const std::string key = adapters ? document + "\n" + adapters->key() : document;
  std::unique_lock lock(busy_, std::defer_lock);
  while (!lock.try_lock_for(std::chrono::milliseconds(5)))
    if (cancel.cancelled()) return std::nullopt;
  if (cancel.cancelled()) return std::nullopt;
  bool hit = false;
  auto it = slots_.begin();
  for (; it != slots_.end(); ++it)
    if ((*it)->key == key) break;
  if (it != slots_.end()) {
    hit = true;
    slots_.splice(slots_.begin(), slots_, it);
  } else if (slots_.size() < options_.slots) {
    slots_.push_front(std::make_unique<Slot>(*model_, options_.context_tokens));
  } else {
    // Recycle the least recently used slot: its cache is kept, and a prompt
    // sharing a prefix with it (the same context files) still reuses that.
    slots_.splice(slots_.begin(), slots_, std::prev(slots_.end()));
  }
  Slot* slot = slots_.front().get();
  slot->key = key;
  const std::string wanted = adapters ? adapters->key() : std::string();
  if (slot->session.adapter_key() != wanted) {
    slot->session.set_adapters(std::move(adapters));  // empties the cache
    slot->history.clear();
  }
  {
    std::lock_guard s(stats_mu_);
    ++stats_.leases;
    if (hit) ++stats_.slot_hits;
  }
  return Lease(std::move(lock), slot);
}

ModelRunner::Stats ModelRunner::stats() const {
  std::lock_guard s(stats_mu_);
  return stats_;
}

}  // namespace astfill::completion
