// The identifier rule: per language `$`, Unicode letters by category, UTF-8
// decoded (not every byte >= 0x80 taken for a letter), numbers and symbols
// refused, and identifier_at's span around a cursor.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "parsing/identifiers.h"

using namespace astfill::parsing;

namespace {

// The text identifier_at finds at `offset`.
std::string word_at(std::string_view language, std::string_view text, size_t offset) {
  IdentifierSpan span = identifier_at(language, text, offset);
  REQUIRE(span.begin <= span.end);
  REQUIRE(span.end <= text.size());
  return std::string(text.substr(span.begin, span.end - span.begin));
}

const char* const unicode_languages[] = {"python", "javascript", "typescript", "java", "go", "rust", "c", "cpp"};

}  // namespace

TEST_CASE("`$` is an identifier character in JavaScript, TypeScript, Java and C, not in Python, Go or Rust",
          "[identifiers]") {
  for (const char* language : {"javascript", "javascriptreact", "typescript", "typescriptreact", "java", "c", "cpp"}) {
    INFO(language);
    CHECK(is_identifier_start(language, U'$'));
    CHECK(is_identifier_part(language, U'$'));
    CHECK(word_at(language, "let $x = 1", 6) == "$x");
    CHECK(word_at(language, "let $x = 1", 4) == "$x");
    CHECK(word_at(language, "a$b$", 4) == "a$b$");
  }
  for (const char* language : {"python", "go", "rust"}) {
    INFO(language);
    CHECK_FALSE(is_identifier_start(language, U'$'));
    CHECK_FALSE(is_identifier_part(language, U'$'));
    CHECK(word_at(language, "y = $x", 6) == "x");
    CHECK(word_at(language, "y = $x", 5) == "x");
    CHECK(word_at(language, "y = $", 5).empty());
  }
}

TEST_CASE("Unicode letters make identifiers, emoji, box drawing and punctuation do not", "[identifiers]") {
  for (const char* language : unicode_languages) {
    INFO(language);
    for (char32_t letter : {U'ï', U'变', U'量', U'Ж', U'λ', U'ß'}) {
      CHECK(is_identifier_start(language, letter));
      CHECK(is_identifier_part(language, letter));
    }
    for (char32_t symbol : {U'😀', U'─', U'│', U'→', U'“', U'\u00A0', U'\u3000', U'¶'}) {
      CHECK_FALSE(is_identifier_start(language, symbol));
      CHECK_FALSE(is_identifier_part(language, symbol));
    }
    CHECK_FALSE(is_identifier_start(language, U'7'));
    CHECK(is_identifier_part(language, U'7'));
    CHECK(is_identifier_start(language, U'_'));
    CHECK_FALSE(is_identifier_part(language, U'-'));

    std::string naive = "x = naïve + 1";
    CHECK(word_at(language, naive, naive.find("ve") + 2) == "naïve");  // at its end
    CHECK(word_at(language, naive, naive.find("ï")) == "naïve");       // inside
    CHECK(word_at(language, naive, naive.find("ï") + 1) == "naïve");   // inside the UTF-8 sequence of ï
    std::string chinese = "print(变量)";
    CHECK(word_at(language, chinese, chinese.find(')')) == "变量");
    CHECK(word_at(language, chinese, 6) == "变量");

    std::string emoji = "x😀y";
    CHECK(word_at(language, emoji, 1) == "x");
    CHECK(word_at(language, emoji, emoji.size()) == "y");
    CHECK(word_at(language, emoji, 3) == "x");  // inside 😀: taken as its start, just after x
    std::string boxes = "─── a";
    CHECK(word_at(language, boxes, 3).empty());
    CHECK(word_at(language, boxes, boxes.size()) == "a");
  }
}

TEST_CASE("combining marks and digits continue an identifier but do not start one", "[identifiers]") {
  // U+0301 COMBINING ACUTE ACCENT (Mn), U+0663 ARABIC-INDIC DIGIT THREE (Nd).
  for (const char* language : {"python", "javascript", "java", "rust", "cpp"}) {
    INFO(language);
    CHECK_FALSE(is_identifier_start(language, U'\u0301'));
    CHECK(is_identifier_part(language, U'\u0301'));
    CHECK_FALSE(is_identifier_start(language, U'\u0663'));
    CHECK(is_identifier_part(language, U'\u0663'));
    CHECK(word_at(language, "e\u0301t\u0663 = 1", 1) == "e\u0301t\u0663");
  }
  // Go's identifiers are letters, `_` and decimal digits: no marks.
  CHECK_FALSE(is_identifier_part("go", U'\u0301'));
  CHECK(is_identifier_part("go", U'\u0663'));
  CHECK(word_at("go", "e\u0301t", 1) == "e");
}

TEST_CASE("a number is not an identifier", "[identifiers]") {
  for (const char* language : {"python", "javascript", "java", "go", "rust", "c", "plaintext"}) {
    INFO(language);
    std::string_view text = "x = 42 + 0x1F + 3.5e10";
    CHECK(word_at(language, text, 6).empty());
    CHECK(word_at(language, text, 5).empty());
    CHECK(word_at(language, text, text.find("0x1F") + 4).empty());
    CHECK(word_at(language, text, text.size()).empty());
    CHECK(word_at(language, text, 1) == "x");
    CHECK(word_at(language, "v2 = 1", 2) == "v2");
    IdentifierSpan none = identifier_at(language, text, 6);
    CHECK(none.begin == none.end);
  }
}

TEST_CASE("identifier_at at the edges of the text and in invalid UTF-8", "[identifiers]") {
  CHECK(word_at("python", "", 0).empty());
  CHECK(word_at("python", "abc", 0) == "abc");
  CHECK(word_at("python", "abc", 3) == "abc");
  CHECK(word_at("python", "abc", 99) == "abc");  // past the end counts as the end
  CHECK(word_at("python", "a b", 1) == "a");     // ending at the cursor beats nothing
  CHECK(word_at("python", "a.b", 2) == "b");
  // A lone continuation byte or a truncated sequence is no letter (the old
  // byte rule took every byte >= 0x80 for one).
  CHECK(word_at("python", "ab\x80", 3).empty());
  CHECK(word_at("python", "ab\x80", 2) == "ab");
  CHECK(word_at("python", "\xC3" "ab", 3) == "ab");
  CHECK(word_at("javascript", "\xE5\x8F", 2).empty());
}

TEST_CASE("identifier runs stop where the language's rule stops", "[identifiers]") {
  std::string_view text = "obj.$el.naïve_2(x)";
  size_t end = text.find('(');
  CHECK(identifier_run_begin("javascript", text, end) == text.find("naïve"));
  CHECK(identifier_run_end("javascript", text, text.find("naïve")) == end);
  CHECK(identifier_run_begin("javascript", text, text.find(".naïve")) == text.find("$el"));
  CHECK(identifier_run_begin("python", text, text.find(".naïve")) == text.find("el"));
  CHECK(identifier_run_end("python", text, text.find("$")) == text.find("$"));
  CHECK(identifier_run_begin("python", "12ab", 4) == 0);  // runs may start with a digit
}

TEST_CASE("the byte-level rule agrees with the character rule on ASCII and keeps every UTF-8 byte",
          "[identifiers]") {
  for (unsigned b = 0; b < 0x80; ++b) {
    bool some_language = false;
    for (const char* language : unicode_languages) some_language |= is_identifier_part(language, b);
    INFO(b);
    CHECK(is_identifier_byte(static_cast<unsigned char>(b)) == some_language);
  }
  for (unsigned b = 0x80; b < 0x100; ++b) CHECK(is_identifier_byte(static_cast<unsigned char>(b)));
}

TEST_CASE("has_identifier_part tells code from punctuation", "[identifiers]") {
  CHECK(has_identifier_part("python", "  return x"));
  CHECK(has_identifier_part("python", "变量"));
  CHECK(has_identifier_part("python", "  7 "));
  CHECK_FALSE(has_identifier_part("python", "  })];"));
  CHECK_FALSE(has_identifier_part("python", "$"));
  CHECK(has_identifier_part("javascript", "$"));
  CHECK_FALSE(has_identifier_part("python", "─── 😀"));
  CHECK_FALSE(has_identifier_part("python", "\x80\xC3"));
  CHECK_FALSE(has_identifier_part("python", ""));
}
