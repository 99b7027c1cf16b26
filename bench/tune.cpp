// bench_tune: LoRA training on the CPU (train/, `astfill tune`, issue 18).
//   throughput: training tokens/s (forward, recomputation and backward,
//     AdamW) and peak resident memory, on the random model with
//     Qwen2.5-Coder-0.5B's shapes (Q8_0, written once to --model-dir as
//     bench_engine writes it) and on the bundled model, rank 16 on q,k,v,o;
//   quality: the bundled model tuned briefly on numpy's Python sources
//     (bench::default_task_roots' python root), held-out files excluded from
//     training: held-out loss before and after;
//   distillation: the bundled model tuned on the same sources with a teacher
//     (--teacher, default the bundled model itself, which measures the cost
//     only): the teacher's top-k pass, the cache's reuse on a second run,
//     training tokens/s with the KL term, held-out KL before and after;
//   objective (--objective ADAPTER): where the training loss goes, base
//     model vs a trained adapter, on samples of held-out files (--files)
//     of each cut astfill tune makes (train/samples.h) and on bench_quality's
//     own tasks from the same files: the middles' lengths, the cross-entropy
//     of the middle's tokens and of the end token, the end token's share of
//     the loss as a per-sample mean (tune's objective before batches) and as
//     a per-token mean (now), and the probability the model gives the end
//     where the middle goes on (stopping early) and where it ends.
// Prints one JSON object.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <unistd.h>
#include <string>

#include "bench/args.h"
#include "bench/random_model.h"
#include "bench/tasks.h"
#include "completion/model_prompt.h"
#include "engine/bundled_model.h"
#include "engine/lora.h"
#include "train/optimizer.h"
#include "train/tune.h"
#include "support/openmp_env.h"

using namespace astfill;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Rss {
  double now_mb = 0, peak_mb = 0;
};
Rss read_rss() {
  Rss r;
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) r.now_mb = std::stod(line.substr(6)) / 1024.0;
    if (line.rfind("VmHWM:", 0) == 0) r.peak_mb = std::stod(line.substr(6)) / 1024.0;
  }
  return r;
}
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Training steps on random-token samples of `tokens` tokens whose last
// `targets` are predicted: the cost of a step does not depend on the text.
std::string throughput(const std::string& label, const std::string& path, int threads, int steps, int tokens,
                       int targets, const std::string& lora_targets) {
  const engine::EngineThreads scope(threads);
  reset_peak_rss();
  const auto t_load = Clock::now();
  const auto model = train::FrozenModel::open(path, engine::WeightMode::Int8);
  const double load_s = seconds_since(t_load);
  const Rss loaded = read_rss();
  reset_peak_rss();  // from here: training's own peak
  train::Adapter<float> adapter = model->new_adapter(engine::parse_lora_targets(lora_targets), 16, 32, 1);
  train::AdamW optimizer(adapter, {});
  std::mt19937 rng(1);
  double seconds = 0, first_loss = 0, last_loss = 0;
  for (int s = 0; s < steps + 1; ++s) {  // the first step warms up (oneDNN primitives, pages) and is not timed
    train::Sample sample;
    for (int i = 0; i < tokens; ++i) sample.tokens.push_back(static_cast<int32_t>(rng() % model->hparams().vocab_size));
    sample.target_begin = static_cast<size_t>(tokens - targets);
    sample.target_end = static_cast<size_t>(tokens);
    const auto t = Clock::now();
    train::Adapter<float> grads = adapter.zeros_like();
    const double loss = model->loss<float>(adapter, sample, &grads);
    train::clip_gradients(grads, 1.0);
    optimizer.step(adapter, grads, 1e-4);
    if (s > 0) seconds += seconds_since(t);
    if (s == 0) first_loss = loss;
    last_loss = loss;
  }
  const Rss after = read_rss();
  char out[1024];
  std::snprintf(out, sizeof out,
                "{\"model\":\"%s\",\"path\":\"%s\",\"lora_targets\":\"%s\",\"threads\":%d,\"tokens_per_sample\":%d,\"targets_per_sample\":%d,"
                "\"timed_steps\":%d,\"seconds_per_step\":%.3f,\"training_tokens_per_s\":%.1f,\"load_s\":%.2f,"
                "\"rss_after_load_mb\":%.1f,\"peak_rss_load_mb\":%.1f,\"peak_rss_training_mb\":%.1f,\"peak_over_loaded\":%.3f,"
                "\"adapter_parameters\":%zu,\"loss_first\":%.4f,\"loss_last\":%.4f}",
                label.c_str(), path.c_str(), lora_targets.c_str(), threads, tokens, targets, steps, seconds / steps,
                tokens * steps / seconds, load_s, loaded.now_mb, loaded.peak_mb, after.peak_mb, after.peak_mb / loaded.now_mb,
                adapter.parameter_count(), first_loss, last_loss);
  return out;
}

// Per-token figures of one set of samples under one adapter.
struct ObjectiveTally {
  size_t samples = 0, complete = 0, middle_tokens = 0;
  double ce_middle = 0, ce_end = 0;      // sums
  double sample_mean_objective = 0, sample_mean_end = 0;  // sums over samples of loss_i and ce_end_i / m_i
  double p_end_middle = 0, p_end_at_end = 0;  // sums
  double end_top1 = 0;  // middle positions where the end token is the most likely
};

void measure(const train::FrozenModel& model, const train::Adapter<float>& adapter, const train::Sample& s,
             int32_t end, ObjectiveTally& t) {
  const std::vector<float> logits = model.logits(adapter, s.tokens);
  const int64_t V = model.hparams().vocab_size;
  const bool complete = s.tokens[s.target_end - 1] == end;
  double sum = 0, end_ce = 0;
  for (size_t i = s.target_begin; i < s.target_end; ++i) {
    const float* row = logits.data() + static_cast<int64_t>(i - 1) * V;
    float mx = row[0];
    int64_t arg = 0;
    for (int64_t j = 1; j < V; ++j)
      if (row[j] > mx) mx = row[j], arg = j;
    double z = 0;
    for (int64_t j = 0; j < V; ++j) z += std::exp(double(row[j] - mx));
    const double lse = double(mx) + std::log(z);
    const double ce = lse - double(row[s.tokens[i]]);
    const double p_end = std::exp(double(row[end]) - lse);
    sum += ce;
    if (complete && i + 1 == s.target_end) {
      t.ce_end += ce;
      end_ce = ce;
      t.p_end_at_end += p_end;
    } else {
      t.ce_middle += ce;
      t.p_end_middle += p_end;
      t.end_top1 += arg == end ? 1 : 0;
      ++t.middle_tokens;
    }
  }
  const double m = static_cast<double>(s.target_end - s.target_begin);
  ++t.samples;
  t.complete += complete ? 1 : 0;
  t.sample_mean_objective += sum / m;
  if (complete) t.sample_mean_end += end_ce / m;  // the end token's term of this sample's mean
}

std::string objective_json(const ObjectiveTally& t) {
  const double n = static_cast<double>(std::max<size_t>(t.samples, 1)), mid = static_cast<double>(std::max<size_t>(t.middle_tokens, 1)),
               ends = static_cast<double>(std::max<size_t>(t.complete, 1));
  char out[640];
  std::snprintf(out, sizeof out,
                "{\"ce_middle\":%.4f,\"ce_end\":%.4f,\"loss_per_token\":%.4f,\"loss_per_sample_mean\":%.4f,"
                "\"end_share_per_token\":%.4f,\"end_share_per_sample_mean\":%.4f,\"p_end_inside_middle\":%.4f,"
                "\"end_top1_inside_middle\":%.4f,\"p_end_at_end\":%.4f}",
                t.ce_middle / mid, t.ce_end / ends, (t.ce_middle + t.ce_end) / (mid + static_cast<double>(t.complete)),
                t.sample_mean_objective / n, t.ce_end / std::max(1e-12, t.ce_middle + t.ce_end),
                t.sample_mean_end / std::max(1e-12, t.sample_mean_objective), t.p_end_middle / mid, t.end_top1 / mid,
                t.p_end_at_end / ends);
  return out;
}

// The objective section: base and adapter on held-out samples of each cut
// and on bench_quality's tasks cut from the same files.
std::string objective(const std::string& model_path, const std::string& adapter_path, const std::string& root,
                      const std::string& files_list, int threads, int per_cut) {
  const engine::EngineThreads scope(threads);
  const auto model = train::FrozenModel::open(model_path, engine::WeightMode::Int8);
  const train::Adapter<float> base = model->new_adapter({train::Target::Q}, 1, 1, 1);  // B = 0: the base model
  const train::Adapter<float> tuned = train::from_lora_adapter(engine::read_lora_adapter(adapter_path), *model);
  const auto& tok = model->tokenizer();
  const completion::FimTemplate& fim = completion::template_for(tok, "");
  const int32_t end = *tok.find_token(fim.stop.front());
  std::vector<std::string> listed;
  {
    std::ifstream in(files_list);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) listed.push_back(line);
  }
  if (listed.empty()) throw std::runtime_error("the file list '" + files_list + "' names no file");
  const std::string repo = std::filesystem::absolute(root).lexically_normal().filename().string();
  std::vector<train::SourceFile> files;
  for (const std::string& path : listed) {
    std::ifstream in(std::filesystem::path(root) / path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!text.empty()) files.push_back({path, "python", std::move(text)});
  }
  train::SampleOptions so;
  std::string out = "{\"model\":\"" + model_path + "\",\"adapter\":\"" + adapter_path + "\",\"files\":\"" +
                    files_list + "\",\"held_out_files\":" + std::to_string(files.size()) + ",\"cuts\":{";
  std::mt19937_64 rng(7);
  auto row = [&](const std::vector<train::Sample>& samples) {
    ObjectiveTally b, a;
    double lengths = 0;
    for (const auto& s : samples) {
      measure(*model, base, s, end, b);
      measure(*model, tuned, s, end, a);
      lengths += static_cast<double>(s.target_end - s.target_begin);
    }
    char head[160];
    std::snprintf(head, sizeof head, "{\"samples\":%zu,\"targets_mean\":%.1f,\"complete\":%zu,", samples.size(),
                  lengths / static_cast<double>(std::max<size_t>(samples.size(), 1)), b.complete);
    return std::string(head) + "\"base\":" + objective_json(b) + ",\"adapter\":" + objective_json(a) + "}";
  };
  bool first = true;
  for (train::FimCut cut : {train::FimCut::Span, train::FimCut::Line, train::FimCut::Block, train::FimCut::CallArgs}) {
    std::vector<train::Sample> samples;
    for (int attempt = 0; attempt < per_cut * 8 && static_cast<int>(samples.size()) < per_cut; ++attempt) {
      const train::SourceFile& f = files[rng() % files.size()];
      const auto span = train::pick_cut(f.text, cut, rng);
      if (!span) continue;
      train::Sample s = train::make_fim_sample(tok, fim, repo, f, *span, so);
      if (!s.tokens.empty()) samples.push_back(std::move(s));
    }
    out += std::string(first ? "" : ",") + "\"" + train::to_string(cut) + "\":" + row(samples);
    first = false;
  }
  out += "},\"bench_quality_tasks\":{";
  first = true;
  const std::set<std::string> allowed(listed.begin(), listed.end());
  for (bench::TaskKind kind : {bench::TaskKind::Line, bench::TaskKind::Block, bench::TaskKind::CallArgs}) {
    std::vector<train::Sample> samples;
    for (const bench::FimTask& t : bench::cut_tasks(root, kind, SIZE_MAX, 1)) {
      if (!allowed.count(t.path)) continue;
      const train::SourceFile f{t.path, "python", t.prefix + t.middle + t.suffix};
      train::Sample s = train::make_fim_sample(tok, fim, repo, f, {t.prefix.size(), t.prefix.size() + t.middle.size()}, so);
      if (!s.tokens.empty()) samples.push_back(std::move(s));
      if (static_cast<int>(samples.size()) >= per_cut) break;
    }
    out += std::string(first ? "" : ",") + "\"" + bench::to_string(kind) + "\":" + row(samples);
    first = false;
  }
  return out + "}}";
}

}  // namespace

int main(int argc, char** argv) {
  astfill::support::prefer_passive_openmp_wait(argv);  // as astfill itself runs
  std::string dir = (std::filesystem::temp_directory_path() / "astfill-bench").string();
  std::string bundled = engine::bundled_model_path().value_or("");
  std::string lora_targets = "q,k,v,o";
  std::string root;
  std::string teacher;
  int threads = 2, steps = 3, tokens = 512, quality_steps = 40, distill_steps = 30, batch = 8;
  double end_weight = train::SampleOptions{}.end_weight;
  double lr = 1e-3;
  bool skip_05b = false, skip_quality = false;
  std::string objective_adapter, files_list;
  int objective_samples = 48;
  bench::ArgParser args("bench_tune",
                        "LoRA training on the CPU: training tokens/s and peak memory on a random model with\n"
                        "Qwen2.5-Coder-0.5B's shapes (Q8_0, written once to --model-dir) and on the bundled\n"
                        "model; then the bundled model tuned on numpy's Python sources, held-out loss before\n"
                        "and after. Prints one JSON object.");
  args.option("--model-dir", "DIR", "where the random model is kept (default: $TMPDIR/astfill-bench)",
              bench::text_value(dir));
  args.option("--bundled", "PATH", "the small model (default: the bundled one)", bench::text_value(bundled));
  args.option("--root", "DIR", "the repository tuned on (default: numpy's sources, bench_quality's python root)",
              bench::text_value(root));
  args.option("--threads", "N", "threads (default 2)", bench::count_value(threads, "thread count", 1, 256));
  args.option("--steps", "N", "timed training steps per model (default 3)", bench::count_value(steps, "step count", 1, 1000));
  args.option("--tokens", "N", "tokens per sample (default 512)", bench::count_value(tokens, "token count", 128, 8192));
  args.option("--speed-targets", "LIST",
              "the timed steps' LoRA targets (default q,k,v,o; on a mixture-of-experts model gate, up and down "
              "adapt every expert)",
              bench::text_value(lora_targets));
  args.option("--quality-steps", "N", "steps of the tuning run (default 40)",
              bench::count_value(quality_steps, "step count", 1, 100000));
  args.option("--batch", "N", "samples per step of the tuning and distillation runs (default 8)",
              bench::count_value(batch, "batch size", 1, 4096));
  args.option("--end-weight", "W", "the end token's weight in the tuning run's loss (default astfill tune's, 0.1)",
              [&](const std::string& v) -> std::optional<std::string> {
                try {
                  end_weight = std::stod(v);
                } catch (const std::exception&) {
                  return "'" + v + "' is not a number";
                }
                if (!(end_weight > 0 && end_weight <= 1)) return "the end weight must be in (0, 1]";
                return std::nullopt;
              });
  args.option("--lr", "RATE", "the tuning run's peak learning rate (default 1e-3)",
              [&](const std::string& v) -> std::optional<std::string> {
                try {
                  lr = std::stod(v);
                } catch (const std::exception&) {
                  return "'" + v + "' is not a number";
                }
                if (!(lr > 0)) return "the learning rate must be positive";
                return std::nullopt;
              });
  args.option("--teacher", "PATH", "the distillation row's teacher (default: the bundled model itself)",
              bench::text_value(teacher));
  args.option("--distill-steps", "N", "steps of the distillation run (default 30; 0 leaves it out)",
              bench::count_value(distill_steps, "step count", 0, 100000));
  args.option("--objective", "ADAPTER",
              "only the objective section: where the loss goes, base vs this adapter (a PEFT directory or a\n"
              "GGUF adapter of the bundled model), on held-out Python files (--files)",
              bench::text_value(objective_adapter));
  args.option("--files", "LIST", "with --objective: the held-out files (astfill tune's OUT/held_out_files.txt)",
              bench::text_value(files_list));
  args.option("--objective-samples", "N", "with --objective: samples per cut (default 48)",
              bench::count_value(objective_samples, "sample count", 1, 100000));
  args.flag("--skip-05b", "leave out the 0.5B-shaped model", [&] { skip_05b = true; });
  args.flag("--skip-quality", "leave out the tuning run", [&] { skip_quality = true; });
  bench::parse_args_or_exit(args, "bench_tune", argc, argv);
  if (root.empty()) {
    const auto roots = bench::default_task_roots(ASTFILL_SOURCE_DIR);
    if (auto it = roots.find("python"); it != roots.end()) root = it->second;
  }

  if (!objective_adapter.empty()) {
    if (files_list.empty() || root.empty() || bundled.empty()) {
      std::fprintf(stderr, "bench_tune: --objective needs --files, a root and a model\n");
      return 2;
    }
    try {
      const std::string start = load_average();
      const std::string o = objective(bundled, objective_adapter, root, files_list, threads, objective_samples);
      std::printf("{\"load_average_start\":\"%s\",\"objective\":%s,\"load_average_end\":\"%s\"}\n", start.c_str(),
                  o.c_str(), load_average().c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_tune: %s\n", e.what());
      return 1;
    }
    return 0;
  }
  std::printf("{\"load_average_start\":\"%s\",\"throughput\":[", load_average().c_str());
  bool first = true;
  if (!skip_05b) {
    std::filesystem::create_directories(dir);
    const std::string path = dir + "/qwen2.5-0.5b-shapes.q8_0.gguf";
    if (!std::filesystem::exists(path)) {
      engine::RandomModelSpec spec = bench::qwen_05b_shapes_spec();
      spec.weight_scale = 0.02f;
      engine::write_random_model(path, spec);
    }
    std::printf("%s", throughput("random Qwen2.5-Coder-0.5B shapes, Q8_0", path, threads, steps, tokens, 64, lora_targets).c_str());
    std::fflush(stdout);
    first = false;
  }
  if (!bundled.empty()) {
    std::printf("%s%s", first ? "" : ",", throughput("bundled", bundled, threads, steps, tokens, 64, lora_targets).c_str());
    std::fflush(stdout);
  }
  std::printf("]");
  if (!skip_quality && !bundled.empty() && !root.empty()) {
    train::TuneOptions o;
    o.root = root;
    o.model_path = bundled;
    o.out_dir = (std::filesystem::temp_directory_path() / ("astfill-bench-tune-" + std::to_string(::getpid()))).string();
    o.steps = quality_steps;
    o.threads = threads;
    o.learning_rate = lr;
    o.eval_every = quality_steps;
    o.eval_samples = 48;
    o.batch = batch;
    o.samples.end_weight = end_weight;
    o.samples.max_tokens = static_cast<size_t>(tokens);
    o.write_peft = false;
    const auto t = Clock::now();
    const train::TuneResult r = train::tune(o, {});
    const double secs = seconds_since(t);
    std::error_code ec;
    std::filesystem::remove_all(o.out_dir, ec);
    std::printf(",\"quality\":{\"model\":\"%s\",\"root\":\"%s\",\"train_files\":%zu,\"held_out_files\":%zu,"
                "\"steps\":%lld,\"batch\":%d,\"end_weight\":%g,\"rank\":%lld,\"targets\":\"q,k,v,o\",\"lr\":%g,\"held_out_samples\":%zu,"
                "\"held_out_loss_before\":%.4f,\"held_out_loss_after\":%.4f,\"best_step\":%lld,"
                "\"training_tokens_per_s\":%.1f,\"seconds\":%.1f}",
                bundled.c_str(), root.c_str(), r.train_files, r.held_out_files, static_cast<long long>(r.step), batch,
                end_weight, static_cast<long long>(o.rank), lr, o.eval_samples, r.held_out_before, r.held_out_best,
                static_cast<long long>(r.best_step), r.tokens_per_second, secs);
  }
  if (distill_steps > 0 && !bundled.empty() && !root.empty()) {
    if (teacher.empty()) teacher = bundled;
    train::TuneOptions o;
    o.root = root;
    o.model_path = bundled;
    o.teacher_path = teacher;
    o.out_dir = (std::filesystem::temp_directory_path() / ("astfill-bench-distill-" + std::to_string(::getpid()))).string();
    o.steps = distill_steps;
    o.threads = threads;
    o.learning_rate = lr;
    o.eval_every = distill_steps;
    o.eval_samples = 16;
    o.batch = batch;
    o.samples.max_tokens = static_cast<size_t>(tokens);
    o.write_peft = false;
    auto t = Clock::now();
    const train::TuneResult r = train::tune(o, {});
    const double first_s = seconds_since(t);
    std::error_code ec;
    const auto size = std::filesystem::file_size(r.teacher_cache_path, ec);
    const unsigned long long cache_bytes = ec ? 0 : size;
    // The same run again: the teacher's top-k from the cache.
    std::filesystem::remove(r.checkpoint_path, ec);
    t = Clock::now();
    const train::TuneResult again = train::tune(o, {});
    const double second_s = seconds_since(t);
    std::filesystem::remove_all(o.out_dir, ec);
    std::printf(",\"distillation\":{\"student\":\"%s\",\"teacher\":\"%s\",\"root\":\"%s\",\"steps\":%lld,"
                "\"top_k\":%d,\"distill_weight\":%g,\"temperature\":%g,\"held_out_samples\":%zu,"
                "\"teacher_samples_run\":%llu,\"cache_bytes\":%llu,\"seconds_first_run\":%.1f,"
                "\"teacher_samples_run_second\":%llu,\"seconds_second_run\":%.1f,\"training_tokens_per_s\":%.1f,"
                "\"held_out_kl_before\":%.4f,\"held_out_kl_after\":%.4f,\"held_out_ce_before\":%.4f,"
                "\"held_out_ce_after\":%.4f}",
                bundled.c_str(), teacher.c_str(), root.c_str(), static_cast<long long>(r.step), o.teacher_top_k,
                o.distill_weight, o.temperature, o.eval_samples, static_cast<unsigned long long>(r.teacher_runs),
                cache_bytes, first_s,
                static_cast<unsigned long long>(again.teacher_runs), second_s, r.tokens_per_second, r.kl_before,
                r.kl_after, r.cross_entropy_before, r.cross_entropy_after);
  }
  std::printf(",\"load_average_end\":\"%s\"}\n", load_average().c_str());
  return 0;
}
