#include "index/ignore.h"

#include <cctype>

namespace astfill::index {
namespace {

bool in_posix_class(std::string_view name, unsigned char c, bool& known) {
  known = true;
  if (name == "alnum") return std::isalnum(c);
  if (name == "alpha") return std::isalpha(c);
  if (name == "blank") return c == ' ' || c == '\t';
  if (name == "cntrl") return std::iscntrl(c);
  if (name == "digit") return std::isdigit(c);
  if (name == "graph") return std::isgraph(c);
  if (name == "lower") return std::islower(c);
  if (name == "print") return std::isprint(c);
  if (name == "punct") return std::ispunct(c);
  if (name == "space") return std::isspace(c);
  if (name == "upper") return std::isupper(c);
  if (name == "xdigit") return std::isxdigit(c);
  known = false;
  return false;
}

enum class Step { Match, Mismatch, Broken };

// A bracket expression starting at glob[g] == '['. On a match, g moves past
// the closing ']'. An unterminated expression or an unknown [:class:] makes the
// whole pattern unusable (Broken), as in git, rather than a literal '['.
Step match_class(std::string_view glob, size_t& g, unsigned char c) {
  size_t i = g + 1;
  bool negated = false;
  if (i < glob.size() && (glob[i] == '!' || glob[i] == '^')) negated = true, ++i;
  bool matched = false;
  for (bool first = true; i < glob.size(); first = false) {
    char ch = glob[i];
    if (ch == ']' && !first) {
      if (matched == negated) return Step::Mismatch;
      g = i + 1;
      return Step::Match;
    }
    if (ch == '[' && i + 1 < glob.size() && glob[i + 1] == ':') {
      size_t close = glob.find(":]", i + 2);
      if (close == std::string_view::npos) return Step::Broken;
      bool known = false;
      matched |= in_posix_class(glob.substr(i + 2, close - i - 2), c, known);
      if (!known) return Step::Broken;
      i = close + 2;
      continue;
    }
    unsigned char lo = static_cast<unsigned char>(ch);
    if (ch == '\\' && i + 1 < glob.size()) lo = static_cast<unsigned char>(glob[++i]);
    ++i;
    if (i + 1 < glob.size() && glob[i] == '-' && glob[i + 1] != ']') {
      size_t hi_at = i + 1;
      if (glob[hi_at] == '\\' && hi_at + 1 < glob.size()) ++hi_at;
      unsigned char hi = static_cast<unsigned char>(glob[hi_at]);
      matched |= lo <= c && c <= hi;
      i = hi_at + 1;
    } else {
      matched |= c == lo;
    }
  }
  return Step::Broken;
}

// One pattern element (not '*') against one byte; on a match g moves past it.
Step match_element(std::string_view glob, size_t& g, unsigned char c) {
  char p = glob[g];
  if (p == '?') return ++g, Step::Match;
  if (p == '[') return match_class(glob, g, c);
  if (p == '\\') {
    if (g + 1 >= glob.size()) return Step::Broken;  // a trailing '\' matches nothing (git)
    p = glob[g + 1];
    if (static_cast<unsigned char>(p) != c) return Step::Mismatch;
    g += 2;
    return Step::Match;
  }
  if (static_cast<unsigned char>(p) != c) return Step::Mismatch;
  return ++g, Step::Match;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// Segments against components; "**" segments match any number of components
// (the classic star backtracking, one component per step). A trailing "**"
// was compiled into "*" + "**", so it needs at least one component.
bool segments_match(const std::vector<IgnorePattern::Segment>& pattern,
                    const std::vector<std::string_view>& parts) {
  size_t p = 0, t = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (t < parts.size()) {
    if (p < pattern.size() && pattern[p].any_depth) {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < pattern.size() && glob_matches_component(pattern[p].glob, parts[t])) {
      ++p, ++t;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p].any_depth) ++p;
  return p == pattern.size();
}

// Drops trailing spaces that are not escaped with a backslash.
std::string_view trim_trailing_spaces(std::string_view line) {
  size_t end = line.size();
  while (end > 0 && line[end - 1] == ' ') {
    size_t backslashes = 0;
    for (size_t i = end - 1; i > 0 && line[i - 1] == '\\'; --i) ++backslashes;
    if (backslashes % 2 == 1) break;  // "\ " keeps this space
    --end;
  }
  return line.substr(0, end);
}

bool only_stars(std::string_view s) { return s.size() >= 2 && s.find_first_not_of('*') == std::string_view::npos; }

}  // namespace

bool glob_matches_component(std::string_view glob, std::string_view name) {
  size_t g = 0, n = 0;
  size_t star_g = std::string_view::npos, star_n = 0;
  while (n < name.size()) {
    if (g < glob.size() && glob[g] == '*') {
      while (g < glob.size() && glob[g] == '*') ++g;
      star_g = g;
      star_n = n;
      continue;
    }
    if (g < glob.size()) {
      Step step = match_element(glob, g, static_cast<unsigned char>(name[n]));
      if (step == Step::Broken) return false;
      if (step == Step::Match) {
        ++n;
        continue;
      }
    }
    if (star_g == std::string_view::npos) return false;
    g = star_g;
    n = ++star_n;
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

std::optional<IgnorePattern> parse_ignore_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty() || line.front() == '#') return std::nullopt;
  line = trim_trailing_spaces(line);
  IgnorePattern pattern;
  if (!line.empty() && line.front() == '!') {
    pattern.negated = true;
    line.remove_prefix(1);
  }
  if (!line.empty() && line.back() == '/') {
    pattern.directory_only = true;
    line.remove_suffix(1);
  }
  if (line.empty()) return std::nullopt;
  pattern.basename_only = line.find('/') == std::string_view::npos;
  if (pattern.basename_only) {
    pattern.segments.push_back({std::string(line), false});
    return pattern;
  }
  auto parts = split_path(line);  // also drops the anchoring leading '/'
  if (parts.empty()) return std::nullopt;
  for (auto part : parts) pattern.segments.push_back({std::string(part), only_stars(part)});
  if (pattern.segments.back().any_depth) {
    // "dir/**" is everything inside dir, not dir itself: one component, then any.
    pattern.segments.back() = {"*", false};
    pattern.segments.push_back({"**", true});
  }
  return pattern;
}

IgnoreFile::IgnoreFile(std::string_view text, std::string directory) : directory_(std::move(directory)) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (auto pattern = parse_ignore_line(text.substr(start, end - start))) patterns_.push_back(std::move(*pattern));
    start = end + 1;
  }
}

IgnoreFile::Verdict IgnoreFile::check(std::string_view path, bool is_directory) const {
  if (!directory_.empty()) {
    if (path.size() <= directory_.size() || path.substr(0, directory_.size()) != directory_ ||
        path[directory_.size()] != '/')
      return Verdict::NoMatch;
    path.remove_prefix(directory_.size() + 1);
  }
  auto parts = split_path(path);
  if (parts.empty()) return Verdict::NoMatch;
  for (auto it = patterns_.rbegin(); it != patterns_.rend(); ++it) {
    if (it->directory_only && !is_directory) continue;
    bool hit = it->basename_only ? glob_matches_component(it->segments.front().glob, parts.back())
                                 : segments_match(it->segments, parts);
    if (hit) return it->negated ? Verdict::Included : Verdict::Ignored;
  }
  return Verdict::NoMatch;
}

bool IgnoreStack::ignored(std::string_view path, bool is_directory) const {
  for (auto it = files_.rbegin(); it != files_.rend(); ++it) {
    auto verdict = it->check(path, is_directory);
    if (verdict != IgnoreFile::Verdict::NoMatch) return verdict == IgnoreFile::Verdict::Ignored;
  }
  return false;
}

}  // namespace astfill::index
