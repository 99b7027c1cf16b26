// extract_symbols: runs a language's query over a document and turns matches
// into definitions (with container, kind, signature and doc), references and
// imports. What the captures mean is described in queries.h.
#include "parsing/extract.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <span>
#include <unordered_set>

#include "parsing/document.h"
#include "parsing/extract_internal.h"
#include "parsing/identifiers.h"
#include "parsing/nodes.h"
#include "parsing/queries.h"

namespace astfill::parsing {

const char* to_string(SymbolKind kind) {
  switch (kind) {
    case SymbolKind::Function: return "function";
    case SymbolKind::Method: return "method";
    case SymbolKind::Class: return "class";
    case SymbolKind::Struct: return "struct";
    case SymbolKind::Interface: return "interface";
    case SymbolKind::Trait: return "trait";
    case SymbolKind::Enum: return "enum";
    case SymbolKind::EnumMember: return "enum_member";
    case SymbolKind::Field: return "field";
    case SymbolKind::Constant: return "constant";
    case SymbolKind::Variable: return "variable";
    case SymbolKind::TypeAlias: return "type_alias";
    case SymbolKind::Module: return "module";
    case SymbolKind::Namespace: return "namespace";
  }
  return "?";
}

std::string language_of_path(std::string_view path) {
  size_t slash = path.find_last_of("/\\");
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t dot = base.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return "";
  std::string ext(base.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // `.h` could be C, C++ or Objective-C: C here, C++ when language_of_file
  // sees C++ in it.
  static const std::pair<const char*, const char*> table[] = {
      {"py", "python"},       {"pyi", "python"},     {"js", "javascript"}, {"mjs", "javascript"},
      {"cjs", "javascript"},  {"jsx", "javascript"}, {"ts", "typescript"}, {"mts", "typescript"},
      {"cts", "typescript"},  {"tsx", "typescriptreact"}, {"c", "c"},     {"h", "c"},
      {"cc", "cpp"},          {"cpp", "cpp"},        {"cxx", "cpp"},       {"hpp", "cpp"},
      {"hh", "cpp"},          {"hxx", "cpp"},        {"h++", "cpp"},       {"go", "go"},
      {"rs", "rust"},         {"java", "java"},
  };
  for (auto [e, id] : table)
    if (ext == e) return id;
  return "";
}

namespace {

// looks_like_cpp reads C or C++: identifiers as parsing/identifiers.h has them for C++.
constexpr std::string_view cpp = "cpp";

// `word` at `i` as a whole word.
bool word_at(std::string_view s, size_t i, std::string_view word) {
  return s.substr(i, word.size()) == word && identifier_run_begin(cpp, s, i) == i &&
         identifier_run_end(cpp, s, i + word.size()) == i + word.size();
}

size_t skip_space(std::string_view s, size_t i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

size_t skip_ident(std::string_view s, size_t i) { return identifier_run_end(cpp, s, i); }

}  // namespace

bool looks_like_cpp(std::string_view text) {
  std::string_view s = text.substr(0, 64 << 10);
  bool line_start = true;  // only whitespace since the last newline
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\n') {
      line_start = true;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {  // line comment
      i = s.find('\n', i);
      if (i == std::string_view::npos) break;
      --i;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {  // block comment
      i = s.find("*/", i + 2);
      if (i == std::string_view::npos) break;
      ++i;
      continue;
    }
    if (c == '"' || c == '\'') {  // a literal (not a raw string: that would be C++ already)
      for (++i; i < s.size() && s[i] != c && s[i] != '\n'; ++i)
        if (s[i] == '\\') ++i;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    bool at_line_start = line_start;
    line_start = false;
    if (c == '#' && at_line_start) {
      // #include <vector>: a standard header without `.h` is C++'s.
      size_t j = skip_space(s, i + 1);
      if (word_at(s, j, "include")) {
        j = skip_space(s, j + 7);
        if (j < s.size() && s[j] == '<') {
          size_t close = s.find_first_of(">\n", j);
          if (close != std::string_view::npos && s[close] == '>') {
            std::string_view name = s.substr(j + 1, close - j - 1);
            if (!name.empty() && name.find('.') == std::string_view::npos && name.find('/') == std::string_view::npos)
              return true;
          }
        }
      }
      i = s.find('\n', i);  // the rest of a directive is not code
      if (i == std::string_view::npos) break;
      --i;
      continue;
    }
    if (c == ':' && i + 1 < s.size() && s[i + 1] == ':') return true;  // std::, Class::member
    size_t end = skip_ident(s, i);
    if (end == i || identifier_run_begin(cpp, s, i) != i) continue;
    std::string_view w = s.substr(i, end - i);
    // Keywords C code does not use as names (`operator`, `virtual`, `friend`
    // and `new` are plausible C identifiers, so they say nothing).
    if (w == "nullptr" || w == "constexpr" || w == "noexcept" || w == "decltype" || w == "typename" ||
        w == "static_cast" || w == "reinterpret_cast" || w == "const_cast" || w == "dynamic_cast")
      return true;
    if (w == "public" || w == "private" || w == "protected") {
      size_t j = skip_space(s, end);
      if (j < s.size() && s[j] == ':' && (j + 1 >= s.size() || s[j + 1] != ':')) return true;
    }
    if (w == "template") {
      if (size_t j = skip_space(s, end); j < s.size() && s[j] == '<') return true;
    }
    if (w == "namespace") {  // namespace x {, namespace {, namespace a::b {
      size_t j = skip_space(s, end);
      j = skip_space(s, skip_ident(s, j));
      if (j < s.size() && (s[j] == '{' || s[j] == ':' || s[j] == '=')) return true;
    }
    if (w == "class") {  // class Name { / class Name : public Base / class Name final
      size_t j = skip_space(s, end);
      size_t name_end = skip_ident(s, j);
      if (name_end > j) {
        size_t k = skip_space(s, name_end);
        if (k < s.size() && (s[k] == '{' || s[k] == ':' || s[k] == ';' || word_at(s, k, "final"))) return true;
      }
    }
    if (w == "using") {  // using namespace std; using T = int;
      size_t j = skip_space(s, end);
      if (word_at(s, j, "namespace")) return true;
      size_t k = skip_space(s, skip_ident(s, j));
      if (k > j && k < s.size() && s[k] == '=') return true;
    }
    i = end - 1;
  }
  return false;
}

std::string language_of_file(std::string_view path, std::string_view text) {
  std::string language = language_of_path(path);
  if (language == "c" && looks_like_cpp(text)) return "cpp";
  return language;
}

bool is_supported_language(std::string_view language_id) { return find_language(language_id) != nullptr; }

namespace {

struct DefinitionHit {
  TSNode node{}, name{};
  SymbolKind kind = SymbolKind::Function;
  uint32_t pattern = 0;
};

struct Hits {
  std::vector<DefinitionHit> definitions;
  std::vector<TSNode> references;
  std::vector<detail::ImportHit> imports;
};

std::optional<SymbolKind> kind_from_capture(std::string_view k) {
  static const std::pair<std::string_view, SymbolKind> table[] = {
      {"function", SymbolKind::Function},   {"method", SymbolKind::Method},
      {"class", SymbolKind::Class},         {"struct", SymbolKind::Struct},
      {"interface", SymbolKind::Interface}, {"trait", SymbolKind::Trait},
      {"enum", SymbolKind::Enum},           {"enum_member", SymbolKind::EnumMember},
      {"field", SymbolKind::Field},         {"constant", SymbolKind::Constant},
      {"variable", SymbolKind::Variable},   {"type", SymbolKind::TypeAlias},
      {"module", SymbolKind::Module},       {"namespace", SymbolKind::Namespace},
      {"macro", SymbolKind::Function},
  };
  for (auto [name, kind] : table)
    if (k == name) return kind;
  return std::nullopt;
}

void add_match(const CompiledQuery& q, const TSQueryMatch& m, Hits* hits) {
  DefinitionHit def;
  bool is_def = false, is_ref = false, is_import = false;
  TSNode name{};
  detail::ImportHit import;
  for (uint16_t i = 0; i < m.capture_count; ++i) {
    const TSQueryCapture& c = m.captures[i];
    const Capture& role = q.captures[c.index];
    switch (role.role) {
      case CaptureRole::Name: name = c.node; break;
      case CaptureRole::Definition:
        if (auto kind = kind_from_capture(role.kind)) {
          is_def = true;
          def.node = c.node;
          def.kind = *kind;
        }
        break;
      case CaptureRole::Reference: is_ref = true; break;
      case CaptureRole::Import: is_import = true; import.statement = c.node; break;
      case CaptureRole::ImportModule: import.module = c.node; break;
      case CaptureRole::ImportName: import.names.push_back(c.node); break;
      case CaptureRole::ImportRelative: import.relative = true; break;
      case CaptureRole::ImportUse: import.use_tree = c.node; break;
      case CaptureRole::Ignored: break;
    }
  }
  if (is_def && !ts_node_is_null(name)) {
    def.name = name;
    def.pattern = m.pattern_index;
    hits->definitions.push_back(def);
  } else if (is_ref && !ts_node_is_null(name)) {
    hits->references.push_back(name);
  } else if (is_import) {
    hits->imports.push_back(std::move(import));
  }
}

Hits run_query(const Document& doc, const CompiledQuery& q, const CancellationToken& cancel) {
  Hits hits;
  TSQueryCursor* cursor = ts_query_cursor_new();
  // Bounds the matches in progress: patterns like tags.scm's `(comment)* .`
  // could otherwise keep thousands alive in a file of comments.
  ts_query_cursor_set_match_limit(cursor, 256);
  ts_query_cursor_exec(cursor, q.query, doc.root());
  TSQueryMatch match;
  uint32_t seen = 0;
  while (ts_query_cursor_next_match(cursor, &match)) {
    if (++seen % 1024 == 0 && cancel.cancelled()) break;
    if (predicates_hold(q, match, doc.text())) add_match(q, match, &hits);
  }
  ts_query_cursor_delete(cursor);
  return hits;
}

// Generic kinds lose to specific ones when two patterns capture one name
// (`const f = () => 1` is a constant to one pattern and a function to another).
bool is_generic(SymbolKind k) {
  return k == SymbolKind::Constant || k == SymbolKind::Variable || k == SymbolKind::Field;
}

std::vector<DefinitionHit> dedupe(std::vector<DefinitionHit> defs) {
  auto key = [](const DefinitionHit& d) { return std::pair(ts_node_start_byte(d.name), ts_node_end_byte(d.name)); };
  std::stable_sort(defs.begin(), defs.end(), [&](const DefinitionHit& a, const DefinitionHit& b) {
    if (key(a) != key(b)) return key(a) < key(b);
    if (is_generic(a.kind) != is_generic(b.kind)) return !is_generic(a.kind);
    return a.pattern < b.pattern;
  });
  std::vector<DefinitionHit> out;
  for (const DefinitionHit& d : defs)
    if (out.empty() || key(out.back()) != key(d)) out.push_back(d);
  return out;
}

// The signature ends where the definition's body begins.
TSNode find_body(const Language& lang, TSNode def) {
  TSNode body{};
  for_each_preorder(def, [&](TSNode node, uint32_t depth) {
    if (depth == 0) return Walk::Enter;
    if (lang.bodies.contains(node) ||
        (depth <= 2 && lang.braces && !ts_node_is_named(node) && std::string_view(ts_node_type(node)) == "{")) {
      body = node;
      return Walk::Stop;
    }
    return depth == 3 || lang.opaque.contains(node) ? Walk::Skip : Walk::Enter;
  });
  return body;
}

std::string signature_of(const Language& lang, std::string_view text, TSNode def, TSNode from) {
  TSNode body = find_body(lang, def);
  uint32_t end = ts_node_is_null(body) ? ts_node_end_byte(def) : ts_node_start_byte(body);
  std::string_view s = text_between(text, ts_node_start_byte(from), end);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (!s.empty() && (s.back() == ':' || s.back() == ';' || s.back() == ',' || s.back() == '{')) s.remove_suffix(1);
  return collapse_whitespace(s);
}

struct Context {
  const Language& lang;
  std::string_view text;
  TSNode root;
};

std::string container_name(const Context& ctx, TSNode node) {
  TSNode name = field(node, "name");
  if (ts_node_is_null(name)) name = field(node, "type");  // Rust `impl Trait for Type`
  if (ts_node_is_null(name)) return "";
  if (std::string_view(ts_node_type(name)) == "generic_type") name = field(name, "type");
  std::string_view s = node_text(ctx.text, name);
  return std::string(s.substr(0, s.find('<')));
}

// Go methods live at top level; their container is the receiver's type.
std::string go_receiver_type(const Context& ctx, TSNode method) {
  std::string type;
  for_each_preorder(field(method, "receiver"), [&](TSNode n) {
    if (std::string_view(ts_node_type(n)) != "type_identifier") return Walk::Enter;
    type = node_text(ctx.text, n);
    return Walk::Stop;
  });
  return type;
}

// `ns::Stack::push` -> name node `push`, qualifier "ns::Stack".
TSNode unqualify(const Context& ctx, TSNode name, std::string* qualifier) {
  while (std::string_view(ts_node_type(name)) == "qualified_identifier") {
    TSNode scope = field(name, "scope"), inner = field(name, "name");
    if (ts_node_is_null(inner)) break;
    if (!ts_node_is_null(scope)) {
      // `Stack<T>::push` belongs to Stack.
      if (std::string_view(ts_node_type(scope)) == "template_type" && !ts_node_is_null(field(scope, "name")))
        scope = field(scope, "name");
      if (!qualifier->empty()) *qualifier += "::";
      *qualifier += node_text(ctx.text, scope);
    }
    name = inner;
  }
  return name;
}

SymbolKind kind_by_node(const Context& ctx, TSNode node, SymbolKind kind) {
  std::string_view type = ts_node_type(node);
  if (type == "type_spec") {  // Go: what the type is made of
    std::string_view inner = ts_node_type(field(node, "type"));
    return inner == "struct_type" ? SymbolKind::Struct
           : inner == "interface_type" ? SymbolKind::Interface
                                       : SymbolKind::TypeAlias;
  }
  static const std::pair<std::string_view, SymbolKind> table[] = {
      {"struct_specifier", SymbolKind::Struct},  {"struct_item", SymbolKind::Struct},
      {"union_specifier", SymbolKind::Struct},   {"union_item", SymbolKind::Struct},
      {"enum_specifier", SymbolKind::Enum},      {"enum_item", SymbolKind::Enum},
      {"enum_declaration", SymbolKind::Enum},    {"trait_item", SymbolKind::Trait},
      {"interface_declaration", SymbolKind::Interface},
      {"type_item", SymbolKind::TypeAlias},      {"type_alias_declaration", SymbolKind::TypeAlias},
      {"alias_declaration", SymbolKind::TypeAlias}, {"type_definition", SymbolKind::TypeAlias},
      {"mod_item", SymbolKind::Module},          {"namespace_definition", SymbolKind::Namespace},
      {"internal_module", SymbolKind::Namespace},
  };
  for (auto [t, k] : table)
    if (type == t) return k;
  (void)ctx;
  return kind;
}

bool is_upper_snake(std::string_view s) {
  bool letter = false;
  for (char c : s) {
    if (std::islower(static_cast<unsigned char>(c))) return false;
    letter = letter || std::isupper(static_cast<unsigned char>(c));
  }
  return letter;
}

// `const`/`constexpr` C and C++ variables, `static final` Java fields.
bool declared_constant(const Context& ctx, TSNode node) {
  for (uint32_t i = 0; i < ts_node_child_count(node); ++i) {
    TSNode child = ts_node_child(node, i);
    std::string_view type = ts_node_type(child);
    if (type == "type_qualifier") {
      std::string_view q = node_text(ctx.text, child);
      if (q == "const" || q == "constexpr") return true;
    }
    if (type == "modifiers") {
      std::string_view m = node_text(ctx.text, child);
      if (m.find("static") != std::string_view::npos && m.find("final") != std::string_view::npos) return true;
    }
  }
  return false;
}

bool is_specifier_without_body(TSNode node) {
  std::string_view type = ts_node_type(node);
  bool specifier = type == "struct_specifier" || type == "union_specifier" || type == "enum_specifier" ||
                   type == "class_specifier";
  return specifier && ts_node_is_null(field(node, "body"));
}

// Containers deeper than this keep only their innermost names: 5,000 nested
// modules must not make every definition carry a 20 kB container path.
constexpr size_t kMaxContainerParts = 16;

// The enclosing classes and namespaces of path.back(), outermost first,
// joined as the language writes them; *in_class tells whether the innermost
// is a class (so a function there is a method).
std::string container_of(const Context& ctx, std::span<const TSNode> path, const std::string& qualifier,
                         bool* in_class) {
  std::vector<std::string> parts;  // innermost first
  TSNode node = path.back();
  if (!qualifier.empty()) parts.push_back(qualifier);
  if (std::string_view(ts_node_type(node)) == "method_declaration" && ctx.lang.id == "go")
    parts.push_back(go_receiver_type(ctx, node));
  *in_class = !parts.empty();
  bool innermost = parts.empty();
  for (size_t i = path.size() - 1; i-- > 0 && parts.size() < kMaxContainerParts;) {
    bool cls = ctx.lang.classes.contains(path[i]);
    if (!cls && !ctx.lang.namespaces.contains(path[i])) continue;
    std::string name = container_name(ctx, path[i]);
    if (name.empty()) continue;
    if (innermost) *in_class = cls;
    innermost = false;
    parts.push_back(std::move(name));
  }
  std::string joined;
  for (size_t i = parts.size(); i-- > 0;) {
    if (parts[i].empty()) continue;
    if (!joined.empty()) joined += ctx.lang.separator;
    joined += parts[i];
  }
  return joined;
}

std::optional<Definition> build_definition(const Context& ctx, const DefinitionHit& hit, const detail::Located& at) {
  // C and C++ capture functions at their declarator; the definition is the
  // declaration around it.
  size_t last = at.path.size() - 1;
  while (last > 0 && ctx.lang.declarators.contains(at.path[last])) --last;
  std::span<const TSNode> path = at.path.first(last + 1);
  TSNode node = path.back();
  for (size_t i = 0; i + 1 < path.size(); ++i)
    if (ctx.lang.functions.contains(path[i])) return std::nullopt;  // a local
  if (is_specifier_without_body(node)) return std::nullopt;        // `struct S;`, `enum E e;`

  Definition d;
  std::string qualifier;
  TSNode name = unqualify(ctx, hit.name, &qualifier);
  d.name = std::string(node_text(ctx.text, name));
  if (d.name.empty()) return std::nullopt;

  bool in_class = false;
  d.container = container_of(ctx, path, qualifier, &in_class);

  d.kind = kind_by_node(ctx, node, hit.kind);
  if (d.kind == SymbolKind::Function || d.kind == SymbolKind::Method)
    d.kind = in_class ? SymbolKind::Method : SymbolKind::Function;
  if (ctx.lang.doc_style == DocStyle::Docstring && d.kind == SymbolKind::Constant && !is_upper_snake(d.name))
    d.kind = SymbolKind::Variable;
  if ((d.kind == SymbolKind::Variable || d.kind == SymbolKind::Field) && declared_constant(ctx, node))
    d.kind = SymbolKind::Constant;

  size_t from = ctx.lang.doc_style == DocStyle::Docstring ? path.size() - 1
                                                          : detail::outermost_wrapper(ctx.lang, path, path.size() - 1);
  d.signature = signature_of(ctx.lang, ctx.text, node, path[from]);
  d.doc = detail::doc_for(ctx.lang, ctx.text, detail::Located{path, at.preceding.first(path.size())});
  d.range = span_of(node);
  d.name_range = span_of(name);
  return d;
}

std::vector<Reference> build_references(const Context& ctx, std::vector<TSNode> refs,
                                        const std::vector<Definition>& defs) {
  std::unordered_set<uint64_t> defined;
  for (const Definition& d : defs) defined.insert(uint64_t(d.name_range.start_byte) << 32 | d.name_range.end_byte);
  std::sort(refs.begin(), refs.end(), [](TSNode a, TSNode b) {
    return std::pair(ts_node_start_byte(a), ts_node_end_byte(a)) < std::pair(ts_node_start_byte(b), ts_node_end_byte(b));
  });
  std::vector<Reference> out;
  for (TSNode n : refs) {
    Span s = span_of(n);
    if (defined.count(uint64_t(s.start_byte) << 32 | s.end_byte)) continue;
    if (!out.empty() && out.back().range.start_byte == s.start_byte && out.back().range.end_byte == s.end_byte)
      continue;
    std::string_view name = node_text(ctx.text, n);
    if (name.empty()) continue;
    out.push_back(Reference{std::string(name), s});
  }
  return out;
}

}  // namespace

FileSymbols extract_symbols(const Document& doc, const CancellationToken& cancel) {
  FileSymbols result;
  // A tree that lags its text (a stopped parse) would name the wrong bytes.
  if (!doc.tree() || !doc.language() || doc.status() != ParseStatus::Parsed) return result;
  result.has_syntax_errors = doc.has_syntax_errors();
  const CompiledQuery& q = query_for(*doc.language());
  if (!q.query) return result;
  Context ctx{*doc.language(), doc.text(), doc.root()};
  Hits hits = run_query(doc, q, cancel);
  std::vector<DefinitionHit> defs = dedupe(std::move(hits.definitions));
  std::vector<TSNode> targets;
  for (const DefinitionHit& d : defs) targets.push_back(d.node);
  detail::walk_to(ctx.root, ctx.lang, targets, [&](size_t i, const detail::Located& at) {
    if (cancel.cancelled()) return;
    if (auto d = build_definition(ctx, defs[i], at)) result.definitions.push_back(std::move(*d));
  });
  std::sort(result.definitions.begin(), result.definitions.end(), [](const Definition& a, const Definition& b) {
    return a.range.start_byte != b.range.start_byte ? a.range.start_byte < b.range.start_byte
                                                    : a.name_range.start_byte < b.name_range.start_byte;
  });
  result.references = build_references(ctx, std::move(hits.references), result.definitions);
  result.imports = detail::build_imports(ctx.lang, ctx.text, std::move(hits.imports));
  return result;
}

FileSymbols extract_symbols(std::string_view language_id, std::string_view text) {
  if (!find_language(language_id)) return {};
  Document doc(language_id, std::string(text));
  return extract_symbols(doc);
}

}  // namespace astfill::parsing
