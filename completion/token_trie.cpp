#include "completion/token_trie.h"

#include <algorithm>
#include <deque>

namespace astfill::completion {
namespace {

// Whether some name in the sorted list starts with `prefix`.
bool some_name_starts_with(const std::vector<std::string>& names, std::string_view prefix) {
  auto it = std::lower_bound(names.begin(), names.end(), prefix,
                             [](const std::string& a, std::string_view b) { return std::string_view(a) < b; });
  return it != names.end() && std::string_view(*it).starts_with(prefix);
}

bool is_name(const std::vector<std::string>& names, std::string_view s) {
  return std::binary_search(names.begin(), names.end(), s,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

}  // namespace

TokenTrie::TokenTrie(const engine::Tokenizer& tokenizer) {
  std::vector<std::pair<std::string, int32_t>> tokens;
  tokens.reserve(tokenizer.vocab_size());
  for (size_t id = 0; id < tokenizer.vocab_size(); ++id) {
    auto token = static_cast<int32_t>(id);
    if (tokenizer.is_special(token)) continue;
    std::string bytes = tokenizer.token_bytes(token);
    if (bytes.empty() || bytes.starts_with("[PAD")) continue;  // padding entries of a padded vocabulary
    tokens.emplace_back(std::move(bytes), token);
  }
  build(std::move(tokens));
}

TokenTrie::TokenTrie(const std::vector<std::string>& tokens) {
  std::vector<std::pair<std::string, int32_t>> pairs;
  for (size_t i = 0; i < tokens.size(); ++i)
    if (!tokens[i].empty()) pairs.emplace_back(tokens[i], static_cast<int32_t>(i));
  build(std::move(pairs));
}

void TokenTrie::build(std::vector<std::pair<std::string, int32_t>> tokens) {
  std::sort(tokens.begin(), tokens.end());
  token_count_ = tokens.size();
  // Breadth-first: each queue entry is a node and the range of (sorted)
  // tokens whose bytes pass through it, at a depth.
  struct Pending {
    uint32_t node;
    size_t begin, end, depth;
  };
  nodes_.push_back(Node{});
  std::deque<Pending> queue{{0, 0, tokens.size(), 0}};
  while (!queue.empty()) {
    Pending p = queue.front();
    queue.pop_front();
    size_t i = p.begin;
    // Tokens that end exactly at this depth sort first in the range.
    nodes_[p.node].first_token = static_cast<uint32_t>(token_ids_.size());
    while (i < p.end && tokens[i].first.size() == p.depth) token_ids_.push_back(tokens[i++].second);
    nodes_[p.node].token_count = static_cast<uint32_t>(token_ids_.size()) - nodes_[p.node].first_token;
    nodes_[p.node].first_child = static_cast<uint32_t>(nodes_.size());
    while (i < p.end) {
      auto byte = static_cast<unsigned char>(tokens[i].first[p.depth]);
      size_t j = i;
      while (j < p.end && static_cast<unsigned char>(tokens[j].first[p.depth]) == byte) ++j;
      Node child;
      child.byte = byte;
      auto index = static_cast<uint32_t>(nodes_.size());
      nodes_.push_back(child);
      ++nodes_[p.node].child_count;
      queue.push_back({index, i, j, p.depth + 1});
      i = j;
    }
  }
}

void TokenTrie::collect_subtree(uint32_t node, std::vector<int32_t>& out) const {
  std::vector<uint32_t> stack{node};
  while (!stack.empty()) {
    const Node& n = nodes_[stack.back()];
    stack.pop_back();
    out.insert(out.end(), token_ids_.begin() + n.first_token, token_ids_.begin() + n.first_token + n.token_count);
    for (uint32_t c = 0; c < n.child_count; ++c) stack.push_back(n.first_child + c);
  }
}

std::vector<int32_t> TokenTrie::allowed_for_identifier(std::string_view typed,
                                                       const std::vector<std::string>& names) const {
  std::vector<int32_t> out;
  if (nodes_.empty() || !some_name_starts_with(names, typed)) return out;
  // Depth-first over the trie; `text` is typed + the bytes down to the node.
  struct Frame {
    uint32_t node;
    size_t length;  // of text at this node
  };
  std::string text(typed);
  std::vector<Frame> stack;
  const Node& root = nodes_[0];
  for (uint32_t c = 0; c < root.child_count; ++c) stack.push_back({root.first_child + c, typed.size()});
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    const Node& n = nodes_[f.node];
    text.resize(f.length);
    if (!is_identifier_byte(n.byte)) {
      // The identifier ends before this byte: it must be a whole name, and
      // then anything may follow.
      if (is_name(names, text)) collect_subtree(f.node, out);
      continue;
    }
    text.push_back(static_cast<char>(n.byte));
    if (!some_name_starts_with(names, text)) continue;
    out.insert(out.end(), token_ids_.begin() + n.first_token, token_ids_.begin() + n.first_token + n.token_count);
    for (uint32_t c = 0; c < n.child_count; ++c) stack.push_back({n.first_child + c, text.size()});
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<int32_t> TokenTrie::consistent_with(std::string_view forced) const {
  std::vector<int32_t> out;
  if (nodes_.empty() || forced.empty()) return out;
  uint32_t node = 0;
  for (size_t i = 0; i < forced.size(); ++i) {
    const Node& n = nodes_[node];
    const auto byte = static_cast<unsigned char>(forced[i]);
    const auto first = nodes_.begin() + n.first_child, last = first + n.child_count;
    const auto child = std::lower_bound(first, last, byte, [](const Node& c, unsigned char b) { return c.byte < b; });
    if (child == last || child->byte != byte) break;
    node = static_cast<uint32_t>(child - nodes_.begin());
    if (i + 1 == forced.size()) {
      collect_subtree(node, out);  // tokens that begin with all of it
      break;
    }
    // A token that ends here is a prefix of it.
    const Node& here = nodes_[node];
    out.insert(out.end(), token_ids_.begin() + here.first_token,
               token_ids_.begin() + here.first_token + here.token_count);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace astfill::completion
