// Which characters make an identifier, per language: the one rule that every
// module (the LSP's go-to-definition, completion's API constraint, receivers
// and vocabulary trie, extraction) asks, so that none of them disagrees on
// `$` or on non-ASCII letters.
//
// The rule follows each language's specification, with Unicode categories
// from utf8proc (Unicode 15 in Debian 12's 2.8):
//   Python, JavaScript/TypeScript, Rust, C/C++: `_` and ID_Start, then
//       ID_Continue (UAX #31: letters and letter numbers; then also marks,
//       decimal digits, connector punctuation). XID_* and NFKC forms differ
//       from ID_* on a handful of compatibility characters, ignored here.
//   JavaScript/TypeScript also take `$` anywhere (ECMAScript IdentifierName);
//   C/C++ take `$` as GCC does by default (and UTF-8 letters since GCC 10;
//       C23/C++23 adopt UAX #31).
//   Java: letters, letter numbers, currency symbols (`$`) and connector
//       punctuation (`_`) start; digits and marks continue
//       (Character.isJavaIdentifierStart/Part, without the ignorable controls).
//   Go: Unicode letters and `_` start; letters, `_` and decimal digits continue.
// An unknown languageId gets the union of these (`$` allowed), so a question
// about a plain-text buffer still finds `$x` and `naïve`.
//
// Text is decoded as UTF-8; an invalid byte is never part of an identifier.
#pragma once

#include <cstddef>
#include <string_view>

namespace astfill::parsing {

bool is_identifier_start(std::string_view language_id, char32_t c);
bool is_identifier_part(std::string_view language_id, char32_t c);

// The identifier containing or ending at byte `offset` (the word under or just before the cursor),
// as a byte range [begin, end); begin == end when there is none (also for a number).
struct IdentifierSpan {
  size_t begin = 0, end = 0;
};
IdentifierSpan identifier_at(std::string_view language_id, std::string_view text, size_t offset);

// The first byte of the run of identifier characters (is_identifier_part)
// that ends at `offset`; `offset` itself when the character before it is not
// one. The run may start with a digit: callers that need a whole identifier
// use identifier_at. `offset` past the end counts as the end; one inside a
// UTF-8 sequence as that sequence's start.
size_t identifier_run_begin(std::string_view language_id, std::string_view text, size_t offset);
// The byte after the run of identifier characters that starts at `offset`.
size_t identifier_run_end(std::string_view language_id, std::string_view text, size_t offset);

// Whether `text` holds at least one identifier character (a letter, digit,
// `_`, ... by the language's rule): a line of code as opposed to one of
// brackets and punctuation only.
bool has_identifier_part(std::string_view language_id, std::string_view text);

// Whether a byte can belong to an identifier in some language, for code that
// must decide byte by byte without a language (the vocabulary trie: a model
// token is one byte string for every language, and may hold half of a UTF-8
// character). An ASCII byte is tested by is_identifier_part with the union
// rule; every byte of a multi-byte UTF-8 sequence counts, since one byte
// cannot say whether its character is a letter.
bool is_identifier_byte(unsigned char c);

}  // namespace astfill::parsing
