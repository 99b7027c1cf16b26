#include "parsing/identifiers.h"

#include <utf8proc.h>

#include <array>

#include "support/utf8.h"

namespace astfill::parsing {

namespace {

enum class Rule { Unicode, UnicodeDollar, Java, Go, Any };

Rule rule_for(std::string_view id) {
  if (id == "python" || id == "rust") return Rule::Unicode;
  if (id == "javascript" || id == "javascriptreact" || id == "typescript" || id == "typescriptreact" || id == "c" ||
      id == "cpp")
    return Rule::UnicodeDollar;
  if (id == "java") return Rule::Java;
  if (id == "go") return Rule::Go;
  return Rule::Any;
}

bool is_letter(utf8proc_category_t k) {
  return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT ||
         k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_LO;
}

// Unicode's Other_ID_Start and Other_ID_Continue (PropList.txt, 15.0, plus
// U+200C/U+200D, which ECMAScript takes and 15.1 added), which keep
// identifiers stable across Unicode versions.
bool other_id_start(char32_t c) {
  return c == 0x1885 || c == 0x1886 || c == 0x2118 || c == 0x212E || c == 0x309B || c == 0x309C;
}
bool other_id_continue(char32_t c) {
  return c == 0x00B7 || c == 0x0387 || (c >= 0x1369 && c <= 0x1371) || c == 0x19DA || c == 0x200C || c == 0x200D;
}

// UAX #31 ID_Start, less Pattern_Syntax (U+2E2F VERTICAL TILDE is the one letter there).
bool id_start(char32_t c, utf8proc_category_t k) {
  return ((is_letter(k) || k == UTF8PROC_CATEGORY_NL) && c != 0x2E2F) || other_id_start(c);
}
bool id_continue(char32_t c, utf8proc_category_t k) {
  return id_start(c, k) || k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_MC || k == UTF8PROC_CATEGORY_ND ||
         k == UTF8PROC_CATEGORY_PC || other_id_continue(c);
}

bool ascii_start(Rule rule, char32_t c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  return c == '$' && rule != Rule::Unicode && rule != Rule::Go;
}

bool start(Rule rule, char32_t c) {
  if (c < 0x80) return ascii_start(rule, c);
  if (c > 0x10FFFF) return false;
  auto k = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  switch (rule) {
    case Rule::Go:
      return is_letter(k);
    case Rule::Java:
      return is_letter(k) || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_SC || k == UTF8PROC_CATEGORY_PC;
    case Rule::Any:
      return id_start(c, k) || k == UTF8PROC_CATEGORY_SC || k == UTF8PROC_CATEGORY_PC;
    default:
      return id_start(c, k);
  }
}

bool part(Rule rule, char32_t c) {
  if (c < 0x80) return ascii_start(rule, c) || (c >= '0' && c <= '9');
  if (c > 0x10FFFF) return false;
  auto k = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  switch (rule) {
    case Rule::Go:
      return is_letter(k) || k == UTF8PROC_CATEGORY_ND;
    case Rule::Java:
      return start(rule, c) || k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_MC ||
             k == UTF8PROC_CATEGORY_CF;
    case Rule::Any:
      return id_continue(c, k) || start(rule, c) || k == UTF8PROC_CATEGORY_CF;
    default:
      return id_continue(c, k);
  }
}

// The code point of the valid sequence text[i, i + n), n from utf8_sequence_length.
char32_t decode(std::string_view text, size_t i, size_t n) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
  if (n == 1) return b(0);
  char32_t c = b(0) & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < n; ++k) c = (c << 6) | (b(k) & 0x3F);
  return c;
}

bool continuation(std::string_view text, size_t i) { return (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80; }

// `offset` clamped to the text and moved back to the start of the UTF-8
// sequence it falls inside, if any.
size_t character_boundary(std::string_view text, size_t offset) {
  if (offset >= text.size()) return text.size();
  size_t lead = offset;
  while (lead > 0 && offset - lead < 3 && continuation(text, lead)) --lead;
  if (lead != offset && utf8_sequence_length(text, lead) > offset - lead) return lead;
  return offset;
}

// The character ending at byte `end` (> 0): its first byte, or npos when the
// bytes before `end` are not a valid sequence.
size_t previous_character(std::string_view text, size_t end) {
  size_t lead = end - 1;
  while (lead > 0 && end - lead < 4 && continuation(text, lead)) --lead;
  return utf8_sequence_length(text, lead) == end - lead ? lead : std::string_view::npos;
}

size_t run_begin(Rule rule, std::string_view text, size_t offset) {
  size_t begin = character_boundary(text, offset);
  while (begin > 0) {
    size_t lead = previous_character(text, begin);
    if (lead == std::string_view::npos || !part(rule, decode(text, lead, begin - lead))) break;
    begin = lead;
  }
  return begin;
}

size_t run_end(Rule rule, std::string_view text, size_t offset) {
  size_t end = character_boundary(text, offset);
  while (end < text.size()) {
    size_t n = utf8_sequence_length(text, end);
    if (n == 0 || !part(rule, decode(text, end, n))) break;
    end += n;
  }
  return end;
}

}  // namespace

bool is_identifier_start(std::string_view language_id, char32_t c) { return start(rule_for(language_id), c); }
bool is_identifier_part(std::string_view language_id, char32_t c) { return part(rule_for(language_id), c); }

size_t identifier_run_begin(std::string_view language_id, std::string_view text, size_t offset) {
  return run_begin(rule_for(language_id), text, offset);
}
size_t identifier_run_end(std::string_view language_id, std::string_view text, size_t offset) {
  return run_end(rule_for(language_id), text, offset);
}

IdentifierSpan identifier_at(std::string_view language_id, std::string_view text, size_t offset) {
  Rule rule = rule_for(language_id);
  size_t begin = run_begin(rule, text, offset), end = run_end(rule, text, offset);
  if (begin == end) return {begin, begin};
  size_t n = utf8_sequence_length(text, begin);
  if (!start(rule, decode(text, begin, n))) return {begin, begin};  // a number, or a mark with no letter
  return {begin, end};
}

bool has_identifier_part(std::string_view language_id, std::string_view text) {
  Rule rule = rule_for(language_id);
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      ++i;
      continue;
    }
    if (part(rule, decode(text, i, n))) return true;
    i += n;
  }
  return false;
}

bool is_identifier_byte(unsigned char c) {
  // The ASCII half of the table comes from the union rule itself.
  static const std::array<bool, 128> ascii = [] {
    std::array<bool, 128> table{};
    for (char32_t b = 0; b < 128; ++b) table[b] = part(Rule::Any, b);
    return table;
  }();
  return c >= 0x80 || ascii[c];
}

}  // namespace astfill::parsing
