// Line and whitespace helpers for the text around a completion, shared by
// the stop rule and postprocessing. Lines end at '\n'; a '\r' before it is
// trailing whitespace.
#pragma once

#include <cstddef>
#include <string_view>

namespace astfill::completion {

inline bool is_blank_char(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

inline std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (is_blank_char(s.front()) || s.front() == '\n')) s.remove_prefix(1);
  return s;
}

inline std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (is_blank_char(s.back()) || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

inline std::string_view trim(std::string_view s) { return trim_left(trim_right(s)); }

inline bool is_blank(std::string_view s) { return trim(s).empty(); }

// The number of spaces and tabs a line starts with.
inline size_t indentation(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && (line[n] == ' ' || line[n] == '\t')) ++n;
  return n;
}

// The text before the first '\n' (all of it when there is none).
inline std::string_view first_line(std::string_view text) { return text.substr(0, text.find('\n')); }

// The text after the last '\n' (all of it when there is none).
inline std::string_view last_line(std::string_view text) {
  size_t nl = text.rfind('\n');
  return nl == std::string_view::npos ? text : text.substr(nl + 1);
}

// The first line with something other than whitespace, untrimmed; "" when none.
inline std::string_view first_nonblank_line(std::string_view text) {
  for (size_t start = 0; start < text.size();) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!is_blank(line)) return line;
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return {};
}

// The last line with something other than whitespace, untrimmed; "" when none.
inline std::string_view last_nonblank_line(std::string_view text) {
  for (size_t end = text.size();;) {
    size_t nl = end == 0 ? std::string_view::npos : text.rfind('\n', end - 1);
    size_t start = nl == std::string_view::npos ? 0 : nl + 1;
    std::string_view line = text.substr(start, end - start);
    if (!is_blank(line)) return line;
    if (nl == std::string_view::npos) return {};
    end = nl;
  }
}

inline bool is_closer(char c) { return c == ')' || c == ']' || c == '}'; }

}  // namespace astfill::completion
