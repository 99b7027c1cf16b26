#include "trust/invisible.h"

#include "support/utf8.h"

namespace astfill::trust {
namespace {

char32_t decode(std::string_view s, size_t i, size_t length) {
  auto b = [&](size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k])); };
  switch (length) {
    case 2: return (b(0) & 0x1F) << 6 | (b(1) & 0x3F);
    case 3: return (b(0) & 0x0F) << 12 | (b(1) & 0x3F) << 6 | (b(2) & 0x3F);
    case 4: return (b(0) & 0x07) << 18 | (b(1) & 0x3F) << 12 | (b(2) & 0x3F) << 6 | (b(3) & 0x3F);
    default: return b(0);
  }
}

}  // namespace

bool is_invisible_or_bidi(char32_t c) {
  return c == 0xAD || c == 0x61C || c == 0x180E || (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x206F) || c == 0xFEFF ||
         (c >= 0xFFF9 && c <= 0xFFFB) || (c >= 0xE0000 && c <= 0xE007F);
}

namespace {

// One pass: the invisible characters of `text` out.
std::string strip_once(std::string_view text, size_t* removed) {
  std::string out;
  size_t count = 0;
  size_t i = 0, kept = 0;  // text[kept, i) is still to be copied
  bool any = false;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0xC2) {
      ++i;
      continue;
    }
    size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      ++i;
      continue;
    }
    if (is_invisible_or_bidi(decode(text, i, length))) {
      if (!any) out.reserve(text.size());
      any = true;
      out.append(text.substr(kept, i - kept));
      ++count;
      kept = i + length;
    }
    i += length;
  }
  if (removed) *removed = count;
  if (!any) return std::string(text);
  out.append(text.substr(kept));
  return out;
}

}  // namespace

std::string strip_invisible(std::string_view text, size_t* removed) {
  size_t total = 0, now = 0;
  std::string out = strip_once(text, &now);
  // Stray bytes around a removed character can join into a new one
  // ("\xE2" ZWSP "\x80\x8B" leaves a ZWSP): strip until none is left. Each
  // pass shortens the text, so this ends.
  while (now > 0) {
    total += now;
    out = strip_once(out, &now);
  }
  if (removed) *removed = total;
  return out;
}

}  // namespace astfill::trust
