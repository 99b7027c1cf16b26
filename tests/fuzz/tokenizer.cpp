// The tokenizer on arbitrary bytes, with the small fixture vocabulary (byte
// tokens, learnt merges, Qwen's special tokens): encoding without special
// tokens and decoding must give back the NFC form of the input exactly (with
// special tokens the text between them is normalised piece by piece, as
// Hugging Face does, so only decoding is checked), and the stream decoder
// must give the same text when the input is valid UTF-8.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/tokenizer.h"
#include "support/utf8.h"
#include "tests/fixtures/random_model.h"
#include "tests/fuzz/fuzz_support.h"

using namespace astfill::engine;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Tokenizer tokenizer(tiny_tokenizer(512, 200));
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string nfc = normalize_nfc(text);
  auto plain = tokenizer.encode(text, false);
  astfill::fuzz::check(tokenizer.decode(plain) == nfc, "decode(encode(text)) is not the text's NFC form");
  auto special = tokenizer.encode(text, true);
  (void)tokenizer.decode(special);
  StreamDecoder stream(tokenizer);
  std::string streamed;
  for (int32_t id : plain) streamed += stream.push(id);
  streamed += stream.flush();
  if (!astfill::first_invalid_utf8(nfc))
    astfill::fuzz::check(streamed == nfc, "the stream decoder's text differs from decode's");
  return 0;
}
