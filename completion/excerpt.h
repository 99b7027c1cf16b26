// The current file's prefix and suffix, cut at line boundaries to fit their
// token budgets.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace astfill::completion {

// Tokens in a text, as the model's tokenizer counts them.
using TokenCounter = std::function<size_t(std::string_view)>;

// A byte range [begin, end) of a text.
struct Excerpt {
  size_t begin = 0, end = 0;
  size_t first_line = 0;  // zero-based line of the text where it begins
  size_t lines = 0;       // lines it touches
  size_t tokens = 0;
};

// The text before `cursor` that fits `budget`: the cursor's line up to the
// cursor, then as many whole lines above it as fit. Unless the text from its
// first line fits whole, the excerpt then starts at the first line whose
// number is a multiple of `line_step` (never below the cursor's line), so
// that as the cursor moves down the prefix's start jumps every `line_step`
// lines instead of moving with each line, and the prompt's beginning stays
// the same in between. When the cursor's line alone is over budget, the part
// nearest the cursor that fits (cut at a UTF-8 character boundary).
Excerpt prefix_excerpt(std::string_view text, size_t cursor, size_t budget, const TokenCounter& count,
                       size_t line_step = 8);

// The text from `cursor` that fits `budget`: the rest of the cursor's line,
// then as many whole lines below as fit. When the rest of the cursor's line
// alone is over budget, its beginning that fits.
Excerpt suffix_excerpt(std::string_view text, size_t cursor, size_t budget, const TokenCounter& count);

}  // namespace astfill::completion
