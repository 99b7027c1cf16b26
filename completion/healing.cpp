#include "completion/healing.h"

#include <algorithm>
#include <utility>

#include "completion/token_trie.h"

namespace astfill::completion {

std::string word_to_heal(std::string_view prefix, size_t max_bytes) {
  auto word_byte = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
  };
  size_t begin = prefix.size();
  while (begin > 0 && word_byte(prefix[begin - 1])) --begin;
  // A byte of a multi-byte character before it: the word is part of one
  // that is not ASCII, which is left alone.
  if (begin > 0 && (static_cast<unsigned char>(prefix[begin - 1]) & 0x80)) return {};
  if (prefix.size() - begin > max_bytes) return {};
  return std::string(prefix.substr(begin));
}

HealingHooks::HealingHooks(SyntaxHooks& inner, std::string forced) : inner_(&inner), forced_(std::move(forced)) {}

HealingHooks::HealingHooks(std::unique_ptr<SyntaxHooks> owned, std::string forced, size_t written)
    : owned_(std::move(owned)), inner_(owned_.get()), forced_(std::move(forced)), written_(written) {}

std::optional<std::string_view> HealingHooks::after_forced(std::string_view piece) const {
  const std::string_view left = std::string_view(forced_).substr(std::min(written_, forced_.size()));
  if (left.empty()) return piece;
  if (!TokenTrie::agrees_with(piece, left)) return std::nullopt;
  return piece.size() > left.size() ? piece.substr(left.size()) : std::string_view();
}

bool HealingHooks::viable(std::string_view piece) {
  const auto rest = after_forced(piece);
  if (!rest) return false;
  return rest->empty() || inner_->viable(*rest);
}

void HealingHooks::accept(std::string_view piece) {
  const auto rest = after_forced(piece);
  if (!rest) {  // the decoder's mask keeps this from happening
    written_ = forced_.size();
    inner_->accept(piece);
    return;
  }
  written_ = std::min(forced_.size(), written_ + (piece.size() - rest->size()));
  if (!rest->empty()) inner_->accept(*rest);
}

bool HealingHooks::should_stop() { return healed() && inner_->should_stop(); }

bool HealingHooks::may_end() { return healed() && inner_->may_end(); }

bool HealingHooks::ends_with(std::string_view piece) {
  const auto rest = after_forced(piece);
  return rest && !rest->empty() && inner_->ends_with(*rest);
}

bool HealingHooks::whole_after(std::string_view piece) {
  const auto rest = after_forced(piece);
  if (!rest) return false;
  const size_t left = forced_.size() - std::min(written_, forced_.size());
  if (piece.size() < left) return false;  // still inside the forced bytes
  return rest->empty() ? inner_->may_end() : inner_->whole_after(*rest);
}

std::unique_ptr<SyntaxHooks> HealingHooks::fork() const {
  std::unique_ptr<SyntaxHooks> inner = inner_->fork();
  if (!inner) return nullptr;
  return std::unique_ptr<SyntaxHooks>(new HealingHooks(std::move(inner), forced_, written_));
}

bool HealingHooks::kept_whole() { return healed() && inner_->kept_whole(); }

bool HealingHooks::can_adopt() const { return inner_->can_adopt(); }

bool HealingHooks::has_whole_part() { return healed() && inner_->has_whole_part(); }

bool HealingHooks::kept_lacks_whole_part() { return healed() && inner_->kept_lacks_whole_part(); }

bool HealingHooks::adopt(SyntaxHooks& other) {
  auto* fork = dynamic_cast<HealingHooks*>(&other);
  if (!fork || !inner_->adopt(*fork->inner_)) return false;
  written_ = fork->written_;
  return true;
}

}  // namespace astfill::completion
