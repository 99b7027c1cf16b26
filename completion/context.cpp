// build_context: the prefix and suffix excerpts, then each cross-file source
// in budget order (definitions, imports, similar chunks, recent edits), then
// the context files in prompt order.
//
// Definitions and imported API are stubs (stubs.h) grouped per file; a file's
// stub is rendered again as each symbol joins it, so a source's cost is
// exactly what its files will cost in the prompt.
#include "completion/context.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "completion/excerpt.h"
#include "completion/identifiers.h"
#include "completion/stubs.h"
#include "parsing/extract.h"
#include "parsing/language.h"
#include "trust/invisible.h"
#include "trust/secrets.h"

namespace astfill::completion {
namespace {

using index::Symbol;

constexpr size_t max_names = 48;        // identifiers looked up, nearest first
constexpr size_t max_members = 16;      // members shown with a class named near the cursor
constexpr size_t similar_window_lines = 20;
// The part of the current file scanned for secrets: far more than any
// excerpt, its ends moving in steps so that the excerpts' line snapping
// (prefix_excerpt's line_step) stays put between keystrokes.
constexpr size_t scan_before = 128 << 10, scan_after = 32 << 10, scan_step = 16 << 10;

// A symbol's identity across sources.
using SymbolKey = std::tuple<std::string, uint32_t, uint32_t>;
SymbolKey key_of(const Symbol& s) { return {s.path, s.range.start_byte, s.range.end_byte}; }

std::string_view separator_of(std::string_view path) {
  const parsing::Language* language = parsing::find_language(parsing::language_of_path(path));
  return language ? language->separator : ".";
}

std::string qualified_name(const Symbol& s) {
  return s.container.empty() ? s.name : s.container + std::string(separator_of(s.path)) + s.name;
}

// The first paragraph of a doc: the imported API shows what a name is, not
// its whole manual.
std::string first_paragraph(std::string_view doc) {
  size_t blank = doc.find("\n\n");
  return std::string(doc.substr(0, blank));
}

std::string with_final_newline(std::string text) {
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text;
}

// Cross-file text as the prompt shows it: data, not instructions.
struct CleanText {
  std::string text;
  size_t invisible_removed = 0;
};
CleanText as_data(std::string_view text) {
  CleanText out;
  out.text = trust::redact(trust::strip_invisible(text, &out.invisible_removed));
  return out;
}

// `line` with the text of each long string literal on it cut to its first
// bytes and "…" (the literal stays a literal: its quotes are kept). Only a
// literal that opens and closes on the line with `"` counts (a `'` may be
// a Rust lifetime, a C++ digit separator or an apostrophe). Whether any was cut.
bool shorten_strings(std::string& line) {
  constexpr size_t kKeep = 16, kLong = 48;
  bool cut = false;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '"') continue;
    size_t j = i + 1;
    while (j < line.size() && line[j] != '"' && line[j] != '\n') j += line[j] == '\\' ? 2 : 1;
    if (j >= line.size() || line[j] != '"') break;  // not closed on this line
    if (j - i - 1 > kLong) {
      size_t keep = i + 1 + kKeep;
      while (keep > i + 1 && (static_cast<unsigned char>(line[keep]) & 0xC0) == 0x80) --keep;  // a whole character
      if (line[keep - 1] == '\\') --keep;  // not half an escape
      line.replace(keep, j - keep, "\u2026");
      j = keep + 3;  // the closing quote, after the three bytes of U+2026
      cut = true;
    }
    i = j;
  }
  return cut;
}

// `text` without its comment lines (in the language of `path`) and with its
// long string literals cut (shorten_strings), or nullopt when it has neither.
// In C-like languages a line is a block comment's only while inside
// `/* ... */`: `*p = x;` outside one is code. A chunk that starts inside a
// block comment (its first `*/` comes before any `/*`) is read as such.
std::optional<std::string> code_only(std::string_view text, std::string_view path) {
  std::string_view marker = line_comment(parsing::language_of_path(path));
  bool c_like = marker == "//";
  auto blank = [](std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; };
  bool in_block = c_like && text.find("*/") < text.find("/*");
  std::string out;
  bool dropped = false;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end == std::string_view::npos ? text.size() : end + 1);
    text.remove_prefix(line.size());
    std::string_view body = line.substr(std::min(line.size(), line.find_first_not_of(" \t")));
    bool comment = false;
    if (in_block) {
      // Comment up to its `*/`; a line with code after the `*/` is kept.
      size_t close = body.find("*/");
      if (close != std::string_view::npos) in_block = false;
      comment = close == std::string_view::npos || blank(body.substr(close + 2));
    } else if (body.starts_with(marker)) {
      comment = true;
    } else if (c_like && body.starts_with("/*")) {
      size_t close = body.find("*/", 2);
      if (close == std::string_view::npos) in_block = true;
      comment = close == std::string_view::npos || blank(body.substr(close + 2));
    }
    if (comment) {
      dropped = true;
    } else {
      // Long string literals go too, their quotes kept.
      std::string kept(line);
      if (shorten_strings(kept)) dropped = true;
      out.append(kept);
    }
  }
  if (!dropped) return std::nullopt;
  return out;
}

// What each file has taken of the cross-file context, against the cap.
class FileShares {
 public:
  explicit FileShares(size_t cap) : cap_(cap) {}
  // Whether `path`'s share may go from `before` to `after` tokens.
  bool fits(const std::string& path, size_t before, size_t after) const {
    auto it = used_.find(path);
    size_t used = it == used_.end() ? 0 : it->second;
    return used - std::min(used, before) + after <= cap_;
  }
  void take(const std::string& path, size_t before, size_t after) {
    size_t& used = used_[path];
    used = used - std::min(used, before) + after;
  }

 private:
  size_t cap_;
  std::map<std::string, size_t> used_;
};

// Stubs of one source, per file, within a budget.
class StubSet {
 public:
  StubSet(const TokenCounter& count, size_t budget, FileShares& shares,
          std::function<bool(std::string_view)> is_open)
      : count_(count), budget_(budget), shares_(shares), is_open_(std::move(is_open)) {}

  // Adds `symbols` (all of one file) if the source then still fits its
  // budget and the file its share; returns whether it did. A file that is
  // not open is tried again without docs.
  bool try_add(const std::vector<Symbol>& symbols) {
    if (symbols.empty()) return false;
    const std::string& path = symbols.front().path;
    std::vector<Symbol> trial = files_[path];
    trial.insert(trial.end(), symbols.begin(), symbols.end());
    if (fit(path, trial, symbols)) return true;
    if (is_open_(path)) return false;
    bool had_docs = false;
    for (Symbol& s : trial) {
      had_docs = had_docs || !s.doc.empty();
      s.doc.clear();
    }
    if (!had_docs || !fit(path, trial, symbols)) return false;
    code_only_.insert(path);
    return true;
  }

  bool has(const Symbol& s) const { return taken_.contains(key_of(s)); }
  SourceReport report() const { return {items_, used_}; }
  size_t invisible_removed() const {
    size_t n = 0;
    for (const auto& [path, text] : texts_) n += text.invisible_removed;
    return n;
  }
  size_t code_only_files() const { return code_only_.size(); }
  // Files by path.
  void append_to(std::vector<ContextFile>& out) const {
    for (const auto& [path, text] : texts_) out.push_back({path, text.text});
  }
  // Whether a symbol shown here overlaps lines [start, end) of `path`.
  bool overlaps(std::string_view path, uint32_t start, uint32_t end) const {
    auto it = files_.find(std::string(path));
    if (it == files_.end()) return false;
    for (const Symbol& s : it->second)
      if (s.range.start_line < end && start <= s.range.end_line) return true;
    return false;
  }

 private:
  bool fit(const std::string& path, std::vector<Symbol>& trial, const std::vector<Symbol>& added) {
    CleanText text = as_data(render_stubs(parsing::language_of_path(path), trial));
    size_t cost = count_(path) + count_(text.text);
    size_t before = costs_.contains(path) ? costs_[path] : 0;
    if (used_ - before + cost > budget_ || !shares_.fits(path, before, cost)) return false;
    shares_.take(path, before, cost);
    used_ = used_ - before + cost;
    costs_[path] = cost;
    files_[path] = std::move(trial);
    texts_[path] = std::move(text);
    items_ += added.size();
    for (const Symbol& s : added) taken_.insert(key_of(s));
    return true;
  }

  const TokenCounter& count_;
  size_t budget_;
  FileShares& shares_;
  std::function<bool(std::string_view)> is_open_;
  size_t used_ = 0, items_ = 0;
  std::map<std::string, std::vector<Symbol>> files_;
  std::map<std::string, CleanText> texts_;
  std::map<std::string, size_t> costs_;
  std::set<SymbolKey> taken_;
  std::set<std::string> code_only_;
};

// The current file around the cursor with its secrets replaced (line breaks
// kept), and the cursor in it.
struct CurrentText {
  std::string text;
  size_t cursor = 0;
  size_t first_line = 0;  // the file's line where `text` begins
  size_t secrets = 0;
};
CurrentText current_text(std::string_view text, size_t cursor) {
  size_t lo = cursor > scan_before ? (cursor - scan_before) / scan_step * scan_step : 0;
  size_t hi = std::min(text.size(), (cursor + scan_after + scan_step - 1) / scan_step * scan_step);
  if (lo > 0) {
    size_t newline = text.rfind('\n', lo - 1);
    lo = newline == std::string_view::npos ? 0 : newline + 1;
  }
  if (hi < text.size()) {
    size_t newline = text.find('\n', hi);
    hi = newline == std::string_view::npos ? text.size() : newline + 1;
  }
  std::string_view region = text.substr(lo, hi - lo);
  CurrentText out;
  out.first_line = static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(lo), '\n'));
  out.cursor = cursor - lo;
  out.text = trust::redact(region, trust::default_scanner(), &out.secrets, &out.cursor);
  return out;
}

// The class (or namespace) a member belongs to, from the member's own file.
std::optional<Symbol> parent_of(const index::SymbolIndex& index, const Symbol& member) {
  std::string_view container = member.container;
  std::string_view separator = separator_of(member.path);
  size_t cut = container.rfind(separator);
  std::string_view last = cut == std::string_view::npos ? container : container.substr(cut + separator.size());
  for (Symbol& s : index.definitions(last, member.path, 16))
    if (s.path == member.path && qualified_name(s) == container) {
      s.doc.clear();  // shown for its members' sake: the header is enough
      return s;
    }
  return std::nullopt;
}

class ContextBuilder {
 public:
  ContextBuilder(const ContextRequest& request, const CancellationToken& cancel)
      : request_(request), cancel_(cancel) {
    count_ = request.count_tokens ? request.count_tokens
                                  : TokenCounter([](std::string_view s) { return (s.size() + 3) / 4; });
  }

  Context build() {
    Context out;
    const ContextBudgets& budgets = request_.budgets;
    std::string_view text = request_.text;
    size_t cursor = std::min(request_.cursor, text.size());
    // The excerpts come from the redacted text; the index is asked about the
    // text as it is (those questions stay on this machine).
    CurrentText current = current_text(text, cursor);
    std::string_view shown = current.text;
    Excerpt prefix = prefix_excerpt(shown, current.cursor, std::min(budgets.prefix, budgets.total), count_);
    Excerpt suffix = suffix_excerpt(shown, current.cursor, std::min(budgets.suffix, budgets.total - std::min(budgets.total, prefix.tokens)), count_);
    out.parts.repo_name = request_.repo_name;
    out.parts.current_path = request_.path;
    out.parts.language_id = request_.language_id;
    out.parts.prefix = std::string(shown.substr(prefix.begin, prefix.end - prefix.begin));
    out.parts.suffix = std::string(shown.substr(suffix.begin, suffix.end - suffix.begin));
    out.report.prefix = {prefix.lines, prefix.tokens};
    out.report.suffix = {suffix.lines, suffix.tokens};
    out.report.prefix_first_line = current.first_line + prefix.first_line;
    remaining_ = budgets.total - std::min(budgets.total, prefix.tokens + suffix.tokens);
    size_t cross = std::min(remaining_, budgets.definitions + budgets.imports + budgets.similar + budgets.recent);
    FileShares shares(budgets.file_share_percent >= 100 ? cross : cross * budgets.file_share_percent / 100);
    shares_ = &shares;
    auto is_open = [this](std::string_view path) { return is_open_file(path); };

    StubSet definitions(count_, share(budgets.definitions), shares, is_open);
    if (request_.index) add_definitions(definitions, text, cursor);
    remaining_ -= definitions.report().tokens;
    StubSet imports(count_, share(budgets.imports), shares, is_open);
    if (request_.index && !cancel_.cancelled()) add_imports(imports, definitions);
    remaining_ -= imports.report().tokens;
    std::vector<ContextFile> similar;
    if (request_.index && !cancel_.cancelled())
      out.report.similar = add_similar(similar, text, cursor, definitions, imports, share(budgets.similar));
    remaining_ -= out.report.similar.tokens;
    std::vector<ContextFile> recent;
    out.report.recent = add_recent(recent, similar, share(budgets.recent));

    out.report.definitions = definitions.report();
    out.report.imports = imports.report();
    imports.append_to(out.parts.context_files);
    definitions.append_to(out.parts.context_files);
    for (auto* source : {&similar, &recent})
      out.parts.context_files.insert(out.parts.context_files.end(), source->begin(), source->end());
    out.report.invisible_removed = invisible_removed_ + definitions.invisible_removed() + imports.invisible_removed();
    out.report.code_only_files = code_only_files_ + definitions.code_only_files() + imports.code_only_files();
    out.report.secrets_redacted = current.secrets;
    for (const ContextFile& f : out.parts.context_files)
      for (size_t at = f.text.find("<secret:"); at != std::string::npos; at = f.text.find("<secret:", at + 1))
        ++out.report.secrets_redacted;
    shares_ = nullptr;
    return out;
  }

 private:
  size_t share(size_t own) const { return std::min(own, remaining_); }
  size_t cost(const ContextFile& f) const { return count_(f.path) + count_(f.text); }
  bool is_current(std::string_view path) const { return path == request_.path; }
  bool is_open_file(std::string_view path) const {
    return std::find(request_.open_paths.begin(), request_.open_paths.end(), path) != request_.open_paths.end();
  }

  void add_definitions(StubSet& set, std::string_view text, size_t cursor) {
    const index::SymbolIndex& index = *request_.index;
    std::vector<std::string> names = identifiers_near(text, cursor, request_.language_id);
    if (names.size() > max_names) names.resize(max_names);
    for (const std::string& name : names) {
      if (cancel_.cancelled()) return;
      std::vector<Symbol> found = index.definitions(name, request_.path, 4);
      // Best first: a name the current file defines means that definition.
      if (found.empty() || is_current(found.front().path) || set.has(found.front())) continue;
      const Symbol& def = found.front();
      std::vector<Symbol> group;
      if (!def.container.empty())
        if (auto parent = parent_of(index, def); parent && !set.has(*parent)) group.push_back(std::move(*parent));
      group.push_back(def);
      std::vector<Symbol> members;
      if (def.kind != parsing::SymbolKind::Function && def.kind != parsing::SymbolKind::Method)
        for (Symbol& m : index.members(qualified_name(def), 64))
          if (m.path == def.path && !set.has(m) && members.size() < max_members) members.push_back(std::move(m));
      // The class with as many of its members as fit, halving.
      for (size_t n = members.size();; n /= 2) {
        std::vector<Symbol> trial = group;
        trial.insert(trial.end(), members.begin(), members.begin() + n);
        if (set.try_add(trial) || n == 0) break;
      }
    }
  }

  void add_imports(StubSet& set, const StubSet& definitions) {
    const index::SymbolIndex& index = *request_.index;
    std::set<std::string> seen;
    for (const index::ResolvedImport& import : index.imports_of(request_.path)) {
      if (cancel_.cancelled()) return;
      if (!import.resolved_path || is_current(*import.resolved_path) || !seen.insert(*import.resolved_path).second)
        continue;
      std::vector<Symbol> api;
      for (Symbol& s : index.definitions_in(*import.resolved_path))
        if (s.container.empty() && !is_current(s.path) && !definitions.has(s)) api.push_back(std::move(s));
      // Names the import lists first, then the rest in source order.
      std::stable_partition(api.begin(), api.end(), [&](const Symbol& s) {
        return std::find(import.names.begin(), import.names.end(), s.name) != import.names.end();
      });
      for (Symbol& s : api) {
        s.doc = first_paragraph(s.doc);
        if (!set.has(s)) set.try_add({s});
      }
    }
  }

  SourceReport add_similar(std::vector<ContextFile>& out, std::string_view text, size_t cursor,
                           const StubSet& definitions, const StubSet& imports, size_t budget) {
    // The lines before the cursor, the cursor's line included.
    size_t start = cursor;
    for (size_t lines = 0; start > 0 && lines <= similar_window_lines; --start)
      if (text[start - 1] == '\n') ++lines;
    std::string_view window = text.substr(start, cursor - start);
    struct Taken {
      std::string path;
      uint32_t start, end;
      ContextFile file;
    };
    std::vector<Taken> taken;
    SourceReport report;
    size_t k = request_.similar_chunks;
    for (const index::SimilarChunk& chunk : request_.index->similar_chunks(window, k * 2, request_.path)) {
      if (taken.size() >= k) break;
      if (is_current(chunk.path) || definitions.overlaps(chunk.path, chunk.start_line, chunk.end_line) ||
          imports.overlaps(chunk.path, chunk.start_line, chunk.end_line))
        continue;
      bool overlapping = std::any_of(taken.begin(), taken.end(), [&](const Taken& t) {
        return t.path == chunk.path && t.start < chunk.end_line && chunk.start_line < t.end;
      });
      if (overlapping) continue;
      CleanText clean = as_data(chunk.text);
      ContextFile file{chunk.path, with_final_newline(std::move(clean.text))};
      size_t c = cost(file);
      bool fits = report.tokens + c <= budget && shares_->fits(chunk.path, 0, c);
      if (!fits && !is_open_file(chunk.path))
        if (auto code = code_only(file.text, chunk.path)) {
          ContextFile shorter{chunk.path, std::move(*code)};
          size_t shorter_cost = cost(shorter);
          if (report.tokens + shorter_cost <= budget && shares_->fits(chunk.path, 0, shorter_cost)) {
            file = std::move(shorter);
            c = shorter_cost;
            fits = true;
            ++code_only_files_;
          }
        }
      if (!fits) continue;
      shares_->take(chunk.path, 0, c);
      invisible_removed_ += clean.invisible_removed;
      report.tokens += c;
      ++report.items;
      taken.push_back({chunk.path, chunk.start_line, chunk.end_line, std::move(file)});
    }
    std::sort(taken.begin(), taken.end(),
              [](const Taken& a, const Taken& b) { return std::tie(a.path, a.start) < std::tie(b.path, b.start); });
    for (Taken& t : taken) out.push_back(std::move(t.file));
    return report;
  }

  SourceReport add_recent(std::vector<ContextFile>& out, const std::vector<ContextFile>& similar, size_t budget) {
    SourceReport report;
    for (const ContextFile& edit : request_.recent_edits) {
      if (is_current(edit.path) || edit.text.empty()) continue;
      CleanText clean = as_data(edit.text);
      ContextFile file{edit.path, with_final_newline(std::move(clean.text))};
      bool duplicate = std::find(out.begin(), out.end(), file) != out.end() ||
                       std::find(similar.begin(), similar.end(), file) != similar.end();
      if (duplicate) continue;
      size_t c = cost(file);
      // Over budget or over the file's share: its first lines that fit, if any.
      while ((report.tokens + c > budget || !shares_->fits(file.path, 0, c)) && !file.text.empty()) {
        size_t cut = file.text.size() < 2 ? std::string::npos : file.text.rfind('\n', file.text.size() - 2);
        file.text.resize(cut == std::string::npos ? 0 : cut + 1);
        c = cost(file);
      }
      if (file.text.empty()) continue;
      shares_->take(file.path, 0, c);
      invisible_removed_ += clean.invisible_removed;
      report.tokens += c;
      ++report.items;
      out.push_back(std::move(file));
    }
    std::stable_sort(out.begin(), out.end(), [](const ContextFile& a, const ContextFile& b) { return a.path < b.path; });
    return report;
  }

  const ContextRequest& request_;
  const CancellationToken& cancel_;
  TokenCounter count_;
  size_t remaining_ = 0;
  FileShares* shares_ = nullptr;  // during build()
  size_t invisible_removed_ = 0, code_only_files_ = 0;  // similar chunks and recent edits
};

}  // namespace

Context build_context(const ContextRequest& request, const CancellationToken& cancel) {
  return ContextBuilder(request, cancel).build();
}

}  // namespace astfill::completion
