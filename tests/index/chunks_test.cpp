// Chunking (windows aligned to definitions) and the BM25 query built from a
// window of code.
#include <catch2/catch.hpp>

#include "index/chunks.h"
#include "toy_project.h"

using namespace astfill::index;

namespace {

std::string lines(int n, const std::string& stem = "x = 1") {
  std::string out;
  for (int i = 0; i < n; ++i) out += stem + "\n";
  return out;
}

// A function of `body` lines: "def name()" then indented lines.
std::string function(const std::string& name, int body) {
  std::string out = "def " + name + "()\n";
  for (int i = 0; i < body; ++i) out += "    step_" + std::to_string(i) + "()\n";
  return out;
}

std::vector<std::pair<uint32_t, uint32_t>> ranges(const std::vector<CodeChunk>& chunks) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const auto& c : chunks) out.emplace_back(c.start_line, c.end_line);
  return out;
}

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

std::vector<CodeChunk> chunk(const std::string& text, const ChunkOptions& options = {}) {
  return chunk_file(text, astfill::testing::toy_extract(text).definitions, options);
}

}  // namespace

TEST_CASE("chunks cover the file in whole lines and start at definitions", "[chunks]") {
  // Five functions of 9 lines each (45 lines): cut at the first definition at
  // least 20 lines in, so chunks hold whole functions.
  std::string text;
  for (int i = 0; i < 5; ++i) text += function("f" + std::to_string(i), 8);
  auto chunks = chunk(text);
  CHECK(ranges(chunks) == Ranges{{0, 27}, {27, 45}});
  std::string joined;
  for (const auto& c : chunks) joined += c.text;
  CHECK(joined == text);
}

TEST_CASE("a long function is cut into windows, blank lines are preferred cut points", "[chunks]") {
  auto long_function = function("big", 99);  // 100 lines, no inner definitions
  CHECK(ranges(chunk(long_function)) == Ranges{{0, 40}, {40, 80}, {80, 100}});

  std::string with_blank = lines(30) + "\n" + lines(30);  // a blank line at index 30
  CHECK(ranges(chunk(with_blank)) == Ranges{{0, 31}, {31, 61}});
}

TEST_CASE("top-level definitions beat nested ones as cut points", "[chunks]") {
  std::string text = "class Big\n";
  for (int m = 0; m < 6; ++m) {
    text += "    def m" + std::to_string(m) + "()\n";
    for (int i = 0; i < 5; ++i) text += "        work()\n";
  }
  text += function("after", 5);  // top-level at line 37
  auto chunks = chunk(text);
  // Lines 20..40 hold method starts (25, 31) and the top-level "after" (37).
  REQUIRE(!chunks.empty());
  CHECK(chunks[0].end_line == 37);
}

TEST_CASE("a short tail joins the chunk before, blank chunks are dropped", "[chunks]") {
  CHECK(ranges(chunk(lines(42))) == Ranges{{0, 42}});
  CHECK(chunk("\n\n   \n").empty());
  CHECK(chunk("").empty());
  CHECK(ranges(chunk("one line without newline")) == Ranges{{0, 1}});
}

TEST_CASE("chunks stop at the byte cap, one huge line is a chunk of its own", "[chunks]") {
  ChunkOptions options;
  options.max_bytes = 100;
  std::string text = lines(10, std::string(30, 'a')) + std::string(500, 'b') + "\n" + lines(2, "c");
  auto chunks = chunk(text, options);
  for (const auto& c : chunks) CHECK((c.text.size() <= 100 || c.end_line - c.start_line == 1));
  size_t total = 0;
  for (const auto& c : chunks) total += c.text.size();
  CHECK(total == text.size());
}

TEST_CASE("definitions past the end of the text are ignored", "[chunks]") {
  astfill::parsing::Definition d;
  d.name = "ghost";
  d.range.start_line = 1000;
  CHECK(chunk_file(lines(5), {d}).size() == 1);
}

TEST_CASE("the words of a window: identifiers, nearest the cursor first, no keywords", "[chunks]") {
  using Terms = std::vector<std::string>;
  CHECK(window_terms("def load_config(path):\n    return parse(path)") == Terms{"path", "parse", "load_config"});
  CHECK(window_terms("if x: return 0x1F + 10u").empty());  // keywords, one-letter names, numbers
  CHECK(window_terms("").empty());
  CHECK(window_terms("a1 b2 c3 d4", 2) == Terms{"d4", "c3"});
  CHECK(window_terms("naïve_ünïcode") == Terms{"naïve_ünïcode"});
}

TEST_CASE("the match expression quotes every term", "[chunks]") {
  CHECK(match_any({"parse", "load_config"}) == "\"parse\" OR \"load_config\"");
  CHECK(match_any({"say\"what"}) == "\"say\"\"what\"");
  CHECK(match_any({}) == "");
}
