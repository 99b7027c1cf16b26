// bench_persist: hot prefixes persisted across restarts (engine/prefix_store.h).
// A prompt of --context tokens of cross-file context (random ordinary tokens,
// as a repository-level prompt's other files are to the model: just tokens)
// followed by a short tail that changes between requests. Three "starts" of
// the engine, each a fresh Model, PrefixStore and Session:
//   cold      no files: the whole prompt is prefilled (and, being the second
//             use of the prefix in this process, written);
//   restored  a new process: the stored blocks are mapped in and only the
//             tail is prefilled;
// and reports the time to the first token (load excluded: the model is
// loaded before the clock starts, as a daemon does at start-up), the tokens
// restored, the bytes on disk per 1K tokens, and whether the first token's
// logits are the same. Prints one JSON object.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "bench/args.h"
#include "bench/random_model.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "engine/prefix_store.h"
#include "tests/fixtures/random_model.h"
#include "support/openmp_env.h"

using namespace astfill::engine;
namespace json = boost::json;

namespace {
using clock_type = std::chrono::steady_clock;

struct Start {
  double first_token_ms = 0;
  size_t restored = 0;
  std::vector<float> logits;
  PrefixStoreStats stats;
};

// One start of the engine: a new store over `dir`, a new session; `uses`
// prompts in a row (the last one timed).
Start start(const Model& model, const std::string& path, const std::filesystem::path& dir,
            const std::vector<int32_t>& prompt, bool persist, int uses) {
  PrefixStoreOptions o;
  o.dir = dir;
  PrefixStore store(model, path, o);
  Start s;
  for (int i = 0; i < uses; ++i) {
    Session session(model, prompt.size() + 16);
    std::vector<int32_t> history;
    auto t0 = clock_type::now();
    PrefillResult r = prefill(session, history, prompt, 512, {}, persist ? &store : nullptr);
    s.first_token_ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
    s.restored = r.restored_tokens;
    s.logits = std::move(r.logits);
  }
  s.stats = store.stats();
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  astfill::support::prefer_passive_openmp_wait(argv);  // as astfill itself runs
  std::string model_path, model_dir = (std::filesystem::temp_directory_path() / "astfill-bench").string();
  int threads = 2;
  size_t context = 2048, tail = 48;
  astfill::bench::ArgParser args(
      "bench_persist",
      "Hot prefixes persisted across restarts: time to the first token with ~2K tokens of\n"
      "cross-file context, cold vs restored from $XDG_CACHE_HOME/astfill/kv (here a temporary\n"
      "directory), disk bytes per 1K tokens. By default the random model with Qwen2.5-Coder-0.5B's\n"
      "shapes (Q8_0, written once to --model-dir). Prints one JSON object.");
  args.option("--model", "PATH", "measure this model file instead", astfill::bench::text_value(model_path));
  args.option("--model-dir", "DIR", "where the random model is kept (default: $TMPDIR/astfill-bench)",
              astfill::bench::text_value(model_dir));
  args.option("--threads", "N", "threads (default 2)", astfill::bench::count_value(threads, "thread count", 1, 256));
  args.option("--context", "N", "tokens of context before the tail (default 2048)",
              astfill::bench::count_value(context, "token count", 64, 32768));
  astfill::bench::parse_args_or_exit(args, "bench_persist", argc, argv);
  if (model_path.empty()) {
    std::filesystem::create_directories(model_dir);
    model_path = model_dir + "/qwen2.5-0.5b-shapes.q8_0.gguf";
    if (!std::filesystem::exists(model_path)) write_random_model(model_path, astfill::bench::qwen_05b_shapes_spec());
  }
  auto model = Model::open(model_path, {WeightMode::Int8, threads});
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> pick(300, static_cast<int32_t>(std::min<uint32_t>(model->hparams().vocab_size, 8000)) - 1);
  std::vector<int32_t> prompt(context + tail);
  for (auto& t : prompt) t = pick(rng);
  const auto dir = std::filesystem::temp_directory_path() / ("astfill-bench-kv-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);

  // The reference without a store, then the first run of the "daemon" (two
  // requests: the second writes the prefix), then a restart.
  Start none = start(*model, model_path, dir, prompt, false, 1);
  Start cold = start(*model, model_path, dir, prompt, true, 2);
  Start restored = start(*model, model_path, dir, prompt, true, 1);
  uint64_t disk = 0;
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    disk += e.file_size();
    ++files;
  }
  const size_t stored_tokens = cold.stats.written_blocks * 64;
  json::object out{
      {"benchmark", "persist"},
      {"model", model_path},
      {"threads", threads},
      {"prompt_tokens", prompt.size()},
      {"kv_type", kv_type_name(model->kv_type())},
      {"first_token_ms_no_store", none.first_token_ms},
      {"first_token_ms_cold", cold.first_token_ms},
      {"first_token_ms_restored", restored.first_token_ms},
      {"restored_over_cold", cold.first_token_ms > 0 ? restored.first_token_ms / cold.first_token_ms : 0},
      {"restored_tokens", restored.restored},
      {"files", files},
      {"disk_bytes", disk},
      {"disk_bytes_per_1k_tokens", stored_tokens ? static_cast<double>(disk) * 1000.0 / static_cast<double>(stored_tokens) : 0},
      {"logits_identical_to_cold", restored.logits == cold.logits},
      {"note", "cold: the second request of the first run (it prefills the whole prompt and writes the prefix); "
               "logits are compared with it (same chunking from the start)"},
  };
  std::printf("%s\n", json::serialize(out).c_str());
  std::filesystem::remove_all(dir);
  return 0;
}
