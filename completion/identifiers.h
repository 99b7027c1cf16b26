// The names used near the cursor, which cross-file context looks up in the
// project index. A lexical scan, not a parse: the code around the cursor is
// usually unfinished, and a wrong guess costs only one index lookup.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace astfill::completion {

struct IdentifierWindow {
  size_t lines_before = 30;  // lines above the cursor's line
  size_t lines_after = 10;   // lines below it
};

// Identifiers in the window around byte `cursor` of `text`, nearest first
// (the cursor's line leftwards from the cursor, then the lines above, each
// right to left; then the rest of the cursor's line and the lines below),
// each once. Left out: `language_id`'s keywords, one-letter names, words in
// strings and line comments, and names the window itself defines (after a
// defining keyword such as def/class/function/let/const/var/fn/func, before
// an assignment `=` or `:=`, loop variables, and the parameters of a
// function defined in the window in the languages that write the name
// before its type).
std::vector<std::string> identifiers_near(std::string_view text, size_t cursor, std::string_view language_id,
                                          IdentifierWindow window = {});

// Whether `word` is a keyword (or a literal such as None/true/nullptr) of
// `language_id`; for a language astfill does not parse, of any of them.
bool is_keyword(std::string_view language_id, std::string_view word);

}  // namespace astfill::completion
