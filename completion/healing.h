// Token healing: a cursor inside a word (`e` typed, `xport function f(` to
// come) leaves the prompt ending in a token the model rarely saw there (the
// tokenizer would have written `export` as one token), so it tends to
// continue badly or not at all. The word's bytes before the cursor are taken
// out of the prompt, and decoding must write them again first: while they
// are not all written, only tokens that agree with what is left of them are
// allowed (TokenTrie::consistent_with, in the decoder's mask), and the
// syntax hooks see only what comes after them (HealingHooks). The answer is
// what follows the word's bytes.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "completion/decoder.h"

namespace astfill::completion {

// The bytes of the word the cursor is in, before the cursor: the longest run
// of ASCII letters, digits, `_` and `$` that ends `prefix`, at most
// `max_bytes` (a longer run is left whole: a long name is one the model
// would not retokenize anyway). Empty when `prefix` does not end in one.
std::string word_to_heal(std::string_view prefix, size_t max_bytes = 24);

// SyntaxHooks that pass `forced`'s bytes by (the decoder's mask made the
// model write them) and hand `inner` only what comes after them. Before they
// are all written nothing may end, and a piece that does not agree with them
// is refused.
class HealingHooks final : public SyntaxHooks {
 public:
  HealingHooks(SyntaxHooks& inner, std::string forced);

  bool viable(std::string_view piece) override;
  void accept(std::string_view piece) override;
  bool should_stop() override;
  bool may_end() override;
  bool ends_with(std::string_view piece) override;
  bool whole_after(std::string_view piece) override;
  std::unique_ptr<SyntaxHooks> fork() const override;
  bool kept_whole() override;
  bool can_adopt() const override;
  bool has_whole_part() override;
  bool kept_lacks_whole_part() override;
  bool adopt(SyntaxHooks& other) override;

  // Whether all of the forced bytes have been written.
  bool healed() const { return written_ >= forced_.size(); }

 private:
  HealingHooks(std::unique_ptr<SyntaxHooks> owned, std::string forced, size_t written);
  // What of `piece` comes after the forced bytes (empty: all of it is theirs);
  // nullopt when it disagrees with them.
  std::optional<std::string_view> after_forced(std::string_view piece) const;

  std::unique_ptr<SyntaxHooks> owned_;  // a fork's own inner hooks
  SyntaxHooks* inner_;
  std::string forced_;
  size_t written_ = 0;  // forced bytes written so far
};

}  // namespace astfill::completion
