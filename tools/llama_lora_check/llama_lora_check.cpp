// llama_lora_check: does llama.cpp read the GGUF adapters astfill writes,
// and does it compute what astfill computes with them? (issue 18: "the GGUF
// one as llama.cpp's loader expects it (--lora)").
//
// Compiled against a llama.cpp build, not part of astfill's build (llama.cpp
// is not a dependency); tools/llama_lora_check/run.sh builds and runs it.
//
//   llama_lora_check --model BASE.gguf --adapter ADAPTER.gguf --scale S
//                    --tokens IDS.json --astfill-base BASE.bin
//                    --astfill-adapter ADAPTED.bin [--threads N]
//
// IDS.json is the token ids `astfill logits` printed (a JSON array); the two
// .bin files are `astfill logits --all` without and with `--adapter
// ADAPTER.gguf:S` (float32 rows of n_vocab, one per position). The program
// evaluates the same ids in llama.cpp (f32 KV cache, every position's
// logits) without the adapter, then with it through llama_adapter_lora_init
// and llama_set_adapters_lora at scale S, and prints one JSON object: the
// largest |difference| of the logits (absolute, and relative to the largest
// |logit|), top-1 agreement over the positions, each side's own change from
// the adapter (and the largest |difference| between the two changes), and
// how many positions the adapter changed the top-1 of.
// Exits 1 when llama.cpp refuses the model or the adapter.
#include <llama.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "llama_lora_check: %s\n", msg.c_str());
  std::exit(1);
}

std::vector<llama_token> read_ids(const std::string& path) {
  std::ifstream f(path);
  if (!f) die("cannot read " + path);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<llama_token> ids;
  for (size_t i = 0; i < s.size();) {
    if (s[i] >= '0' && s[i] <= '9') {
      size_t end = i;
      while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
      ids.push_back(static_cast<llama_token>(std::stol(s.substr(i, end - i))));
      i = end;
    } else {
      ++i;
    }
  }
  if (ids.empty()) die("no token ids in " + path);
  return ids;
}

std::vector<float> read_floats(const std::string& path, size_t expect) {
  std::ifstream f(path, std::ios::binary);
  if (!f) die("cannot read " + path);
  std::vector<float> v(expect);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(expect * sizeof(float)));
  if (static_cast<size_t>(f.gcount()) != expect * sizeof(float))
    die(path + " holds fewer than the " + std::to_string(expect) + " logits expected");
  char extra;
  if (f.read(&extra, 1)) die(path + " holds more logits than the " + std::to_string(expect) + " expected");
  return v;
}

// Every position's logits for `ids`, from an empty KV cache.
std::vector<float> run(llama_context* ctx, const std::vector<llama_token>& ids, int n_vocab) {
  llama_memory_clear(llama_get_memory(ctx), true);
  const int n = static_cast<int>(ids.size());
  llama_batch batch = llama_batch_init(n, 0, 1);
  for (int i = 0; i < n; ++i) {
    batch.token[i] = ids[static_cast<size_t>(i)];
    batch.pos[i] = i;
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = 0;
    batch.logits[i] = 1;
  }
  batch.n_tokens = n;
  if (llama_decode(ctx, batch) != 0) die("llama_decode failed");
  std::vector<float> out(static_cast<size_t>(n) * static_cast<size_t>(n_vocab));
  for (int i = 0; i < n; ++i) {
    const float* row = llama_get_logits_ith(ctx, i);
    if (!row) die("no logits for position " + std::to_string(i));
    std::memcpy(out.data() + static_cast<size_t>(i) * n_vocab, row, sizeof(float) * static_cast<size_t>(n_vocab));
  }
  llama_batch_free(batch);
  return out;
}

struct Diff {
  double max_abs = 0, max_ref = 0;
  int top1_same = 0;
};

Diff compare(const std::vector<float>& a, const std::vector<float>& b, int n_pos, int n_vocab) {
  Diff d;
  for (int p = 0; p < n_pos; ++p) {
    const float* x = a.data() + static_cast<size_t>(p) * n_vocab;
    const float* y = b.data() + static_cast<size_t>(p) * n_vocab;
    for (int v = 0; v < n_vocab; ++v) {
      d.max_abs = std::max(d.max_abs, std::fabs(double(x[v]) - double(y[v])));
      d.max_ref = std::max(d.max_ref, std::fabs(double(y[v])));
    }
    if (std::max_element(x, x + n_vocab) - x == std::max_element(y, y + n_vocab) - y) ++d.top1_same;
  }
  return d;
}

void quiet_log(ggml_log_level level, const char* text, void*) {
  if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path, adapter_path, ids_path, base_bin, adapted_bin;
  float scale = 1.0f;
  int threads = 2;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--model") model_path = value();
    else if (a == "--adapter") adapter_path = value();
    else if (a == "--scale") scale = std::stof(value());
    else if (a == "--tokens") ids_path = value();
    else if (a == "--astfill-base") base_bin = value();
    else if (a == "--astfill-adapter") adapted_bin = value();
    else if (a == "--threads") threads = std::stoi(value());
    else if (a == "--verbose") verbose = true;
    else die("unknown option " + a);
  }
  if (model_path.empty() || adapter_path.empty() || ids_path.empty() || base_bin.empty() || adapted_bin.empty())
    die("--model, --adapter, --tokens, --astfill-base and --astfill-adapter are required");
  if (!verbose) llama_log_set(quiet_log, nullptr);

  const std::vector<llama_token> ids = read_ids(ids_path);
  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  llama_model* model = llama_model_load_from_file(model_path.c_str(), mp);
  if (!model) die("llama.cpp refused the model " + model_path);
  const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  const int n = static_cast<int>(ids.size());

  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(std::max(n, 64));
  cp.n_batch = cp.n_ctx;
  cp.n_ubatch = cp.n_ctx;
  cp.n_seq_max = 1;
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  cp.type_k = GGML_TYPE_F32;  // astfill's f32 path keeps its KV in f32
  cp.type_v = GGML_TYPE_F32;
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  cp.no_perf = true;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) die("llama_init_from_model failed");

  const std::vector<float> llama_base = run(ctx, ids, n_vocab);

  llama_adapter_lora* adapter = llama_adapter_lora_init(model, adapter_path.c_str());
  if (!adapter) die("llama.cpp refused the adapter " + adapter_path);
  char alpha[64] = "";
  llama_adapter_meta_val_str(adapter, "adapter.lora.alpha", alpha, sizeof alpha);
  float scales[1] = {scale};
  if (llama_set_adapters_lora(ctx, &adapter, 1, scales) != 0) die("llama_set_adapters_lora failed");
  const std::vector<float> llama_adapted = run(ctx, ids, n_vocab);

  const size_t expect = static_cast<size_t>(n) * static_cast<size_t>(n_vocab);
  const std::vector<float> ours_base = read_floats(base_bin, expect);
  const std::vector<float> ours_adapted = read_floats(adapted_bin, expect);

  const Diff base = compare(ours_base, llama_base, n, n_vocab);
  const Diff adapted = compare(ours_adapted, llama_adapted, n, n_vocab);
  const Diff llama_effect = compare(llama_adapted, llama_base, n, n_vocab);
  const Diff ours_effect = compare(ours_adapted, ours_base, n, n_vocab);
  // The adapter's own contribution on each side, (adapted - base): with Q8_0
  // weights the two bases differ by llama.cpp's Q8_0 activations, and this
  // separates the adapter's path from that.
  double delta_diff = 0;
  for (size_t i = 0; i < ours_base.size(); ++i)
    delta_diff = std::max(delta_diff, std::fabs((double(ours_adapted[i]) - double(ours_base[i])) -
                                                (double(llama_adapted[i]) - double(llama_base[i]))));

  std::printf(
      "{\"model_file\": \"%s\", \"adapter_file\": \"%s\", \"adapter_alpha\": \"%s\", \"scale\": %g, \"positions\": %d, "
      "\"n_vocab\": %d,\n"
      " \"base\": {\"max_abs_diff\": %.6g, \"max_abs_logit\": %.6g, \"rel\": %.3g, \"top1_agree\": %d},\n"
      " \"adapter\": {\"max_abs_diff\": %.6g, \"max_abs_logit\": %.6g, \"rel\": %.3g, \"top1_agree\": %d},\n"
      " \"adapter_effect\": {\"llama_max_abs\": %.6g, \"astfill_max_abs\": %.6g, \"max_abs_diff\": %.6g, "
      "\"llama_top1_changed\": %d, \"astfill_top1_changed\": %d}}\n",
      model_path.c_str(), adapter_path.c_str(), alpha, double(scale), n, n_vocab, base.max_abs, base.max_ref,
      base.max_abs / base.max_ref, base.top1_same, adapted.max_abs, adapted.max_ref, adapted.max_abs / adapted.max_ref,
      adapted.top1_same, llama_effect.max_abs, ours_effect.max_abs, delta_diff, n - llama_effect.top1_same,
      n - ours_effect.top1_same);

  llama_free(ctx);
  llama_model_free(model);
  llama_backend_free();
  return 0;
}
