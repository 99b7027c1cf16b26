// The decoding loop's view of the syntax guard, the stop rule and the secret
// check (completion/decoder.h's SyntaxHooks over completion/syntax_guard.h,
// completion/stopping.h and trust/secret_stream.h). Without constraints
// every candidate is viable, but the stop rule still ends the completion
// where the code does. The secret check runs with or without constraints: a
// completion that would write a secret-shaped string stops, and is cut where
// the secret starts.
//
// fork() gives speculation a copy to screen a draft on (decoder.h): the
// guard's state copied (its texts are copied, its parsed document's tree is
// shared until the copy reparses it, the tree of prefix + suffix stays
// shared) with a stop rule over the copy. A stop rule costs a reparse to
// make (Python: whether the cursor is at declaration level), more than the
// copy itself (1.1 vs 0.06 ms over 256 KiB of Python prefix, bench_speculation),
// and it depends only on the prefix and the suffix; so a fork that ends
// leaves its copy behind and the next fork assigns the guard's state over it
// and keeps its stop rule. The secret check is not copied: the copy's verdicts only decide how
// much of a draft is verified, and the real hooks still stop at a secret, so
// a draft that runs into one costs a few verification rows and counts no
// cut that was never made.
#pragma once

#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <string_view>

#include "completion/decoder.h"
#include "completion/stopping.h"
#include "completion/syntax_guard.h"
#include "trust/secret_stream.h"

namespace astfill::completion {

class GuardHooks final : public SyntaxHooks {
 public:
  // `secrets` may be null (no secret check).
  GuardHooks(SyntaxGuard& guard, StopRule& stop, bool constrain, trust::SecretStreamCheck* secrets);
  ~GuardHooks() override;

  bool viable(std::string_view piece) override;
  bool may_end() override;
  bool ends_with(std::string_view piece) override;
  bool whole_after(std::string_view piece) override;
  void accept(std::string_view piece) override;
  bool should_stop() override;
  std::unique_ptr<SyntaxHooks> fork() const override;
  bool kept_whole() override;
  bool can_adopt() const override { return constrain_; }
  bool has_whole_part() override;
  bool kept_lacks_whole_part() override;
  bool adopt(SyntaxHooks& other) override;

  // Where the completion must be cut so that it writes no secret.
  std::optional<size_t> secret_cut() const { return secret_cut_; }
  const SyntaxGuard& guard() const { return *guard_; }

 private:
  struct Copy;   // a forked guard and the stop rule over it, owned by the fork
  struct Spare;  // the copy the last fork left, for the next (shared by a guard's hooks and their forks)
  GuardHooks(std::unique_ptr<Copy> copy, bool constrain, std::shared_ptr<Spare> spare);
  bool ends_whole(std::string text) const;

  std::unique_ptr<Copy> copy_;  // set in a fork: what guard_ and stop_ point to
  std::shared_ptr<Spare> spare_;
  SyntaxGuard* guard_;
  StopRule* stop_;
  bool constrain_;
  trust::SecretStreamCheck* secrets_;
  std::optional<size_t> secret_cut_;
  mutable std::optional<std::pair<std::string, bool>> last_whole_;  // ends_whole's last text and verdict
};

}  // namespace astfill::completion
