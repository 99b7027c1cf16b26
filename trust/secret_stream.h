// The secret check of decoding: fed a completion as it grows, it says where
// the completion must be cut so that no secret-shaped string is written (just
// before the secret starts). The text around the hole takes part, so that a
// secret the prefix began (`token = "ghp_12`) or the suffix ends (the closing
// quote of `password = "...`) is seen whole.
//
// A rule usually recognises a secret only once it is complete (36 characters
// after `ghp_`, the closing quote of a password literal), so the check answers
// as soon as the text holds a whole one; the caller cuts there and stops.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "trust/secrets.h"

namespace astfill::trust {

class SecretStreamCheck {
 public:
  // `prefix_tail`: the end of the text before the hole (its last lines; the
  // check keeps at most its last `max_context` bytes); `suffix_head`: the
  // beginning of the text after it, read only by finish().
  SecretStreamCheck(std::string_view prefix_tail, std::string_view suffix_head,
                    const SecretScanner& scanner = default_scanner());

  // `completion`: the whole completion so far (each call a longer or equal
  // text). The byte offset in `completion` at which it must be cut, or
  // nullopt. 0 means nothing of it may be written (the secret began in the
  // prefix). The first cut found counts once in cuts().
  std::optional<size_t> check(std::string_view completion);

  // As check(), for the finished completion, with the suffix after it: a
  // secret that the suffix closes counts too.
  std::optional<size_t> finish(std::string_view completion);

  // Completions this object has cut (0 or 1 per completion; reset() starts a
  // new one).
  uint64_t cuts() const { return cuts_; }
  // Starts a new completion at a new hole.
  void reset(std::string_view prefix_tail, std::string_view suffix_head);

  static constexpr size_t max_context = 512;

 private:
  std::optional<size_t> cut_in(std::string_view completion, std::string_view after);

  const SecretScanner& scanner_;
  std::string prefix_tail_, suffix_head_, buffer_;
  bool counted_ = false;
  uint64_t cuts_ = 0;
};

// Cuts made by every SecretStreamCheck in this process (for stats).
uint64_t secret_cuts_total();

}  // namespace astfill::trust
