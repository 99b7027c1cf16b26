// The syntax check behind constrained decoding: while the model writes a
// completion at a cursor token by token, SyntaxGuard answers "would this
// token make the code irrecoverably wrong?" and remembers what was accepted.
//
// What it parses. The guard keeps a parsing::Document of the prefix, the
// completion so far and a closing tail: the closer of a string or comment the
// completion leaves open (see below), then the closers of every bracket still
// open at the end of the completion, innermost first, on a line of their own
// (`foo(a, [1` is parsed as `foo(a, [1\n])`, a function body as `...\n}`).
// It is updated incrementally on every accepted token. The real suffix is
// not used there: the text after the frontier would be one the completion
// does not fit yet (it may open brackets the suffix does not close), and
// tree-sitter's recovery is global, so a suffix that does not fit puts
// MISSING nodes and small ERRORs before the frontier into correct unfinished
// code. Without any tail, the open
// function body at the end of the text makes tree-sitter wrap the whole
// function in one ERROR, which hides the candidate's mistakes inside it and
// makes every reparse slow. The suffix is used where the question is about
// the finished text: longest_valid_prefix, the stop rule and postprocessing.
//
// A candidate is rejected when, with it appended,
//  - it holds a closing bracket that closes nothing, or the wrong thing (the
//    completion's own brackets must nest; a bracket opened before the cursor
//    may be closed, innermost first); brackets are tokens of the tree, so
//    brackets in strings and comments do not count;
//  - or the text has an error finished before the frontier: a new outermost
//    one by Document::errors_introduced, or any error nested at any depth
//    whose bytes lie inside the completion (they had no error before it).
//    When the prefix is broken already, only the latter: recovery reshapes
//    the prefix's own errors as text is added after them. The frontier is
//    the end of the last token: trailing spaces are not a
//    token, and tree-sitter ends an unfinished construct's ERROR at its last
//    token, so `foo(1, ` must not count as finished. A Python newline outside
//    brackets is a token (it ends the statement) and stays before the
//    frontier, so `x = 1 +\n` is rejected at the newline;
//  - under every hypothesis about strings: a string or comment that is still
//    open at the frontier (`x = "abc`, `/* note`) swallows the closing tail
//    or is an error to tree-sitter (the lexer cannot finish the token, and
//    the rest is parsed as code, brackets included). So the closing tail may
//    start with a probe, a closing quote or `*/`, and the candidate is viable
//    if it is clean with some probe that closes a string open at the
//    frontier, or with none. The accepted text is kept parsed under the
//    hypothesis it was viable under (a cursor inside a docstring starts with
//    its closer in the tail); candidates are tried under that one first
//    (under none first when they may close it), then under the last probe
//    needed and those whose openers the completion wrote;
//  - Python: the candidate makes a layout issue as CPython sees it
//    (parsing/python_layout.h; tree-sitter-python accepts these): a line
//    indented deeper than its block after a line that opens none, a dedent to
//    a column no enclosing block has, a block without a statement (a line
//    after `:` that is not deeper: a body of only comments, or none), tabs and
//    spaces that order a line differently. A line is judged at its first
//    significant byte (its indentation is final then); only issues in the
//    completion's bytes count (the prefix may be broken already). The scanner
//    keeps its state after the accepted text, so a check reads the piece only;
//  - and the candidate does not end with a word that may still grow into a
//    keyword or a number (`fo` of `for`, `1.5e` of `1.5e3`): such a word is
//    judged when it is finished, the text before it now.
//
// Parses at the start: prefix + suffix once (none when the caller hands that
// tree in), then two incremental reparses of a copy (the suffix taken away,
// the closing tail put on).
//
// Cost per viable(): a Document copy (ts_tree_copy, a new parser), one
// incremental reparse (two when the candidate opens or closes a bracket and
// the tail changes), a walk over the candidate's tokens and one over the
// error nodes. Only when an error is finished before the frontier (a bad
// candidate, or a prefix that is broken already) does errors_introduced parse
// the text without the completion, and other hypotheses parse again. See
// bench/syntax.cpp for measurements.
//
// Not thread-safe: a guard belongs to one decoding loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsing/document.h"
#include "parsing/python_layout.h"
#include "support/cancel.h"

namespace astfill::completion {

// A bracket opened and not yet closed: its offset in the text and the byte
// that closes it.
struct OpenBracket {
  uint32_t at = 0;
  char closer = 0;
};

// How the completion's tokens pair with brackets (see SyntaxGuard::brackets).
struct CompletionBrackets {
  bool unmatched = false;                 // a closer that closes nothing or the wrong bracket
  std::optional<size_t> closes_enclosing; // offset in the completion of the first closer of a
                                          // bracket opened before the cursor
  std::vector<OpenBracket> open;          // opened by the completion and still open
  size_t enclosing_open = 0;              // brackets opened before the cursor still open
};

struct SyntaxGuardStats {
  size_t checks = 0;      // viable() calls that parsed
  size_t rejections = 0;  // of those, answered false
  size_t base_parses = 0; // calls that needed errors_introduced's second parse
  size_t probes = 0;      // parses under another string hypothesis than the accepted text's
  size_t keyword_parses = 0;  // calls that parsed again without an unfinished word
  size_t layout_rejections = 0;  // of the rejections, those by Python's layout rules
  double seconds = 0;     // time spent in viable()
};

class SyntaxGuard {
 public:
  // `prefix` and `suffix` are the document's text before and after the
  // cursor. Parses stop when `cancel` is cancelled; from then on every
  // candidate is viable (the decoder is being stopped anyway).
  //
  // `whole` is prefix + suffix already parsed (a language-matching Document
  // whose text is exactly that), or null: the guard parses it then. Every
  // other tree the guard needs is a copy of it edited (incremental reparses),
  // so with `whole` given the guard makes no full parse.
  SyntaxGuard(std::string_view language_id, std::string prefix, std::string suffix,
              const CancellationToken& cancel = {}, std::shared_ptr<const parsing::Document> whole = nullptr);

  // Whether the language has a grammar; without one every candidate is viable.
  bool supported() const;

  // Whether appending `piece` (a token's bytes, possibly an incomplete UTF-8
  // sequence, then true without parsing) to the completion so far keeps the
  // code free of irrecoverable syntax errors (the rules are at the top of
  // this file). Does not change what was accepted.
  bool viable(std::string_view piece);

  // Appends `piece` to the completion for good (viable or not).
  void accept(std::string_view piece);

  const std::string& completion() const { return completion_; }
  const std::string& prefix() const { return prefix_; }
  const std::string& suffix() const { return suffix_; }

  // The length of the longest prefix of completion(), cut where an accept()
  // ended or at a line end, such that prefix + that + suffix has no syntax
  // error that prefix + suffix did not have (anywhere, not only before a
  // frontier; for Python, no layout issue it did not have either). 0 when
  // none is; completion().size() when the whole is fine.
  size_t longest_valid_prefix() const;

  // Whether prefix + `text` + suffix is whole, the test a finished
  // completion must pass (service.cpp asks it whatever ended decoding: the
  // stop rule, a stop token, the token or time cap):
  //  - no syntax error (ERROR or MISSING node, a keyword taken for a name,
  //    Python's layout issues) that prefix + suffix did not have outside the
  //    hole: errors after the completion map to prefix + suffix shifted back,
  //    errors inside it are new. Where the prefix is broken already,
  //    tree-sitter reshapes its errors as text follows them, so errors before
  //    the hole count by number, not by place;
  //  - and the errors prefix + suffix had at the hole (starting between the
  //    prefix's last and the suffix's first non-whitespace byte: a missing
  //    body, a missing expression or argument) are gone: the completion
  //    repaired them. An empty text never does.
  // Unfinished code (an open bracket, a half statement before the suffix)
  // leaves an error the suffix did not have, so it is not whole.
  bool whole_with(std::string_view text) const;
  // The length of the longest prefix of `text` that is whole_with; cut at the
  // text's end, at a line end (before or after the '\n'), or, while `text` is
  // the completion so far, where an accept() ended. 0 when none is (the
  // answer is then empty, never noise).
  size_t longest_whole_prefix(std::string_view text) const;
  // The answer to give for `text`, what the model wrote, when it is not
  // whole_with as it is (a cap, the stop rule or nothing viable ended it
  // mid-statement): the longest cut of it (the cuts of longest_whole_prefix)
  // that is whole as it is or once closed: the string or comment it leaves
  // open closed, then the brackets it opened, innermost first, then, in
  // languages whose statements end with `;`, one `;` if that is what it
  // still lacks (`"0.0.0.` + `"`, `1000` + `;`, `f(a, b` + `)`). Only the
  // closers are not the model's; an answer is never a not-whole one: "" when
  // no cut is whole either way.
  std::string whole_answer(std::string_view text) const;
  // What closes `text` after the cursor: the closer of a string or comment it
  // leaves open (not a line comment's line break when nothing else follows),
  // then the closers of the brackets it opened and left open, innermost
  // first. Nullopt when its brackets do not nest or the cursor is in a
  // string or comment other than a plain quote's.
  std::optional<std::string> closing_of(std::string_view text) const;

  // prefix + completion (up to its last complete UTF-8 character) + the
  // closing tail (a string closer when the completion leaves a string or
  // comment open, then the bracket closers), parsed; the completion's parsed
  // bytes end at completion_end().
  const parsing::Document& document() const { return document_; }
  // prefix + suffix, parsed (without a tree for an unsupported language).
  const parsing::Document& whole() const { return *whole_; }
  uint32_t completion_end() const;
  // How the accepted completion's brackets pair up.
  const CompletionBrackets& brackets() const { return brackets_; }
  const SyntaxGuardStats& stats() const { return stats_; }

 private:
  // Whether `tail` (pending bytes + a piece) is viable under some hypothesis
  // about an open string (see hypotheses); *chosen: the one it is viable
  // under, else the current one.
  bool check(std::string_view tail, std::optional<size_t>* chosen);
  // The probes (kProbes indices; nullopt: no string open) to parse `piece`
  // under, in order.
  std::vector<std::optional<size_t>> hypotheses(std::string_view piece) const;
  // The probe that closes a string or comment the prefix leaves open at the cursor.
  std::optional<size_t> probe_open_at_cursor() const;
  // Replaces everything after completion_end() in `doc` with `piece`, the
  // probe's closer and the bracket tail the completion then needs (the old
  // one if a closer is unmatched). False when the parse was stopped.
  bool append(parsing::Document& doc, std::string_view piece, std::optional<size_t> probe,
              CompletionBrackets* brackets, std::string* bracket_tail) const;
  // The closers for `brackets`, then, in Python, `finally: pass` for each
  // try still waiting for its handlers in the prefix and `written` (the text
  // from the start of the cursor's line to the end of the completion parsed).
  std::string bracket_tail(const CompletionBrackets& brackets, std::string_view written) const;
  // The columns of `try:` lines in `text` whose except or finally has not
  // come, pushed onto `trys` (lines at or left of a try's column end it);
  // `last_is_open`: the last line may still be growing into a handler.
  static void open_trys(std::vector<uint32_t>& trys, std::string_view text, bool last_is_open);
  static std::string_view closer_of(std::optional<size_t> probe);
  // No new error before the frontier in `trial` (`tail` appended), also once
  // an unfinished word at the end is taken away; `probed`: parsed with a
  // probe's closer, which must then close a string or comment open there.
  bool clean_under(const parsing::Document& trial, std::string_view tail, const CompletionBrackets& brackets,
                   bool probed);
  // `end`: where the completion ends in `doc` (a word ending there may grow).
  bool clean(const parsing::Document& doc, uint32_t frontier, uint32_t end);
  parsing::ParseLimits limits() const;
  // Python: whether appending `piece` makes a layout issue (parsing/python_layout.h).
  bool breaks_layout(std::string_view piece) const;
  // Whether `piece` puts a line break into the string the accepted text
  // leaves open, where the language's strings do not span lines (a
  // JavaScript, TypeScript, C, C++, Java, Go or Python single-quoted string;
  // the grammars accept it, the front ends report an unterminated string).
  bool breaks_string_line(std::string_view piece) const;
  // Python: whether `piece` writes a byte no Python 3 token holds (`` ` ``,
  // `$`, `?`) outside strings and comments; tree-sitter-python reads
  // `if `x`:` without an error, CPython refuses it.
  // `before`: the completion's text before the piece.
  bool stray_python_byte(std::string_view piece, std::string_view before) const;
  // No new error in prefix + `text` + suffix (longest_valid_prefix); with
  // `whole`, by whole_with's rules.
  bool fits(std::string_view text, bool whole) const;
  // The cut points of `text`, longest first (see longest_whole_prefix).
  std::vector<size_t> cuts_of(std::string_view text, bool whole) const;
  // The longest cut of `text` (longest first, see longest_whole_prefix) that fits.
  size_t longest_fitting(std::string_view text, bool whole) const;

  std::string prefix_, suffix_, completion_;
  std::string pending_;       // accepted bytes of an incomplete UTF-8 character, not yet parsed
  std::string bracket_tail_;  // the closers after the completion (and the probe's closer) in document_
  std::optional<size_t> open_probe_;    // the string closer document_ carries: the text leaves it open
  std::optional<size_t> needed_probe_;  // the last probe the accepted text needed
  std::optional<size_t> probe_open_at_cursor_;  // the string or comment the prefix leaves open
  std::string checked_;                 // the text of the last viable() call...
  std::optional<size_t> checked_probe_; // ...and the probe it was viable under
  // The last clean check's parse of document_ with `tail` appended (append's
  // result): accept() of that tail takes it instead of parsing again.
  struct ViableTrial {
    std::string tail;
    parsing::Document document;
    CompletionBrackets brackets;
    std::string bracket_tail;
  };
  std::optional<ViableTrial> viable_trial_;
  std::shared_ptr<const parsing::Document> whole_;  // prefix + suffix (shared: never edited)
  parsing::Document document_;
  std::vector<OpenBracket> enclosing_;  // brackets open at the cursor
  bool strict_enclosing_ = true;        // prefix + suffix parses cleanly: trust enclosing_'s order
  bool prefix_broken_ = false;          // the prefix has syntax errors before the cursor
  uint32_t prefix_first_error_ = UINT32_MAX;  // where the prefix alone has its first syntax error
  CompletionBrackets brackets_;
  std::vector<size_t> boundaries_;      // completion sizes after each accept()
  CancellationToken cancel_;
  SyntaxGuardStats stats_;
  // Python: the layout scanner after the prefix and every accepted byte,
  // after the prefix alone, and prefix + suffix's issues after the cursor.
  std::optional<parsing::PythonLayout> layout_, prefix_layout_;
  std::vector<parsing::LayoutIssue> suffix_issues_;
  // How prefix + suffix closes the brackets open at the cursor (whole_with),
  // found on first use.
  struct BaseClosing {
    bool failed = false;
    bool hole = false;   // the failure is the hole's (an answer must repair it)
    uint32_t after = 0;  // where it is, in bytes after the cursor
  };
  mutable std::optional<BaseClosing> base_closing_;
  // Whether the prefix's code ends with a `do`'s body (fits), found on first use.
  mutable std::optional<bool> do_body_before_hole_;
  // Where the suffix's first line of code ends, past the comments that
  // follow the hole (fits), found on first use.
  mutable std::optional<size_t> suffix_code_line_end_;
  // The starts of prefix + suffix's errors that lie in the statement the
  // hole is in (fits), sorted, found on first use.
  mutable std::optional<std::vector<uint32_t>> statement_errors_;
  // Python: the suffix's line that continues the compound statement of the
  // hole's line (an `elif`, `else`, `except` or `finally` at its
  // indentation, past the lines of its body), as [begin, end) of the
  // document, or {0, 0}; found on first use (fits).
  mutable std::optional<std::pair<uint32_t, uint32_t>> next_clause_;
  // fits(): whether prefix + suffix has an error at the hole (computed once).
  mutable std::optional<bool> base_hole_error_;
  // Where prefix + suffix is broken above the definition the cursor is in:
  // a guard over that definition alone (completion/guard_window.h), which
  // fits() asks instead; found on first use, shared by copies (it depends
  // on prefix and suffix only).
  const SyntaxGuard* window() const;
  mutable std::optional<std::shared_ptr<const SyntaxGuard>> window_;
  bool in_window_ = false;  // this guard is another's window
  bool python_ = false;
  size_t prefix_line_start_ = 0;        // where the cursor's line starts
  std::vector<uint32_t> prefix_trys_;   // trys open before the cursor's line (their columns)
};

// The number of syntax errors in a document: outermost ERROR nodes, MISSING
// nodes, and keywords the grammar took for names (Python's `return return`;
// other languages' keywords count only in whole_with, see Document::
// reserved_words_as_names).
// For tests and callers that compare two texts.
size_t count_syntax_errors(const parsing::Document& doc);

}  // namespace astfill::completion
