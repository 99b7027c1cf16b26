// bench_lora: what a LoRA adapter costs at inference (issue 18's target:
// decode at most 10% slower at rank 16 on q, k, v and o). One model, one
// random adapter; sessions with and without it alternate over --reps rounds
// of the same work (a prompt prefilled, then greedy decoding), so load on
// the machine falls on both alike; the median round of each is reported,
// with their ratio. By default the random model with Qwen2.5-Coder-0.5B's
// shapes in Q8_0 (bench/random_model.h, written once to --model-dir). Prints
// one JSON object.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/args.h"
#include "bench/random_model.h"
#include "engine/gguf.h"
#include "engine/gguf_writer.h"
#include "engine/lora.h"
#include "engine/model.h"
#include "engine/tensor_types.h"
#include "support/openmp_env.h"

using namespace astfill::engine;

namespace {

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

LoraAdapter random_adapter(const HyperParams& hp, const std::vector<LoraTarget>& targets, int64_t rank,
                           float stddev = 0.02f) {
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0.0f, stddev);
  LoraAdapter a;
  a.architecture = hp.arch;
  a.expert_count = hp.expert_count;
  const bool moe = hp.expert_count > 0;
  for (uint32_t l = 0; l < hp.block_count; ++l)
    for (LoraTarget t : targets) {
      const bool mlp = t == LoraTarget::Gate || t == LoraTarget::Up || t == LoraTarget::Down;
      // A MoE layer's MLP targets are its experts': one pair per expert.
      for (int32_t e = (moe && mlp) ? 0 : -1; e < ((moe && mlp) ? static_cast<int32_t>(hp.expert_count) : 0); ++e) {
        LoraPair p;
        p.layer = l, p.target = t, p.expert = e, p.rank = rank, p.alpha = 2.0f * static_cast<float>(rank);
        const LoraShape s = e >= 0 ? lora_expert_shape(hp, t) : lora_target_shape(hp, t);
        p.in = s.in, p.out = s.out;
        p.a.resize(static_cast<size_t>(p.rank * p.in));
        p.b.resize(static_cast<size_t>(p.out * p.rank));
        for (float& v : p.a) v = n(rng);
        for (float& v : p.b) v = n(rng);  // non-zero: a trained adapter's work, not a fresh one's
        a.pairs.push_back(std::move(p));
      }
    }
  return a;
}

// --merge-into: the model with the adapter merged, W + s B A, in f32 for the
// adapted projections (the rest, and the metadata, as the file has them).
// Dense pairs only; a distillation teacher that knows the repository.
void write_merged(const std::string& model_path, const std::string& adapter_path, const std::string& out_path) {
  const ModelFile f = ModelFile::open(model_path);
  const LoraAdapter adapter = read_lora_adapter(adapter_path);
  adapter.check_against(f.hparams());
  GgufWriter w;
  if (const GgufFile* g = f.gguf())
    for (const auto& [key, value] : g->metadata())
      if (key != "general.alignment") w.set(key, value);
  size_t merged = 0;
  for (const ModelTensor& t : f.tensors()) {
    std::vector<const LoraPair*> pairs;
    for (const LoraPair& p : adapter.pairs) {
      if (p.expert >= 0) throw std::invalid_argument("--merge-into merges dense pairs only");
      if (t.name == "blk." + std::to_string(p.layer) + "." + lora_target_gguf_name(p.target) + ".weight")
        pairs.push_back(&p);
    }
    if (pairs.empty()) {
      w.add_tensor(t.name, t.type, t.ne, std::vector<uint8_t>(t.data, t.data + t.bytes));
      continue;
    }
    const int64_t in = t.ne[0], out = t.ne[1];
    std::vector<float> v(static_cast<size_t>(in * out));
    const size_t rb = row_bytes(t.type, static_cast<size_t>(in));
    for (int64_t r = 0; r < out; ++r) dequantize_row(t.type, t.data + r * rb, v.data() + r * in, static_cast<size_t>(in));
    for (const LoraPair* p : pairs) {
      const double s = adapter.scale(*p);
      for (int64_t o = 0; o < out; ++o)
        for (int64_t k = 0; k < p->rank; ++k) {
          const double b = s * p->b[static_cast<size_t>(o * p->rank + k)];
          const float* a = p->a.data() + k * in;
          float* row = v.data() + o * in;
          for (int64_t i = 0; i < in; ++i) row[i] += static_cast<float>(b * a[i]);
        }
      ++merged;
    }
    w.add_tensor_f32(t.name, GgmlType::F32, t.ne, v);
  }
  if (merged != adapter.pairs.size()) throw std::invalid_argument("some of the adapter's pairs have no tensor to merge into");
  w.write(out_path);
}

struct Round {
  double prefill_s = 0, decode_s = 0;
};

Round run(const Model& model, const std::shared_ptr<const LoraStack>& stack, const std::vector<int32_t>& prompt,
          int decode) {
  Session s(model, prompt.size() + static_cast<size_t>(decode) + 1);
  s.set_adapters(stack);
  Round r;
  auto t0 = clock_type::now();
  std::vector<float> logits = s.evaluate({prompt, {}, {}});
  r.prefill_s = seconds_since(t0);
  t0 = clock_type::now();
  for (int i = 0; i < decode; ++i) {
    const auto token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    logits = s.evaluate({{token}, {}, {}});
  }
  r.decode_s = seconds_since(t0);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  astfill::support::prefer_passive_openmp_wait(argv);  // as astfill itself runs
  std::string dir = (std::filesystem::temp_directory_path() / "astfill-bench").string();
  std::string model_path, adapter_path, targets_text = "q,k,v,o";
  int rank = 16, prompt_tokens = 256, decode = 64, reps = 5, threads = 2;
  astfill::bench::ArgParser args(
      "bench_lora",
      "Inference with and without a LoRA adapter: prefill and decode tokens/s, alternating\n"
      "rounds, medians and their ratio. By default a random adapter of --rank on --targets\n"
      "over the random model with Qwen2.5-Coder-0.5B's shapes (Q8_0, int8 weights). Prints\n"
      "one JSON object.");
  using astfill::bench::count_value;
  args.option("--model-dir", "DIR", "where the random model is kept (default: $TMPDIR/astfill-bench)",
              astfill::bench::text_value(dir));
  args.option("--model", "PATH", "measure this model file instead of the random one",
              astfill::bench::text_value(model_path));
  args.option("--adapter", "PATH", "measure this adapter (PEFT directory or GGUF) instead of a random one",
              astfill::bench::text_value(adapter_path));
  args.option("--rank", "N", "the random adapter's rank (default 16)", count_value(rank, "rank", 1, 1024));
  args.option("--targets", "LIST", "the random adapter's targets (default q,k,v,o; all: every projection)",
              astfill::bench::text_value(targets_text));
  args.option("--prompt", "N", "prompt tokens (default 256)", count_value(prompt_tokens, "token count", 1, 32768));
  args.option("--decode", "N", "decoded tokens per round (default 64)", count_value(decode, "token count", 1, 4096));
  args.option("--reps", "N", "rounds of each (default 5)", count_value(reps, "round count", 1, 1000));
  args.option("--threads", "N", "threads (default 2)", count_value(threads, "thread count", 1, 256));
  std::string fixture_path, fixture_arch = "qwen2", fixture_type = "f32", write_adapter_path;
  args.option("--write-fixture", "PATH",
              "write a small random model (tests/fixtures' tiny shapes, embedding 64, 2 layers, 512 tokens) to PATH "
              "and exit; tools/llama_lora_check/run.sh uses it",
              astfill::bench::text_value(fixture_path));
  args.option("--arch", "A", "--write-fixture's architecture: qwen2, qwen3, qwen3moe, ... (default qwen2)",
              astfill::bench::text_value(fixture_arch));
  args.option("--weight-type", "T", "--write-fixture's weights: f32 or q8_0 (default f32)",
              astfill::bench::text_value(fixture_type));
  std::string merge_into;
  args.option("--merge-into", "PATH",
              "write --model with --adapter merged (W + s B A in f32 for the adapted projections) to PATH and exit",
              astfill::bench::text_value(merge_into));
  args.option("--write-adapter", "PATH",
              "write a random GGUF adapter (--rank, --targets; every expert of a MoE layer) for --model to PATH "
              "and exit",
              astfill::bench::text_value(write_adapter_path));
  astfill::bench::parse_args_or_exit(args, "bench_lora", argc, argv);
  omp_set_num_threads(threads);

  try {
    if (!fixture_path.empty()) {
      RandomModelSpec spec = tiny_spec(fixture_arch);
      if (fixture_type == "q8_0") spec.weight_type = GgmlType::Q8_0;
      else if (fixture_type != "f32") throw std::invalid_argument("--weight-type must be f32 or q8_0");
      write_random_model(fixture_path, spec);
      std::printf("{\"fixture\":\"%s\",\"arch\":\"%s\",\"weight_type\":\"%s\"}\n", fixture_path.c_str(),
                  fixture_arch.c_str(), fixture_type.c_str());
      return 0;
    }
    if (!merge_into.empty()) {
      if (model_path.empty() || adapter_path.empty()) throw std::invalid_argument("--merge-into needs --model and --adapter");
      write_merged(model_path, adapter_path, merge_into);
      std::printf("{\"merged\":\"%s\"}\n", merge_into.c_str());
      return 0;
    }
    if (!write_adapter_path.empty()) {
      if (model_path.empty()) throw std::invalid_argument("--write-adapter needs --model");
      const HyperParams hp = Model::open(model_path, {WeightMode::F32, threads})->hparams();
      // Larger than bench's own adapter, so that its effect on the logits is plain to see.
      write_gguf_adapter(random_adapter(hp, parse_lora_targets(targets_text), rank, 0.1f), write_adapter_path);
      std::printf("{\"adapter\":\"%s\",\"rank\":%d,\"targets\":\"%s\"}\n", write_adapter_path.c_str(), rank,
                  targets_text.c_str());
      return 0;
    }
    if (model_path.empty()) {
      std::filesystem::create_directories(dir);
      model_path = dir + "/qwen2.5-0.5b-shapes.q8_0.gguf";
      if (!std::filesystem::exists(model_path)) write_random_model(model_path, astfill::bench::qwen_05b_shapes_spec());
    }
    auto model = Model::open(model_path, {WeightMode::Int8, threads});
    const HyperParams& hp = model->hparams();
    LoraAdapter adapter = adapter_path.empty() ? random_adapter(hp, parse_lora_targets(targets_text), rank)
                                               : read_lora_adapter(adapter_path);
    size_t adapter_values = 0;
    for (const LoraPair& p : adapter.pairs) adapter_values += p.a.size() + p.b.size();
    auto stack = LoraStack::build({{std::make_shared<const LoraAdapter>(std::move(adapter)), 1.0f, "bench"}}, hp);

    std::mt19937 rng(3);
    std::vector<int32_t> prompt(static_cast<size_t>(prompt_tokens));
    for (int32_t& t : prompt) t = static_cast<int32_t>(rng() % (hp.vocab_size - 300));
    run(*model, nullptr, prompt, 4);  // warm up: primitives, pages
    run(*model, stack, prompt, 4);
    std::vector<double> base_prefill, base_decode, lora_prefill, lora_decode;
    for (int r = 0; r < reps; ++r) {
      // Alternate which goes first, so neither always follows the other.
      for (int k = 0; k < 2; ++k) {
        const bool with = (k == 0) == (r % 2 == 0);
        Round round = run(*model, with ? stack : nullptr, prompt, decode);
        (with ? lora_prefill : base_prefill).push_back(prompt.size() / round.prefill_s);
        (with ? lora_decode : base_decode).push_back(decode / round.decode_s);
      }
    }
    const double bp = median(base_prefill), bd = median(base_decode), lp = median(lora_prefill),
                 ld = median(lora_decode);
    std::printf(
        "{\"model\":\"%s\",\"threads\":%d,\"rank\":%d,\"targets\":\"%s\",\"adapter_mb\":%.2f,\"prompt_tokens\":%d,"
        "\"decode_tokens\":%d,\"reps\":%d,\"base\":{\"prefill_tokens_per_s\":%.1f,\"decode_tokens_per_s\":%.2f},"
        "\"adapter\":{\"prefill_tokens_per_s\":%.1f,\"decode_tokens_per_s\":%.2f},"
        "\"decode_slowdown\":%.4f,\"prefill_slowdown\":%.4f}\n",
        model_path.c_str(), threads, adapter_path.empty() ? rank : -1, adapter_path.empty() ? targets_text.c_str() : "file",
        adapter_values * 4.0 / 1e6, prompt_tokens, decode, reps, bp, bd, lp, ld, bd / ld - 1.0, bp / lp - 1.0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_lora: %s\n", e.what());
    return 1;
  }
  return 0;
}
