// The API constraint: after a member access on a receiver whose members are
// known (a workspace module, a class, self/this), the identifier the model
// writes must be one of those members. Unknown receivers are left free.
//
// This file does the lexical part (is the frontier inside an identifier that
// follows `receiver.`, `receiver->` or `receiver::`?) and turns a member list
// into the set of allowed tokens through the vocabulary trie. Which members a
// receiver has is asked of a callback (completion/receivers.h answers it from
// the index and the current file).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "completion/token_trie.h"

namespace astfill::completion {

struct MemberAccess {
  std::string receiver;  // as written: "self", "util", "os.path", "geo::Circle"
  std::string op;        // ".", "->" or "::"
  std::string typed;     // the member's bytes already written (possibly empty)
};

// The member access the end of `text` is in, if any: `text` ends with
// receiver + op + identifier bytes (possibly none). Receivers are identifier
// chains (a.b.c); numbers (`3.`), accesses on call results or subscripts
// (`f().`, `a[0].`) and text after a line comment or inside a string on the
// last line are not member accesses astfill can resolve.
std::optional<MemberAccess> member_access_at_end(std::string_view text, std::string_view language_id);

class ApiConstraint {
 public:
  // nullopt: the receiver is unknown, leave the identifier free. A list
  // (possibly empty) is every member the receiver has.
  using MembersOf = std::function<std::optional<std::vector<std::string>>(const MemberAccess& access)>;

  ApiConstraint(const TokenTrie& trie, std::string language_id, MembersOf members_of);

  // The tokens allowed next after `text` (the prompt's view of the file up to
  // the frontier: prefix + completion so far; only its last line matters),
  // or nullopt when the next token is free. Receivers are resolved once and
  // remembered.
  std::optional<std::vector<int32_t>> allowed(std::string_view text);

  // How often allowed() restricted the next token (for reports).
  size_t restricted_steps() const { return restricted_steps_; }

 private:
  const TokenTrie& trie_;
  std::string language_;
  MembersOf members_of_;
  std::map<std::string, std::optional<std::vector<std::string>>> resolved_;  // by receiver + op
  size_t restricted_steps_ = 0;
};

}  // namespace astfill::completion
