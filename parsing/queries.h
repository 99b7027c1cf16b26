// The compiled extraction query of each language and what its captures mean.
//
// One query per language: astfill's own patterns (parsing/queries/<lang>.scm)
// followed by the grammar's queries/tags.scm (TypeScript also takes
// JavaScript's, as tree-sitter's tags tooling does), compiled together so one
// pass of a query cursor finds everything. Our patterns come first, and when
// two patterns capture the same name, the lower pattern index wins.
//
// Capture names:
//   @definition.<kind> + @name   a definition (kinds: see kind_from_capture)
//   @reference.<kind> + @name    a use of a name
//   @import                      an import statement (the node it spans)
//   @import.module               the module path as written
//   @import.name                 a name imported from it
//   @import.relative             marks the import relative
//   @import.use                  a Rust use tree, expanded in extract_imports.cpp
// Anything else (@doc, @local.scope) is ignored. Predicates #eq?, #not-eq?,
// #match?, #not-match?, #any-of? are evaluated; directives (#strip!,
// #select-adjacent!, ...) are ignored: docs are found in extract_docs.cpp.
#pragma once

#include <tree_sitter/api.h>

#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "parsing/language.h"

namespace astfill::parsing {

enum class CaptureRole { Ignored, Name, Definition, Reference, Import, ImportModule, ImportName, ImportRelative, ImportUse };

struct Capture {
  CaptureRole role = CaptureRole::Ignored;
  std::string kind;  // "function" for @definition.function
};

struct Predicate {
  enum class Op { Eq, NotEq, Match, NotMatch, AnyOf, NotAnyOf } op;
  uint32_t capture = 0;
  std::vector<std::string> values;  // literal(s) to compare with
  int other_capture = -1;           // #eq? @a @b
  std::regex pattern;
};

struct CompiledQuery {
  TSQuery* query = nullptr;  // null when even our own patterns failed to compile
  std::vector<Capture> captures;                 // by capture id
  std::vector<std::vector<Predicate>> predicates;  // by pattern index
  uint32_t own_patterns = 0;  // patterns [0, own_patterns) are ours
  std::string error;          // why the grammar's tags.scm (or ours) did not compile
};

// Compiled once per language on first use; thread-safe, never freed.
const CompiledQuery& query_for(const Language& language);

// Whether a match satisfies its pattern's predicates.
bool predicates_hold(const CompiledQuery& q, const TSQueryMatch& match, std::string_view text);

}  // namespace astfill::parsing
