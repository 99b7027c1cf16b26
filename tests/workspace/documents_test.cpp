#include "workspace/documents.h"

#include <catch2/catch.hpp>
#include <random>

using namespace astfill::workspace;

namespace {
std::string text_of(const DocumentStore& s, const std::string& uri) { return *s.get(uri)->text; }
ContentChange edit(uint32_t l1, uint32_t c1, uint32_t l2, uint32_t c2, std::string text) {
  return ContentChange{Range{{l1, c1}, {l2, c2}}, std::move(text)};
}
}  // namespace

TEST_CASE("incremental edits apply in order", "[documents]") {
  DocumentStore s;
  CHECK_FALSE(s.open("file:///a.py", "python", 1, "def f():\n    return 1\n"));
  auto r = s.change("file:///a.py", 2,
                    {edit(1, 11, 1, 12, "42"), edit(0, 4, 0, 5, "g"), edit(2, 0, 2, 0, "x = g()\n")},
                    PositionEncoding::Utf16);
  REQUIRE(r.ok);
  CHECK(text_of(s, "file:///a.py") == "def g():\n    return 42\nx = g()\n");
  CHECK(s.get("file:///a.py")->version == 2);
}

TEST_CASE("a full-text change replaces the document", "[documents]") {
  DocumentStore s;
  s.open("u", "c", 1, "old");
  REQUIRE(s.change("u", 5, {ContentChange{std::nullopt, "new text"}}, PositionEncoding::Utf16).ok);
  CHECK(text_of(s, "u") == "new text");
  CHECK(s.get("u")->version == 5);
}

TEST_CASE("edits at UTF-16 positions around emoji and CJK", "[documents]") {
  DocumentStore s;
  s.open("u", "plaintext", 1, "\xF0\x9F\x98\x80=\xE6\xBC\xA2\r\nnext");
  // Replace "=" (UTF-16 column 2) with ":=" and append after 漢 (column 4).
  REQUIRE(s.change("u", 2, {edit(0, 2, 0, 3, ":="), edit(0, 5, 0, 5, "!")}, PositionEncoding::Utf16).ok);
  CHECK(text_of(s, "u") == "\xF0\x9F\x98\x80:=\xE6\xBC\xA2!\r\nnext");
  // Delete across the CRLF.
  REQUIRE(s.change("u", 3, {edit(0, 6, 1, 0, " ")}, PositionEncoding::Utf16).ok);
  CHECK(text_of(s, "u") == "\xF0\x9F\x98\x80:=\xE6\xBC\xA2! next");
}

TEST_CASE("an edit outside the document is refused whole", "[documents]") {
  DocumentStore s;
  s.open("u", "c", 1, "one\ntwo\n");
  auto r = s.change("u", 2, {edit(0, 0, 0, 0, "X"), edit(7, 0, 7, 1, "Y")}, PositionEncoding::Utf16);
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("contentChanges[1]") != std::string::npos);
  CHECK(r.error.find("outside the document") != std::string::npos);
  CHECK(text_of(s, "u") == "one\ntwo\n");  // the first change was not kept either
  CHECK(s.get("u")->version == 1);
}

TEST_CASE("a reversed range is refused", "[documents]") {
  DocumentStore s;
  s.open("u", "c", 1, "abc");
  auto r = s.change("u", 2, {edit(0, 2, 0, 1, "")}, PositionEncoding::Utf16);
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("ends before it starts") != std::string::npos);
}

TEST_CASE("changes to a document that is not open are refused", "[documents]") {
  DocumentStore s;
  auto r = s.change("nope", 1, {ContentChange{std::nullopt, "x"}}, PositionEncoding::Utf16);
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("not open") != std::string::npos);
}

TEST_CASE("invalid UTF-8 is repaired with a warning", "[documents]") {
  DocumentStore s;
  auto w = s.open("u", "c", 1, "ok\xFFok");
  REQUIRE(w);
  CHECK(w->find("not valid UTF-8") != std::string::npos);
  CHECK(text_of(s, "u") == "ok\xEF\xBF\xBDok");
  auto r = s.change("u", 2, {edit(0, 0, 0, 0, "\xFE")}, PositionEncoding::Utf16);
  CHECK(r.ok);
  CHECK_FALSE(r.warning.empty());
}

TEST_CASE("snapshots are immutable while the document changes", "[documents]") {
  DocumentStore s;
  s.open("u", "c", 1, "before");
  auto snap = s.get("u");
  s.change("u", 2, {ContentChange{std::nullopt, "after"}}, PositionEncoding::Utf16);
  CHECK(*snap->text == "before");
  CHECK(text_of(s, "u") == "after");
}

TEST_CASE("random incremental edits match direct splicing", "[documents]") {
  const char* pieces[] = {"a", "\xC3\xA9", "\xE6\xBC\xA2", "\xF0\x9F\x98\x80", "\n", "\r\n", "  ", ""};
  std::mt19937 rng(1234);
  for (auto enc : {PositionEncoding::Utf8, PositionEncoding::Utf16, PositionEncoding::Utf32}) {
    DocumentStore s;
    std::string model = "start\n";
    s.open("u", "c", 0, model);
    for (int step = 0; step < 400; ++step) {
      // Pick two character boundaries of the model text, never inside "\r\n".
      std::vector<size_t> b{0};
      for (size_t i = 0; i < model.size();) {
        unsigned char c = model[i];
        size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        i += n;
        if (!(i < model.size() && model[i - 1] == '\r' && model[i] == '\n')) b.push_back(i);
      }
      size_t x = b[std::uniform_int_distribution<size_t>(0, b.size() - 1)(rng)];
      size_t y = b[std::uniform_int_distribution<size_t>(0, b.size() - 1)(rng)];
      if (x > y) std::swap(x, y);
      std::string insert;
      for (int k = std::uniform_int_distribution<int>(0, 3)(rng); k > 0; --k)
        insert += pieces[std::uniform_int_distribution<int>(0, 7)(rng)];
      Range r{position_at(model, x, enc), position_at(model, y, enc)};
      auto res = s.change("u", step + 1, {ContentChange{r, insert}}, enc);
      REQUIRE(res.ok);
      model.replace(x, y - x, insert);
      REQUIRE(text_of(s, "u") == model);
    }
  }
}
