#include "completion/receivers.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "completion/token_trie.h"
#include "parsing/extract.h"
#include "parsing/identifiers.h"
#include "support/files.h"

namespace astfill::completion {
namespace {

using parsing::SymbolKind;

bool is_type(SymbolKind k) {
  return k == SymbolKind::Class || k == SymbolKind::Struct || k == SymbolKind::Interface ||
         k == SymbolKind::Trait || k == SymbolKind::Enum;
}

std::string separator_of(std::string_view language) {
  return language == "cpp" || language == "c" || language == "rust" ? "::" : ".";
}

std::string qualified(const index::Symbol& s, std::string_view language) {
  return s.container.empty() ? s.name : s.container + separator_of(language) + s.name;
}

// A file path's name without extension ("pkg/shapes.py" -> "shapes").
std::string path_stem(std::string_view path) {
  if (auto slash = path.rfind('/'); slash != std::string_view::npos) path = path.substr(slash + 1);
  if (auto dot = path.find('.'); dot != std::string_view::npos && dot > 0) path = path.substr(0, dot);
  return std::string(path);
}

// The name a module path ends with: "os.path" -> "path", "crate::net" ->
// "net", "./util" and "example.com/app/store" -> their last path component.
std::string last_segment(std::string_view module) {
  if (module.find('/') != std::string_view::npos) return path_stem(module);
  size_t cut = module.find_last_of(".:");
  return std::string(cut == std::string_view::npos ? module : module.substr(cut + 1));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Base classes named in a class's signature ("class A(B, C):", "class A
// extends B implements I", "struct A : public B"); `known` is false when the
// signature has bases in a form this does not read.
std::vector<std::string> bases_of(std::string_view signature, std::string_view language, bool* known) {
  *known = true;
  std::vector<std::string> out;
  auto split_names = [&](std::string_view list) {
    size_t depth = 0, start = 0;
    for (size_t i = 0; i <= list.size(); ++i) {
      char c = i < list.size() ? list[i] : ',';
      if (c == '<' || c == '(' || c == '[') ++depth;
      else if ((c == '>' || c == ')' || c == ']') && depth > 0) --depth;
      else if (c == ',' && depth == 0) {
        std::string_view name = trim(list.substr(start, i - start));
        for (std::string_view word : {"public ", "private ", "protected ", "virtual "})
          while (name.starts_with(word)) name = trim(name.substr(word.size()));
        if (auto lt = name.find_first_of("<["); lt != std::string_view::npos) name = name.substr(0, lt);
        if (auto eq = name.find('='); eq != std::string_view::npos) {  // metaclass=ABCMeta
          start = i + 1;
          continue;
        }
        name = trim(name);
        if (!name.empty() && name != "object") out.emplace_back(name);
        start = i + 1;
      }
    }
  };
  if (language == "python") {
    auto open = signature.find('(');
    if (open == std::string_view::npos) return out;
    auto close = signature.rfind(')');
    if (close == std::string_view::npos || close < open) {
      *known = false;
      return out;
    }
    split_names(signature.substr(open + 1, close - open - 1));
  } else if (language == "cpp" || language == "c") {
    auto colon = signature.find(':');
    while (colon != std::string_view::npos && colon + 1 < signature.size() && signature[colon + 1] == ':')
      colon = signature.find(':', colon + 2);
    if (colon == std::string_view::npos) return out;
    auto brace = signature.find('{', colon);
    split_names(signature.substr(colon + 1, brace == std::string_view::npos ? std::string_view::npos : brace - colon - 1));
  } else {
    for (std::string_view keyword : {" extends ", " implements "}) {
      auto at = signature.find(keyword);
      if (at == std::string_view::npos) continue;
      std::string_view rest = signature.substr(at + keyword.size());
      size_t end = rest.find_first_of("{");
      for (std::string_view stop : {" implements ", " extends "})
        if (auto s = rest.find(stop); s != std::string_view::npos) end = std::min(end, s);
      split_names(rest.substr(0, end));
    }
  }
  // Qualified bases (module.Base) are only resolved by their last name.
  for (auto& b : out) b = last_segment(b);
  return out;
}

// `self.name = ...` / `this.name = ...` in text[begin, end).
void assigned_attributes(std::string_view language, std::string_view text, size_t begin, size_t end,
                         std::string_view self, std::set<std::string>& out) {
  end = std::min(end, text.size());
  std::string needle = std::string(self) + ".";
  for (size_t at = text.find(needle, begin); at != std::string_view::npos && at < end;
       at = text.find(needle, at + 1)) {
    if (parsing::identifier_run_begin(language, text, at) < at) continue;  // `myself.` is not `self.`
    size_t name_start = at + needle.size();
    size_t name_end = std::min(end, parsing::identifier_run_end(language, text, name_start));
    if (name_end == name_start) continue;
    size_t after = name_end;
    while (after < end && (text[after] == ' ' || text[after] == '\t')) ++after;
    if (after < end && text[after] == ':') {  // an annotated assignment
      while (after < end && text[after] != '=' && text[after] != '\n') ++after;
    }
    if (after < end && text[after] == '=' && (after + 1 >= end || text[after + 1] != '='))
      out.emplace(text.substr(name_start, name_end - name_start));
  }
}

class Resolver {
 public:
  explicit Resolver(const ReceiverContext& c) : c_(c) {}

  // The members of the type named `name` (as written), with its bases';
  // nullopt when anything in the hierarchy is unknown.
  std::optional<std::vector<index::Symbol>> type_members(const std::string& name, int depth) {
    if (depth > 4) return std::nullopt;
    // The current file first (it may be newer than the index), then the index.
    std::vector<index::Symbol> candidates;
    for (const auto& d : current_definitions())
      if (d.name == name && is_type(d.kind)) candidates.push_back(d);
    if (candidates.empty() && c_.index)
      for (auto& s : c_.index->definitions(name, c_.path, 10))
        if (is_type(s.kind)) candidates.push_back(std::move(s));
    if (candidates.empty()) return std::nullopt;
    const index::Symbol& type = candidates.front();
    return members_of_type(type, depth);
  }

  std::optional<std::vector<index::Symbol>> members_of_type(const index::Symbol& type, int depth) {
    std::string container = qualified(type, c_.language);
    std::vector<index::Symbol> out;
    bool in_current = type.path == c_.path;
    if (in_current) {
      for (const auto& d : current_definitions())
        if (d.container == container) out.push_back(d);
    } else if (c_.index) {
      out = c_.index->members(container, 500);
    }
    // Attributes assigned in the class's methods.
    std::string_view self = c_.language == "python" ? "self" : "this";
    if (c_.language == "python" || c_.language == "javascript" || c_.language == "typescript" ||
        c_.language == "typescriptreact" || c_.language == "javascriptreact") {
      std::string other;
      std::string_view text = c_.text;
      if (!in_current) {
        // A file that cannot be read (gone since it was indexed) has no attributes to offer.
        other = support::read_file(c_.root / type.path, support::kMaxTextFileBytes).text;
        text = other;
      }
      std::set<std::string> attrs;
      assigned_attributes(c_.language, text, type.range.start_byte, type.range.end_byte, self, attrs);
      for (const auto& a : attrs) {
        index::Symbol s;
        s.name = a;
        s.kind = SymbolKind::Field;
        s.container = container;
        s.path = type.path;
        out.push_back(std::move(s));
      }
    }
    bool known = true;
    for (const auto& base : bases_of(type.signature, c_.language, &known)) {
      auto inherited = type_members(base, depth + 1);
      if (!inherited) return std::nullopt;
      out.insert(out.end(), inherited->begin(), inherited->end());
    }
    if (!known) return std::nullopt;
    return out;
  }

  // The class whose body holds the cursor, from the current text.
  std::optional<index::Symbol> enclosing_type() {
    std::optional<index::Symbol> best;
    for (const auto& d : current_definitions()) {
      if (!is_type(d.kind) || d.range.start_byte > c_.cursor || d.range.end_byte < c_.cursor) continue;
      if (!best || d.range.start_byte >= best->range.start_byte) best = d;
    }
    return best;
  }

  // A workspace file the receiver names through an import of the current file.
  std::optional<std::string> imported_file(const std::string& receiver) {
    if (!c_.index) return std::nullopt;
    for (const auto& imp : c_.index->imports_of(c_.path)) {
      if (!imp.resolved_path) continue;
      if (binds(imp, receiver)) return imp.resolved_path;
    }
    return std::nullopt;
  }

  // Whether the import statement makes `receiver` name the module: a listed
  // name, the module's last segment, or an alias (`import * as util`,
  // `from . import geometry as geo`), read from the statement's text.
  bool binds(const index::ResolvedImport& imp, const std::string& receiver) const {
    // A listed name binds the module only when the import landed on a
    // submodule of that name (`from . import shapes`), not on the module
    // that defines it (`from .errors import AppError`).
    if (std::find(imp.names.begin(), imp.names.end(), receiver) != imp.names.end() && imp.resolved_path) {
      std::string landed = *imp.resolved_path;
      for (std::string_view init : {"/__init__.py", "/index.js", "/index.ts", "/mod.rs"})
        if (landed.ends_with(init)) landed.resize(landed.size() - init.size());
      if (path_stem(landed) == receiver) return true;
    }
    if (imp.names.empty() && last_segment(imp.module) == receiver) return true;
    if (imp.range.end_byte > c_.text.size() || imp.range.start_byte >= imp.range.end_byte) return false;
    std::string_view statement = c_.text.substr(imp.range.start_byte, imp.range.end_byte - imp.range.start_byte);
    std::string alias = "as " + receiver;
    for (size_t at = statement.find(alias); at != std::string_view::npos; at = statement.find(alias, at + 1)) {
      bool starts = at > 0 && (statement[at - 1] == ' ' || statement[at - 1] == '\t');
      size_t end = at + alias.size();
      bool ends = parsing::identifier_run_end(c_.language, statement, end) == end;
      if (starts && ends) return true;
    }
    return false;
  }

  std::optional<std::vector<index::Symbol>> module_members(const std::string& file) {
    std::vector<index::Symbol> out;
    for (auto& s : c_.index->definitions_in(file, 2000))
      if (s.container.empty() || c_.language == "go") out.push_back(std::move(s));
    if (out.empty()) return std::nullopt;  // a module without definitions: probably re-exports
    return out;
  }

  // `name = Class(...)`, `name = new Class(...)`, `Class name = ...`,
  // `name: Class` before the cursor: the class.
  std::optional<std::string> constructed_type(const std::string& name) {
    std::string_view before = c_.text.substr(0, std::min(c_.cursor, c_.text.size()));
    for (size_t at = before.rfind(name); at != std::string_view::npos; at = at ? before.rfind(name, at - 1) : std::string_view::npos) {
      size_t after = at + name.size();
      if (parsing::identifier_run_begin(c_.language, before, at) < at ||
          parsing::identifier_run_end(c_.language, before, after) > after)
        continue;  // part of a longer name
      std::string_view rest = before.substr(after);
      size_t i = 0;
      auto skip_space = [&] { while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i; };
      skip_space();
      auto read_ident = [&] {
        size_t s = i;
        for (;;) {  // names joined by dots
          size_t j = parsing::identifier_run_end(c_.language, rest, i);
          if (j == i && i < rest.size() && rest[i] == '.') ++j;
          if (j == i) break;
          i = j;
        }
        return std::string(rest.substr(s, i - s));
      };
      if (i < rest.size() && rest[i] == ':' && c_.language != "cpp") {  // name: Class
        ++i;
        skip_space();
        std::string type = read_ident();
        if (!type.empty()) return last_segment(type);
        continue;
      }
      if (i < rest.size() && rest[i] == '=' && (i + 1 >= rest.size() || rest[i + 1] != '=')) {
        ++i;
        skip_space();
        bool constructed = rest.substr(i).starts_with("new ");
        if (constructed) {
          i += 4;
          skip_space();
        }
        std::string type = last_segment(read_ident());
        skip_space();
        // A call of a capitalised name is a constructor by convention; other
        // calls return who knows what.
        if (!type.empty() && i < rest.size() && rest[i] == '(' &&
            (constructed || std::isupper(static_cast<unsigned char>(type[0]))))
          return type;
      }
      // Java / C++: `Class name` on the same line.
      size_t line_start = before.rfind('\n', at == 0 ? 0 : at - 1);
      line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
      std::string_view decl = trim(before.substr(line_start, at - line_start));
      if (!decl.empty() && (c_.language == "java" || c_.language == "cpp")) {
        size_t s = parsing::identifier_run_begin(c_.language, decl, decl.size());
        std::string type(decl.substr(s));
        if (!type.empty() && std::isupper(static_cast<unsigned char>(type[0]))) return type;
      }
    }
    return std::nullopt;
  }

  std::optional<std::vector<index::Symbol>> resolve(const MemberAccess& access) {
    const std::string& r = access.receiver;
    bool self = (r == "self" && c_.language == "python") ||
                (r == "this" && c_.language != "python" && c_.language != "go" && c_.language != "rust");
    if (self) {
      auto type = enclosing_type();
      if (!type) return std::nullopt;
      return members_of_type(*type, 0);
    }
    if (r.find_first_of(".:") != std::string::npos) return std::nullopt;  // chains: not followed
    if (access.op != "::" || c_.language == "cpp" || c_.language == "rust") {
      if (auto file = imported_file(r)) {
        if (auto members = module_members(*file)) return members;
      }
    }
    if (auto type = type_members(r, 0)) return type;
    if (auto cls = constructed_type(r)) return type_members(*cls, 0);
    return std::nullopt;
  }

 private:
  const std::vector<index::Symbol>& current_definitions() {
    if (!current_) {
      current_.emplace();
      // The request's tree when it has one: the current file is not parsed again.
      auto symbols = c_.document && c_.document->text() == c_.text ? parsing::extract_symbols(*c_.document)
                                                                   : parsing::extract_symbols(c_.language, c_.text);
      for (auto& d : symbols.definitions) {
        index::Symbol s;
        s.name = std::move(d.name);
        s.kind = d.kind;
        s.signature = std::move(d.signature);
        s.doc = std::move(d.doc);
        s.container = std::move(d.container);
        s.path = c_.path;
        s.range = d.range;
        s.name_range = d.name_range;
        current_->push_back(std::move(s));
      }
    }
    return *current_;
  }

  const ReceiverContext& c_;
  std::optional<std::vector<index::Symbol>> current_;
};

}  // namespace

std::vector<index::Symbol> member_symbols(const ReceiverContext& context, const MemberAccess& access) {
  Resolver resolver(context);
  auto members = resolver.resolve(access);
  if (!members) return {};
  // One entry per name: the first (the class's own before its bases').
  std::vector<index::Symbol> out;
  std::set<std::string> seen;
  for (auto& m : *members)
    if (seen.insert(m.name).second) out.push_back(std::move(m));
  return out;
}

std::optional<std::vector<std::string>> resolve_members(const ReceiverContext& context, const MemberAccess& access) {
  Resolver resolver(context);
  auto members = resolver.resolve(access);
  if (!members) return std::nullopt;
  std::vector<std::string> names;
  for (const auto& m : *members) names.push_back(m.name);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace astfill::completion
