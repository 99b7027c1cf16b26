#include "workspace/positions.h"

#include "support/utf8.h"

#include <algorithm>
#include <cstring>

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

// Where lines end ("\n", "\r\n" or a lone "\r", as LSP counts them), found
// with memchr rather than byte by byte: a position near the end of a 10 MB
// document is located on the loop thread, where every millisecond holds up
// status and cancellation. Each terminator is searched for again only once
// the scan has passed the last one found, so a file without "\r" costs one
// memchr for it in all.
class LineEnds {
 public:
  explicit LineEnds(std::string_view text) : text_(text), nl_(find(0, '\n')), cr_(find(0, '\r')) {}

  // Offset just past the end of the content of the line starting at
  // `start` (before its terminator); starts must not decrease.
  size_t content_end(size_t start) {
    if (nl_ < start) nl_ = find(start, '\n');
    if (cr_ < start) cr_ = find(start, '\r');
    return std::min(nl_, cr_);
  }

  // Offset of the start of the next line, given the content end; npos at
  // the end of the text.
  size_t next_line_start(size_t content_end) const {
    if (content_end >= text_.size()) return std::string_view::npos;
    if (text_[content_end] == '\r' && content_end + 1 < text_.size() && text_[content_end + 1] == '\n')
      return content_end + 2;
    return content_end + 1;
  }

 private:
  size_t find(size_t from, char c) const {
    if (from >= text_.size()) return text_.size();
    const void* hit = std::memchr(text_.data() + from, c, text_.size() - from);
    return hit ? static_cast<size_t>(static_cast<const char*>(hit) - text_.data()) : text_.size();
  }

  std::string_view text_;
  size_t nl_, cr_;
};

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
  LineEnds lines(text);
  size_t start = 0;
  for (uint32_t l = 0; l < pos.line; ++l) {
    start = lines.next_line_start(lines.content_end(start));
    if (start == std::string_view::npos) return std::nullopt;
  }
  size_t end = lines.content_end(start);
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
  LineEnds lines(text);
  size_t start = 0;
  for (;;) {
    size_t end = lines.content_end(start);
    size_t next = lines.next_line_start(end);
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
  LineEnds lines(text);
  size_t n = 1;
  for (size_t start = lines.next_line_start(lines.content_end(0)); start != std::string_view::npos;
       start = lines.next_line_start(lines.content_end(start)))
    ++n;
  return n;
}

}  // namespace astfill::workspace
