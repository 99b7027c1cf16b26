// Completion modes and the stop rule; the rules are in stopping.h.
#include "completion/stopping.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "completion/lines.h"
#include "parsing/document.h"
#include "parsing/identifiers.h"
#include "parsing/nodes.h"

namespace astfill::completion {

namespace {

using parsing::Walk;
using parsing::Document;
using parsing::Scope;
using parsing::same_node;

bool declaration_scope(Scope::Kind kind) {
  return kind == Scope::Kind::File || kind == Scope::Kind::Class || kind == Scope::Kind::Namespace;
}

// The guard's languageId; "" (identifiers by the union rule) without a grammar.
std::string_view language_of(const SyntaxGuard& guard) {
  const parsing::Language* language = guard.document().language();
  return language ? language->id : std::string_view();
}

// Calls f(node) for the nodes overlapping [from, to) in document order until
// it returns true; whether one did.
template <typename F>
bool any_node(const Document& doc, uint32_t from, uint32_t to, F&& f) {
  bool found = false;
  parsing::for_each_preorder(doc.root(), [&](TSNode node) {
    if (ts_node_start_byte(node) >= to) return Walk::Stop;  // pre-order: every later node starts here or later
    if (ts_node_end_byte(node) <= from) return Walk::Skip;
    found = f(node);
    return found ? Walk::Stop : Walk::Enter;
  });
  return found;
}

// A statement of the language that starts at or after `from`, ends at or
// before `to`, and has no syntax error.
bool complete_statement(const Document& doc, uint32_t from, uint32_t to) {
  return any_node(doc, from, to, [&](TSNode node) {
    return ts_node_start_byte(node) >= from && ts_node_end_byte(node) <= to &&
           doc.language()->statements.contains(node) && !ts_node_has_error(node);
  });
}

// Whether the code in [from, to) is whole and ends a statement at `to`: no
// error node starts there, and the token ending at `to` ends a statement or
// is a direct child of the file or a block (C's `struct P {...};`).
bool ends_statement(const Document& doc, uint32_t from, uint32_t to) {
  bool broken = any_node(doc, from, to, [&](TSNode node) {
    return ts_node_start_byte(node) >= from &&
           (ts_node_is_missing(node) || ts_node_symbol(node) == static_cast<TSSymbol>(-1));
  });
  if (broken || to == 0) return false;
  TSNode leaf = ts_node_descendant_for_byte_range(doc.root(), to - 1, to - 1);
  if (ts_node_is_null(leaf) || ts_node_end_byte(leaf) != to) return false;
  for (TSNode node = leaf; !ts_node_is_null(node); node = ts_node_parent(node)) {
    if (ts_node_end_byte(node) != to) break;
    if (doc.language()->statements.contains(node)) return true;
  }
  TSNode parent = ts_node_parent(leaf);
  return !ts_node_is_null(parent) &&
         (same_node(parent, doc.root()) || doc.language()->blocks.contains(parent));
}

// Whether the cursor sits where a definition may start (file, class or
// namespace level), from `whole` (prefix + suffix parsed). An empty Python
// body is a syntax error that hides the function around the cursor, so a
// placeholder statement fills it first (an incremental reparse of a copy).
bool at_declaration_level(const Document& whole, size_t cursor) {
  const auto at = static_cast<uint32_t>(cursor);
  if (!whole.language() || whole.language()->id != "python") return declaration_scope(whole.scope_at(at).kind);
  Document filled = whole;
  filled.edit(at, at, "pass");
  return declaration_scope(filled.scope_at(at).kind);
}

// `whole` when given, else prefix + suffix parsed into `parsed`.
const Document& whole_text(std::string_view language_id, std::string_view prefix, std::string_view suffix,
                           const Document* whole, std::optional<Document>& parsed) {
  if (whole) return *whole;
  return parsed.emplace(language_id, std::string(prefix) + std::string(suffix));
}

// Whether `byte` lies in a string or comment token (where indentation says nothing).
bool in_string_or_comment(const Document& doc, uint32_t byte) {
  if (!doc.tree()) return false;
  TSNode node = ts_node_descendant_for_byte_range(doc.root(), byte, byte);
  for (; !ts_node_is_null(node); node = ts_node_parent(node)) {
    std::string_view type = ts_node_type(node);
    if (type.find("string") != std::string_view::npos || doc.language()->comments.contains(node)) return true;
    if (ts_node_start_byte(node) < byte && ts_node_child_count(node) > 1) break;
  }
  return false;
}

// Whether the `{` at `brace` opens a block (a body), not an initializer, an
// object or a JSX expression: the innermost block around `cursor` starts there.
bool opens_block(const Document& doc, uint32_t brace, uint32_t cursor) {
  std::optional<TSNode> block;
  for (TSNode node : parsing::path_at(doc.root(), cursor))
    if (doc.language()->blocks.contains(node)) block = node;
  return block && ts_node_start_byte(*block) == brace;
}

// A line that continues the statement above it rather than starting one.
bool continues_statement(std::string_view language_id, std::string_view line) {
  line = trim(line);
  if (line.empty()) return true;
  if (is_closer(line[0]) || line[0] == '.' || line[0] == '&' || line[0] == '|' || line[0] == '+' ||
      line[0] == '?' || line[0] == ':')
    return true;
  for (std::string_view word : {"else", "elif", "except", "finally", "catch", "where"})
    if (line.starts_with(word) && parsing::identifier_run_end(language_id, line, word.size()) == word.size())
      return true;
  return false;
}

// Each line of the completion that has been started: its offset and text
// (the first line continues the cursor's line).
struct Line {
  size_t start;
  std::string_view text;
  bool finished;  // a '\n' follows it
};

std::vector<Line> lines_of(std::string_view text) {
  std::vector<Line> lines;
  for (size_t start = 0;;) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.push_back({start, text.substr(start), false});
      return lines;
    }
    lines.push_back({start, text.substr(start, nl - start), true});
    start = nl + 1;
  }
}

// Whether the end of `line` from `start`, periodic with period `p`, is a
// loop inside one identifier (`e_or_or_or_or`): all word characters, in a run
// that starts with a letter or `_` (not a number's digits: `0xFFFFFFFF`,
// `100000000` are data), the unit holding a letter and two different
// characters (`aaaaaaaa` may be a string's data).
bool in_identifier_loop(std::string_view line, size_t start, size_t p) {
  auto word_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
  };
  for (size_t i = start; i < line.size(); ++i)
    if (!word_char(line[i])) return false;
  size_t run = start;
  while (run > 0 && word_char(line[run - 1])) --run;
  if (std::isdigit(static_cast<unsigned char>(line[run]))) return false;  // a number
  std::string_view unit = line.substr(start, p);
  bool letter = std::any_of(unit.begin(), unit.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
  bool varied = unit.find_first_not_of(unit[0]) != std::string_view::npos;
  return letter && varied;
}

// Where to cut before line `i` (the '\n' ending the line above it, or 0).
size_t before_line(const std::vector<Line>& lines, size_t i) { return i == 0 ? 0 : lines[i].start - 1; }

}  // namespace

const char* to_string(CompletionMode mode) {
  return mode == CompletionMode::SingleLine ? "single-line" : "multi-line";
}

CompletionMode mode_at(std::string_view language_id, std::string_view prefix, std::string_view suffix,
                       const parsing::Document* whole) {
  const parsing::Language* language = parsing::find_language(language_id);
  std::optional<Document> parsed;
  const bool python = language && language->id == "python";
  std::string_view before = trim(last_line(prefix));
  std::string_view after = trim(first_line(suffix));

  if (!after.empty()) {  // rule 1
    bool empty_braces = language && !python && before.ends_with('{') && after.starts_with('}') &&
                        opens_block(whole_text(language_id, prefix, suffix, whole, parsed),
                                    static_cast<uint32_t>(prefix.rfind('{')), static_cast<uint32_t>(prefix.size()));
    return empty_braces ? CompletionMode::MultiLine : CompletionMode::SingleLine;
  }
  if (!before.empty()) {  // rule 2
    bool opener = python ? before.ends_with(':') : before.ends_with('{');
    return opener ? CompletionMode::MultiLine : CompletionMode::SingleLine;
  }
  // Rule 3: a blank line.
  if (language && at_declaration_level(whole_text(language_id, prefix, suffix, whole, parsed), prefix.size()))
    return CompletionMode::MultiLine;
  std::string_view next = first_nonblank_line(suffix.substr(std::min(suffix.size(), first_line(suffix).size())));
  if (next.empty()) return CompletionMode::MultiLine;
  bool block_ends = indentation(next) < indentation(last_line(prefix)) || is_closer(trim(next)[0]);
  return block_ends ? CompletionMode::MultiLine : CompletionMode::SingleLine;
}

StopRule::StopRule(const SyntaxGuard& guard, CompletionMode mode) : guard_(guard), mode_(mode) {
  std::string_view prefix = guard.prefix(), suffix = guard.suffix();
  rest_of_line_ = std::string(trim(first_line(suffix)));
  next_line_ = std::string(trim(first_nonblank_line(suffix)));
  std::string_view line = last_line(prefix);
  base_indent_ = indentation(line);
  const bool blank = is_blank(line);
  block_indent_ = blank ? base_indent_ : base_indent_ + 1;
  if (blank && guard.supported()) declaration_level_ = at_declaration_level(guard.whole(), prefix.size());
}

bool StopRule::stop(size_t keep, const char* reason) {
  keep_ = keep;
  reason_ = reason;
  return true;
}

bool StopRule::should_stop() {
  const std::string& text = guard_.completion();
  keep_ = text.size();
  reason_ = "";
  if (mode_ == CompletionMode::SingleLine) {
    if (single_line()) return true;
    return repeats_itself();
  }
  // Several rules may fire on one token that carried several lines: the
  // earliest cut wins.
  size_t best_keep = text.size() + 1;
  const char* best_reason = "";
  auto consider = [&](bool fired) {
    if (fired && keep_ < best_keep) {
      best_keep = keep_;
      best_reason = reason_;
    }
  };
  consider(closed_enclosing());
  consider(repeats_suffix());
  consider(left_block());
  consider(statement_done());
  consider(repeats_itself());
  if (best_keep > text.size()) {
    keep_ = text.size();
    reason_ = "";
    return false;
  }
  return stop(best_keep, best_reason);
}

bool StopRule::single_line() {
  const std::string& text = guard_.completion();
  size_t nl = text.find('\n');
  if (nl != std::string::npos) return stop(nl, "end of line");
  // The completion reached what follows the cursor (`foo(a|)` → `, b)`):
  // when that is a closer, only once the completion closed the enclosing
  // bracket itself (`bar()` is not the end of `foo(bar()`).
  if (rest_of_line_.empty() || !trim_right(text).ends_with(rest_of_line_)) return false;
  bool closes = std::any_of(rest_of_line_.begin(), rest_of_line_.end(), is_closer);
  if (closes && !guard_.brackets().closes_enclosing) return false;
  return stop(text.size(), "reached the suffix");
}

bool StopRule::closed_enclosing() {
  const std::string& text = guard_.completion();
  std::optional<size_t> at = guard_.brackets().closes_enclosing;
  if (!at || *at >= text.size()) return false;
  const char closer = text[*at];
  std::string_view ahead = trim_left(guard_.suffix());
  if (ahead.empty() || ahead[0] != closer) return stop(*at + 1, "closed the enclosing block");
  // The suffix closes it already: keep what came before the closer, and
  // not the closer's line if it holds nothing else.
  size_t line_start = *at == 0 ? std::string::npos : text.rfind('\n', *at - 1);
  std::string_view before = std::string_view(text).substr(
      line_start == std::string::npos ? 0 : line_start + 1, *at - (line_start == std::string::npos ? 0 : line_start + 1));
  size_t keep = is_blank(before) ? (line_start == std::string::npos ? 0 : line_start) : *at;
  return stop(keep, "closed the enclosing block");
}

bool StopRule::repeats_suffix() {
  if (next_line_.empty() || !parsing::has_identifier_part(language_of(guard_), next_line_)) return false;
  std::vector<Line> lines = lines_of(guard_.completion());
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].finished && trim(lines[i].text) == next_line_) return stop(before_line(lines, i), "repeats the suffix");
  return false;
}

bool StopRule::left_block() {
  if (block_indent_ == 0) return false;
  const auto cursor = static_cast<uint32_t>(guard_.prefix().size());
  std::vector<Line> lines = lines_of(guard_.completion());
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i].text;
    if (is_blank(line) || indentation(line) >= block_indent_ || is_closer(trim(line)[0])) continue;
    auto first = static_cast<uint32_t>(cursor + lines[i].start + indentation(line));
    if (first < guard_.completion_end() && in_string_or_comment(guard_.document(), first)) continue;
    return stop(before_line(lines, i), "left the block");
  }
  return false;
}

bool StopRule::repeats_itself() {
  const std::string& text = guard_.completion();
  const std::string_view language = language_of(guard_);
  std::vector<Line> lines = lines_of(text);
  // Whole lines: the last m finished non-blank lines equal the m before them.
  std::vector<size_t> done;  // indices of finished non-blank lines
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].finished && !is_blank(lines[i].text)) done.push_back(i);
  for (size_t m = 1; 2 * m <= done.size(); ++m) {
    const size_t n = done.size();
    bool equal = true, code = false;
    for (size_t j = 0; j < m && equal; ++j) {
      std::string_view a = trim_right(lines[done[n - 2 * m + j]].text), b = trim_right(lines[done[n - m + j]].text);
      equal = a == b;
      code = code || parsing::has_identifier_part(language, a);
    }
    if (equal && code) return stop(before_line(lines, done[n - m]), "repeats itself");
  }
  // Within the last line: a unit repeated kRepeats times at its end.
  constexpr size_t kRepeats = 4;
  const Line& last = lines.back();
  const std::string_view line = last.text;
  auto word_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
  };
  for (size_t p = 2; p * kRepeats <= line.size(); ++p) {
    const size_t from = line.size() - p * kRepeats;
    bool periodic = true;
    for (size_t i = from; i + p < line.size() && periodic; ++i) periodic = line[i] == line[i + p];
    if (!periodic) continue;
    // A word in the unit (a letter or `_` starting a run, not inside a number).
    bool word = false;
    for (size_t i = line.size() - p; i < line.size() && !word; ++i) {
      auto c = static_cast<unsigned char>(line[i]);
      bool starts = (std::isalpha(c) || c == '_' || c >= 0x80) && (i == 0 || !word_char(line[i - 1]));
      word = starts;
    }
    size_t start = from;
    while (start > 0 && line[start - 1] == line[start - 1 + p]) --start;
    // Or the loop is inside one identifier (in_identifier_loop). Kept: the
    // identifier up to the end of its first copy (`e_or`).
    if (!word && in_identifier_loop(line, start, p)) return stop(last.start + start + p, "repeats itself");
    if (!word) continue;
    // One copy is kept. The run may begin mid-unit by a coincidence (`code,
    // value, value, ...` matches from the `e` of `code`, `e, value, value`
    // from its first byte), so the cut moves forward to the end of the word it
    // would split: never `code, valu`.
    size_t keep = start + p;
    while (keep < line.size() && keep < start + 2 * p && word_char(line[keep - 1]) && word_char(line[keep])) ++keep;
    return stop(last.start + keep, "repeats itself");
  }
  return false;
}

bool StopRule::statement_done() {
  if (!declaration_level_ || !guard_.supported()) return false;
  const Document& doc = guard_.document();
  const std::string& text = guard_.completion();
  const auto cursor = static_cast<uint32_t>(guard_.prefix().size());
  const size_t parsed = guard_.completion_end() - cursor;  // the completion's bytes in the tree
  const auto& open = guard_.brackets().open;
  auto inside_brackets = [&](size_t offset) {
    return std::any_of(open.begin(), open.end(), [&](const OpenBracket& b) { return b.at < cursor + offset; });
  };
  std::vector<Line> lines = lines_of(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& line = lines[i];
    if (line.start + line.text.size() > parsed) break;
    std::string_view code = trim_right(line.text);
    // A brace language's statement ends with its line: `}` or `;` at the
    // block's indentation, the statement in the tree complete.
    if (line.finished && !code.empty() && (code.back() == '}' || code.back() == ';') &&
        indentation(line.text) <= base_indent_ && !inside_brackets(line.start + code.size())) {
      auto end = static_cast<uint32_t>(cursor + line.start + code.size());
      if (ends_statement(doc, cursor, end)) return stop(line.start + code.size(), "statement complete");
    }
    // Any language: a new line starts at the block's indentation after a
    // complete statement.
    if (i > 0 && !is_blank(line.text) && indentation(line.text) <= base_indent_ &&
        !continues_statement(language_of(guard_), line.text) && !inside_brackets(line.start) &&
        complete_statement(doc, cursor, static_cast<uint32_t>(cursor + line.start)))
      return stop(before_line(lines, i), "statement complete");
  }
  return false;
}

}  // namespace astfill::completion
