// The language table: grammars, LSP ids and the node types parsing/ cares
// about. Node type names come from each grammar's src/node-types.json; a name
// a grammar does not have is a bug in this table, which language_test checks.
#include "parsing/language.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
const TSLanguage* tree_sitter_python(void);
const TSLanguage* tree_sitter_javascript(void);
const TSLanguage* tree_sitter_typescript(void);
const TSLanguage* tree_sitter_tsx(void);
const TSLanguage* tree_sitter_c(void);
const TSLanguage* tree_sitter_cpp(void);
const TSLanguage* tree_sitter_go(void);
const TSLanguage* tree_sitter_rust(void);
const TSLanguage* tree_sitter_java(void);
}

namespace astfill::parsing {

namespace {
std::mutex unknown_mu;
std::vector<std::string>& unknown_names() {
  static std::vector<std::string> names;
  return names;
}

bool is_named_symbol(const TSLanguage* grammar, TSSymbol s) {
  return ts_language_symbol_type(grammar, s) == TSSymbolTypeRegular;
}
}  // namespace

NodeTypes::NodeTypes(const TSLanguage* grammar, std::initializer_list<std::string_view> names) {
  const uint32_t count = ts_language_symbol_count(grammar);
  for (std::string_view name : names) {
    bool found = false;
    for (uint32_t s = 0; s < count && s < bits_.size(); ++s) {
      if (!is_named_symbol(grammar, static_cast<TSSymbol>(s))) continue;
      if (name == ts_language_symbol_name(grammar, static_cast<TSSymbol>(s))) {
        bits_[s] = true;
        found = true;
      }
    }
    if (!found) {
      std::lock_guard lock(unknown_mu);
      unknown_names().push_back(std::string(name));
    }
  }
}

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Statements, for statement_end: every named node type that the grammar calls a
// statement, declaration, definition or (Rust) item, except the pieces of
// parameter lists and attributes that share those suffixes.
NodeTypes statement_types(const TSLanguage* grammar, std::initializer_list<std::string_view> extra) {
  NodeTypes types(grammar, extra);
  const uint32_t count = ts_language_symbol_count(grammar);
  for (uint32_t s = 0; s < count; ++s) {
    auto symbol = static_cast<TSSymbol>(s);
    if (!is_named_symbol(grammar, symbol)) continue;
    std::string_view name = ts_language_symbol_name(grammar, symbol);
    if (name.find("parameter") != std::string_view::npos || name.find("attribute") != std::string_view::npos)
      continue;
    if (ends_with(name, "_statement") || ends_with(name, "_declaration") || ends_with(name, "_definition") ||
        ends_with(name, "_item"))
      types.add(symbol);
  }
  return types;
}

Language python() {
  const TSLanguage* g = tree_sitter_python();
  Language l;
  l.id = "python";
  l.grammar = g;
  l.separator = ".";
  l.doc_style = DocStyle::Docstring;
  l.functions = NodeTypes(g, {"function_definition", "lambda"});
  l.classes = NodeTypes(g, {"class_definition"});
  l.blocks = NodeTypes(g, {"block"});
  l.statements = statement_types(g, {"decorated_definition"});
  l.bodies = NodeTypes(g, {"block"});
  l.comments = NodeTypes(g, {"comment"});
  l.wrappers = NodeTypes(g, {"decorated_definition"});
  l.opaque = NodeTypes(g, {"parameters", "argument_list", "dictionary", "list", "set", "tuple", "string"});
  l.braces = false;
  return l;
}

// JavaScript and the two TypeScript grammars share most node types.
Language ecmascript(std::string_view id, const TSLanguage* g, bool typescript) {
  Language l;
  l.id = id;
  l.grammar = g;
  l.separator = ".";
  l.functions = NodeTypes(g, {"function_declaration", "function_expression", "arrow_function",
                              "generator_function", "generator_function_declaration", "method_definition"});
  l.classes = NodeTypes(g, {"class_declaration", "class"});
  l.blocks = NodeTypes(g, {"statement_block", "class_body", "switch_body"});
  l.statements = statement_types(g, {});
  l.bodies = NodeTypes(g, {"statement_block", "class_body"});
  l.comments = NodeTypes(g, {"comment"});
  // A declarator's doc sits above its declaration (`/** doc */ export const X = 1;`).
  l.wrappers = NodeTypes(g, {"export_statement", "lexical_declaration", "variable_declaration"});
  l.opaque = NodeTypes(g, {"formal_parameters", "arguments", "object", "array", "string", "template_string"});
  if (typescript) {
    l.classes |= NodeTypes(g, {"abstract_class_declaration", "interface_declaration", "enum_declaration"});
    l.namespaces = NodeTypes(g, {"internal_module", "module"});
    l.blocks |= NodeTypes(g, {"interface_body", "enum_body"});
    l.bodies |= NodeTypes(g, {"interface_body", "enum_body"});
    l.wrappers |= NodeTypes(g, {"ambient_declaration"});
  }
  return l;
}

Language c_family(std::string_view id, const TSLanguage* g, bool cpp) {
  Language l;
  l.id = id;
  l.grammar = g;
  l.separator = "::";
  if (cpp) {
    l.functions = NodeTypes(g, {"function_definition", "lambda_expression"});
    l.classes = NodeTypes(g, {"class_specifier", "struct_specifier", "union_specifier", "enum_specifier"});
    l.namespaces = NodeTypes(g, {"namespace_definition"});
    l.wrappers = NodeTypes(g, {"template_declaration", "type_definition"});
  } else {
    l.functions = NodeTypes(g, {"function_definition"});
    l.classes = NodeTypes(g, {"struct_specifier", "union_specifier", "enum_specifier"});
    l.wrappers = NodeTypes(g, {"type_definition"});
  }
  l.blocks = NodeTypes(g, {"compound_statement", "field_declaration_list", "enumerator_list", "declaration_list"});
  l.statements = statement_types(g, {"declaration"});
  l.bodies = NodeTypes(g, {"compound_statement", "field_declaration_list", "enumerator_list", "declaration_list"});
  l.comments = NodeTypes(g, {"comment"});
  l.opaque = NodeTypes(g, {"parameter_list", "argument_list", "initializer_list", "string_literal"});
  l.declarators = NodeTypes(g, {"function_declarator", "pointer_declarator", "parenthesized_declarator",
                                "array_declarator", "init_declarator"});
  if (cpp) l.declarators |= NodeTypes(g, {"reference_declarator"});
  return l;
}

Language go() {
  const TSLanguage* g = tree_sitter_go();
  Language l;
  l.id = "go";
  l.grammar = g;
  l.separator = ".";
  l.doc_style = DocStyle::GoComments;
  l.functions = NodeTypes(g, {"function_declaration", "method_declaration", "func_literal"});
  l.classes = NodeTypes(g, {"type_spec"});
  l.blocks = NodeTypes(g, {"block", "field_declaration_list"});
  l.statements = statement_types(g, {});
  l.bodies = NodeTypes(g, {"block", "field_declaration_list"});
  l.comments = NodeTypes(g, {"comment"});
  l.wrappers = NodeTypes(g, {"type_declaration", "const_declaration", "var_declaration"});
  l.opaque = NodeTypes(g, {"parameter_list", "argument_list", "literal_value", "interpreted_string_literal"});
  return l;
}

Language rust() {
  const TSLanguage* g = tree_sitter_rust();
  Language l;
  l.id = "rust";
  l.grammar = g;
  l.separator = "::";
  l.doc_style = DocStyle::RustDocs;
  l.functions = NodeTypes(g, {"function_item", "closure_expression"});
  l.classes = NodeTypes(g, {"struct_item", "enum_item", "union_item", "trait_item", "impl_item"});
  l.namespaces = NodeTypes(g, {"mod_item"});
  l.blocks = NodeTypes(g, {"block", "declaration_list", "field_declaration_list", "enum_variant_list", "match_block"});
  l.statements = statement_types(g, {});
  l.bodies = NodeTypes(g, {"block", "declaration_list", "field_declaration_list", "enum_variant_list"});
  l.comments = NodeTypes(g, {"line_comment", "block_comment"});
  l.opaque = NodeTypes(g, {"parameters", "arguments", "string_literal", "token_tree"});
  return l;
}

Language java() {
  const TSLanguage* g = tree_sitter_java();
  Language l;
  l.id = "java";
  l.grammar = g;
  l.separator = ".";
  l.functions = NodeTypes(g, {"method_declaration", "constructor_declaration", "lambda_expression"});
  l.classes = NodeTypes(g, {"class_declaration", "interface_declaration", "enum_declaration", "record_declaration",
                            "annotation_type_declaration"});
  l.blocks = NodeTypes(g, {"block", "class_body", "interface_body", "enum_body", "constructor_body", "switch_block"});
  l.statements = statement_types(g, {});
  l.bodies = NodeTypes(g, {"block", "class_body", "interface_body", "enum_body", "constructor_body"});
  l.comments = NodeTypes(g, {"line_comment", "block_comment"});
  l.opaque = NodeTypes(g, {"formal_parameters", "argument_list", "array_initializer", "string_literal"});
  return l;
}

std::vector<std::string> keywords_of(const TSLanguage* grammar) {
  std::vector<std::string> out;
  const uint32_t count = ts_language_symbol_count(grammar);
  for (uint32_t s = 0; s < count; ++s) {
    if (ts_language_symbol_type(grammar, static_cast<TSSymbol>(s)) != TSSymbolTypeAnonymous) continue;
    std::string_view name = ts_language_symbol_name(grammar, static_cast<TSSymbol>(s));
    if (!name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        }))
      out.emplace_back(name);
  }
  return out;
}

struct Table {
  std::array<Language, 9> languages;
  std::array<const Language*, 9> pointers;
};

const Table& table() {
  static const Table t = [] {
    Table t{{python(), ecmascript("javascript", tree_sitter_javascript(), false),
             ecmascript("typescript", tree_sitter_typescript(), true),
             ecmascript("typescriptreact", tree_sitter_tsx(), true), c_family("c", tree_sitter_c(), false),
             c_family("cpp", tree_sitter_cpp(), true), go(), rust(), java()},
            {}};
    for (size_t i = 0; i < t.languages.size(); ++i) {
      t.languages[i].keywords = keywords_of(t.languages[i].grammar);
      t.pointers[i] = &t.languages[i];
    }
    return t;
  }();
  return t;
}

}  // namespace

const Language* find_language(std::string_view language_id) {
  if (language_id == "javascriptreact") language_id = "javascript";
  for (const Language& l : table().languages)
    if (l.id == language_id) return &l;
  return nullptr;
}

std::span<const Language* const> all_languages() { return table().pointers; }

// For the table test: node type names in the table that a grammar lacks.
std::vector<std::string> unknown_node_type_names() {
  table();
  std::lock_guard lock(unknown_mu);
  return unknown_names();
}

}  // namespace astfill::parsing
