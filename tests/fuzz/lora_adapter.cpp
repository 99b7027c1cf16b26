// The LoRA adapter readers (engine/lora.h): a GGUF adapter, or (when the
// input starts with '{') a PEFT directory's adapter_config.json beside a
// fixed valid adapter_model.safetensors. A hostile file must end in a
// ModelError naming what is wrong (or be read), never in a crash; an
// adapter that is read is checked against a model's shapes, which must
// accept it or refuse it with a ModelError.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/errors.h"
#include "engine/lora.h"
#include "tests/fuzz/fuzz_support.h"

using namespace astfill::engine;

namespace {

HyperParams tiny_hparams() {
  HyperParams hp;
  hp.arch = "qwen3";
  hp.embedding_length = 64;
  hp.block_count = 2;
  hp.feed_forward_length = 128;
  hp.head_count = 4;
  hp.head_count_kv = 2;
  hp.head_dim = 16;
  hp.vocab_size = 512;
  return hp;
}

// A PEFT directory whose weights are valid: q_proj of layer 0, rank 4.
const std::string& peft_dir() {
  static const std::string dir = [] {
    const std::string d = (std::filesystem::temp_directory_path() /
                           ("astfill-fuzz-peft-" + std::to_string(::getpid()))).string();
    LoraAdapter a;
    a.architecture = "qwen3";
    LoraPair p;
    p.rank = 4, p.in = 64, p.out = 64, p.alpha = 8;
    p.a.assign(4 * 64, 0.01f);
    p.b.assign(64 * 4, 0.02f);
    a.pairs.push_back(p);
    write_peft_adapter(a, d, "Qwen/Qwen3-0.6B");
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static astfill::fuzz::InputFile file;
  static const HyperParams hp = tiny_hparams();
  try {
    LoraAdapter a;
    if (size > 0 && data[0] == '{') {
      std::ofstream(peft_dir() + "/adapter_config.json", std::ios::binary | std::ios::trunc)
          .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
      a = read_lora_adapter(peft_dir());
    } else {
      a = read_lora_adapter(file.write(data, size));
    }
    for (const LoraPair& p : a.pairs) {
      astfill::fuzz::check(p.a.size() == static_cast<size_t>(p.rank * p.in) &&
                               p.b.size() == static_cast<size_t>(p.out * p.rank),
                           "a pair's vectors disagree with its rank and widths");
      (void)a.scale(p);
    }
    a.check_against(hp);
  } catch (const ModelError&) {
  }
  return 0;
}
