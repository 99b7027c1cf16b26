// postprocess: the steps are listed in postprocess.h, one function each.
#include "completion/postprocess.h"

#include <algorithm>
#include <cctype>
#include <numeric>
#include <vector>

#include "completion/lines.h"
#include "parsing/identifiers.h"

namespace astfill::completion {

namespace {

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  for (size_t start = 0;;) {
    size_t nl = text.find('\n', start);
    lines.emplace_back(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) return lines;
    start = nl + 1;
  }
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += '\n';
    out += lines[i];
  }
  return out;
}

// Step 2.
void strip_trailing_whitespace(std::vector<std::string>& lines) {
  for (std::string& line : lines) line.resize(trim_right(line).size());
  while (lines.size() > 1 && lines.back().empty()) lines.pop_back();
}

// Step 4. The line above the cursor is the prefix's last non-blank line
// before the cursor's own; the first completion line is compared whole (the
// cursor line's text before the cursor, then the completion's).
void drop_repeats(std::string_view language_id, std::vector<std::string>& lines, std::string_view prefix) {
  std::string_view cursor_line = last_line(prefix);
  std::string_view above = last_nonblank_line(prefix.substr(0, prefix.size() - cursor_line.size()));
  std::string first = std::string(cursor_line) + lines[0];
  if (parsing::has_identifier_part(language_id, first) && trim(first) == trim(above)) {
    // The next line moves up to the cursor, whose line has its indentation.
    lines.erase(lines.begin());
    if (lines.empty()) lines.emplace_back();
    if (is_blank(cursor_line)) lines[0].erase(0, indentation(lines[0]));
  }
  std::vector<std::string> kept;
  for (std::string& line : lines) {
    if (!kept.empty() && parsing::has_identifier_part(language_id, line) && trim(line) == trim(kept.back())) continue;
    kept.push_back(std::move(line));
  }
  lines = std::move(kept);
}

// Step 5, whole lines: the completion's last non-blank lines equal the
// suffix's first non-blank lines after the cursor's line, indentation
// included (a `}` closing an inner block is not the suffix's `}`). The first
// completion line is compared as the cursor's line with it.
void drop_suffix_lines(std::vector<std::string>& lines, std::string_view prefix, std::string_view suffix) {
  size_t nl = suffix.find('\n');
  if (nl == std::string_view::npos || !is_blank(first_line(suffix))) return;
  std::vector<std::string_view> ahead;  // views into `suffix`
  for (size_t start = nl + 1; start <= suffix.size();) {
    size_t end = suffix.find('\n', start);
    std::string_view line = suffix.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!is_blank(line)) ahead.push_back(trim_right(line));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  const std::string cursor_line(last_line(prefix));
  auto whole = [&](size_t i) { return i == 0 ? cursor_line + lines[0] : lines[i]; };
  std::vector<size_t> nonblank;  // indices of the completion's non-blank lines
  for (size_t i = 0; i < lines.size(); ++i)
    if (!is_blank(lines[i])) nonblank.push_back(i);
  // The largest k: the last k non-blank lines equal the suffix's first k.
  for (size_t k = std::min(nonblank.size(), ahead.size()); k > 0; --k) {
    bool equal = true;
    for (size_t j = 0; j < k && equal; ++j) equal = trim_right(whole(nonblank[nonblank.size() - k + j])) == ahead[j];
    if (!equal) continue;
    lines.resize(nonblank[nonblank.size() - k]);
    if (lines.empty()) lines.emplace_back();
    while (lines.size() > 1 && is_blank(lines.back())) lines.pop_back();
    return;
  }
}

// Step 5, within the line: the completion's tail equals the start of the
// rest of the cursor's line.
void drop_suffix_tail(std::string_view language_id, std::vector<std::string>& lines, std::string_view suffix) {
  std::string_view rest = first_line(suffix);
  while (!rest.empty() && is_blank_char(rest.front())) rest.remove_prefix(1);
  rest = trim_right(rest);
  std::string& last = lines.back();
  for (size_t k = std::min(rest.size(), last.size()); k > 0; --k) {
    std::string_view head = rest.substr(0, k);
    if (!std::string_view(last).ends_with(head)) continue;
    if (parsing::has_identifier_part(language_id, head) && k != rest.size()) continue;
    last.resize(trim_right(std::string_view(last).substr(0, last.size() - k)).size());
    return;
  }
}

// Step 3.
struct FileIndent {
  bool known = false;
  bool tabs = false;
  size_t unit = 4;  // spaces per level, for space-indented files
};

FileIndent file_indent(std::string_view language_id, std::string_view prefix, std::string_view suffix) {
  size_t tab_lines = 0, space_lines = 0, unit = 0;
  auto count = [&](std::string_view line) {
    if (line.empty()) return;
    if (line[0] == '\t') ++tab_lines;
    if (line[0] != ' ') return;
    ++space_lines;
    unit = std::gcd(unit, std::min(indentation(line), line.find_first_not_of(' ')));
  };
  // The cursor's line counts even when blank: the editor indented it.
  std::string_view cursor_line = last_line(prefix);
  count(cursor_line);
  for (std::string_view text : {prefix.substr(0, prefix.size() - cursor_line.size()), suffix})
    for (const std::string& line : split_lines(text))
      if (!is_blank(line)) count(line);
  FileIndent indent;
  if (tab_lines + space_lines == 0) {
    indent.known = indent.tabs = language_id == "go";
    return indent;
  }
  indent.known = true;
  indent.tabs = tab_lines > space_lines;
  if (unit >= 2 && unit <= 8) indent.unit = unit;
  return indent;
}

void reindent(std::vector<std::string>& lines, const FileIndent& file, bool first_line_too) {
  if (!file.known) return;
  const size_t from = first_line_too ? 0 : 1;
  if (file.tabs) {
    size_t unit = 0;
    for (size_t i = from; i < lines.size(); ++i) {
      size_t n = 0;
      while (n < lines[i].size() && lines[i][n] == ' ') ++n;
      unit = std::gcd(unit, n);
    }
    if (unit == 0) return;
    if (unit % 4 == 0) unit = 4;
    else if (unit % 2 == 0) unit = 2;
    for (size_t i = from; i < lines.size(); ++i) {
      std::string& line = lines[i];
      size_t tabs = 0, n = 0;
      while (n < line.size() && (line[n] == ' ' || line[n] == '\t')) ++n;
      size_t spaces = 0;
      for (size_t j = 0; j < n; ++j) line[j] == '\t' ? ++tabs : ++spaces;
      line = std::string(tabs + spaces / unit, '\t') + std::string(spaces % unit, ' ') + line.substr(n);
    }
    return;
  }
  for (size_t i = from; i < lines.size(); ++i) {
    std::string& line = lines[i];
    size_t n = indentation(line);
    std::string lead;
    for (size_t j = 0; j < n; ++j) lead += line[j] == '\t' ? std::string(file.unit, ' ') : std::string(1, ' ');
    line = lead + line.substr(n);
  }
}

}  // namespace

std::string postprocess(std::string_view language_id, std::string_view prefix, std::string_view suffix,
                        std::string_view completion, CompletionMode mode) {
  if (mode == CompletionMode::SingleLine) completion = first_line(completion);
  std::vector<std::string> lines = split_lines(completion);
  strip_trailing_whitespace(lines);
  reindent(lines, file_indent(language_id, prefix, suffix), last_line(prefix).empty());
  drop_repeats(language_id, lines, prefix);
  drop_suffix_lines(lines, prefix, suffix);
  drop_suffix_tail(language_id, lines, suffix);
  strip_trailing_whitespace(lines);
  std::string out = join_lines(lines);
  if (is_blank(out)) return "";
  if (trim_left(suffix).starts_with(trim(out))) return "";
  return out;
}

}  // namespace astfill::completion
