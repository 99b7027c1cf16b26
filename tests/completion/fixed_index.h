// A fixed in-memory SymbolIndex for completion's tests: files given as text,
// their symbols extracted with parsing/'s tree-sitter extractor, imports
// resolved by a table the test writes, similar chunks scored by shared
// identifiers over 20-line chunks. Ranking follows SymbolIndex's contract.
#pragma once

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "index/symbol_index.h"
#include "parsing/extract.h"

namespace astfill::testing {

class FixedIndex final : public index::SymbolIndex {
 public:
  void add_file(const std::string& path, const std::string& text) {
    files_[path] = text;
    parsing::FileSymbols symbols = parsing::extract_symbols(parsing::language_of_path(path), text);
    for (const parsing::Definition& d : symbols.definitions) {
      index::Symbol s;
      s.name = d.name;
      s.kind = d.kind;
      s.signature = d.signature;
      s.doc = d.doc;
      s.container = d.container;
      s.path = path;
      s.range = d.range;
      s.name_range = d.name_range;
      symbols_.push_back(s);
    }
    imports_[path] = symbols.imports;
  }
  // Imports of `module` (as written) land on the workspace path `path`.
  void resolve(const std::string& module, const std::string& path) { resolves_[module] = path; }

  mutable size_t questions = 0;

  std::vector<index::Symbol> definitions(std::string_view name, std::string_view current_file,
                                         size_t limit) const override {
    ++questions;
    std::set<std::string> imported;
    for (const auto& r : imports_of(current_file))
      if (r.resolved_path) imported.insert(*r.resolved_path);
    auto rank = [&](const index::Symbol& s) {
      if (s.path == current_file) return 0;
      if (imported.contains(s.path)) return 1;
      if (dir_of(s.path) == dir_of(current_file)) return 2;
      return 3;
    };
    std::vector<index::Symbol> out;
    for (const auto& s : symbols_)
      if (s.name == name) out.push_back(s);
    std::stable_sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
      return std::make_tuple(rank(a), a.path, a.range.start_byte) < std::make_tuple(rank(b), b.path, b.range.start_byte);
    });
    if (out.size() > limit) out.resize(limit);
    return out;
  }

  std::vector<index::Symbol> members(std::string_view container, size_t limit) const override {
    ++questions;
    std::vector<index::Symbol> out;
    for (const auto& s : symbols_)
      if (s.container == container && out.size() < limit) out.push_back(s);
    return out;
  }

  std::vector<index::Symbol> definitions_in(std::string_view file, size_t limit) const override {
    ++questions;
    std::vector<index::Symbol> out;
    for (const auto& s : symbols_)
      if ((s.path == file || dir_of(s.path) == file) && out.size() < limit) out.push_back(s);
    return out;
  }

  std::vector<index::ResolvedImport> imports_of(std::string_view file) const override {
    ++questions;
    std::vector<index::ResolvedImport> out;
    auto it = imports_.find(std::string(file));
    if (it == imports_.end()) return out;
    for (const parsing::Import& i : it->second) {
      index::ResolvedImport r;
      r.module = i.module;
      r.names = i.names;
      r.relative = i.relative;
      r.range = i.range;
      if (auto target = resolves_.find(i.module); target != resolves_.end()) r.resolved_path = target->second;
      out.push_back(r);
    }
    return out;
  }

  std::vector<index::SimilarChunk> similar_chunks(std::string_view window, size_t k,
                                                  std::string_view exclude_file) const override {
    ++questions;
    std::set<std::string> terms = words(window);
    std::vector<index::SimilarChunk> out;
    for (const auto& [path, text] : files_) {
      if (path == exclude_file) continue;
      std::vector<std::string_view> lines;
      for (size_t start = 0; start < text.size();) {
        size_t end = text.find('\n', start);
        end = end == std::string::npos ? text.size() : end + 1;
        lines.push_back(std::string_view(text).substr(start, end - start));
        start = end;
      }
      for (size_t first = 0; first < lines.size(); first += 20) {
        index::SimilarChunk chunk;
        chunk.path = path;
        chunk.start_line = static_cast<uint32_t>(first);
        chunk.end_line = static_cast<uint32_t>(std::min(lines.size(), first + 20));
        for (size_t i = first; i < chunk.end_line; ++i) chunk.text += lines[i];
        for (const std::string& w : words(chunk.text)) chunk.score += terms.contains(w) ? 1 : 0;
        if (chunk.score > 0) out.push_back(chunk);
      }
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
    if (out.size() > k) out.resize(k);
    return out;
  }

  std::vector<index::Symbol> symbols_with_prefix(std::string_view prefix, size_t limit) const override {
    ++questions;
    std::vector<index::Symbol> out;
    for (const auto& s : symbols_)
      if (s.name.starts_with(prefix)) out.push_back(s);
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    if (out.size() > limit) out.resize(limit);
    return out;
  }

 private:
  static std::string dir_of(std::string_view path) {
    size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? "" : std::string(path.substr(0, slash));
  }
  static std::set<std::string> words(std::string_view text) {
    std::set<std::string> out;
    std::string word;
    for (char c : text) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
        word += c;
      } else {
        if (word.size() > 2) out.insert(word);
        word.clear();
      }
    }
    if (word.size() > 2) out.insert(word);
    return out;
  }

  std::map<std::string, std::string> files_;
  std::vector<index::Symbol> symbols_;
  std::map<std::string, std::vector<parsing::Import>> imports_;
  std::map<std::string, std::string> resolves_;
};

}  // namespace astfill::testing
