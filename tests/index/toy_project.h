// Fixtures for the index tests: a toy symbol extractor (the real one lives in
// parsing/, written elsewhere), a language table, and small workspaces
// written into a temp directory.
//
// The toy syntax is the same for every language id, one construct per line:
//   class Name              a Class; indented lines below belong to it
//   def name(...)           a Function, or a Method of the class above it when indented
//   import module           an Import (relative when the module starts with '.')
//   import module: a, b     an Import with names
//   include "x.h"           a relative Import (a C quote include)
//   include <x.h>           a non-relative Import
//   call name               a Reference
//   explode                 the extractor throws
// A definition's range runs to the last line indented deeper than it.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <fcntl.h>
#include <sys/stat.h>
#include <vector>

#include "index/index.h"
#include "parsing/symbols.h"

namespace astfill::testing {

// What the toy extractor was asked to parse (thread-safe: it runs on the
// index's parse threads).
struct ExtractorLog {
  std::mutex mu;
  std::vector<std::string> first_definitions;  // the first definition's name of each parsed text
  std::atomic<size_t> calls{0};

  std::multiset<std::string> parsed() {
    std::lock_guard lock(mu);
    return {first_definitions.begin(), first_definitions.end()};
  }
  void clear() {
    std::lock_guard lock(mu);
    first_definitions.clear();
    calls = 0;
  }
};

inline parsing::FileSymbols toy_extract(std::string_view text) {
  parsing::FileSymbols out;
  struct Line {
    std::string_view text;
    uint32_t start, indent;
  };
  std::vector<Line> lines;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    size_t indent = line.find_first_not_of(' ');
    lines.push_back({line, static_cast<uint32_t>(start),
                     static_cast<uint32_t>(indent == std::string_view::npos ? line.size() : indent)});
    if (end == text.size()) break;
    start = end + 1;
  }
  std::string current_class;
  for (uint32_t i = 0; i < lines.size(); ++i) {
    const Line& l = lines[i];
    std::string_view body = l.text.substr(l.indent);
    auto span_of = [&](uint32_t first, uint32_t last) {
      parsing::Span s;
      s.start_byte = lines[first].start + lines[first].indent;
      s.end_byte = lines[last].start + static_cast<uint32_t>(lines[last].text.size());
      s.start_line = first;
      s.start_column = lines[first].indent;
      s.end_line = last;
      s.end_column = static_cast<uint32_t>(lines[last].text.size());
      return s;
    };
    auto block_end = [&] {
      uint32_t last = i;
      for (uint32_t j = i + 1; j < lines.size(); ++j) {
        if (lines[j].text.find_first_not_of(' ') == std::string_view::npos) continue;
        if (lines[j].indent <= l.indent) break;
        last = j;
      }
      return last;
    };
    if (l.indent == 0 && !body.empty()) current_class.clear();
    if (body == "explode") throw std::runtime_error("the toy extractor was told to explode");
    auto word_after = [&](std::string_view keyword) -> std::string_view {
      std::string_view rest = body.substr(keyword.size());
      size_t end = rest.find_first_of("(: ");
      return rest.substr(0, end);
    };
    if (body.starts_with("class ") || body.starts_with("def ")) {
      bool is_class = body.starts_with("class ");
      parsing::Definition d;
      d.name = std::string(word_after(is_class ? "class " : "def "));
      d.kind = is_class ? parsing::SymbolKind::Class
                        : (l.indent > 0 && !current_class.empty() ? parsing::SymbolKind::Method
                                                                   : parsing::SymbolKind::Function);
      d.signature = std::string(body);
      if (l.indent > 0) d.container = current_class;
      d.range = span_of(i, block_end());
      d.name_range = d.range;
      if (is_class && l.indent == 0) current_class = d.name;
      out.definitions.push_back(std::move(d));
    } else if (body.starts_with("import ")) {
      parsing::Import imp;
      std::string_view rest = body.substr(7);
      size_t colon = rest.find(':');
      imp.module = std::string(rest.substr(0, colon));
      if (colon != std::string_view::npos) {
        std::string_view names = rest.substr(colon + 1);
        while (!names.empty()) {
          size_t comma = names.find(',');
          std::string_view name = names.substr(0, comma);
          while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
          if (!name.empty()) imp.names.emplace_back(name);
          if (comma == std::string_view::npos) break;
          names.remove_prefix(comma + 1);
        }
      }
      imp.relative = imp.module.starts_with(".");
      imp.range = span_of(i, i);
      out.imports.push_back(std::move(imp));
    } else if (body.starts_with("include ") && body.size() > 10) {
      parsing::Import imp;
      imp.module = std::string(body.substr(9, body.size() - 10));
      imp.relative = body[8] == '"';
      imp.range = span_of(i, i);
      out.imports.push_back(std::move(imp));
    } else if (body.starts_with("call ")) {
      out.references.push_back({std::string(body.substr(5)), span_of(i, i)});
    }
  }
  return out;
}

inline index::Extractor toy_extractor(std::shared_ptr<ExtractorLog> log = nullptr) {
  return [log](std::string_view, std::string_view text) {
    auto symbols = toy_extract(text);
    if (log) {
      ++log->calls;
      std::lock_guard lock(log->mu);
      log->first_definitions.push_back(symbols.definitions.empty() ? "" : symbols.definitions.front().name);
    }
    return symbols;
  };
}

inline std::string toy_language(std::string_view path) {
  auto ext = std::filesystem::path(std::string(path)).extension().string();
  if (ext == ".toy") return "toy";
  if (ext == ".py") return "python";
  if (ext == ".js" || ext == ".mjs" || ext == ".cjs") return "javascript";
  if (ext == ".jsx") return "javascriptreact";
  if (ext == ".ts" || ext == ".mts" || ext == ".cts") return "typescript";
  if (ext == ".tsx") return "typescriptreact";
  if (ext == ".c") return "c";
  if (ext == ".h" || ext == ".hpp" || ext == ".cc" || ext == ".cpp") return "cpp";
  if (ext == ".go") return "go";
  if (ext == ".rs") return "rust";
  if (ext == ".java") return "java";
  return "";
}

// Writes `text` to root/rel (creating directories), dated `age` ago: old
// enough that the index trusts mtime+size for it; a different age gives a
// different mtime.
inline void write_file(const std::filesystem::path& root, const std::string& rel, const std::string& text,
                       std::chrono::seconds age = std::chrono::hours(1)) {
  auto path = root / rel;
  std::filesystem::create_directories(path.parent_path());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  auto when = std::chrono::system_clock::now() - age;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  timespec times[2] = {{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)},
                       {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)}};
  ::utimensat(AT_FDCWD, path.c_str(), times, 0);
}

// Index options for a workspace at dir/ws with its database at dir/index.db.
inline index::IndexOptions toy_options(const std::filesystem::path& dir) {
  index::IndexOptions o;
  o.root = dir / "ws";
  o.database = dir / "index.db";
  o.parse_threads = 2;
  o.background_nice = 0;
  std::filesystem::create_directories(o.root);
  return o;
}

}  // namespace astfill::testing
