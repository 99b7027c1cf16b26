// The last step of a completion before the editor sees it: cut what the
// model wrote that the document already has, and tidy the rest.
#pragma once

#include <string>
#include <string_view>

#include "completion/stopping.h"

namespace astfill::completion {

// Steps, in order:
//  1. SingleLine keeps the first line only.
//  2. Trailing whitespace goes from every line, and blank lines from the end.
//  3. Indentation follows the file: tabs where most of its indented lines
//     start with a tab (one tab per level of the completion's own indent
//     unit), spaces where most start with spaces (a tab becomes the file's
//     indent unit). A file without indented lines says nothing, except in Go,
//     where gofmt means tabs.
//  4. Lines that repeat the previous line are dropped (a model looping), as
//     is a first line repeating the line above the cursor (the next line
//     then starts at the cursor); lines without a letter or digit (`}`, `)`)
//     may repeat.
//  5. Overlap with the suffix goes: trailing lines equal to the suffix's next
//     lines (indentation included), then a tail equal to the start of the
//     rest of the cursor's line (`foo(a, b)` before `)`), when that tail is
//     punctuation or the whole rest of the line.
//  6. Noise becomes "": only whitespace, or text the suffix starts with.
std::string postprocess(std::string_view language_id, std::string_view prefix, std::string_view suffix,
                        std::string_view completion, CompletionMode mode);

}  // namespace astfill::completion
