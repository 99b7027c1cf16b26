// Stub rendering: a tree of the symbols by container, then one writer for
// Python (docstrings inside, `...` bodies) and one for the brace languages
// (doc comments above, `;` or `{ ... }` for bodies).
#include "completion/stubs.h"

#include <algorithm>
#include <map>

#include "parsing/language.h"

namespace astfill::completion {
namespace {

using parsing::SymbolKind;

bool is_container_kind(SymbolKind kind) {
  switch (kind) {
    case SymbolKind::Class:
    case SymbolKind::Struct:
    case SymbolKind::Interface:
    case SymbolKind::Trait:
    case SymbolKind::Enum:
    case SymbolKind::Module:
    case SymbolKind::Namespace:
      return true;
    default:
      return false;
  }
}

bool is_callable(SymbolKind kind) { return kind == SymbolKind::Function || kind == SymbolKind::Method; }

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t end = text.find('\n');
    out.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

struct Node {
  const index::Symbol* symbol = nullptr;
  std::vector<size_t> children;  // indexes into the node list, in source order
};

class StubWriter {
 public:
  StubWriter(std::string_view language_id, const std::vector<index::Symbol>& symbols)
      : language_(language_id), python_(language_id == "python") {
    const parsing::Language* language = parsing::find_language(language_id);
    std::string_view separator = language ? language->separator : ".";
    bool nests = language_id != "go" && language_id != "rust";
    nodes_.resize(symbols.size());
    std::map<std::string, size_t> by_qualified_name;
    for (size_t i = 0; i < symbols.size(); ++i) {
      nodes_[i].symbol = &symbols[i];
      const index::Symbol& s = symbols[i];
      std::string qualified = s.container.empty() ? s.name : s.container + std::string(separator) + s.name;
      by_qualified_name.emplace(qualified, i);
    }
    for (size_t i = 0; i < symbols.size(); ++i) {
      auto parent = nests && !symbols[i].container.empty() ? by_qualified_name.find(symbols[i].container)
                                                           : by_qualified_name.end();
      if (parent != by_qualified_name.end() && parent->second != i)
        nodes_[parent->second].children.push_back(i);
      else
        roots_.push_back(i);
    }
  }

  std::string render() {
    for (size_t root : roots_) write(root, 0);
    return std::move(out_);
  }

 private:
  void write(size_t index, size_t depth) {
    const Node& node = nodes_[index];
    const index::Symbol& s = *node.symbol;
    std::string indent(depth * 4, ' ');
    if (python_) {
      write_python(node, s, indent, depth);
      return;
    }
    write_doc_comment(s.doc, indent);
    std::string_view signature = s.signature.empty() ? std::string_view(s.name) : std::string_view(s.signature);
    if (is_container_kind(s.kind)) {
      bool c_like = (language_ == "c" || language_ == "cpp") && s.kind != SymbolKind::Namespace;
      if (node.children.empty()) {
        out_ += indent + std::string(signature) + " { ... }" + (c_like ? ";" : "") + "\n";
        return;
      }
      out_ += indent + std::string(signature) + " {\n";
      for (size_t child : node.children) write(child, depth + 1);
      out_ += indent + "}" + (c_like ? ";" : "") + "\n";
      return;
    }
    std::string terminator = s.kind == SymbolKind::EnumMember ? "," : (language_ == "go" ? "" : ";");
    if (signature.ends_with(';') || signature.ends_with('}') || signature.ends_with(',')) terminator.clear();
    out_ += indent + std::string(signature) + terminator + "\n";
  }

  void write_python(const Node& node, const index::Symbol& s, const std::string& indent, size_t depth) {
    std::string_view signature = s.signature.empty() ? std::string_view(s.name) : std::string_view(s.signature);
    bool block = is_callable(s.kind) || is_container_kind(s.kind);
    out_ += indent + std::string(signature) + (block && !signature.ends_with(':') ? ":" : "") + "\n";
    if (!block) return;
    std::string inner = indent + "    ";
    if (!s.doc.empty()) {
      auto lines = lines_of(s.doc);
      out_ += inner + "\"\"\"";
      for (size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) out_ += lines[i].empty() ? "" : inner;
        out_ += lines[i];
        if (i + 1 < lines.size()) out_ += "\n";
      }
      out_ += lines.size() > 1 ? "\n" + inner + "\"\"\"\n" : "\"\"\"\n";
    }
    if (node.children.empty()) {
      out_ += inner + "...\n";
      return;
    }
    for (size_t child : node.children) write(child, depth + 1);
  }

  void write_doc_comment(std::string_view doc, const std::string& indent) {
    if (doc.empty()) return;
    auto lines = lines_of(doc);
    if (language_ == "rust" || language_ == "go") {
      std::string_view marker = language_ == "rust" ? "///" : "//";
      for (std::string_view line : lines)
        out_ += indent + std::string(marker) + (line.empty() ? "" : " ") + std::string(line) + "\n";
      return;
    }
    if (lines.size() == 1) {
      out_ += indent + "/** " + std::string(lines[0]) + " */\n";
      return;
    }
    out_ += indent + "/**\n";
    for (std::string_view line : lines) out_ += indent + " *" + (line.empty() ? "" : " ") + std::string(line) + "\n";
    out_ += indent + " */\n";
  }

  std::string_view language_;
  bool python_;
  std::vector<Node> nodes_;
  std::vector<size_t> roots_;
  std::string out_;
};

}  // namespace

std::string render_stubs(std::string_view language_id, std::vector<index::Symbol> symbols) {
  std::stable_sort(symbols.begin(), symbols.end(), [](const index::Symbol& a, const index::Symbol& b) {
    return a.range.start_byte < b.range.start_byte;
  });
  return StubWriter(language_id, symbols).render();
}

}  // namespace astfill::completion
