// The model's vocabulary as a byte trie, for the API constraint: which tokens
// may come next when the identifier being written must be one of a few known
// names (the members the index knows for a receiver); and for token healing
// (completion/healing.h): which tokens agree with the text a completion must
// begin with.
//
// Layout. Nodes are stored breadth-first in one vector; a node's children are
// contiguous and sorted by byte, so a child lookup is a binary search over at
// most 256 bytes and a subtree is a contiguous walk. Every normal token's
// bytes end at a node; control and unused tokens are left out (a special
// token never continues an identifier).
//
// The allowed set is found by walking this trie together with the sorted name
// list, pruning every branch that stops being a prefix of some name, so the
// cost depends on how many tokens start the names, not on the vocabulary size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer.h"
#include "parsing/identifiers.h"

namespace astfill::completion {

// Whether a token's byte continues the identifier being written. The trie is
// byte-wise (one vocabulary for every language, and a token may end inside a
// UTF-8 character), so it asks parsing/'s byte-level form of the identifier
// rule: ASCII as the rule has it for some language (`$` included), and every
// byte of a multi-byte character (a byte alone cannot say whether its
// character is a letter; the member names it is matched against decide).
using parsing::is_identifier_byte;

class TokenTrie {
 public:
  explicit TokenTrie(const engine::Tokenizer& tokenizer);
  // For tests: token i has bytes tokens[i]; empty strings are left out.
  explicit TokenTrie(const std::vector<std::string>& tokens);

  // Tokens that may follow `typed` (the identifier's bytes written so far,
  // possibly empty) when the identifier must be one of `names` (sorted,
  // unique): the token's bytes either keep typed + bytes a prefix of a name,
  // or finish a name exactly and go on with a non-identifier byte. Sorted by
  // id.
  std::vector<int32_t> allowed_for_identifier(std::string_view typed, const std::vector<std::string>& names) const;

  // Tokens whose bytes agree with `forced` (token healing: text the
  // completion must begin with): a token that is a prefix of it, or that
  // begins with all of it. Sorted by id; none for an empty `forced`.
  std::vector<int32_t> consistent_with(std::string_view forced) const;
  // Whether one token's `bytes` agree with `forced` in that sense.
  static bool agrees_with(std::string_view bytes, std::string_view forced) {
    return !bytes.empty() && !forced.empty() && (bytes.starts_with(forced) || forced.starts_with(bytes));
  }

  size_t node_count() const { return nodes_.size(); }
  size_t token_count() const { return token_count_; }

 private:
  struct Node {
    uint32_t first_child = 0;
    uint32_t child_count = 0;
    uint32_t first_token = 0;  // tokens whose bytes end here: token_ids_[first_token, +token_count)
    uint32_t token_count = 0;
    unsigned char byte = 0;
  };
  void build(std::vector<std::pair<std::string, int32_t>> tokens);
  void collect_subtree(uint32_t node, std::vector<int32_t>& out) const;

  std::vector<Node> nodes_;
  std::vector<int32_t> token_ids_;
  size_t token_count_ = 0;
};

}  // namespace astfill::completion
