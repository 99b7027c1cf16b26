#include "completion/api_constraint.h"

#include <algorithm>

#include "parsing/identifiers.h"

namespace astfill::completion {
namespace {

bool line_comment_before(std::string_view line, std::string_view language) {
  bool hash = language == "python";
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == '\\') ++i;
      else if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'' || (c == '`' && language != "python")) quote = c;
    else if (hash && c == '#') return true;
    else if (!hash && c == '/' && i + 1 < line.size() && line[i + 1] == '/') return true;
  }
  return quote != 0;  // inside a string that the line leaves open
}

}  // namespace

std::optional<MemberAccess> member_access_at_end(std::string_view text, std::string_view language_id) {
  size_t end = text.size();
  size_t start = parsing::identifier_run_begin(language_id, text, end);
  MemberAccess access;
  access.typed = std::string(text.substr(start));
  size_t op_end = start;
  std::string_view op;
  if (op_end >= 1 && text[op_end - 1] == '.') op = text.substr(op_end - 1, 1);
  else if (op_end >= 2 && (text.substr(op_end - 2, 2) == "->" || text.substr(op_end - 2, 2) == "::"))
    op = text.substr(op_end - 2, 2);
  else return std::nullopt;
  access.op.assign(op.data(), op.size());
  if (access.op == "->" && !(language_id == "c" || language_id == "cpp")) return std::nullopt;
  if (access.op == "::" && !(language_id == "cpp" || language_id == "rust")) return std::nullopt;
  size_t receiver_end = op_end - access.op.size();
  // The receiver: identifiers joined by the same operator ("a.b.c", "ns::T").
  size_t r = receiver_end;
  for (;;) {
    size_t id_start = parsing::identifier_run_begin(language_id, text, r);
    if (id_start == r) return std::nullopt;  // `f().`, `a[0].`, `"x".`: nothing to resolve
    if (parsing::IdentifierSpan name = parsing::identifier_at(language_id, text, r); name.begin == name.end)
      return std::nullopt;  // a number: `3.`
    r = id_start;
    if (r > access.op.size() && text.substr(r - access.op.size(), access.op.size()) == access.op &&
        parsing::identifier_run_begin(language_id, text, r - access.op.size()) < r - access.op.size()) {
      r -= access.op.size();
      continue;
    }
    break;
  }
  // A receiver preceded by another operator or a call result (`x().a.`) is
  // not a plain chain either.
  if (r > 0 && (text[r - 1] == '.' || text[r - 1] == ')' || text[r - 1] == ']')) return std::nullopt;
  access.receiver = std::string(text.substr(r, receiver_end - r));
  size_t line_start = text.rfind('\n', r == 0 ? 0 : r - 1);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  if (line_comment_before(text.substr(line_start, r - line_start), language_id)) return std::nullopt;
  return access;
}

ApiConstraint::ApiConstraint(const TokenTrie& trie, std::string language_id, MembersOf members_of)
    : trie_(trie), language_(std::move(language_id)), members_of_(std::move(members_of)) {}

std::optional<std::vector<int32_t>> ApiConstraint::allowed(std::string_view text) {
  // Only the last line can hold the access.
  size_t line_start = text.rfind('\n');
  std::string_view line = line_start == std::string_view::npos ? text : text.substr(line_start + 1);
  auto access = member_access_at_end(line, language_);
  if (!access) return std::nullopt;
  std::string key = access->receiver + access->op;
  auto it = resolved_.find(key);
  if (it == resolved_.end()) {
    std::optional<std::vector<std::string>> members = members_of_ ? members_of_(*access) : std::nullopt;
    if (members) {
      std::sort(members->begin(), members->end());
      members->erase(std::unique(members->begin(), members->end()), members->end());
    }
    it = resolved_.emplace(key, std::move(members)).first;
  }
  if (!it->second || it->second->empty()) return std::nullopt;
  auto tokens = trie_.allowed_for_identifier(access->typed, *it->second);
  // The member written so far matches none (the user typed an unknown name
  // before the cursor): nothing sensible to restrict to.
  if (tokens.empty()) return std::nullopt;
  ++restricted_steps_;
  return tokens;
}

}  // namespace astfill::completion
