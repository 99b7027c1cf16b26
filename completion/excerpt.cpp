// Prefix and suffix excerpts. Lines are counted one by one to find the cut,
// then the whole excerpt is counted once more: BPE counts are not quite
// additive across line boundaries, and the budget is a promise.
#include "completion/excerpt.h"

#include <algorithm>
#include <vector>

namespace astfill::completion {
namespace {

bool continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

size_t count_newlines(std::string_view text) { return std::count(text.begin(), text.end(), '\n'); }

// The smallest start in [lo, hi] (at a character boundary) such that
// text[start, hi) fits the budget; hi when none does.
size_t tail_that_fits(std::string_view text, size_t lo, size_t hi, size_t budget, const TokenCounter& count) {
  size_t best = hi;
  size_t a = lo, b = hi;
  while (a < b) {
    size_t mid = a + (b - a) / 2;
    while (mid < hi && continuation_byte(text[mid])) ++mid;
    if (mid >= b) break;
    if (count(text.substr(mid, hi - mid)) <= budget) {
      best = mid;
      b = mid;
    } else {
      a = mid + 1;
    }
  }
  return best;
}

// The largest end in [lo, hi] (at a character boundary) such that
// text[lo, end) fits the budget; lo when none does.
size_t head_that_fits(std::string_view text, size_t lo, size_t hi, size_t budget, const TokenCounter& count) {
  size_t best = lo;
  size_t a = lo, b = hi;
  while (a < b) {
    size_t mid = a + (b - a + 1) / 2;
    while (mid > lo && mid < text.size() && continuation_byte(text[mid])) --mid;
    if (mid <= a) break;
    if (count(text.substr(lo, mid - lo)) <= budget) {
      best = mid;
      a = mid;
    } else {
      b = mid - 1;
    }
  }
  return best;
}

}  // namespace

Excerpt prefix_excerpt(std::string_view text, size_t cursor, size_t budget, const TokenCounter& count,
                       size_t line_step) {
  cursor = std::min(cursor, text.size());
  std::string_view before = text.substr(0, cursor);
  size_t line_start = before.rfind('\n');
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  size_t cursor_line = count_newlines(before);

  Excerpt out;
  out.end = cursor;
  size_t used = count(before.substr(line_start));
  if (used > budget) {
    out.begin = tail_that_fits(before, line_start, cursor, budget, count);
    out.first_line = cursor_line;
    out.lines = 1;
    out.tokens = count(before.substr(out.begin));
    return out;
  }
  // Whole lines above, nearest first.
  size_t start = line_start, line = cursor_line;
  while (start > 0) {
    size_t previous = start - 1 == 0 ? std::string_view::npos : before.rfind('\n', start - 2);
    size_t above = previous == std::string_view::npos ? 0 : previous + 1;
    size_t cost = count(before.substr(above, start - above));
    if (used + cost > budget) break;
    used += cost;
    start = above;
    --line;
  }
  auto next_line = [&](size_t at) { return before.find('\n', at) + 1; };
  // Per-line counts are an estimate: drop lines until the whole fits.
  while (start < line_start && count(before.substr(start)) > budget) {
    start = next_line(start);
    ++line;
  }
  if (start > 0 && line_step > 1) {
    size_t snapped = (line + line_step - 1) / line_step * line_step;
    while (line < snapped && start < line_start) {
      start = next_line(start);
      ++line;
    }
  }
  out.begin = start;
  out.first_line = line;
  out.lines = cursor_line - line + 1;
  out.tokens = count(before.substr(start));
  return out;
}

Excerpt suffix_excerpt(std::string_view text, size_t cursor, size_t budget, const TokenCounter& count) {
  cursor = std::min(cursor, text.size());
  size_t cursor_line = count_newlines(text.substr(0, cursor));
  size_t line_end = text.find('\n', cursor);
  line_end = line_end == std::string_view::npos ? text.size() : line_end + 1;

  Excerpt out;
  out.begin = cursor;
  out.first_line = cursor_line;
  size_t used = count(text.substr(cursor, line_end - cursor));
  if (used > budget) {
    out.end = head_that_fits(text, cursor, line_end, budget, count);
    out.lines = out.end > cursor ? 1 : 0;
    out.tokens = count(text.substr(cursor, out.end - cursor));
    return out;
  }
  size_t end = line_end;
  std::vector<size_t> ends = {end};  // line ends taken, to step back if the whole is over
  while (end < text.size()) {
    size_t next = text.find('\n', end);
    next = next == std::string_view::npos ? text.size() : next + 1;
    size_t cost = count(text.substr(end, next - end));
    if (used + cost > budget) break;
    used += cost;
    end = next;
    ends.push_back(end);
  }
  while (ends.size() > 1 && count(text.substr(cursor, ends.back() - cursor)) > budget) ends.pop_back();
  out.end = ends.back();
  out.lines = ends.size();
  if (cursor == text.size()) out.lines = 0;
  out.tokens = count(text.substr(cursor, out.end - cursor));
  return out;
}

}  // namespace astfill::completion
