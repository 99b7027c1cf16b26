// A Hugging Face checkpoint directory whose config.json is the input; its
// tokenizer.json and model.safetensors are a valid tiny model's, so a
// config.json that agrees with them loads and the rest must be refused with
// a ModelError naming the key (num_hidden_layers = 2^32-1, a rope base of
// Inf, a negative scaling factor, a context length of 0, ...), never a crash or a huge allocation.
#include <cstdint>
#include <cstdlib>
#include <filesystem>

#include "engine/errors.h"
#include "engine/model_file.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/seed_model.h"

using namespace astfill::engine;
namespace fs = std::filesystem;

namespace {

// The directory, removed when the fuzzer exits.
struct Checkpoint {
  std::string dir;
  ~Checkpoint() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

Checkpoint make_checkpoint() {
  char tmpl[] = "/tmp/astfill-fuzz-hf-XXXXXX";
  if (!mkdtemp(tmpl)) astfill::fuzz::fail("mkdtemp");
  std::string dir = tmpl;
  auto spec = astfill::fuzz::seed_spec();
  write_random_model(dir + "/model.gguf", spec);
  {
    GgufFile g = GgufFile::open(dir + "/model.gguf");
    astfill::fuzz::write_text(dir + "/model.safetensors", astfill::fuzz::safetensors_bytes(g));
    astfill::fuzz::write_text(dir + "/tokenizer.json", astfill::fuzz::tokenizer_json_text(tokenizer_from_gguf(g)));
  }
  fs::remove(dir + "/model.gguf");
  return Checkpoint{dir};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Checkpoint checkpoint = make_checkpoint();
  const std::string& dir = checkpoint.dir;
  astfill::fuzz::write_text(dir + "/config.json", std::string(reinterpret_cast<const char*>(data), size));
  try {
    ModelFile m = ModelFile::open(dir);
    const auto& hp = m.hparams();
    // (context_length 0 is "not given": max_position_embeddings is optional.)
    astfill::fuzz::check(hp.block_count >= 1 && hp.embedding_length >= 1, "accepted a model without layers");
    astfill::fuzz::check(m.tokenizer().tokens.size() == hp.vocab_size, "tokenizer and embedding disagree");
  } catch (const ModelError&) {
  }
  return 0;
}
