// Positions in text as LSP counts them.
//
// Documents are stored as UTF-8. Clients address them by (line, character)
// where character counts UTF-16 code units (the default), UTF-8 bytes or
// Unicode code points, as negotiated at initialize. Lines end at "\n", "\r\n"
// or "\r" (LSP 3.17 §Text Documents). A character past the end of its line
// means the end of the line (the spec says so); a position inside a surrogate
// pair or a multi-byte character snaps to the start of that character.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "support/utf8.h"

namespace astfill::workspace {

enum class PositionEncoding { Utf8, Utf16, Utf32 };

const char* encoding_name(PositionEncoding e);
std::optional<PositionEncoding> parse_encoding(std::string_view name);

struct Position {
  uint32_t line = 0;
  uint32_t character = 0;
  friend bool operator==(const Position&, const Position&) = default;
  friend auto operator<=>(const Position&, const Position&) = default;
};

struct Range {
  Position start;
  Position end;
  friend bool operator==(const Range&, const Range&) = default;
};

// Byte offset of `pos` in `text`, or nullopt when `pos.line` lies past the last
// line. (The last line exists even when empty: "a\n" has lines 0 and 1.)
std::optional<size_t> offset_at(std::string_view text, Position pos, PositionEncoding enc);

// The position of byte `offset` (clamped to the text's size; an offset inside a
// multi-byte character is moved back to its start).
Position position_at(std::string_view text, size_t offset, PositionEncoding enc);

// Number of lines as LSP counts them (always at least 1).
size_t line_count(std::string_view text);

}  // namespace astfill::workspace
