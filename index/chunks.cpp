#include "index/chunks.h"

#include <algorithm>
#include <cctype>
#include <unordered_set>

namespace astfill::index {
namespace {

// Where each line starts, plus the end of the text.
std::vector<size_t> line_starts(std::string_view text) {
  std::vector<size_t> starts{0};
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n' && i + 1 < text.size()) starts.push_back(i + 1);
  starts.push_back(text.size());
  return starts;
}

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

struct Boundaries {
  std::vector<bool> top_level;  // per line: a top-level definition starts here
  std::vector<bool> nested;     // per line: a nested definition starts here
};

Boundaries definition_starts(const std::vector<parsing::Definition>& definitions, uint32_t lines) {
  Boundaries b{std::vector<bool>(lines, false), std::vector<bool>(lines, false)};
  for (const auto& d : definitions) {
    uint32_t line = d.range.start_line;
    if (line >= lines) continue;
    (d.container.empty() ? b.top_level : b.nested)[line] = true;
  }
  return b;
}

class Chunker {
 public:
  Chunker(std::string_view text, const std::vector<parsing::Definition>& defs, const ChunkOptions& options)
      : text_(text), starts_(line_starts(text)), lines_(static_cast<uint32_t>(starts_.size() - 1)),
        bounds_(definition_starts(defs, lines_)), options_(options) {}

  std::vector<CodeChunk> run() {
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
    for (uint32_t start = 0; start < lines_;) {
      uint32_t end = chunk_end(start);
      ranges.emplace_back(start, end);
      start = end;
    }
    if (ranges.size() >= 2 && ranges.back().second - ranges.back().first < std::max(1u, options_.min_lines / 4) &&
        bytes(ranges[ranges.size() - 2].first, ranges.back().second) <= options_.max_bytes) {
      ranges[ranges.size() - 2].second = ranges.back().second;
      ranges.pop_back();
    }
    std::vector<CodeChunk> chunks;
    for (auto [start, end] : ranges) {
      std::string_view body = text_.substr(starts_[start], starts_[end] - starts_[start]);
      if (!blank(body)) chunks.push_back({start, end, std::string(body)});
    }
    return chunks;
  }

 private:
  size_t bytes(uint32_t start, uint32_t end) const { return starts_[end] - starts_[start]; }
  std::string_view line(uint32_t i) const { return text_.substr(starts_[i], starts_[i + 1] - starts_[i]); }

  // The first line after the chunk that starts at `start`.
  uint32_t chunk_end(uint32_t start) const {
    uint32_t lo = start + std::max(1u, options_.min_lines);
    uint32_t hi = start + std::max(options_.min_lines, options_.max_lines);
    uint32_t end = lo >= lines_ ? lines_ : preferred_cut(lo, std::min(hi, lines_));
    // The byte cap: the longest run of lines from `start` that stays within it.
    uint32_t capped = start + 1;
    while (capped < end && bytes(start, capped + 1) <= options_.max_bytes) ++capped;
    return capped;
  }

  // Where to end a chunk that may end anywhere in [lo, hi] (hi <= lines_).
  uint32_t preferred_cut(uint32_t lo, uint32_t hi) const {
    for (uint32_t i = lo; i <= hi && i < lines_; ++i)
      if (bounds_.top_level[i]) return i;
    for (uint32_t i = lo; i <= hi && i < lines_; ++i)
      if (bounds_.nested[i]) return i;
    if (hi == lines_) return lines_;  // the rest fits
    for (uint32_t i = hi; i > lo; --i)
      if (blank(line(i - 1))) return i;
    return hi;
  }

  std::string_view text_;
  std::vector<size_t> starts_;
  uint32_t lines_;
  Boundaries bounds_;
  ChunkOptions options_;
};

bool identifier_start(unsigned char c) { return c == '_' || std::isalpha(c) || c >= 0x80; }
bool identifier_char(unsigned char c) { return identifier_start(c) || std::isdigit(c); }

// Words that appear everywhere in code and say nothing about what it does.
const std::unordered_set<std::string_view>& common_words() {
  static const std::unordered_set<std::string_view> words = {
      "if",     "else",    "elif",   "for",     "while",   "do",       "return", "break",  "continue", "switch",
      "case",   "default", "def",    "class",   "struct",  "enum",     "fn",     "func",   "function", "let",
      "var",    "const",   "static", "public",  "private", "protected", "import", "from",  "as",       "in",
      "is",     "not",     "and",    "or",      "self",    "this",     "new",    "true",   "false",    "null",
      "None",   "True",    "False",  "nil",     "void",    "int",      "char",   "bool",   "auto",     "use",
      "mod",    "pub",     "impl",   "package", "include", "try",      "catch",  "except", "finally",  "with",
      "pass",   "lambda",  "yield",  "async",   "await",   "typedef",  "unsigned", "long", "float",    "double",
      "string", "std",     "export", "extends", "implements", "interface", "type", "mut",  "go",       "defer"};
  return words;
}

}  // namespace

std::vector<CodeChunk> chunk_file(std::string_view text, const std::vector<parsing::Definition>& definitions,
                                  const ChunkOptions& options) {
  if (text.empty()) return {};
  return Chunker(text, definitions, options).run();
}

std::vector<std::string> window_terms(std::string_view window, size_t max_terms) {
  std::vector<std::string_view> words;
  for (size_t i = 0; i < window.size();) {
    auto c = static_cast<unsigned char>(window[i]);
    if (!identifier_start(c)) {
      ++i;
      // A number's letters ("0x1f", "10u") are not identifiers.
      if (std::isdigit(c))
        while (i < window.size() && identifier_char(static_cast<unsigned char>(window[i]))) ++i;
      continue;
    }
    size_t start = i;
    while (i < window.size() && identifier_char(static_cast<unsigned char>(window[i]))) ++i;
    words.push_back(window.substr(start, i - start));
  }
  std::unordered_set<std::string_view> seen;
  std::vector<std::string> terms;
  for (auto it = words.rbegin(); it != words.rend() && terms.size() < max_terms; ++it) {
    std::string_view word = *it;
    if (word.size() < 2 || common_words().count(word) || !seen.insert(word).second) continue;
    terms.emplace_back(word);
  }
  return terms;
}

std::string match_any(const std::vector<std::string>& terms) {
  std::string query;
  for (const auto& term : terms) {
    if (!query.empty()) query += " OR ";
    query += '"';
    for (char ch : term) query += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    query += '"';
  }
  return query;
}

}  // namespace astfill::index
