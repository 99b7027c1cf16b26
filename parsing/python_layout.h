// Python's layout rules as CPython's tokenizer and parser apply them, which
// tree-sitter-python does not (see ../shared/FACTS.md, "Grammar leniencies"):
// it accepts an over-indented statement after a line that opens no block, a
// dedent to a column no enclosing block has, and a block of only comments.
//
// The scanner reads the text once, byte by byte, and keeps what CPython's
// tokenizer keeps: whether it is inside a string (', ", ''' or """, with
// backslash escapes; prefixes such as r, b, f change nothing here), a comment,
// brackets (no layout inside them) or a backslash continuation, and the stack
// of enclosing indentation columns. A logical line's indentation is judged at
// its first significant byte (not a space, tab, form feed, newline or `#`):
// from there on nothing can change it. Blank and comment-only lines are not
// judged. Columns are counted as CPython does: a tab advances to the next
// multiple of 8, and an "alternative" column counts every tab as 1; the two
// must order a line the same way against the stack, else it is a TabError.
//
// Issues, at the byte of the judged line's first significant byte:
//  - UnexpectedIndent: deeper than the enclosing block after a line that
//    does not end with `:` (`x = 1\n    y = 2`);
//  - UnmatchedDedent: shallower, to a column no enclosing block has
//    ("unindent does not match any outer indentation level");
//  - ExpectedBlock: after a line ending with `:` (outside brackets, comments
//    aside) the next logical line is not deeper: the block has no statement
//    (comments do not count). At the end of the text (finish()), a pending
//    block is an issue at the end;
//  - InconsistentTabs: the two column counts disagree (TabError);
//  - DanglingOperator: a logical line ends (outside brackets, without a
//    backslash) in a binary or unary operator (`+`, `==`, `=`, `|`, ...) or in
//    `and`/`or`/`not`/`in`/`is`/`if`/`else`, at the operator's byte.
//    tree-sitter-python reads on into the next line there (its scanner gives
//    no newline where the grammar expects an operand: `x +\ny` as `x + y`,
//    `y = \nz = 1` as a chained assignment); CPython ends the line and
//    refuses it. Not `*` (`from m import *`), `.` (`x = 1.`) or `,` (a tuple).
// After an issue the scanner goes on as CPython would have wanted it (the
// over-indented column becomes a block, the unmatched one too), so one
// mistake is reported once.
//
// Feeding is incremental: a copy of a scanner that has read a prefix can be
// fed a continuation (a completion candidate) at the cost of that
// continuation alone.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace astfill::parsing {

enum class LayoutIssueKind { UnexpectedIndent, UnmatchedDedent, ExpectedBlock, InconsistentTabs, DanglingOperator };
const char* to_string(LayoutIssueKind kind);

struct LayoutIssue {
  uint32_t byte = 0;
  LayoutIssueKind kind = LayoutIssueKind::UnexpectedIndent;
  bool operator==(const LayoutIssue& other) const = default;
};

class PythonLayout {
 public:
  // Reads `text`, which continues the text read so far (offsets continue).
  void feed(std::string_view text);
  // The end of the text: a block still waiting for its first statement is an
  // ExpectedBlock issue at the end. Feeding after finish() is not meaningful.
  void finish();

  // Bytes read so far.
  uint32_t offset() const { return offset_; }
  const std::vector<LayoutIssue>& issues() const { return issues_; }
  // Whether the text read so far ends inside brackets, a string or a
  // backslash continuation (a logical line not yet ended).
  bool in_brackets() const { return depth_ > 0; }
  bool in_string() const { return mode_ == Mode::String || mode_ == Mode::StringEscape; }

 private:
  enum class Mode { LineStart, Code, Comment, Quote1, Quote2, String, StringEscape, Backslash };
  struct Level {
    uint32_t col = 0, alt = 0;
  };
  void judge(uint32_t at);
  // The logical line ends: a trailing operator is an issue.
  void end_line();
  void report(uint32_t at, LayoutIssueKind kind) { issues_.push_back({at, kind}); }

  Mode mode_ = Mode::LineStart;
  uint32_t offset_ = 0;
  uint32_t col_ = 0, alt_ = 0;    // the indentation of the line being measured
  int depth_ = 0;                 // open brackets
  char quote_ = 0;                // the open string's quote
  bool triple_ = false;           // ''' or """
  int closing_quotes_ = 0;        // quotes in a row inside a triple-quoted string
  bool line_has_code_ = false;    // the logical line has a significant token
  bool ends_colon_ = false;       // ...and its last one is `:` outside brackets
  bool block_pending_ = false;    // the last logical line opened a block
  bool comment_line_ = false;     // the comment began a line (back to LineStart after it)
  // The logical line's last significant token, for DanglingOperator: an
  // operator's byte (or UINT32_MAX), or the word it ends with.
  uint32_t operator_at_ = UINT32_MAX;
  uint32_t word_at_ = 0;
  char word_[8] = {};             // the last word's first bytes (only short words matter)
  uint8_t word_len_ = 0;          // its length (saturates at 255)
  bool last_is_word_ = false;     // the last significant token is a word
  bool word_open_ = false;        // ...and the last byte read was part of it
  bool operator_open_ = false;    // the last byte read was part of an operator
  std::vector<Level> stack_{Level{}};
  std::vector<LayoutIssue> issues_;
};

// The layout issues of `text` (finished: a pending block at the end counts)
// whose byte lies in [start, end).
std::vector<LayoutIssue> python_layout_errors(std::string_view text, uint32_t start = 0,
                                              uint32_t end = UINT32_MAX);

}  // namespace astfill::parsing
