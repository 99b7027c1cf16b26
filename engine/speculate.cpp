#include "engine/speculate.h"

#include <algorithm>
#include <cmath>

namespace astfill::engine {

PromptLookup::PromptLookup(size_t min_ngram, size_t max_ngram)
    : min_n_(std::max<size_t>(1, min_ngram)), max_n_(std::max(std::max<size_t>(1, min_ngram), max_ngram)),
      last_(max_n_ - min_n_ + 1), source_last_(max_n_ - min_n_ + 1) {}

uint64_t PromptLookup::hash(size_t first, size_t n) const {
  // FNV-1a over the token ids (collisions are caught by comparing tokens).
  uint64_t h = 1469598103934665603ull ^ n;
  for (size_t i = first; i < first + n; ++i) {
    h ^= static_cast<uint32_t>(tokens_[i]);
    h *= 1099511628211ull;
  }
  return h;
}

void PromptLookup::index_before(size_t end) {
  // end: the position of the token that follows the n-grams ending at end - 1.
  for (size_t n = min_n_; n <= max_n_ && n <= end; ++n) {
    size_t first = end - n;
    bool clean = true;
    for (size_t i = first; i < end && clean; ++i) clean = tokens_[i] >= 0;
    if (!clean) break;  // longer ones cross the separator too
    last_[n - min_n_][hash(first, n)] = static_cast<uint32_t>(end);
  }
}

void PromptLookup::add_source(std::span<const int32_t> tokens) {
  tokens_.resize(sources_end_);
  last_ = source_last_;
  for (int32_t t : tokens) {
    if (t < 0) continue;
    index_before(tokens_.size());
    tokens_.push_back(t);
  }
  tokens_.push_back(-1);
  sources_end_ = tokens_.size();
  source_last_ = last_;
  context_start_ = sources_end_;
}

void PromptLookup::set_context(std::span<const int32_t> tokens) {
  tokens_.resize(sources_end_);
  last_ = source_last_;
  context_start_ = sources_end_;
  tokens_.reserve(sources_end_ + tokens.size() + 256);
  for (int32_t t : tokens) push(t);
}

void PromptLookup::push(int32_t token) {
  if (tokens_.size() > context_start_) index_before(tokens_.size());
  tokens_.push_back(token);
}

std::vector<int32_t> PromptLookup::draft(size_t k) const {
  std::vector<int32_t> out;
  const size_t size = tokens_.size();
  if (k == 0 || size <= context_start_) return out;
  for (size_t n = std::min(max_n_, size - context_start_); n >= min_n_; --n) {
    const auto& map = last_[n - min_n_];
    auto it = map.find(hash(size - n, n));
    if (it != map.end()) {
      size_t next = it->second;  // the token after the earlier occurrence
      if (next >= n && std::equal(tokens_.begin() + static_cast<std::ptrdiff_t>(next - n),
                                  tokens_.begin() + static_cast<std::ptrdiff_t>(next),
                                  tokens_.begin() + static_cast<std::ptrdiff_t>(size - n))) {
        // What followed may run into the tail itself (a line repeated
        // over and over): the copy then goes on from its own output, as an
        // LZ77 match that overlaps its source does.
        for (size_t i = next; out.size() < k; ++i) {
          const int32_t t = i < size ? tokens_[i] : out[i - size];
          if (t < 0) break;
          out.push_back(t);
        }
        if (!out.empty()) return out;
      }
    }
    if (n == min_n_) break;
  }
  return out;
}

DraftLength::DraftLength(const SpeculateOptions& options)
    : options_(options), length_(std::max(options.min_draft, std::min<size_t>(options.max_draft, 6))) {}

namespace {
// The weight of what came before in the decayed acceptance counts: the last
// few drafts decide.
constexpr double kKeep = 0.8;
// Passes of each kind (one row; a draft's) timed before a row's cost is trusted.
constexpr size_t kPassesTimed = 2;
}  // namespace

size_t DraftLength::next() {
  if (!options_.enable || options_.max_draft < options_.min_draft || options_.max_draft == 0) return 0;
  if (pause_ > 0) {
    --pause_;
    return 0;
  }
  size_t k = length_;
  const double c = options_.cost_aware ? row_cost() : 0;
  if (c > 0) {
    const double p = acceptance();
    // The longest k with p^k > c.
    double worth = c >= 1 || p <= 0 ? 0 : p >= 1 ? static_cast<double>(options_.max_draft) : std::log(c) / std::log(p);
    if (worth < static_cast<double>(k)) k = static_cast<size_t>(std::max(0.0, std::ceil(worth) - 1));
    if (k < options_.min_draft) {
      if (probe_wait_ > 0) {
        --probe_wait_;
        return 0;
      }
      return options_.min_draft;  // a probe (the wait restarts when a draft is verified)
    }
  }
  return k;
}

double DraftLength::row_cost() const {
  if (options_.fixed_row_cost >= 0) return options_.fixed_row_cost;
  // One pass is no evidence: the machine may have been busy with something else.
  if (one_row_passes_ < kPassesTimed || draft_passes_ < kPassesTimed || one_row_seconds_ <= 0) return 0;
  return row_seconds_ / one_row_seconds_;
}

void DraftLength::record_pass(size_t rows, double seconds) {
  if (rows == 0 || !(seconds >= 0)) return;
  // Minimums: a pass that other work on the machine slowed down says
  // nothing about the model, and an estimate that errs low only lets
  // drafts run as long as acceptance alone would.
  if (rows == 1) {
    one_row_seconds_ = one_row_seconds_ < 0 ? seconds : std::min(one_row_seconds_, seconds);
    ++one_row_passes_;
    return;
  }
  if (one_row_seconds_ < 0) return;  // nothing to compare with yet
  const double per_row = std::max(0.0, (seconds - one_row_seconds_) / static_cast<double>(rows - 1));
  row_seconds_ = row_seconds_ < 0 ? per_row : std::min(row_seconds_, per_row);
  ++draft_passes_;
}

void DraftLength::record(size_t drafted, size_t accepted) {
  if (drafted == 0) return;
  accepted = std::min(accepted, drafted);
  // Each taken token was a success; the first refused one, a failure.
  taken_ = kKeep * taken_ + static_cast<double>(accepted);
  tried_ = kKeep * tried_ + static_cast<double>(accepted) + (accepted < drafted ? 1.0 : 0.0);
  probe_wait_ = options_.probe_interval;
  if (accepted >= drafted) {
    length_ = std::min(options_.max_draft, length_ + 4);
    backoff_ = 1;
  } else if (accepted > 0) {
    length_ = std::clamp(accepted + 1, options_.min_draft, options_.max_draft);
    backoff_ = 1;
  } else {
    length_ = std::max(options_.min_draft, length_ / 2);
    pause_ = backoff_;
    backoff_ = std::min<size_t>(backoff_ * 2, 16);
  }
}

}  // namespace astfill::engine
