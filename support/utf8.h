// UTF-8 validation and repair. Text from clients and files is UTF-8 by
// contract, not by guarantee; everything that stores or echoes it goes
// through here.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace astfill {

// Length of the valid UTF-8 sequence starting at text[i], or 0 if the bytes
// there are not one (overlong forms, surrogates and code points past
// U+10FFFF are invalid).
size_t utf8_sequence_length(std::string_view text, size_t i);

// The byte offset of the first invalid sequence, if any.
std::optional<size_t> first_invalid_utf8(std::string_view text);

// Replaces every invalid byte with U+FFFD; returns how many were replaced.
size_t sanitize_utf8(std::string& text);

}  // namespace astfill
