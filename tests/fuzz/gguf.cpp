// The GGUF reader and what the daemon does next with a file it accepted:
// the model's hyperparameters, tensor table and tokenizer (ModelFile), and
// `astfill inspect`'s metadata summaries. A hostile file must end in a
// ModelError naming what is wrong, never in a crash or a huge allocation.
#include <cstdint>

#include "engine/errors.h"
#include "engine/gguf.h"
#include "engine/model_file.h"
#include "engine/tokenizer.h"
#include "tests/fuzz/fuzz_support.h"

using namespace astfill::engine;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static astfill::fuzz::InputFile file;
  const std::string& path = file.write(data, size);
  try {
    GgufFile g = GgufFile::open(path);
    for (const auto& [key, value] : g.metadata()) (void)value.summary();
    for (const auto& t : g.tensors()) {
      astfill::fuzz::check(t.offset + t.bytes <= g.file_bytes() - g.data_offset(), "tensor outside the data section");
      (void)t.rows();
    }
    try {
      TokenizerData tok = tokenizer_from_gguf(g);
      Tokenizer tokenizer(tok);
      auto ids = tokenizer.encode("def f(x):\n    return x + 1\n");
      (void)tokenizer.decode(ids);
    } catch (const ModelError&) {
    }
    ModelFile m = ModelFile::open(path);
    astfill::fuzz::check(m.tokenizer().tokens.size() == m.hparams().vocab_size, "tokenizer and embedding disagree");
  } catch (const ModelError&) {
  }
  return 0;
}
