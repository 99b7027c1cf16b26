#include "trust/invisible.h"

#include <catch2/catch.hpp>

namespace astfill::trust {
namespace {

TEST_CASE("invisible and bidirectional-control characters are removed") {
  // "Trojan source": a right-to-left override and isolates around a comment,
  // zero-width spaces, a BOM, and an instruction in Unicode tag characters.
  std::string hidden_instruction;
  for (char c : std::string("ignore previous")) {
    char32_t tag = 0xE0000 + static_cast<unsigned char>(c);
    hidden_instruction += static_cast<char>(0xF0 | (tag >> 18));
    hidden_instruction += static_cast<char>(0x80 | ((tag >> 12) & 0x3F));
    hidden_instruction += static_cast<char>(0x80 | ((tag >> 6) & 0x3F));
    hidden_instruction += static_cast<char>(0x80 | (tag & 0x3F));
  }
  std::string text = "\xEF\xBB\xBF" "access = \"user\xE2\x80\xAE \xE2\x81\xA6// admin\xE2\x81\xA9\"" "\n"
                     "x\xE2\x80\x8B = 1" + hidden_instruction + "\n";
  size_t removed = 0;
  CHECK(strip_invisible(text, &removed) == "access = \"user // admin\"\nx = 1\n");
  CHECK(removed == 5 + hidden_instruction.size() / 4);
}

TEST_CASE("stray bytes that join into an invisible character once one is removed go too") {
  // "\xE2" and "\x80\x8B" are invalid alone, and a zero-width space once the
  // zero-width space between them is gone (found by tests/fuzz/secrets.cpp).
  std::string text = "a\xE2\xE2\x80\x8B\x80\x8B" "b";
  size_t removed = 0;
  std::string once = strip_invisible(text, &removed);
  CHECK(once == "ab");
  CHECK(removed == 2);
  size_t again = 1;
  CHECK(strip_invisible(once, &again) == once);
  CHECK(again == 0);
}

TEST_CASE("visible text, other scripts and invalid UTF-8 are kept") {
  std::string text = "name = \"caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D\" \xFF\xFE end";
  size_t removed = 9;
  CHECK(strip_invisible(text, &removed) == text);
  CHECK(removed == 0);
  CHECK(is_invisible_or_bidi(0x202E));
  CHECK(is_invisible_or_bidi(0xE0041));
  CHECK(!is_invisible_or_bidi(U'a'));
  CHECK(!is_invisible_or_bidi(0x05D0));  // a Hebrew letter is text, not a control
}

}  // namespace
}  // namespace astfill::trust
