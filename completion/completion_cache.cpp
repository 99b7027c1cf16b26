#include "completion/completion_cache.h"

namespace astfill::completion {

void CompletionCache::put(std::string_view document, std::string_view prefix, std::string_view line_rest,
                          std::string completion, std::string_view made_with) {
  if (completion.empty() || capacity_ == 0) return;
  Entry e;
  e.document = std::string(document);
  e.prefix_length = prefix.size();
  e.anchor = std::string(prefix.substr(prefix.size() - std::min(prefix.size(), kAnchorBytes)));
  e.line_rest = std::string(line_rest);
  e.completion = std::move(completion);
  e.made_with = std::string(made_with);
  std::lock_guard lock(mu_);
  // A newer completion at the same place replaces the older one.
  entries_.remove_if([&](const Entry& old) {
    return old.document == e.document && old.prefix_length == e.prefix_length && old.anchor == e.anchor &&
           old.made_with == e.made_with;
  });
  entries_.push_front(std::move(e));
  while (entries_.size() > capacity_) entries_.pop_back();
}

std::optional<CompletionCache::Hit> CompletionCache::lookup(std::string_view document, std::string_view prefix,
                                                            std::string_view line_rest,
                                                            std::string_view made_with) {
  std::lock_guard lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const Entry& e = *it;
    if (e.document != document || e.made_with != made_with || e.line_rest != line_rest ||
        prefix.size() < e.prefix_length)
      continue;
    size_t typed = prefix.size() - e.prefix_length;
    if (typed >= e.completion.size()) continue;  // typed all of it (or past it): nothing left to offer
    if (prefix.substr(e.prefix_length) != std::string_view(e.completion).substr(0, typed)) continue;
    if (prefix.substr(e.prefix_length - e.anchor.size(), e.anchor.size()) != e.anchor) continue;
    Hit hit{e.completion.substr(typed), typed};
    entries_.splice(entries_.begin(), entries_, it);
    ++hits_;
    return hit;
  }
  return std::nullopt;
}

void CompletionCache::forget(std::string_view document) {
  std::lock_guard lock(mu_);
  entries_.remove_if([&](const Entry& e) { return e.document == document; });
}

size_t CompletionCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

size_t CompletionCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

}  // namespace astfill::completion
