// How much a completion should write: one line or a block (mode_at, decided
// before generation from the code around the cursor), and when a completion
// being generated is done (StopRule, asked after every accepted token).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "completion/syntax_guard.h"

namespace astfill::completion {

enum class CompletionMode { SingleLine, MultiLine };

const char* to_string(CompletionMode mode);

// The mode for a cursor between `prefix` and `suffix`. Rules, first match:
//  1. Code after the cursor on its line: SingleLine (the user is editing
//     inside a line), except an empty brace pair `{|}` that the tree says
//     is a block (a body to write; not an initializer or JSX braces).
//     Closers the editor typed ahead (`foo(|)`) count as code here.
//  2. The cursor ends a line with code: MultiLine after a block opener (`{`
//     in brace languages, `:` in Python: a body follows), else SingleLine
//     (finish the statement).
//  3. The cursor is on a blank line. MultiLine where a definition may start:
//     the innermost scope of the tree at the cursor is the file, a class or a
//     namespace. Inside a function or block: MultiLine when the block has
//     nothing after the cursor (the next non-blank line is less indented or
//     starts with a closer, or there is none: the user is writing the block's
//     end or an empty body), SingleLine between existing statements.
// Unsupported languages follow the same rules with the scope taken as a block.
// `whole`: prefix + suffix already parsed (e.g. SyntaxGuard::whole()), or
// null: the rules that need a tree parse it then.
CompletionMode mode_at(std::string_view language_id, std::string_view prefix, std::string_view suffix,
                       const parsing::Document* whole = nullptr);

// When to stop generating. After each SyntaxGuard::accept, should_stop()
// says whether the completion is done; keep() says how much of it to keep
// (the token that revealed the end may have carried text past it).
//
// SingleLine: at the first newline (kept: the text before it), or once the
// completion ends with the rest of the cursor's line (`foo(a, b|)` → `)`;
// postprocess trims the overlap).
// MultiLine, in order:
//  - the completion closed a bracket opened before the cursor (the block it
//    fills is complete): kept up to that closer, without it when the suffix
//    starts with the same closer, and without the closer's line when that
//    line holds nothing else;
//  - a finished line repeats the suffix's next non-blank line: kept up to
//    that line;
//  - a new line starts less indented than the block the completion fills
//    (the block ended, Python's way): kept up to that line;
//  - the completion repeats itself (a model looping): the last finished
//    non-blank lines, one or more with a letter or digit, equal the lines
//    just before them (kept: the first copy), or within a line a unit with a
//    word in it (not a number: `0, 0, 0, 0` in a table is data) comes 4
//    times in a row (`value, value, value, value, `; kept: up to the end of
//    the first). SingleLine completions stop at such a loop too;
//  - at declaration level (the cursor on a blank line in a file, class or
//    namespace), once a statement the completion wrote is complete (a tree
//    node without errors): at the line end after its `}` or `;`, or when a
//    line at the same or lower indentation starts (Python): kept up to it.
class StopRule {
 public:
  StopRule(const SyntaxGuard& guard, CompletionMode mode);

  bool should_stop();
  size_t keep() const { return keep_; }
  CompletionMode mode() const { return mode_; }
  // Why the last should_stop() said true ("" before then), for logs and tests.
  const char* reason() const { return reason_; }

 private:
  bool stop(size_t keep, const char* reason);
  bool single_line();
  bool closed_enclosing();
  bool repeats_suffix();
  bool left_block();
  bool statement_done();
  bool repeats_itself();

  const SyntaxGuard& guard_;
  CompletionMode mode_;
  std::string rest_of_line_;  // the suffix up to its first newline, trimmed
  std::string next_line_;     // the suffix's first non-blank line, trimmed
  size_t block_indent_ = 0;   // a completion line indented less than this left the block
  size_t base_indent_ = 0;    // the cursor line's indentation
  bool declaration_level_ = false;
  size_t keep_ = 0;
  const char* reason_ = "";
};

}  // namespace astfill::completion
