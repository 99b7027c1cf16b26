// Documentation for definitions: Python docstrings, and the comments just
// above a definition in the other languages (which comment forms count
// depends on the language's DocStyle).
#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "parsing/extract_internal.h"
#include "parsing/nodes.h"

namespace astfill::parsing::detail {

size_t outermost_wrapper(const Language& language, std::span<const TSNode> path, size_t i) {
  while (i > 0 && language.wrappers.contains(path[i - 1])) {
    TSNode wrapper = path[i - 1];
    TSSymbol own = ts_node_symbol(path[i]);
    uint32_t same = 0;
    for (uint32_t c = 0; c < ts_node_named_child_count(wrapper); ++c)
      same += ts_node_symbol(ts_node_named_child(wrapper, c)) == own;
    if (same > 1) break;  // `const ( A = 1; B = 2 )`: the group is not A's
    --i;
  }
  return i;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (;;) {
    size_t nl = s.find('\n', start);
    std::string_view line = s.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) return lines;
    start = nl + 1;
  }
}

std::string join_trimmed(const std::vector<std::string>& lines) {
  size_t first = 0, last = lines.size();
  while (first < last && trim(lines[first]).empty()) ++first;
  while (last > first && trim(lines[last - 1]).empty()) --last;
  std::string out;
  for (size_t i = first; i < last; ++i) {
    if (i > first) out += '\n';
    std::string_view l = lines[i];
    while (!l.empty() && std::isspace(static_cast<unsigned char>(l.back()))) l.remove_suffix(1);
    out += l;
  }
  return out;
}

// Python's inspect.cleandoc: the first line stripped, the common indentation
// of the others removed, blank lines at either end dropped.
std::string clean_docstring(std::string_view literal) {
  while (!literal.empty() && std::isalpha(static_cast<unsigned char>(literal.front()))) literal.remove_prefix(1);
  for (std::string_view q : {"\"\"\"", "'''", "\"", "'"}) {
    if (literal.size() >= 2 * q.size() && literal.starts_with(q) && literal.ends_with(q)) {
      literal = literal.substr(q.size(), literal.size() - 2 * q.size());
      break;
    }
  }
  std::vector<std::string_view> lines = split_lines(literal);
  size_t indent = std::string_view::npos;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t first = lines[i].find_first_not_of(" \t");
    if (first != std::string_view::npos) indent = std::min(indent, first);
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (i == 0) l = trim(l);
    else l = l.substr(std::min(indent == std::string_view::npos ? 0 : indent, l.size()));
    out.emplace_back(l);
  }
  return join_trimmed(out);
}

std::string python_docstring(std::string_view text, TSNode def) {
  TSNode body = field(def, "body");
  if (ts_node_is_null(body) || ts_node_named_child_count(body) == 0) return "";
  TSNode first = ts_node_named_child(body, 0);
  if (std::string_view(ts_node_type(first)) != "expression_statement" || ts_node_named_child_count(first) != 1)
    return "";
  TSNode string = ts_node_named_child(first, 0);
  if (std::string_view(ts_node_type(string)) != "string") return "";
  return clean_docstring(node_text(text, string));
}

enum class CommentForm { LineDoc, Line, BlockDoc, Block, Other };

CommentForm form_of(std::string_view c) {
  if (c.starts_with("///") && !c.starts_with("////")) return CommentForm::LineDoc;
  if (c.starts_with("//!")) return CommentForm::Other;  // Rust inner docs describe the enclosing item
  if (c.starts_with("//")) return CommentForm::Line;
  if (c.starts_with("/**") && c != "/**/" && !c.starts_with("/***")) return CommentForm::BlockDoc;
  if (c.starts_with("/*")) return CommentForm::Block;
  return CommentForm::Other;
}

bool counts_as_doc(DocStyle style, CommentForm form) {
  switch (style) {
    case DocStyle::SlashComments:
      return form == CommentForm::LineDoc || form == CommentForm::Line || form == CommentForm::BlockDoc;
    case DocStyle::GoComments: return form != CommentForm::Other;
    case DocStyle::RustDocs: return form == CommentForm::LineDoc || form == CommentForm::BlockDoc;
    case DocStyle::Docstring: return false;
  }
  return false;
}

void strip_comment(std::string_view c, std::vector<std::string>* out) {
  if (c.starts_with("//")) {
    c.remove_prefix(c.starts_with("///") ? 3 : 2);
    if (!c.empty() && c.front() == ' ') c.remove_prefix(1);
    while (!c.empty() && (c.back() == '\n' || c.back() == '\r')) c.remove_suffix(1);
    out->emplace_back(c);
    return;
  }
  c.remove_prefix(c.starts_with("/**") ? 3 : 2);
  if (c.ends_with("*/")) c.remove_suffix(2);
  for (std::string_view line : split_lines(c)) {
    std::string_view l = line;
    size_t first = l.find_first_not_of(" \t");
    if (first != std::string_view::npos && l[first] == '*') {
      l.remove_prefix(first + 1);
      if (!l.empty() && l.front() == ' ') l.remove_prefix(1);
    } else {
      l = trim(l);
    }
    out->emplace_back(l);
  }
}

std::string comments_above(const Language& lang, std::string_view text, const Located& at) {
  size_t i = outermost_wrapper(lang, at.path, at.path.size() - 1);
  const Preceding& preceding = at.preceding[i];
  uint32_t next_row = ts_node_start_point(at.path[i]).row;
  std::vector<std::string_view> found;  // nearest first
  for (size_t k = preceding.run.size(); k-- > 0;) {
    TSNode s = preceding.run[k];
    if (!lang.comments.contains(s)) {  // a Rust attribute between the docs and the item
      next_row = ts_node_start_point(s).row;
      continue;
    }
    TSPoint end = ts_node_end_point(s);
    // A line comment's node may end at the start of the next line.
    uint32_t end_row = end.column == 0 && end.row > 0 ? end.row - 1 : end.row;
    if (end_row + 1 < next_row) break;  // a blank line between
    std::string_view c = node_text(text, s);
    if (!counts_as_doc(lang.doc_style, form_of(c))) break;
    // A comment trailing code on its line belongs to that code.
    TSNode before = k > 0 ? preceding.run[k - 1] : preceding.before;
    if (!ts_node_is_null(before) && ts_node_end_point(before).row == ts_node_start_point(s).row) break;
    found.push_back(c);
    next_row = ts_node_start_point(s).row;
    if (form_of(c) == CommentForm::BlockDoc) break;  // one `/** */` block is the whole doc
  }
  std::vector<std::string> lines;
  for (size_t k = found.size(); k-- > 0;) strip_comment(found[k], &lines);
  return join_trimmed(lines);
}

}  // namespace

std::string doc_for(const Language& language, std::string_view text, const Located& at) {
  if (at.path.empty()) return "";
  if (language.doc_style == DocStyle::Docstring) return python_docstring(text, at.path.back());
  return comments_above(language, text, at);
}

namespace {

// Comments (and Rust attributes) join the run that precedes the next sibling.
bool joins_run(const Language& language, TSNode node) {
  return language.comments.contains(node) ||
         (language.doc_style == DocStyle::RustDocs && std::string_view(ts_node_type(node)) == "attribute_item");
}

struct Target {
  uint32_t start, end;
  size_t index;
};

}  // namespace

void walk_to(TSNode root, const Language& language, const std::vector<TSNode>& targets,
             const std::function<void(size_t, const Located&)>& visit) {
  if (targets.empty() || ts_node_is_null(root)) return;
  std::unordered_multimap<const void*, size_t> by_id;
  std::vector<Target> sorted;
  for (size_t i = 0; i < targets.size(); ++i) {
    by_id.emplace(targets[i].id, i);
    sorted.push_back({ts_node_start_byte(targets[i]), ts_node_end_byte(targets[i]), i});
  }
  std::sort(sorted.begin(), sorted.end(), [](const Target& a, const Target& b) { return a.start < b.start; });
  // Whether a target may lie inside `node`: one starts within it.
  auto may_contain = [&](TSNode node) {
    uint32_t s = ts_node_start_byte(node), e = ts_node_end_byte(node);
    auto it = std::lower_bound(sorted.begin(), sorted.end(), s,
                               [](const Target& t, uint32_t v) { return t.start < v; });
    return it != sorted.end() && (it->start < e || it->start == s);
  };

  // path[d] is the node last visited at depth d; when the walk reaches its
  // next sibling, it is the one just left and joins what precedes.
  std::vector<TSNode> path;
  std::vector<Preceding> preceding;
  for_each_preorder(root, [&](TSNode node, uint32_t depth) {
    if (path.size() > depth + 1) {  // back up from a subtree
      path.resize(depth + 1);
      preceding.resize(depth + 1);
    }
    if (path.size() == depth + 1) {  // the next sibling
      TSNode leaving = path.back();
      Preceding& p = preceding.back();
      if (joins_run(language, leaving)) {
        p.run.push_back(leaving);
      } else {
        p.run.clear();
        p.before = leaving;
      }
      path.back() = node;
    } else {  // the first child
      path.push_back(node);
      preceding.emplace_back();
    }
    // Down only into nodes that may hold a target (the root always).
    if (depth > 0 && !may_contain(node)) return Walk::Skip;
    auto [first, last] = by_id.equal_range(node.id);
    for (auto it = first; it != last; ++it) visit(it->second, Located{path, preceding});
    return Walk::Enter;
  });
}

}  // namespace astfill::parsing::detail
