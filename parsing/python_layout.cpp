// PythonLayout: the byte-by-byte scanner of Python's layout; the rules are in
// python_layout.h.
#include "parsing/python_layout.h"

#include <algorithm>

namespace astfill::parsing {

const char* to_string(LayoutIssueKind kind) {
  switch (kind) {
    case LayoutIssueKind::UnexpectedIndent: return "unexpected indent";
    case LayoutIssueKind::UnmatchedDedent: return "unindent does not match any outer indentation level";
    case LayoutIssueKind::ExpectedBlock: return "expected an indented block";
    case LayoutIssueKind::InconsistentTabs: return "inconsistent use of tabs and spaces in indentation";
    case LayoutIssueKind::DanglingOperator: return "the line ends in an operator";
  }
  return "unknown";
}

void PythonLayout::judge(uint32_t at) {
  if (block_pending_) {
    block_pending_ = false;
    const Level& top = stack_.back();
    if (col_ > top.col) {
      if (alt_ <= top.alt) report(at, LayoutIssueKind::InconsistentTabs);
      stack_.push_back({col_, alt_});
      return;
    }
    report(at, LayoutIssueKind::ExpectedBlock);
    // Then judged as a line that follows a block.
  }
  const Level& top = stack_.back();
  if (col_ == top.col) {
    if (alt_ != top.alt) report(at, LayoutIssueKind::InconsistentTabs);
    return;
  }
  if (col_ > top.col) {
    report(at, LayoutIssueKind::UnexpectedIndent);
    stack_.push_back({col_, alt_});
    return;
  }
  while (stack_.size() > 1 && col_ < stack_.back().col) stack_.pop_back();
  if (col_ != stack_.back().col) {
    report(at, LayoutIssueKind::UnmatchedDedent);
    stack_.push_back({col_, alt_});
    return;
  }
  if (alt_ != stack_.back().alt) report(at, LayoutIssueKind::InconsistentTabs);
}

namespace {
bool operator_byte(char c) {
  switch (c) {
    case '+': case '-': case '/': case '%': case '@': case '&': case '|': case '^': case '~':
    case '<': case '>': case '=': case '!':
      return true;
    default:
      return false;
  }
}
bool word_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
}  // namespace

void PythonLayout::end_line() {
  if (line_has_code_ && depth_ == 0) {
    if (operator_at_ != UINT32_MAX) {
      report(operator_at_, LayoutIssueKind::DanglingOperator);
    } else if (last_is_word_ && word_len_ <= 4) {
      std::string_view w(word_, word_len_);
      if (w == "and" || w == "or" || w == "not" || w == "in" || w == "is" || w == "if" || w == "else")
        report(word_at_, LayoutIssueKind::DanglingOperator);
    }
  }
  operator_at_ = UINT32_MAX;
  last_is_word_ = word_open_ = operator_open_ = false;
  word_len_ = 0;
}

void PythonLayout::feed(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    const auto at = static_cast<uint32_t>(offset_ + i);
    bool consumed = true;  // false: the byte is read again in the new mode
    switch (mode_) {
      case Mode::LineStart:
        if (c == ' ') {
          ++col_, ++alt_;
        } else if (c == '\t') {
          col_ = (col_ / 8 + 1) * 8;
          ++alt_;
        } else if (c == '\f') {
          col_ = alt_ = 0;
        } else if (c == '\n') {
          col_ = alt_ = 0;  // a blank line
        } else if (c == '#') {
          mode_ = Mode::Comment;
          comment_line_ = true;
        } else if (c != '\r') {
          judge(at);
          mode_ = Mode::Code;
          consumed = false;
        }
        break;
      case Mode::Code:
        // The last significant token, for DanglingOperator.
        if (operator_byte(c)) {
          if (!operator_open_) operator_at_ = at;
          operator_open_ = true;
          last_is_word_ = word_open_ = false;
        } else if (word_byte(c)) {
          if (!word_open_) {
            word_at_ = at;
            word_len_ = 0;
          }
          if (word_len_ < sizeof word_) word_[word_len_] = c;
          if (word_len_ < 255) ++word_len_;
          word_open_ = last_is_word_ = true;
          operator_at_ = UINT32_MAX;
          operator_open_ = false;
        } else if (c == ' ' || c == '\t' || c == '\f' || c == '\r') {
          word_open_ = operator_open_ = false;  // `and x` is two words, `+ =` two operators
        } else if (c != '\n' && c != '#' && c != '\\') {
          operator_at_ = UINT32_MAX;
          last_is_word_ = word_open_ = operator_open_ = false;
        }
        switch (c) {
          case ' ': case '\t': case '\f': case '\r': break;
          case '#':
            mode_ = Mode::Comment;
            comment_line_ = false;
            break;
          case '\\': mode_ = Mode::Backslash; break;
          case '\n':
            if (depth_ > 0) break;
            end_line();
            if (line_has_code_) block_pending_ = ends_colon_;
            line_has_code_ = ends_colon_ = false;
            mode_ = Mode::LineStart;
            col_ = alt_ = 0;
            break;
          case '\'': case '"':
            line_has_code_ = true;
            ends_colon_ = false;
            quote_ = c;
            mode_ = Mode::Quote1;
            break;
          case '(': case '[': case '{':
            ++depth_;
            line_has_code_ = true;
            ends_colon_ = false;
            break;
          case ')': case ']': case '}':
            depth_ = std::max(0, depth_ - 1);
            line_has_code_ = true;
            ends_colon_ = false;
            break;
          case ':':
            line_has_code_ = true;
            ends_colon_ = depth_ == 0;
            break;
          default:
            line_has_code_ = true;
            ends_colon_ = false;
        }
        break;
      case Mode::Comment:
        if (c == '\n') {
          if (comment_line_) {
            mode_ = Mode::LineStart;
            col_ = alt_ = 0;
          } else {
            mode_ = Mode::Code;
            consumed = false;
          }
        }
        break;
      case Mode::Backslash:
        if (c == '\n') mode_ = Mode::Code;  // a continuation line: no layout
        else if (c != '\r') {
          mode_ = Mode::Code;
          consumed = false;
        }
        break;
      case Mode::Quote1:
        if (c == quote_) {
          mode_ = Mode::Quote2;
        } else {
          mode_ = Mode::String;
          triple_ = false;
          consumed = false;
        }
        break;
      case Mode::Quote2:
        if (c == quote_) {
          mode_ = Mode::String;
          triple_ = true;
          closing_quotes_ = 0;
        } else {
          mode_ = Mode::Code;  // an empty string
          consumed = false;
        }
        break;
      case Mode::String:
        if (c == '\\') {
          mode_ = Mode::StringEscape;
        } else if (c == quote_) {
          if (!triple_ || ++closing_quotes_ == 3) mode_ = Mode::Code;
        } else {
          closing_quotes_ = 0;
          if (c == '\n' && !triple_) {  // unterminated: the line ends anyway
            mode_ = Mode::Code;
            consumed = false;
          }
        }
        break;
      case Mode::StringEscape:
        mode_ = Mode::String;
        closing_quotes_ = 0;
        break;
    }
    if (consumed) ++i;
  }
  offset_ += static_cast<uint32_t>(text.size());
}

void PythonLayout::finish() {
  if (mode_ == Mode::Code) end_line();
  const bool open_header = mode_ != Mode::LineStart && line_has_code_ && ends_colon_ && depth_ == 0;
  if (block_pending_ || open_header) report(offset_, LayoutIssueKind::ExpectedBlock);
  block_pending_ = false;
  line_has_code_ = ends_colon_ = false;
}

std::vector<LayoutIssue> python_layout_errors(std::string_view text, uint32_t start, uint32_t end) {
  PythonLayout layout;
  layout.feed(text);
  layout.finish();
  std::vector<LayoutIssue> out;
  for (const LayoutIssue& issue : layout.issues())
    if (issue.byte >= start && issue.byte < end) out.push_back(issue);
  return out;
}

}  // namespace astfill::parsing
