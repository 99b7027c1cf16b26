#include "completion/guard_hooks.h"

#include <algorithm>

namespace astfill::completion {

struct GuardHooks::Copy {
  // A stop rule made over the copy has the original's state: StopRule reads
  // only the prefix, the suffix and their tree at construction, which
  // accepting never changes, and the completion at each should_stop(). So
  // it stays right when another state of the same guard is assigned over
  // `guard` (the same object: the rule's reference holds).
  Copy(const SyntaxGuard& g, CompletionMode mode) : guard(g), stop(guard, mode) {}
  SyntaxGuard guard;
  StopRule stop;
};

struct GuardHooks::Spare {
  std::unique_ptr<Copy> copy;
};

GuardHooks::GuardHooks(SyntaxGuard& guard, StopRule& stop, bool constrain, trust::SecretStreamCheck* secrets)
    : spare_(std::make_shared<Spare>()), guard_(&guard), stop_(&stop), constrain_(constrain), secrets_(secrets) {}

GuardHooks::GuardHooks(std::unique_ptr<Copy> copy, bool constrain, std::shared_ptr<Spare> spare)
    : copy_(std::move(copy)), spare_(std::move(spare)), guard_(&copy_->guard), stop_(&copy_->stop),
      constrain_(constrain), secrets_(nullptr) {}

GuardHooks::~GuardHooks() {
  if (copy_ && !spare_->copy) spare_->copy = std::move(copy_);
}

bool GuardHooks::viable(std::string_view piece) {
  if (!constrain_) return true;
  if (!guard_->viable(piece)) return false;
  // A single-line completion ends at its first line break: only where the
  // line it ends leaves the file whole (`wi` + `\n` before an indented body
  // is no answer; the model's next best token is asked for instead).
  size_t nl = piece.find('\n');
  if (nl != std::string_view::npos && stop_->mode() == CompletionMode::SingleLine)
    return ends_whole(guard_->completion() + std::string(piece.substr(0, nl)));
  return true;
}

bool GuardHooks::may_end() { return !constrain_ || ends_whole(guard_->completion()); }

bool GuardHooks::ends_with(std::string_view piece) {
  return stop_->mode() == CompletionMode::SingleLine && piece.find('\n') != std::string_view::npos;
}

bool GuardHooks::whole_after(std::string_view piece) {
  if (!constrain_) return false;
  size_t nl = piece.find('\n');
  return ends_whole(guard_->completion() + std::string(piece.substr(0, nl)));
}

void GuardHooks::accept(std::string_view piece) {
  guard_->accept(piece);
  if (secrets_ && !secret_cut_) secret_cut_ = secrets_->check(guard_->completion());
}

bool GuardHooks::should_stop() { return secret_cut_.has_value() || stop_->should_stop(); }

std::unique_ptr<SyntaxHooks> GuardHooks::fork() const {
  std::unique_ptr<Copy> copy = std::move(spare_->copy);
  if (copy) copy->guard = *guard_;
  else copy = std::make_unique<Copy>(*guard_, stop_->mode());
  return std::unique_ptr<SyntaxHooks>(new GuardHooks(std::move(copy), constrain_, spare_));
}

bool GuardHooks::kept_whole() {
  std::string kept = guard_->completion().substr(0, std::min(stop_->keep(), guard_->completion().size()));
  if (kept.find_first_not_of(" \t\r\n") == std::string::npos) return false;
  return !constrain_ || ends_whole(std::move(kept));
}

bool GuardHooks::has_whole_part() {
  if (!constrain_) return true;
  const std::string answer = guard_->whole_answer(guard_->completion());
  return answer.find_first_not_of(" \t\r\n") != std::string::npos;
}

bool GuardHooks::kept_lacks_whole_part() {
  if (!constrain_) return false;
  const std::string kept = guard_->completion().substr(0, std::min(stop_->keep(), guard_->completion().size()));
  if (kept.find_first_not_of(" \t\r\n") == std::string::npos) return false;  // the model ended: nothing to search for
  return guard_->whole_answer(kept).find_first_not_of(" \t\r\n") == std::string::npos;
}

bool GuardHooks::adopt(SyntaxHooks& other) {
  auto* from = dynamic_cast<GuardHooks*>(&other);
  if (!from || from == this) return false;
  *guard_ = *from->guard_;
  last_whole_.reset();
  // The secret check reads the completion from its start again.
  secret_cut_.reset();
  if (secrets_) {
    secrets_->reset(guard_->prefix(), guard_->suffix());
    secret_cut_ = secrets_->check(guard_->completion());
  }
  return true;
}

bool GuardHooks::ends_whole(std::string text) const {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.pop_back();
  // The same text asked twice in a row (viable() of a line break, then
  // decode's whole_after() of it) is judged once: the verdict depends on the
  // text alone (the guard's prefix and suffix do not change).
  if (last_whole_ && last_whole_->first == text) return last_whole_->second;
  const bool whole = guard_->whole_with(text);
  last_whole_.emplace(std::move(text), whole);
  return whole;
}

}  // namespace astfill::completion
