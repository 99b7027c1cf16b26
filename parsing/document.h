// One file's text and its tree-sitter tree, kept in sync with edits.
//
// An edit updates the text, tells the old tree what moved (ts_tree_edit, with
// byte offsets and row/column points) and reparses incrementally: tree-sitter
// reuses every subtree the edit did not touch, so a keystroke in a large file
// costs little. Long parses poll a cancellation token and a deadline (see
// ParseLimits); a parse that is stopped leaves the text updated and the old,
// edited tree in place, so positions stay consistent until the next parse.
//
// Not thread-safe: one Document belongs to one thread at a time. Copying makes
// an independent document that shares no mutable state (ts_tree_copy is
// cheap), e.g. to try a completion candidate without disturbing the original.
#pragma once

#include <tree_sitter/api.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parsing/language.h"
#include "parsing/symbols.h"
#include "support/cancel.h"

namespace astfill::parsing {

struct ParseLimits {
  // Handed to tree-sitter as its cancellation flag (ts_parser_set_cancellation_flag),
  // which it polls every ~100 parse operations.
  CancellationToken cancel;
  std::chrono::milliseconds timeout{0};  // 0: no deadline
};

enum class ParseStatus {
  Parsed,       // the tree matches the text
  Cancelled,    // stopped by the token or the flag; the tree lags the text
  TimedOut,     // stopped by the deadline; the tree lags the text
  Unsupported,  // no grammar for the language (or a text past 2 GB): no tree at all
};

const char* to_string(ParseStatus status);

// The innermost enclosing function, class, namespace or block.
struct Scope {
  enum class Kind { Function, Class, Namespace, Block, File };
  Kind kind = Kind::File;
  std::string name;  // the function's or class's name; "" for blocks and the file
  Span range;
};

// The answer to errors_introduced (see there for the exact rules).
struct SyntaxCheck {
  bool introduced = false;     // at least one new error before the frontier
  uint32_t first_error = 0;    // byte offset of the first new error (when introduced)
  uint32_t new_errors = 0;     // how many new errors before the frontier
};

class Document {
 public:
  // Parses `text` as `language_id` (an LSP languageId). An unsupported
  // language gives a document without a tree (status() == Unsupported) whose
  // edits still keep the text.
  Document(std::string_view language_id, std::string text, const ParseLimits& limits = {});
  Document(const Document& other);
  Document& operator=(const Document& other);
  Document(Document&& other) noexcept;
  Document& operator=(Document&& other) noexcept;
  ~Document();

  // Replaces text[start_byte, old_end_byte) with `new_text` and reparses
  // incrementally. Offsets are clamped to the text (and old_end_byte to at
  // least start_byte): bad offsets from a confused caller never corrupt the
  // tree, they edit the nearest valid range.
  ParseStatus edit(uint32_t start_byte, uint32_t old_end_byte, std::string_view new_text,
                   const ParseLimits& limits = {});
  // Parses again after a Cancelled or TimedOut edit (incrementally from the
  // edited old tree).
  ParseStatus reparse(const ParseLimits& limits = {});

  const std::string& text() const { return text_; }
  const Language* language() const { return language_; }
  ParseStatus status() const { return status_; }
  // Null only for unsupported languages.
  const TSTree* tree() const { return tree_; }
  TSNode root() const;
  bool has_syntax_errors() const;

  // "Containing" below means what a cursor is in (contains_cursor in
  // nodes.h): start <= byte < end, or byte == end for a node still open at
  // its end (not closed by a bracket or `;`), so the cursor after `x = 1` or
  // at the end of an indented block is in it, and the cursor after `}` or `;`
  // is not.

  // The named leaf that ends at `byte` (the token just typed: `foo|`), else
  // the smallest named node containing `byte`; nullopt without a tree.
  std::optional<TSNode> node_at(uint32_t byte) const;
  // The innermost function, class, namespace or block containing `byte`; a
  // block that is the body of a function, class or namespace is reported as
  // that. The whole file when none.
  Scope scope_at(uint32_t byte) const;
  // Where the innermost statement (or declaration, definition, Rust item)
  // containing `byte` ends; the text's end when there is none.
  uint32_t statement_end(uint32_t byte) const;
  // Where the innermost block (braces, or a Python indented block)
  // containing `byte` ends; the text's end at top level.
  uint32_t block_end(uint32_t byte) const;

  // Whether the text in [start, end) brought syntax errors with it.
  //
  // Meant for completion: the caller inserts a candidate at the cursor (the
  // document then holds prefix + candidate, with or without the suffix) and
  // asks errors_introduced(cursor, cursor + candidate.size()). `end` is the
  // frontier: what the model has produced so far.
  //
  // Rules. The tree is compared with a parse of the same text without
  // [start, end). An error is an ERROR node (the outermost of nested ones) or
  // a MISSING node. An error of this tree is counted when
  //  - it is finished before the frontier: an ERROR node that ends before
  //    `end` (tree-sitter skipped that text and parsed on before the
  //    frontier), or a MISSING node (zero-width) at a byte before `end`.
  //    Errors that reach the frontier or begin after it are pending: the text
  //    after the frontier is still to come, and tree-sitter reports an
  //    unfinished construct (an open call `foo(1, 2`, a header without its
  //    body `def f(a, b`) as an ERROR running to the end of the text or into
  //    the suffix, or as a MISSING token there; and
  //  - it is new: the tree without the span has no error of the same kind
  //    (ERROR, or MISSING of the same node type) beginning at the
  //    corresponding byte (bytes before `start` map to themselves, bytes after
  //    `end` shift back by end - start, a byte at the span's edges matches
  //    either side, bytes inside the span have no counterpart).
  // So errors the prefix already had (the cursor sits in broken code) are not
  // blamed on the candidate, a correct but unfinished candidate passes, and a
  // wrong token (`y = = 2`, `foo(a));`) is reported as soon as the parser has
  // moved past it before the frontier. Some mistakes stay pending until more
  // text follows: tree-sitter may wrap `y = foo(1, 2))` at the end of the
  // text in one ERROR that reaches the frontier; the newline after it makes
  // the error finished, and reported.
  SyntaxCheck errors_introduced(uint32_t start, uint32_t end) const;

  // Identifiers within [start, end) that are reserved words of the language,
  // which can never be names but which lenient grammars accept:
  // tree-sitter-python reads `return return` as returning a variable named
  // `return`, tree-sitter-java `foo(if)` as a call with an argument named
  // `if`. Only identifiers that end before `end` count (one that ends there
  // may still grow: `return` -> `returned`).
  //
  // `finished`: the text is a whole file, no construct in it still being
  // typed; then every language's list applies (the lists are in
  // syntax_errors.cpp). Otherwise only Python's: other grammars also read a
  // keyword that starts an unfinished construct as a name (`export` before
  // its declaration is written), so mid-completion their keywords say nothing.
  size_t reserved_words_as_names(uint32_t start, uint32_t end, bool finished = false) const;

  // Constructs overlapping [start, end) that the grammar accepts and the
  // language refuses: Python's `x as y` outside a with item, an except
  // clause or a case pattern (tree-sitter-python reads `f() as g` as an
  // expression statement; CPython: invalid syntax) and a positional argument
  // after a keyword argument (`f(a=0, 0)`), counted once `finished`
  // (a with statement being typed may pass through it); JavaScript's and
  // TypeScript's `x----`, an increment of an increment (not a
  // left-hand-side expression; no text after it makes it one), and an object
  // literal where a statement begins (`if (x) { "a": 1, }`: there `{` opens
  // a block); Java's expression statements that are no statement
  // expression (`1000;`, `a.b;`: javac's "not a statement"), once their `;`
  // is written, and, once `finished`, its integer literals out of their
  // type's range (`10000000000`: "integer number too large"; an `L` may
  // still be coming while it is typed); C's and C++'s lowercase words joined
  // to string literals (`in "2.0"`: only a macro may do that) and, in a body,
  // a declaration whose declarator starts a line no deeper than its type's
  // (`Prie` above `EXPECT_EQ(0, x);`: two statements joined); once
  // `finished`, Go's bracketed lists whose last element ends a line before
  // the closer without a `,` (Go puts a `;` there), Rust's integer
  // literals past u128 ("integer literal is too large") and its expressions
  // where items go (a file's or module's top level: only a macro call);
  // JavaScript's and TypeScript's assignments to a parenthesized left side
  // that holds nothing assignable (`(a, b) = c`); Java's repeated modifiers;
  // Python's `,` before any argument (`f(,)`) and Go's `defer`/`go` of
  // something that is no call, once `finished`; Rust's doc comments where
  // rustc's parser refuses them (an inner one after code, an outer one
  // that documents nothing or stands inside an expression), once written to
  // their end.
  size_t constructs_refused(uint32_t start, uint32_t end, bool finished) const;

  // Line breaks within [start, end) inside a string literal that may not span
  // lines: a plain JavaScript/TypeScript, Java, C/C++ or Go string or
  // character literal, a Python string that is not triple-quoted. A line
  // break escaped by a backslash continues the literal where the language
  // allows it (JavaScript, TypeScript, C, C++, Python). The grammars accept
  // such a literal (tree-sitter-typescript reads `"abc`, a line break and `"`
  // as one string); the languages' own front ends report it unterminated.
  // Template literals, raw strings, text blocks, JSX attribute values and
  // Rust strings span lines.
  size_t line_breaks_in_strings(uint32_t start, uint32_t end) const;
  // The literals of that kind that hold such a line break, as byte ranges in
  // order: where tree-sitter's error recovery lexed code as one long string
  // (a quote read in the wrong state swallows the lines up to the next
  // quote), the brackets in it are code the tree does not show.
  std::vector<std::pair<uint32_t, uint32_t>> strings_across_lines() const;

  // C and C++: preprocessing directives overlapping [start, end) that the
  // preprocessor does not know (`# Licensed to ...`): tree-sitter-c reads any
  // `#word` line as a directive call; gcc refuses it. Line markers
  // (`# 12 "file.c"`) are known. A directive ending at `end` may still grow.
  size_t unknown_directives(uint32_t start, uint32_t end) const;

 private:
  ParseStatus parse(const ParseLimits& limits);
  void release();

  std::string text_;
  const Language* language_ = nullptr;
  TSParser* parser_ = nullptr;
  TSTree* tree_ = nullptr;
  ParseStatus status_ = ParseStatus::Unsupported;
};

// Parses `text` with `language` from scratch (or incrementally from
// `old_tree`, already edited to match) under `limits`. On success *out holds
// the new tree (owned by the caller). Counted in parses_on_this_thread.
ParseStatus parse_text(TSParser* parser, const TSTree* old_tree, std::string_view text, const ParseLimits& limits,
                       TSTree** out);

// How many parses parse_text has started on the calling thread (finished or
// stopped), and of those how many were full parses: from scratch, without an
// old tree to reuse. The rest are incremental reparses after an edit. For
// counting what one request costs: read before and after, on the thread that
// runs it.
uint64_t parses_on_this_thread();
uint64_t full_parses_on_this_thread();

}  // namespace astfill::parsing
