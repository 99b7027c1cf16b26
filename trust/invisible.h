// Text from other files enters a prompt as data. Characters that render as
// nothing or reorder what is shown (zero-width spaces and joiners, bidi
// embeddings, overrides and isolates, the BOM, Unicode tag characters) let a
// file say one thing to a reader and another to the model (the "rules file
// backdoor"); they are removed from cross-file context.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace astfill::trust {

// Whether code point `c` is one of those characters: U+00AD, U+061C, U+180E,
// U+200B-200F, U+202A-202E, U+2060-2064, U+2066-206F, U+FEFF, U+FFF9-FFFB,
// U+E0000-E007F.
bool is_invisible_or_bidi(char32_t c);

// `text` without those characters; `removed`, when given, receives how many
// were removed. Invalid UTF-8 is kept as it is.
std::string strip_invisible(std::string_view text, size_t* removed = nullptr);

}  // namespace astfill::trust
