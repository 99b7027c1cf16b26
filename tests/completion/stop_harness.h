// Feeds a stop rule pieces of a completion one by one, as decoding does: what
// the stopping and repetition tests share.
#pragma once

#include <string>
#include <vector>

#include "completion/stopping.h"

namespace astfill::completion::testing {

struct Outcome {
  std::string kept;
  std::string reason;
  int stopped_at = -1;  // the piece after which should_stop() said true
};

// Accepts `pieces` one by one and asks the stop rule after each.
inline Outcome decode(const char* language, std::string prefix, std::string suffix, CompletionMode mode,
               const std::vector<std::string>& pieces) {
  SyntaxGuard guard(language, std::move(prefix), std::move(suffix));
  StopRule rule(guard, mode);
  for (size_t i = 0; i < pieces.size(); ++i) {
    guard.accept(pieces[i]);
    if (rule.should_stop()) return {guard.completion().substr(0, rule.keep()), rule.reason(), static_cast<int>(i)};
  }
  return {guard.completion(), "", -1};
}

}  // namespace astfill::completion::testing
