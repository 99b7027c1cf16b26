// Which workspace paths the index leaves out: git's ignore-file semantics
// (gitignore(5)), used for .gitignore, .astfillignore and .git/info/exclude.
//
// What git documents, and this code follows:
//   - blank lines and lines starting with '#' are not patterns; "\#" and "\!"
//     start a pattern with a literal '#' or '!';
//   - trailing spaces are dropped unless escaped with a backslash;
//   - '!' negates: a later or deeper match re-includes what an earlier one
//     excluded (a file below an excluded directory stays excluded, because the
//     walk never enters that directory);
//   - a trailing '/' makes the pattern match directories only;
//   - a pattern with no other '/' matches the last component at any depth; a
//     '/' at the start or in the middle anchors it to the ignore file's
//     directory;
//   - '*' and '?' never match '/', '[a-z]', '[!x]' ('[^x]' too) and POSIX
//     classes ('[[:digit:]]') match one byte; '\' escapes the next character;
//   - '**/' leading or '/**/' inside match zero or more directories; a
//     trailing '/**' matches everything inside (but not the directory itself);
//     any other run of stars is a single '*';
//   - in one file the last matching pattern wins; a deeper file wins over a
//     shallower one; .git/info/exclude loses to every .gitignore.
// Deliberate choices beyond the documentation: a trailing '\r' (a file saved
// with CRLF line ends) is dropped, and matching is case-sensitive (git's
// default, core.ignoreCase=false). In a directory, .astfillignore is read
// after .gitignore, so its patterns win.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace astfill::index {

// One pattern line, compiled into path segments.
struct IgnorePattern {
  struct Segment {
    std::string glob;         // glob for one path component
    bool any_depth = false;   // a "**" segment: zero or more components
  };
  std::vector<Segment> segments;
  bool negated = false;
  bool directory_only = false;
  bool basename_only = false;  // no '/' in the pattern: match the last component only
};

// The pattern on one line of an ignore file; nullopt for blank lines and
// comments.
std::optional<IgnorePattern> parse_ignore_line(std::string_view line);

// Whether `glob` matches the single path component `name` ('*', '?', '[...]'
// and '\' escapes; no '/' in either).
bool glob_matches_component(std::string_view glob, std::string_view name);

// The patterns of one ignore file, which apply to paths under its directory.
class IgnoreFile {
 public:
  enum class Verdict { NoMatch, Ignored, Included };

  IgnoreFile() = default;
  // `directory`: where the file lives, relative to the workspace root ("" for
  // the root, "a/b" otherwise).
  IgnoreFile(std::string_view text, std::string directory);

  // `path`: relative to the workspace root, '/'-separated, no trailing '/'.
  Verdict check(std::string_view path, bool is_directory) const;

  bool empty() const { return patterns_.empty(); }
  const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
  std::vector<IgnorePattern> patterns_;
};

// The ignore files in force at one point of a walk, shallowest first.
class IgnoreStack {
 public:
  void push(IgnoreFile file) { files_.push_back(std::move(file)); }
  void pop() { files_.pop_back(); }
  size_t size() const { return files_.size(); }
  // Pops until `n` files remain.
  void truncate(size_t n) { files_.resize(n); }

  bool ignored(std::string_view path, bool is_directory) const;

 private:
  std::vector<IgnoreFile> files_;
};

}  // namespace astfill::index
