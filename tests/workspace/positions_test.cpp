#include "workspace/positions.h"

#include <catch2/catch.hpp>
#include <random>

using namespace astfill;
using namespace astfill::workspace;

namespace {
constexpr auto U8 = PositionEncoding::Utf8;
constexpr auto U16 = PositionEncoding::Utf16;
constexpr auto U32 = PositionEncoding::Utf32;
size_t off(std::string_view t, uint32_t line, uint32_t ch, PositionEncoding e) {
  auto o = offset_at(t, Position{line, ch}, e);
  REQUIRE(o);
  return *o;
}
}  // namespace

TEST_CASE("ASCII positions are byte offsets in every encoding", "[positions]") {
  std::string t = "ab\ncd\n";
  for (auto e : {U8, U16, U32}) {
    CHECK(off(t, 0, 0, e) == 0);
    CHECK(off(t, 0, 2, e) == 2);
    CHECK(off(t, 1, 1, e) == 4);
    CHECK(off(t, 2, 0, e) == 6);
  }
  CHECK_FALSE(offset_at(t, Position{3, 0}, U16));
}

TEST_CASE("an emoji is two UTF-16 units, four bytes, one code point", "[positions]") {
  std::string t = "a\xF0\x9F\x98\x80" "b";  // a😀b
  CHECK(off(t, 0, 1, U16) == 1);
  CHECK(off(t, 0, 3, U16) == 5);  // after the surrogate pair
  CHECK(off(t, 0, 2, U16) == 1);  // inside the pair: snaps to its start
  CHECK(off(t, 0, 2, U32) == 5);
  CHECK(off(t, 0, 5, U8) == 5);
  CHECK(off(t, 0, 3, U8) == 1);  // inside the sequence: snaps back
  CHECK(position_at(t, 5, U16) == Position{0, 3});
  CHECK(position_at(t, 5, U32) == Position{0, 2});
  CHECK(position_at(t, 6, U8) == Position{0, 6});
}

TEST_CASE("CJK characters are one UTF-16 unit and three bytes", "[positions]") {
  std::string t = "x = \"\xE6\xBC\xA2\xE5\xAD\x97\"";  // x = "漢字"
  CHECK(off(t, 0, 6, U16) == 8);
  CHECK(off(t, 0, 7, U16) == 11);
  CHECK(position_at(t, 11, U16) == Position{0, 7});
  CHECK(position_at(t, 11, U8) == Position{0, 11});
}

TEST_CASE("CRLF and lone CR end lines", "[positions]") {
  std::string t = "ab\r\ncd\ref\n";
  CHECK(line_count(t) == 4);
  CHECK(off(t, 1, 0, U16) == 4);
  CHECK(off(t, 2, 1, U16) == 8);
  CHECK(off(t, 3, 0, U16) == 10);
  // A character past the end of the line means the end of the line, before "\r\n".
  CHECK(off(t, 0, 99, U16) == 2);
  CHECK(position_at(t, 3, U16) == Position{0, 2});  // between \r and \n
  CHECK(position_at(t, 4, U16) == Position{1, 0});
}

TEST_CASE("the last line exists even when empty", "[positions]") {
  CHECK(line_count("") == 1);
  CHECK(line_count("a\n") == 2);
  CHECK(off("", 0, 0, U16) == 0);
  CHECK(off("a\n", 1, 0, U16) == 2);
  CHECK_FALSE(offset_at("a\n", Position{2, 0}, U16));
}

TEST_CASE("position_at and offset_at are inverse on character boundaries", "[positions]") {
  const char* pieces[] = {"a", "\xC3\xA9", "\xE6\xBC\xA2", "\xF0\x9F\x98\x80", "\n", "\r\n", "\r", " ", "\t"};
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    std::string t;
    std::vector<size_t> boundaries{0};
    int n = std::uniform_int_distribution<int>(0, 40)(rng);
    for (int i = 0; i < n; ++i) {
      t += pieces[std::uniform_int_distribution<int>(0, 8)(rng)];
      boundaries.push_back(t.size());
    }
    // Lines counted byte by byte: "\n", and "\r" not followed by "\n".
    size_t lines = 1;
    for (size_t i = 0; i < t.size(); ++i)
      lines += t[i] == '\n' || (t[i] == '\r' && (i + 1 == t.size() || t[i + 1] != '\n'));
    CHECK(line_count(t) == lines);
    CHECK_FALSE(offset_at(t, Position{static_cast<uint32_t>(lines), 0}, U16));
    for (auto e : {U8, U16, U32}) {
      for (size_t b : boundaries) {
        // Offsets between \r and \n are not boundaries a client can name.
        if (b > 0 && b < t.size() && t[b - 1] == '\r' && t[b] == '\n') continue;
        Position p = position_at(t, b, e);
        auto back = offset_at(t, p, e);
        REQUIRE(back);
        CHECK(*back == b);
      }
    }
  }
}

TEST_CASE("invalid UTF-8 is found and replaced", "[positions]") {
  CHECK_FALSE(first_invalid_utf8("plain \xE6\xBC\xA2"));
  CHECK(first_invalid_utf8("ab\xFF") == 2u);
  CHECK(first_invalid_utf8("\xC0\xAF") == 0u);          // overlong '/'
  CHECK(first_invalid_utf8("\xED\xA0\x80") == 0u);      // a UTF-16 surrogate
  CHECK(first_invalid_utf8("\xF4\x90\x80\x80") == 0u);  // past U+10FFFF
  CHECK(first_invalid_utf8("ok\xE6\xBC") == 2u);        // truncated
  std::string s = "a\xFF" "b\xFE";
  CHECK(sanitize_utf8(s) == 2);
  CHECK(s == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  CHECK_FALSE(first_invalid_utf8(s));
}
