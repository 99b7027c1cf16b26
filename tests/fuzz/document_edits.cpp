// Open documents edited with random ranges, as didChange delivers them: the
// input's first byte picks the language and the position encoding, the text
// up to the first NUL opens the document, and the rest is a list of edits
// (byte offsets a <= b, a length, the new text). Each edit is sent as an LSP
// range (positions computed by position_at in the chosen encoding) and the
// document must then hold text[0, a) + new + text[b, end) exactly; a range
// past the last line must be refused whole, leaving the text as it was.
// Every few edits the syntax tree is brought up to date incrementally and
// its text must be the document's, with scopes and nodes answerable at any
// byte.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "support/utf8.h"
#include "tests/fuzz/fuzz_support.h"
#include "workspace/documents.h"
#include "workspace/positions.h"

using namespace astfill::workspace;
using astfill::fuzz::check;

namespace {

const char* const kLanguages[] = {"python", "javascript", "typescript", "c", "cpp", "go", "rust", "java",
                                  "plaintext"};
const PositionEncoding kEncodings[] = {PositionEncoding::Utf16, PositionEncoding::Utf8, PositionEncoding::Utf32};

// Moves `at` back to the start of its character, and out of the middle of a
// "\r\n" (a position cannot name the byte between them).
size_t snap(std::string_view text, size_t at) {
  while (at > 0 && at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) --at;
  if (at > 0 && at < text.size() && text[at - 1] == '\r' && text[at] == '\n') --at;
  return at;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  bool done() const { return p_ >= end_; }
  uint8_t byte() { return p_ < end_ ? *p_++ : 0; }
  uint16_t u16() { return static_cast<uint16_t>(byte() | (byte() << 8)); }
  std::string bytes(size_t n) {
    n = std::min(n, static_cast<size_t>(end_ - p_));
    std::string out(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return out;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

void check_tree(const DocumentSnapshot& snap_) {
  auto tree = snap_.tree->at(snap_.sequence);
  if (!tree) return;  // no grammar for the language
  check(tree->text() == *snap_.text, "the tree's text differs from the document's");
  const uint32_t n = static_cast<uint32_t>(tree->text().size());
  for (uint32_t at : {0u, n / 3, n / 2, n}) {
    (void)tree->node_at(at);
    (void)tree->scope_at(at);
    check(tree->statement_end(at) <= n && tree->block_end(at) <= n, "a statement or block ends past the text");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Reader in(data, size);
  const uint8_t pick = in.byte();
  const char* language = kLanguages[pick % std::size(kLanguages)];
  const PositionEncoding enc = kEncodings[(pick / std::size(kLanguages)) % std::size(kEncodings)];

  std::string initial;
  while (!in.done()) {
    uint8_t c = in.byte();
    if (c == 0) break;
    initial += static_cast<char>(c);
  }
  DocumentStore store;
  const std::string uri = "file:///fuzz/doc";
  store.open(uri, language, 1, initial);
  std::string text = *store.get(uri)->text;
  check(!astfill::first_invalid_utf8(text), "open left invalid UTF-8 in the document");

  int64_t version = 1;
  for (int step = 0; !in.done() && step < 64; ++step) {
    const uint8_t op = in.byte();
    const std::string before = text;
    size_t a = snap(text, text.empty() ? 0 : in.u16() % (text.size() + 1));
    size_t b = snap(text, text.empty() ? 0 : in.u16() % (text.size() + 1));
    if (b < a) std::swap(a, b);
    std::string inserted = in.bytes(in.byte() % 32);
    astfill::sanitize_utf8(inserted);

    ContentChange change;
    if (op % 16 == 0) {
      // The whole text replaced.
      change.text = inserted;
      auto result = store.change(uri, ++version, {change}, enc);
      check(result.ok, "a whole-text change was refused");
      text = inserted;
    } else if (op % 16 == 1) {
      // A range past the last line: refused, nothing changes.
      Position past{static_cast<uint32_t>(line_count(text) + op / 16), 0};
      change.range = Range{past, past};
      change.text = inserted;
      auto result = store.change(uri, version + 1, {change}, enc);
      check(!result.ok && !result.error.empty(), "a range past the last line was accepted");
    } else {
      change.range = Range{position_at(text, a, enc), position_at(text, b, enc)};
      change.text = inserted;
      std::vector<ContentChange> changes{change};
      std::string expected = text.substr(0, a) + inserted + text.substr(b);
      if (op % 16 == 2) {
        // A second change in the same notification, at the end of the first's text.
        ContentChange second;
        size_t at = snap(expected, a + inserted.size());
        second.range = Range{position_at(expected, at, enc), position_at(expected, at, enc)};
        second.text = "x";
        changes.push_back(second);
        expected.insert(at, "x");
      }
      auto result = store.change(uri, ++version, changes, enc);
      check(result.ok, "a change inside the document was refused: " + result.error);
      text = std::move(expected);
    }
    auto snapshot = store.get(uri);
    if (*snapshot->text != text)
      astfill::fuzz::fail("the document's text is not the edited text: op " + std::to_string(op % 16) + ", bytes [" +
                          std::to_string(a) + ", " + std::to_string(b) + ") of " + quoted(before) + ", inserted " +
                          quoted(inserted) + "; expected " + quoted(text) + ", got " + quoted(*snapshot->text));
    check(snapshot->version == version, "the document's version is not the last change's");
    if (op & 0x80) check_tree(*snapshot);
  }
  check_tree(*store.get(uri));
  return 0;
}
