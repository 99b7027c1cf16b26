// Constructs a language's own front end refuses where its tree-sitter
// grammar accepts them (see ../shared/FACTS.md, "Grammar leniencies"): one
// file a language, parsing/constructs_<language>.cpp, each a rule a case
// (tests/bench/guard_replay_test.cpp holds each rule's case and the code left
// alone beside it). Document::constructs_refused walks the nodes that overlap
// a span and asks the language's function of each.
//
// Internal to parsing/.
#pragma once

#include <tree_sitter/api.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "parsing/language.h"

namespace astfill::parsing::constructs {

struct Context {
  std::string_view text;  // the document's
  const Language& language;
  uint32_t start = 0, end = 0;  // the span asked about
  // The text after the span is the file's (a word ending there is
  // finished); else a completion is still being written, and the rules that
  // more text could satisfy wait.
  bool finished = false;
  TSNode root{};  // the tree's

  // Whether an ERROR or a MISSING node is anywhere in the tree (tree-sitter's
  // has_error flag also stays set by a recovery that left neither). Found on
  // first use, kept in error_node_.
  bool tree_holds_error_node() const;
  mutable std::optional<bool> error_node_{};
  // JavaScript and TypeScript: whether the file is strict code throughout
  // (ecmascript_strict_file), found on first use.
  bool strict_file() const;
  mutable std::optional<bool> strict_{};
};

// JavaScript and TypeScript: whether the tree's file is strict code: a
// module (an `import` or `export` at its top level) or a script whose first
// statement is the "use strict" directive. (Class bodies are strict in any
// file.)
bool ecmascript_strict_file(TSNode root, std::string_view text);

// Whether `node` is a construct the language refuses.
bool python_refuses(TSNode node, const Context& c);  // only once finished
bool ecmascript_refuses(TSNode node, const Context& c);
bool java_refuses(TSNode node, const Context& c);
bool c_family_refuses(TSNode node, const Context& c);
bool go_refuses(TSNode node, const Context& c);
bool rust_refuses(TSNode node, const Context& c);

// Whether `node` is a `,` with nothing before it in its list: next to the
// list's opening bracket, comments aside (`b.iter(,)` where `b.iter(|| ...)`
// was: rustc's "expected expression, found `,`"). Every grammar but
// JavaScript's takes some such list (Rust's arguments, patterns, fields and
// parameters; C's initializers; Go's composite literals; ...), and every
// front end refuses one except where the language allows it: an
// ECMAScript array's hole (`[, a]`), a Java initializer's or enum's `{,}`,
// a macro's tokens (Rust's token trees).
bool comma_opens_list(TSNode node, std::string_view language_id);

// The tree's top level: whether a part of it that overlaps the span is
// something `allowed` does not take (a statement where only declarations
// go). Only in a tree without errors: in a file broken elsewhere (a
// function's `)` missing) tree-sitter may leave a function's statements at
// the top level.
bool top_level_refused(const Context& c, bool (*allowed)(std::string_view type));

}  // namespace astfill::parsing::constructs
