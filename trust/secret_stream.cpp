#include "trust/secret_stream.h"

#include <algorithm>

namespace astfill::trust {
namespace {

std::atomic<uint64_t> total_cuts{0};

// The last `n` bytes of `text`, starting at a line start when one is in reach
// (a rule's context, such as the name of an assignment, is on the line).
std::string_view tail_of(std::string_view text, size_t n) {
  if (text.size() <= n) return text;
  std::string_view tail = text.substr(text.size() - n);
  size_t newline = tail.find('\n');
  return newline == std::string_view::npos ? tail : tail.substr(newline + 1);
}

std::string_view head_of(std::string_view text, size_t n) {
  if (text.size() <= n) return text;
  std::string_view head = text.substr(0, n);
  size_t newline = head.rfind('\n');
  return newline == std::string_view::npos ? head : head.substr(0, newline + 1);
}

}  // namespace

uint64_t secret_cuts_total() { return total_cuts.load(std::memory_order_relaxed); }

SecretStreamCheck::SecretStreamCheck(std::string_view prefix_tail, std::string_view suffix_head,
                                     const SecretScanner& scanner)
    : scanner_(scanner) {
  reset(prefix_tail, suffix_head);
}

void SecretStreamCheck::reset(std::string_view prefix_tail, std::string_view suffix_head) {
  prefix_tail_ = std::string(tail_of(prefix_tail, max_context));
  suffix_head_ = std::string(head_of(suffix_head, max_context));
  counted_ = false;
}

std::optional<size_t> SecretStreamCheck::cut_in(std::string_view completion, std::string_view after) {
  buffer_.assign(prefix_tail_).append(completion).append(after);
  size_t start = prefix_tail_.size(), stop = start + completion.size();
  std::optional<size_t> cut;
  for (const Finding& f : scanner_.scan(buffer_)) {
    // Secrets wholly in the prefix or the suffix are the user's, not written
    // by this completion.
    if (f.end <= start || f.begin >= stop) continue;
    cut = f.begin <= start ? 0 : f.begin - start;
    break;  // findings are by position: the first is where to cut
  }
  if (cut && !counted_) {
    counted_ = true;
    ++cuts_;
    total_cuts.fetch_add(1, std::memory_order_relaxed);
  }
  return cut;
}

std::optional<size_t> SecretStreamCheck::check(std::string_view completion) { return cut_in(completion, {}); }

std::optional<size_t> SecretStreamCheck::finish(std::string_view completion) {
  return cut_in(completion, suffix_head_);
}

}  // namespace astfill::trust
