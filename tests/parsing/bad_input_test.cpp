// Input that is not what it should be never aborts: invalid UTF-8, NUL
// bytes, a 100,000-line file, 5,000-deep nesting, random bytes. Results are
// partial or empty, with has_syntax_errors, and every range stays inside the
// text.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>

#include "fixtures.h"
#include "parsing/document.h"
#include "parsing/extract.h"

using namespace astfill::parsing;

namespace {

void check_span(std::string_view text, const Span& s) {
  REQUIRE(s.start_byte <= s.end_byte);
  REQUIRE(s.end_byte <= text.size());
}

// Every range inside the text; every name exactly the bytes of its range.
void check_consistent(std::string_view text, const FileSymbols& symbols) {
  for (const Definition& d : symbols.definitions) {
    check_span(text, d.range);
    check_span(text, d.name_range);
    CHECK(text.substr(d.name_range.start_byte, d.name_range.end_byte - d.name_range.start_byte) == d.name);
  }
  for (const Reference& r : symbols.references) {
    check_span(text, r.range);
    CHECK(text.substr(r.range.start_byte, r.range.end_byte - r.range.start_byte) == r.name);
  }
  for (const Import& i : symbols.imports) check_span(text, i.range);
}

// The helpers run anywhere in a document without failing.
void exercise_helpers(const Document& doc) {
  const auto size = static_cast<uint32_t>(doc.text().size());
  for (uint32_t at : {0u, size / 3, size / 2, size - size / 5, size, size + 10}) {
    doc.node_at(at);
    Scope s = doc.scope_at(at);
    CHECK(s.range.end_byte <= size);
    CHECK(doc.statement_end(at) <= size);
    CHECK(doc.block_end(at) <= size);
  }
  doc.errors_introduced(size / 2, size / 2 + 3);
}

}  // namespace

TEST_CASE("invalid UTF-8 keeps byte ranges valid", "[bad-input]") {
  for (auto [language, source] : fixtures::all) {
    INFO(language);
    std::string text(source);
    // A lone continuation byte, a truncated 3-byte sequence, an overlong
    // encoding and 0xFF, inside identifiers, strings and between tokens.
    const std::string junk[] = {"\x80", "\xE2\x82", "\xC0\xAF", "\xFF"};
    for (size_t i = 0; i < 4; ++i) text.insert(text.size() * (i + 1) / 5, junk[i]);
    text.insert(text.find("Stack") == std::string::npos ? 0 : text.find("Stack") + 2, "\xFE\xFF");
    FileSymbols symbols = extract_symbols(language, text);
    check_consistent(text, symbols);
    CHECK_FALSE(symbols.definitions.empty());
    exercise_helpers(Document(language, text));
  }
}

TEST_CASE("NUL bytes are text like any other", "[bad-input]") {
  for (auto [language, source] : fixtures::all) {
    INFO(language);
    std::string text(source);
    text.insert(text.size() / 2, std::string("\0\0x\0", 4));
    text += std::string(1, '\0');
    FileSymbols symbols = extract_symbols(language, text);
    check_consistent(text, symbols);
    CHECK_FALSE(symbols.definitions.empty());
    exercise_helpers(Document(language, text));
  }
}

TEST_CASE("a 100,000-line file", "[bad-input][slow]") {
  std::string text;
  text.reserve(4'000'000);
  for (int i = 0; i < 25000; ++i)
    text += "def f" + std::to_string(i) + "(a, b):\n    \"\"\"Doc.\"\"\"\n    return g(a) + b\n\n";
  FileSymbols symbols = extract_symbols("python", text);
  CHECK_FALSE(symbols.has_syntax_errors);
  REQUIRE(symbols.definitions.size() == 25000);
  CHECK(symbols.definitions.back().name == "f24999");
  CHECK(symbols.definitions.back().doc == "Doc.");
  CHECK(symbols.definitions.back().range.start_line == 99996);
  CHECK(symbols.references.size() == 25000);

  Document doc("python", text);
  const auto at = static_cast<uint32_t>(text.size() / 2);
  CHECK(doc.edit(at, at, "x") == ParseStatus::Parsed);
  exercise_helpers(doc);
}

TEST_CASE("5,000-deep nesting", "[bad-input][slow]") {
  const int depth = 5000;
  auto nest = [&](std::string_view open, std::string_view close, std::string_view before, std::string_view after) {
    std::string s(before);
    for (int i = 0; i < depth; ++i) s += open;
    s += "x";
    for (int i = 0; i < depth; ++i) s += close;
    s += after;
    return s;
  };
  struct Case {
    const char* language;
    std::string text;
  };
  const Case cases[] = {
      {"python", nest("[", "]", "y = ", "\n")},
      {"python", nest("(", "", "y = ", "\n")},  // never closed
      {"python", nest("def f():\n", "", "", "\n")},
      {"javascript", nest("{", "}", "", "\n")},
      {"javascript", nest("function f() {", "}", "", "\n")},
      {"typescript", nest("(", ")", "let y = ", ";\n")},
      {"typescriptreact", nest("<a>", "</a>", "const y = ", ";\n")},
      {"c", nest("{", "}", "int main() ", "\n")},
      {"cpp", nest("namespace n {", "}", "", "\n")},
      {"go", nest("[", "]", "package p\nvar y = ", "\n")},
      {"rust", nest("mod m {", "}", "", "\n")},
      {"java", nest("{", "}", "class A { void f() ", " }\n")},
  };
  for (const Case& c : cases) {
    INFO(c.language << ": " << c.text.substr(0, 40));
    Document doc(c.language, c.text);
    REQUIRE(doc.status() == ParseStatus::Parsed);
    FileSymbols symbols = extract_symbols(doc);
    check_consistent(doc.text(), symbols);
    exercise_helpers(doc);
    const auto mid = static_cast<uint32_t>(c.text.size() / 2);
    CHECK(doc.edit(mid, mid + 1, "") == ParseStatus::Parsed);
    CHECK(doc.edit(mid, mid, std::string(1, c.text[mid])) == ParseStatus::Parsed);
  }
}

TEST_CASE("random bytes and syntax soup", "[bad-input]") {
  std::mt19937 rng(1234);
  for (auto [language, source] : fixtures::all) {
    INFO(language);
    for (int round = 0; round < 3; ++round) {
      std::string text(4000, '\0');
      for (char& ch : text) ch = static_cast<char>(rng() & 0xFF);
      FileSymbols symbols = extract_symbols(language, text);
      check_consistent(text, symbols);
      CHECK(symbols.has_syntax_errors);
      // Real code shuffled line by line.
      std::vector<std::string> lines;
      std::string_view s = source;
      for (size_t p = 0; p < s.size();) {
        size_t nl = s.find('\n', p);
        lines.emplace_back(s.substr(p, nl == std::string_view::npos ? s.npos : nl - p + 1));
        p = nl == std::string_view::npos ? s.size() : nl + 1;
      }
      std::shuffle(lines.begin(), lines.end(), rng);
      std::string soup;
      for (const std::string& l : lines) soup += l;
      FileSymbols from_soup = extract_symbols(language, soup);
      check_consistent(soup, from_soup);
      exercise_helpers(Document(language, soup));
    }
  }
}

TEST_CASE("empty and whitespace-only files", "[bad-input]") {
  for (auto [language, source] : fixtures::all) {
    INFO(language);
    (void)source;
    for (const char* text : {"", " ", "\n\n\n", "\t"}) {
      FileSymbols symbols = extract_symbols(language, text);
      CHECK(symbols.definitions.empty());
      CHECK(symbols.imports.empty());
      exercise_helpers(Document(language, text));
    }
  }
  CHECK(extract_symbols("cobol", "whatever").definitions.empty());
}
