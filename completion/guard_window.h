// The part of a file the syntax guard judges a completion in when the file is
// broken above the definition the cursor is in.
//
// A user editing one function leaves others half-written: an unclosed `(`
// or a missing `:` twenty lines up. Tree-sitter's error recovery for such a
// file is global (in Python an unclosed bracket turns everything after it
// into one ERROR whose inner shape changes with every token written further
// down), so comparing the errors of prefix + suffix with those of prefix +
// completion + suffix blames correct code for the file's own break. CPython
// reports that break the same with or without the completion. What can be
// judged is the completion inside its own definition, or from the nearest
// statement below the break: the text from such a line on, with the lines
// above replaced by a preamble that opens the same blocks (`if 1:` at each
// enclosing indentation), so its indentation stays legal. The guard takes
// the first window that leaves the break out and is itself whole above the
// cursor's line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace astfill::completion {

struct GuardWindow {
  size_t from = 0;       // where the definition's first line starts in the prefix
  std::string preamble;  // what stands for prefix[0, from): the enclosing blocks' headers
};

// Python: whether `word` can only begin a statement or a clause (`return`,
// `import`, `def`, `elif`, `except`, ...): no expression holds it, so a line
// that begins with it is not inside brackets.
bool python_statement_word(std::string_view word);

// The windows of `prefix` (the text before the cursor) for `language_id`,
// best first, at most `limit`; none where the language has none (Python
// only: its blocks are its indentation). First the innermost `def` or `class`
// (with its decorators) above the cursor's line whose block holds every code
// line between them; then, nearest first, lines after it (or from the file's
// start) that can only begin a statement (`return`, `import`, `with`, ...,
// or an `if`, `for` or `while` line ending with `:`) at a column no deeper
// than the cursor's line and any code line between them. A window whose
// lines above do not nest down to column 0 is left out.
std::vector<GuardWindow> enclosing_windows(std::string_view language_id, std::string_view prefix, size_t limit);

}  // namespace astfill::completion
