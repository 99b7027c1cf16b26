// What the index learns from one file: definitions, references and imports,
// extracted with tree-sitter queries. Plain data shared by parsing/ (which
// produces it) and index/ (which stores and queries it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace astfill::parsing {

enum class SymbolKind {
  Function,
  Method,
  Class,
  Struct,
  Interface,
  Trait,
  Enum,
  EnumMember,
  Field,
  Constant,
  Variable,
  TypeAlias,
  Module,
  Namespace,
};

const char* to_string(SymbolKind kind);

// A region of a file: byte offsets and (line, column) with columns in bytes,
// all zero-based; end is exclusive.
struct Span {
  uint32_t start_byte = 0, end_byte = 0;
  uint32_t start_line = 0, start_column = 0;
  uint32_t end_line = 0, end_column = 0;
};

struct Definition {
  std::string name;
  SymbolKind kind = SymbolKind::Function;
  std::string signature;  // the declaration's header as written ("def add(a, b) -> int"), one line
  std::string doc;        // doc comment or docstring, without comment markers
  std::string container;  // enclosing class / namespace / module path ("Stack", "ns::Inner"); "" at top level
  Span range;             // the whole definition
  Span name_range;        // its name
};

struct Reference {
  std::string name;  // identifier as written
  Span range;
};

struct Import {
  std::string module;              // the module path as written ("os.path", "./util", "vector", "crate::a::b")
  std::vector<std::string> names;  // names imported from it, if listed ("join", "*"); empty for a plain import
  bool relative = false;           // Python "from . import x", JS "./x", C quote includes
  Span range;
};

struct FileSymbols {
  std::vector<Definition> definitions;
  std::vector<Reference> references;
  std::vector<Import> imports;
  bool has_syntax_errors = false;
};

}  // namespace astfill::parsing
