// The tokenizer.json reader, then the tokenizer built from what it accepted:
// anything malformed must end in a ModelError naming the key, and a
// tokenizer that was built must encode and decode text.
#include <cstdint>

#include "engine/errors.h"
#include "engine/tokenizer.h"
#include "tests/fuzz/fuzz_support.h"

using namespace astfill::engine;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static astfill::fuzz::InputFile file;
  const std::string& path = file.write(data, size);
  try {
    TokenizerData t = read_tokenizer_json(path);
    Tokenizer tokenizer(t);
    for (const char* text : {"def f(x):\n    return x + 1\n", "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>", "é\xff"}) {
      auto ids = tokenizer.encode(text);
      (void)tokenizer.decode(ids);
    }
  } catch (const ModelError&) {
  }
  return 0;
}
