// Imports: query hits grouped per statement and module, module paths as
// written (quotes and angle brackets dropped), Rust use trees expanded.
#include <algorithm>
#include <map>

#include "parsing/extract_internal.h"
#include "parsing/nodes.h"

namespace astfill::parsing::detail {

namespace {

std::string_view unquote(std::string_view s) {
  if (s.size() >= 2) {
    char a = s.front(), b = s.back();
    if ((a == '"' && b == '"') || (a == '\'' && b == '\'') || (a == '<' && b == '>') || (a == '`' && b == '`'))
      return s.substr(1, s.size() - 2);
  }
  return s;
}

// How an imported name is listed: as the module calls it, `default` for a
// JavaScript default import, `*` for everything.
std::string import_name(std::string_view text, TSNode n) {
  std::string_view type = ts_node_type(n);
  if (type == "namespace_import" || type == "namespace_export" || type == "wildcard_import" || type == "asterisk" ||
      type == "*")
    return "*";
  if (type == "identifier" && std::string_view(ts_node_type(ts_node_parent(n))) == "import_clause") return "default";
  return std::string(node_text(text, n));
}

bool is_relative(const Language& lang, std::string_view module, TSNode module_node, TSNode statement) {
  if (lang.id == "python" || lang.doc_style == DocStyle::SlashComments) {
    if (lang.id == "c" || lang.id == "cpp") return std::string_view(ts_node_type(module_node)) == "string_literal";
    if (lang.id == "java") return false;
    return module.starts_with(".");
  }
  if (lang.id == "rust")
    return std::string_view(ts_node_type(statement)) == "mod_item" || module.starts_with("self") ||
           module.starts_with("super");
  return false;
}

std::string join_path(const std::string& prefix, std::string_view part) {
  if (prefix.empty()) return std::string(part);
  if (part.empty()) return prefix;
  return prefix + "::" + std::string(part);
}

// Rust: `use a::{b::{c, d}, e as f, g::*};` becomes one import per path that
// names a module or item (`a::b` with c and d, `a::e`, `a::g` with *).
void expand_use(std::string_view text, TSNode node, const std::string& prefix, Span range, std::vector<Import>* out) {
  std::string_view type = ts_node_type(node);
  if (type == "use_as_clause") {
    expand_use(text, field(node, "path"), prefix, range, out);
  } else if (type == "use_wildcard") {
    std::string_view s = node_text(text, node);
    if (s.ends_with("*")) s.remove_suffix(1);
    if (s.ends_with("::")) s.remove_suffix(2);
    out->push_back(Import{join_path(prefix, s), {"*"}, false, range});
  } else if (type == "scoped_use_list" || type == "use_list") {
    TSNode path = field(node, "path"), list = type == "use_list" ? node : field(node, "list");
    std::string base = ts_node_is_null(path) ? prefix : join_path(prefix, node_text(text, path));
    Import direct{base, {}, false, range};
    for (uint32_t i = 0; !ts_node_is_null(list) && i < ts_node_named_child_count(list); ++i) {
      TSNode item = ts_node_named_child(list, i);
      std::string_view item_type = ts_node_type(item);
      if (item_type == "identifier" || item_type == "self") direct.names.emplace_back(node_text(text, item));
      else expand_use(text, item, base, range, out);
    }
    if (!direct.names.empty()) out->push_back(std::move(direct));
  } else if (!ts_node_is_null(node)) {
    out->push_back(Import{join_path(prefix, node_text(text, node)), {}, false, range});
  }
}

}  // namespace

std::vector<Import> build_imports(const Language& lang, std::string_view text, std::vector<ImportHit> hits) {
  // Ordered by statement, then module: one Import per (statement, module).
  std::map<std::pair<uint32_t, uint32_t>, Import> grouped;
  std::vector<Import> out;
  for (const ImportHit& hit : hits) {
    if (ts_node_is_null(hit.statement)) continue;
    Span range = span_of(hit.statement);
    if (!ts_node_is_null(hit.use_tree)) {
      std::vector<Import> expanded;
      expand_use(text, hit.use_tree, "", range, &expanded);
      for (Import& i : expanded) {
        i.relative = is_relative(lang, i.module, hit.use_tree, hit.statement);
        grouped.emplace(std::pair(range.start_byte, static_cast<uint32_t>(grouped.size())), std::move(i));
      }
      continue;
    }
    std::string module;
    if (!ts_node_is_null(hit.module)) module = std::string(unquote(node_text(text, hit.module)));
    else if (std::string_view(ts_node_type(hit.statement)) == "future_import_statement") module = "__future__";
    if (module.empty()) continue;
    uint32_t module_start = ts_node_is_null(hit.module) ? range.start_byte : ts_node_start_byte(hit.module);
    auto [it, fresh] = grouped.try_emplace(std::pair(range.start_byte, module_start));
    Import& imp = it->second;
    if (fresh) {
      imp.module = std::move(module);
      imp.range = range;
      imp.relative = hit.relative || is_relative(lang, imp.module, hit.module, hit.statement);
    }
    for (TSNode n : hit.names) {
      std::string name = import_name(text, n);
      if (std::find(imp.names.begin(), imp.names.end(), name) == imp.names.end()) imp.names.push_back(std::move(name));
    }
  }
  for (auto& [key, imp] : grouped) out.push_back(std::move(imp));
  return out;
}

}  // namespace astfill::parsing::detail
