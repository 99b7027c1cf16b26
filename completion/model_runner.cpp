#include "completion/model_runner.h"

#include "completion/decoder.h"
#include "support/log.h"

#include <algorithm>

namespace astfill::completion {

ModelRunner::ModelRunner(RunnerOptions options) : options_(std::move(options)) {
  model_ = engine::Model::open(options_.model_path, options_.load);
  size_t context = model_->hparams().context_length;
  if (context > 0 && options_.context_tokens > context) options_.context_tokens = context;
  if (options_.slots == 0) options_.slots = 1;
  batcher_ = std::make_unique<engine::Batcher>(*model_, options_.batching);
}

ModelRunner::~ModelRunner() = default;

const TokenTrie& ModelRunner::trie() const {
  std::call_once(trie_once_, [this] { trie_ = std::make_unique<TokenTrie>(model_->tokenizer()); });
  return *trie_;
}

engine::PrefixStore* ModelRunner::prefix_store() const {
  std::call_once(prefix_store_once_, [this] {
    prefix_store_ = std::make_unique<engine::PrefixStore>(*model_, options_.model_path, options_.prefix_store);
  });
  return prefix_store_.get();
}

const std::vector<int32_t>& ModelRunner::unwritable_tokens() const {
  std::call_once(unwritable_once_, [this] { unwritable_ = completion::unwritable_tokens(model_->tokenizer()); });
  return unwritable_;
}

std::optional<ModelRunner::Lease> ModelRunner::acquire(const std::string& document, const CancellationToken& cancel,
                                                       std::shared_ptr<const engine::LoraStack> adapters, bool focused) {
  // A document's slot is its own under the same adapters only.
  const std::string key = adapters ? document + "\n" + adapters->key() : document;
  if (cancel.cancelled()) return std::nullopt;
  std::unique_lock lock(mu_);
  bool hit = false;
  for (;;) {
    if (cancel.cancelled()) return std::nullopt;
    auto it = slots_.begin();
    for (; it != slots_.end(); ++it)
      if ((*it)->key == key) break;
    if (it != slots_.end()) {
      if (!(*it)->in_use) {
        hit = true;
        slots_.splice(slots_.begin(), slots_, it);
        break;
      }
      // An older request for the same document holds it (it is being
      // superseded): wait for its cache rather than start another.
    } else if (slots_.size() < options_.slots) {
      slots_.push_front(std::make_unique<Slot>(*model_, options_.context_tokens));
      slots_.front()->session.set_batcher(batcher_.get());
      break;
    } else {
      // Recycle the least recently used free slot: its cache is kept, and a
      // prompt sharing a prefix with it (the same context files) still reuses that.
      auto free = std::find_if(slots_.rbegin(), slots_.rend(), [](const auto& s) { return !s->in_use; });
      if (free != slots_.rend()) {
        slots_.splice(slots_.begin(), slots_, std::next(free).base());
        break;
      }
    }
    freed_.wait_for(lock, std::chrono::milliseconds(5));
  }
  Slot* slot = slots_.front().get();
  slot->key = key;
  slot->in_use = true;
  // The newest inline completion is the one the user waits for.
  if (focused)
    for (const auto& other : slots_) other->session.set_focused(other.get() == slot);
  else
    slot->session.set_focused(false);
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
  return Lease(this, slot);
}

void ModelRunner::set_slots(size_t n) {
  std::lock_guard lock(mu_);
  options_.slots = std::max(options_.slots, n);
  freed_.notify_all();
}

ModelRunner::Lease::~Lease() {
  if (runner_) runner_->release(slot_);
}

void ModelRunner::release(Slot* slot) {
  {
    std::lock_guard lock(mu_);
    slot->in_use = false;
    slot->session.set_focused(false);
    freed_.notify_all();
  }
  // Whether requests ran together: more segments than steps means forward
  // passes were shared (the daemon's tests read this line).
  if (log::enabled(log::Level::Debug)) {
    const engine::Batcher::Stats b = batcher_->stats();
    log::debug("model: a request left its slot; the batcher has run ", b.steps, " steps carrying ", b.segments,
               " segments (", b.rows, " rows)");
  }
}

ModelRunner::Stats ModelRunner::stats() const {
  Stats s;
  {
    std::lock_guard l(stats_mu_);
    s = stats_;
  }
  {
    std::lock_guard l(mu_);
    s.slots = options_.slots;
  }
  s.batcher = batcher_->stats();
  return s;
}

}  // namespace astfill::completion
