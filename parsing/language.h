// The languages astfill parses: each grammar compiled into the binary, found by
// LSP languageId or file extension, with the node types the rest of parsing/
// needs to know about (scopes, statements, bodies, comments).
#pragma once

#include <tree_sitter/api.h>

#include <bitset>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace astfill::parsing {

// A set of node types of one grammar, held as symbol ids so that membership
// is one bit test per node (extraction asks this for every ancestor of every
// definition). Built from names: every symbol with that name is included,
// since grammars alias several symbols to one visible name.
class NodeTypes {
 public:
  NodeTypes() = default;
  NodeTypes(const TSLanguage* grammar, std::initializer_list<std::string_view> names);
  bool contains(TSNode node) const { return contains(ts_node_symbol(node)); }
  bool contains(TSSymbol symbol) const { return symbol < bits_.size() && bits_[symbol]; }
  void add(TSSymbol symbol) {
    if (symbol < bits_.size()) bits_[symbol] = true;
  }
  NodeTypes& operator|=(const NodeTypes& other) {
    bits_ |= other.bits_;
    return *this;
  }

 private:
  // Every grammar here has fewer than 1,024 symbols; a larger one is refused
  // by the table test (tests/parsing/language_test.cpp).
  std::bitset<1024> bits_;
};

// How a language writes documentation next to a definition.
enum class DocStyle {
  Docstring,     // Python: the first string literal in the body
  SlashComments, // C, C++, JS, TS, Java: `///`, `/** */`, or a run of `//` lines just above
  GoComments,    // Go: the `//` (or `/* */`) comments just above
  RustDocs,      // Rust: `///` lines (or `/** */`) just above, attributes between allowed
};

struct Language {
  std::string_view id;  // the LSP languageId
  const TSLanguage* grammar = nullptr;
  std::string_view separator;  // joins container names: "." or "::"
  DocStyle doc_style = DocStyle::SlashComments;

  NodeTypes functions;   // function-like scopes (definitions inside them are locals)
  NodeTypes classes;     // class-like containers and scopes
  NodeTypes namespaces;  // namespace/module containers
  NodeTypes blocks;      // brace or indentation blocks (block_end, scope_at)
  NodeTypes statements;  // what statement_end looks for
  NodeTypes bodies;      // a definition's signature ends where one of these starts
  NodeTypes comments;
  NodeTypes wrappers;    // nodes that wrap a definition (export, template, decorators):
                         // its doc comment sits above the wrapper
  NodeTypes opaque;      // never searched for a body (parameter lists, literals)
  NodeTypes declarators; // C/C++: a definition captured at its declarator is the
                         // declaration around it (its type is part of the signature)
  bool braces = true;    // a `{` token also ends a signature
  // The grammar's keywords: its anonymous tokens that are words (`for`,
  // `else`), for "may this word still grow into a keyword?". Listed once,
  // when the table is built.
  std::vector<std::string> keywords;
};

// The language for an LSP languageId ("python", "typescriptreact", ...), or
// nullptr. "javascriptreact" is accepted as JavaScript (the grammar parses JSX).
const Language* find_language(std::string_view language_id);

// Every language, in a fixed order (one per grammar; javascriptreact is not
// listed separately).
std::span<const Language* const> all_languages();

// Node type names in the language table that their grammar does not have
// (a typo there would silently disable a rule); empty when the table is right.
std::vector<std::string> unknown_node_type_names();

}  // namespace astfill::parsing
