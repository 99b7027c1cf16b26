#include "workspace/positions.h"

#include "support/utf8.h"

namespace astfill::workspace {
namespace {

// Units the character starting at text[i] (of `len` bytes) occupies.
uint32_t units_of(size_t len, PositionEncoding enc) {
  switch (enc) {
    case PositionEncoding::Utf8: return static_cast<uint32_t>(len);
    case PositionEncoding::Utf16: return len == 4 ? 2 : 1;
    case PositionEncoding::Utf32: return 1;
  }
  return 1;
}

// Byte length of the character at i, treating an invalid byte as one unit.
size_t char_length(std::string_view text, size_t i) {
  size_t n = utf8_sequence_length(text, i);
  return n ? n : 1;
}

// Offset just past the end of the line's content (before its terminator).
size_t line_content_end(std::string_view text, size_t line_start) {
  size_t i = line_start;
  while (i < text.size() && text[i] != '\n' && text[i] != '\r') ++i;
  return i;
}

// Offset of the start of the next line, given the content end.
size_t next_line_start(std::string_view text, size_t content_end) {
  if (content_end >= text.size()) return std::string_view::npos;
  if (text[content_end] == '\r' && content_end + 1 < text.size() && text[content_end + 1] == '\n')
    return content_end + 2;
  return content_end + 1;
}

}  // namespace

const char* encoding_name(PositionEncoding e) {
  switch (e) {
    case PositionEncoding::Utf8: return "utf-8";
    case PositionEncoding::Utf16: return "utf-16";
    case PositionEncoding::Utf32: return "utf-32";
  }
  return "utf-16";
}

std::optional<PositionEncoding> parse_encoding(std::string_view name) {
  if (name == "utf-8") return PositionEncoding::Utf8;
  if (name == "utf-16") return PositionEncoding::Utf16;
  if (name == "utf-32") return PositionEncoding::Utf32;
  return std::nullopt;
}

std::optional<size_t> offset_at(std::string_view text, Position pos, PositionEncoding enc) {
  size_t start = 0;
  for (uint32_t l = 0; l < pos.line; ++l) {
    start = next_line_start(text, line_content_end(text, start));
    if (start == std::string_view::npos) return std::nullopt;
  }
  size_t end = line_content_end(text, start);
  size_t i = start;
  uint32_t units = 0;
  while (i < end) {
    size_t len = char_length(text, i);
    uint32_t u = units_of(len, enc);
    if (units + u > pos.character) break;  // inside this character: snap to its start
    units += u;
    i += len;
  }
  return i;
}

Position position_at(std::string_view text, size_t offset, PositionEncoding enc) {
  if (offset > text.size()) offset = text.size();
  Position pos;
  size_t start = 0;
  for (;;) {
    size_t end = line_content_end(text, start);
    size_t next = next_line_start(text, end);
    if (next == std::string_view::npos || offset < next) {
      if (offset > end) offset = end;  // inside a "\r\n" pair
      size_t i = start;
      while (i < offset) {
        size_t len = char_length(text, i);
        if (i + len > offset) break;
        pos.character += units_of(len, enc);
        i += len;
      }
      return pos;
    }
    ++pos.line;
    start = next;
  }
}

size_t line_count(std::string_view text) {
  size_t n = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') ++n;
    else if (text[i] == '\r') {
      ++n;
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    }
  }
  return n;
}

}  // namespace astfill::workspace
