#include "completion/guard_window.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

namespace astfill::completion {

namespace {

struct Line {
  size_t begin = 0, end = 0;  // end: before the '\n'
  size_t indent = 0;          // the column of the first code byte, tabs to multiples of 8
  size_t code = 0;            // where that byte is
  bool blank = true;          // nothing but whitespace, or a comment
};

Line line_at(std::string_view text, size_t begin, size_t end) {
  Line line{begin, end};
  size_t column = 0, i = begin;
  for (; i < end; ++i) {
    if (text[i] == ' ') ++column;
    else if (text[i] == '\t') column = (column / 8 + 1) * 8;
    else if (text[i] == '\f') column = 0;
    else break;
  }
  line.indent = column;
  line.code = i;
  line.blank = i == end || text[i] == '#' || text[i] == '\r';
  return line;
}

bool starts_with_word(std::string_view text, std::string_view word) {
  return text.starts_with(word) && text.size() > word.size() && (text[word.size()] == ' ' || text[word.size()] == '\t');
}

// The preamble for a window that starts at lines[first]: the nearest code
// line above it at each smaller column opens a block (`if 1:` at that line's
// indentation, tabs and spaces as they are); nullopt when those lines do not
// reach column 0.
std::optional<std::string> preamble_for(std::string_view prefix, const std::vector<Line>& lines, size_t first) {
  std::vector<std::string_view> headers;
  size_t column = lines[first].indent;
  for (size_t i = first; i-- > 0 && column > 0;) {
    const Line& line = lines[i];
    if (line.blank || line.indent >= column) continue;
    headers.push_back(prefix.substr(line.begin, line.code - line.begin));
    column = line.indent;
  }
  if (column != 0) return std::nullopt;
  std::string preamble;
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    preamble += *it;
    preamble += "if 1:\n";
  }
  return preamble;
}

// A line that can only begin a statement (not a clause: a window cannot
// start there): a keyword no expression holds, or a compound statement's
// header (an `if` or `for` inside brackets, in a comprehension, does not end
// its line with `:`).
bool begins_statement(std::string_view code) {
  size_t end = 0;
  while (end < code.size() && (std::isalnum(static_cast<unsigned char>(code[end])) || code[end] == '_')) ++end;
  const std::string_view word = code.substr(0, end);
  if (word == "try") return code.substr(end).starts_with(":");
  const bool alone = end == code.size() || code[end] == ' ' || code[end] == '\t';
  if (alone && python_statement_word(word) && word != "elif" && word != "except" && word != "finally" &&
      word != "async")
    return true;
  if (!starts_with_word(code, "if") && !starts_with_word(code, "for")) return false;
  const size_t comment = code.find('#');  // good enough: a `#` in a string only hides the window
  std::string_view head = code.substr(0, comment);
  while (!head.empty() && (head.back() == ' ' || head.back() == '\t' || head.back() == '\r')) head.remove_suffix(1);
  return head.ends_with(':');
}

std::vector<GuardWindow> python_windows(std::string_view prefix, size_t limit) {
  std::vector<Line> lines;
  for (size_t begin = 0;;) {
    const size_t nl = prefix.find('\n', begin);
    const size_t end = nl == std::string_view::npos ? prefix.size() : nl;
    lines.push_back(line_at(prefix, begin, end));
    if (nl == std::string_view::npos) break;
    begin = nl + 1;
  }
  std::vector<GuardWindow> windows;
  auto add = [&](size_t first) {
    if (std::optional<std::string> preamble = preamble_for(prefix, lines, first))
      windows.push_back({lines[first].begin, std::move(*preamble)});
  };
  // The cursor's line counts with the code written before the cursor, else
  // with the cursor's column.
  const Line& cursor_line = lines.back();
  const size_t cursor_column = cursor_line.blank ? line_at(prefix, cursor_line.begin, prefix.size()).indent : 0;
  size_t min_indent = cursor_line.blank ? SIZE_MAX : cursor_line.indent;
  const size_t statement_column = cursor_line.blank ? cursor_column : cursor_line.indent;
  std::vector<size_t> statements;  // nearest first
  size_t definition = SIZE_MAX;
  for (size_t i = lines.size() - 1; i-- > 0;) {
    const Line& line = lines[i];
    if (line.blank) continue;
    const std::string_view code = prefix.substr(line.code, line.end - line.code);
    const bool def = starts_with_word(code, "def") || starts_with_word(code, "class") ||
                     (starts_with_word(code, "async") && code.find("def") != std::string_view::npos);
    if (def && line.indent < min_indent) {
      definition = i;
      break;
    }
    if (line.indent <= min_indent && line.indent <= statement_column && begins_statement(code))
      statements.push_back(i);
    min_indent = std::min(min_indent, line.indent);
  }
  if (definition != SIZE_MAX) {
    // With its decorators, at its column.
    size_t first = definition;
    for (size_t i = definition; i-- > 0;) {
      const Line& line = lines[i];
      if (line.blank) continue;
      if (line.indent != lines[definition].indent || prefix[line.code] != '@') break;
      first = i;
    }
    add(first);
  }
  for (size_t i = 0; i < statements.size() && windows.size() < limit; ++i) add(statements[i]);
  if (windows.size() > limit) windows.resize(limit);
  return windows;
}

// Languages whose blocks are braces: lines at column 0 above the cursor's
// line that may begin a top-level declaration (a function, a type, an
// impl, an annotated or exported one), nearest first; no preamble. A
// window that begins inside one (a continuation line, a namespace's
// function) is whole above the hole or not, which the guard checks.
std::vector<GuardWindow> brace_windows(std::string_view prefix, size_t limit) {
  std::vector<GuardWindow> windows;
  const size_t cursor_line = prefix.rfind('\n');
  if (cursor_line == std::string_view::npos) return windows;
  for (size_t end = cursor_line; end > 0 && windows.size() < limit;) {
    const size_t nl = prefix.rfind('\n', end - 1);
    const size_t begin = nl == std::string_view::npos ? 0 : nl + 1;
    const auto first = static_cast<unsigned char>(prefix[begin]);
    if (begin < end && (std::isalpha(first) || first == '_' || first == '$' || first == '@' ||
                        prefix.substr(begin).starts_with("#[")))
      windows.push_back({begin, {}});
    if (nl == std::string_view::npos) break;
    end = nl;
  }
  return windows;
}

}  // namespace

bool python_statement_word(std::string_view word) {
  static constexpr std::string_view kWords[] = {
      "def",  "class",  "return", "import", "from",     "while",  "try",  "with",    "raise", "pass",
      "break", "continue", "del", "global", "nonlocal", "assert", "elif", "except", "finally", "async"};
  return std::find(std::begin(kWords), std::end(kWords), word) != std::end(kWords);
}

std::vector<GuardWindow> enclosing_windows(std::string_view language_id, std::string_view prefix, size_t limit) {
  if (language_id == "python") return python_windows(prefix, limit);
  static constexpr std::string_view kBraces[] = {"c",          "cpp",        "java",           "go",
                                                 "javascript", "typescript", "typescriptreact", "rust"};
  if (std::find(std::begin(kBraces), std::end(kBraces), language_id) != std::end(kBraces))
    return brace_windows(prefix, limit);
  return {};
}

}  // namespace astfill::completion
