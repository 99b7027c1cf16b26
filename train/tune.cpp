#include "train/tune.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "completion/model_prompt.h"
#include "index/files.h"
#include "index/index.h"
#include "index/parsed.h"
#include "train/checkpoint.h"
#include "train/distill.h"
#include "train/optimizer.h"

namespace astfill::train {

namespace {

void check_options(const TuneOptions& o) {
  if ((o.steps > 0) == (o.hours > 0)) throw std::invalid_argument("give either --steps N or --hours H (one of them)");
  if (o.steps < 0 || o.hours < 0 || !std::isfinite(o.hours))
    throw std::invalid_argument("--steps and --hours must be positive");
  if (o.batch < 1 || o.batch > 4096) throw std::invalid_argument("--batch must be between 1 and 4096");
  if (o.rank < 1 || o.rank > 1024) throw std::invalid_argument("--rank must be between 1 and 1024");
  if (!(o.alpha > 0) || !std::isfinite(o.alpha)) throw std::invalid_argument("--alpha must be a positive number");
  if (o.targets.empty()) throw std::invalid_argument("--targets names no projection");
  if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate))
    throw std::invalid_argument("the learning rate must be a positive number");
  if (o.threads < 0) throw std::invalid_argument("--threads must be 0 (all) or more");
  if (o.out_dir.empty()) throw std::invalid_argument("--out names no directory");
  if (o.samples.max_tokens < o.samples.max_middle_tokens + 64)
    throw std::invalid_argument("a sample of " + std::to_string(o.samples.max_tokens) + " tokens leaves no room for its prompt");
  if (!(o.samples.end_weight > 0 && o.samples.end_weight <= 1))
    throw std::invalid_argument("--end-weight must be more than 0 and at most 1");
  if (!(o.distill_weight >= 0 && o.distill_weight <= 1))
    throw std::invalid_argument("--distill-weight must be between 0 and 1");
  if (!(o.temperature > 0) || !std::isfinite(o.temperature)) throw std::invalid_argument("--temperature must be a positive number");
  if (o.teacher_top_k < 1) throw std::invalid_argument("--teacher-top-k must be at least 1");
}

std::string model_id(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return std::filesystem::absolute(path).lexically_normal().string() + " (" + std::to_string(ec ? 0 : size) + " bytes)";
}

// The cuts' mix and the middle's cap (what the sample stream depends on
// besides the seed and the sizes).
std::string cut_mix(const SampleOptions& s) {
  std::ostringstream f;
  f << "cuts=line:" << s.line_weight << ",block:" << s.block_weight << ",call_args:" << s.call_args_weight
    << ",span:" << s.span_weight << " max_middle=" << s.max_middle_tokens;
  if (s.end_weight != 1.0) f << " end_weight=" << s.end_weight;
  f << " cross_file=" << s.cross_file_tokens;
  return f.str();
}

// What a checkpoint must agree with to be continued.
std::string fingerprint(const TuneOptions& o, const std::string& model) {
  std::ostringstream f;
  f << "model=" << model << "\nroot=" << std::filesystem::absolute(o.root).lexically_normal().string()
    << "\nrank=" << o.rank << "\nalpha=" << o.alpha << "\ntargets=";
  for (Target t : o.targets) f << engine::lora_target_name(t) << ",";
  f << "\nweights=" << (o.weights == engine::WeightMode::F32 ? "f32" : "int8") << "\nseed=" << o.seed
    << "\nmax_tokens=" << o.samples.max_tokens << "\nheld_out=" << o.samples.held_out_share << "\n"
    << "batch=" << o.batch << "\nsamples=" << cut_mix(o.samples) << "\n";
  // Only with a teacher, so that checkpoints of runs without one stay valid.
  if (!o.teacher_path.empty())
    f << "teacher=" << model_id(o.teacher_path) << "\ndistill_weight=" << o.distill_weight
      << "\ntemperature=" << o.temperature << "\ntop_k=" << o.teacher_top_k << "\n";
  return f.str();
}

// What decides the samples (training stream and held-out set): the teacher's
// cache is keyed by it.
std::string sample_set(const TuneOptions& o) {
  std::ostringstream f;
  f << "root=" << std::filesystem::absolute(o.root).lexically_normal().string() << " seed=" << o.seed
    << " max_tokens=" << o.samples.max_tokens << " max_middle=" << o.samples.max_middle_tokens
    << " max_file_bytes=" << o.samples.max_file_bytes << " held_out=" << o.samples.held_out_share
    << " eval_samples=" << o.eval_samples << " " << cut_mix(o.samples);
  return f.str();
}

// Cuts samples (with cross-file context when there is an index) and keeps
// count of the time it takes.
struct Sampler {
  const FrozenModel& model;
  const completion::FimTemplate& fim;
  std::string repo;
  const SampleOptions& options;
  const index::SymbolIndex* index = nullptr;
  uint64_t made = 0, with_context = 0;
  double seconds = 0;

  Sample cut(const SourceFile& f, std::mt19937_64& rng) {
    const auto start = std::chrono::steady_clock::now();
    completion::ContextReport report;
    Sample s = make_fim_sample(model.tokenizer(), fim, repo, f, rng, options, index, &report);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++made;
    if (!s.tokens.empty() && report.imports.items + report.definitions.items + report.similar.items > 0) ++with_context;
    return s;
  }

  // A sample from a random training file; files too short for one are retried.
  Sample draw(const std::vector<SourceFile>& files, std::mt19937_64& rng) {
    for (int attempt = 0; attempt < 64; ++attempt) {
      Sample s = cut(files[rng() % files.size()], rng);
      if (!s.tokens.empty()) return s;
    }
    throw std::runtime_error("no fill-in-the-middle sample could be cut from the training files (too short?)");
  }
};

// An index of the repository for the samples' cross-file context, in
// OUT/index.db (a resumed run syncs it, reparsing only what changed): the
// held-out files are left out of it, so that no training sample shows their
// code; a held-out sample's context comes from the training files.
std::unique_ptr<index::Index> open_sample_index(const TuneOptions& o, const std::vector<SourceFile>& held_out) {
  std::set<std::string> hidden;
  for (const SourceFile& f : held_out) hidden.insert(f.path);
  index::IndexOptions io;
  io.root = o.root;
  io.database = std::filesystem::path(o.out_dir) / "index.db";
  io.max_file_bytes = o.samples.max_file_bytes;
  io.parse_threads = o.threads > 0 ? static_cast<unsigned>(o.threads) : 0;
  io.background_nice = 0;  // the run waits for it
  index::LanguageOf language = index::tree_sitter_language_of();
  auto index = std::make_unique<index::Index>(
      std::move(io), index::tree_sitter_extractor(),
      [hidden = std::move(hidden), language](std::string_view path) -> std::string {
        return hidden.count(std::string(path)) ? std::string() : language(path);
      });
  index->sync_with_disk();
  index->wait_until_idle();
  return index;
}

}  // namespace

engine::LoraAdapter to_lora_adapter(const Adapter<float>& adapter, const std::string& architecture,
                                    uint32_t expert_count) {
  engine::LoraAdapter out;
  out.architecture = architecture;
  out.expert_count = expert_count;
  for (const auto& p : adapter.pairs) {
    engine::LoraPair q;
    q.layer = p.layer;
    q.target = p.target;
    q.expert = p.expert;
    q.rank = adapter.rank;
    q.in = p.in;
    q.out = p.out;
    q.a = p.a;
    q.b = p.b;
    q.alpha = static_cast<float>(adapter.alpha);
    out.pairs.push_back(std::move(q));
  }
  return out;
}

Adapter<float> from_lora_adapter(const engine::LoraAdapter& adapter, const FrozenModel& model) {
  const std::string name = adapter.source.empty() ? std::string("the adapter") : "'" + adapter.source + "'";
  if (adapter.pairs.empty()) throw std::invalid_argument(name + " has no LoRA pairs");
  if (adapter.rslora) throw std::invalid_argument(name + " uses rsLoRA, which the trainer does not hold");
  Adapter<float> out;
  out.rank = adapter.pairs.front().rank;
  out.alpha = adapter.pairs.front().alpha;
  for (const engine::LoraPair& p : adapter.pairs) {
    if (p.rank != out.rank || p.alpha != static_cast<float>(out.alpha))
      throw std::invalid_argument(name + " has pairs of different ranks or alphas, which the trainer does not hold");
    const bool mlp = p.target == Target::Gate || p.target == Target::Up || p.target == Target::Down;
    if (p.expert >= 0 &&
        (!mlp || !model.is_moe_layer(p.layer) || static_cast<uint32_t>(p.expert) >= model.hparams().expert_count))
      throw std::invalid_argument(name + " adapts experts the model does not have (layer " + std::to_string(p.layer) +
                                  ", " + engine::lora_target_name(p.target) + ", expert " + std::to_string(p.expert) +
                                  ")");
    if (p.expert < 0 && mlp && model.is_moe_layer(p.layer))
      throw std::invalid_argument(name + " has a dense " + engine::lora_target_name(p.target) + " pair on layer " +
                                  std::to_string(p.layer) + ", whose MLP is a mixture of experts");
    const int64_t in = p.expert >= 0 ? model.expert_in(p.target) : model.target_in(p.target);
    const int64_t out_width = p.expert >= 0 ? model.expert_out(p.target) : model.target_out(p.target);
    if (p.layer >= model.hparams().block_count || p.in != in || p.out != out_width)
      throw std::invalid_argument(name + " does not fit the model (layer " + std::to_string(p.layer) + ", " +
                                  engine::lora_target_name(p.target) + ")");
    LoraPair<float> q;
    q.layer = p.layer;
    q.target = p.target;
    q.expert = p.expert;
    q.in = p.in;
    q.out = p.out;
    q.a = p.a;
    q.b = p.b;
    out.pairs.push_back(std::move(q));
  }
  return out;
}

namespace {

// A sample's weight in a batch or a mean: its targets' total weight.
double target_count(const Sample& s) { return s.target_weight(); }

}  // namespace

double mean_loss(const FrozenModel& model, const Adapter<float>& adapter, const std::vector<Sample>& samples) {
  double total = 0, targets = 0;
  for (const Sample& s : samples) {
    const double m = target_count(s);
    total += model.loss<float>(adapter, s, nullptr) * m;
    targets += m;
  }
  return targets > 0 ? total / targets : 0;
}

namespace {

// The held-out means: the loss trained on (mixed with a teacher) and its parts.
struct Evaluation {
  double loss = 0, cross_entropy = 0, kl = 0;
};

Evaluation evaluate(const FrozenModel& model, const Adapter<float>& adapter, const std::vector<Sample>& samples,
                    TeacherCache* cache, const TuneOptions& o) {
  if (!cache) {
    const double l = mean_loss(model, adapter, samples);
    return {l, l, 0};
  }
  Evaluation e;
  double targets = 0;
  for (const Sample& s : samples) {
    const Distillation d{&cache->get(s), o.distill_weight, o.temperature};
    LossTerms terms;
    const double m = target_count(s);
    e.loss += model.loss<float>(adapter, s, nullptr, 1.0, &d, &terms) * m;
    e.cross_entropy += terms.cross_entropy * m;
    e.kl += terms.kl * m;
    targets += m;
  }
  if (targets > 0) {
    e.loss /= targets;
    e.cross_entropy /= targets;
    e.kl /= targets;
  }
  return e;
}

// The held-out files' paths, sorted, one a line: what a later evaluation
// (bench_quality --files) must cut its tasks from so that it never measures
// on code the adapter was trained on.
void write_held_out_list(const std::vector<SourceFile>& held_out, const std::string& path) {
  std::vector<std::string> paths;
  for (const SourceFile& f : held_out) paths.push_back(f.path);
  std::sort(paths.begin(), paths.end());
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& p : paths) out << p << '\n';
  out.flush();
  if (!out) throw std::runtime_error("cannot write the held-out file list '" + path + "'");
}

}  // namespace

TuneResult tune(const TuneOptions& o, const std::function<void(const TuneProgress&)>& progress,
                const std::atomic<bool>* stop) {
  check_options(o);
  using Clock = std::chrono::steady_clock;
  const engine::EngineThreads threads(o.threads);
  const auto model = FrozenModel::open(o.model_path, o.weights);
  const std::string arch = model->hparams().arch;

  RepositoryFiles files = collect_files(o.root, o.samples);
  if (files.train.empty() && files.held_out.size() > 1) {
    files.train.push_back(std::move(files.held_out.back()));
    files.held_out.pop_back();
  }
  if (files.train.empty())
    throw std::runtime_error("'" + o.root.string() + "' has no source files to train on");
  // A repository too small for the share to pick a held-out file still gets
  // one (the lowest-hashed), unless it has a single file.
  if (files.held_out.empty() && files.train.size() > 1) {
    size_t pick = 0;
    for (size_t i = 1; i < files.train.size(); ++i)
      if (index::content_hash(files.train[i].path) < index::content_hash(files.train[pick].path)) pick = i;
    files.held_out.push_back(std::move(files.train[pick]));
    files.train.erase(files.train.begin() + static_cast<std::ptrdiff_t>(pick));
  }
  const std::vector<SourceFile>& eval_files = files.held_out.empty() ? files.train : files.held_out;

  const completion::FimTemplate& fim = completion::template_for(model->tokenizer(), "");
  const std::string repo = std::filesystem::absolute(o.root).lexically_normal().filename().string();
  std::filesystem::create_directories(o.out_dir);
  TuneResult result;
  std::unique_ptr<index::Index> project_index;
  if (o.samples.cross_file_tokens > 0) {
    const auto start = Clock::now();
    project_index = open_sample_index(o, files.held_out);
    result.index_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.indexed_files = project_index->totals().files;
  }
  Sampler sampler{*model, fim, repo, o.samples, project_index.get()};
  // The held-out samples: fixed by the seed, independent of the training stream.
  std::vector<Sample> held_out;
  {
    std::mt19937_64 rng(o.seed ^ 0x5EED0F4E1D0u);
    for (size_t i = 0; i < o.eval_samples; ++i) {
      Sample s = sampler.cut(eval_files[i % eval_files.size()], rng);
      if (!s.tokens.empty()) held_out.push_back(std::move(s));
    }
  }

  result.train_files = files.train.size();
  result.held_out_files = files.held_out.size();
  result.held_out_list_path = (std::filesystem::path(o.out_dir) / "held_out_files.txt").string();
  write_held_out_list(files.held_out, result.held_out_list_path);
  result.checkpoint_path = (std::filesystem::path(o.out_dir) / "checkpoint.bin").string();

  TrainingState state;
  std::mt19937_64 rng(o.seed);
  AdamW optimizer;
  const std::string print = fingerprint(o, model_id(o.model_path));
  if (auto saved = load_checkpoint(result.checkpoint_path)) {
    if (saved->fingerprint != print)
      throw std::invalid_argument("'" + result.checkpoint_path +
                                  "' is the checkpoint of a run with other settings (model, repository, rank, alpha, "
                                  "targets, seed, sample size, batch, cuts, end weight or cross-file context); use another --out or remove it");
    state = std::move(*saved);
    std::istringstream(state.rng) >> rng;
    optimizer = AdamW(state.adapter, {.weight_decay = o.weight_decay});
    optimizer.first_moments() = state.first_moments;
    optimizer.second_moments() = state.second_moments;
    optimizer.set_steps(state.optimizer_steps);
    result.resumed = true;
  } else {
    state.fingerprint = print;
    state.adapter = model->new_adapter(o.targets, o.rank, o.alpha, o.seed);
    state.best = state.adapter;
    optimizer = AdamW(state.adapter, {.weight_decay = o.weight_decay});
  }

  // The teacher's top-k on the held-out samples and, with a step count, on
  // every training sample still to come (the stream is fixed by the seed:
  // a copy of its generator draws the same samples), before training starts,
  // so the teacher's time is not the training's; with a time budget they are
  // computed as the samples come. All from the cache when it has them.
  std::unique_ptr<Teacher> teacher;
  std::unique_ptr<TeacherCache> cache;
  if (!o.teacher_path.empty()) {
    teacher = std::make_unique<Teacher>(o.teacher_path, o.weights, *model, o.teacher_top_k);
    cache = std::make_unique<TeacherCache>(*teacher, o.out_dir, sample_set(o));
    for (const Sample& s : held_out) cache->get(s);
    if (o.steps > 0) {
      std::mt19937_64 ahead = rng;
      for (int64_t step = state.step; step < o.steps; ++step)
        for (int64_t i = 0; i < o.batch; ++i) cache->get(sampler.draw(files.train, ahead));
    }
    cache->save();
    result.distilled = true;
    result.teacher_cache_path = cache->path();
    result.teacher_cache_rebuilt = cache->rebuilt();
  }
  // The base model's held-out figures (B = 0: the adapter changes nothing yet).
  const Evaluation before = evaluate(*model, model->new_adapter(o.targets, o.rank, o.alpha, o.seed), held_out, cache.get(), o);
  if (!result.resumed) {
    state.held_out_before = before.loss;
    state.best_held_out = state.held_out_before;
    state.best_step = 0;
  }
  result.kl_before = before.kl;
  result.cross_entropy_before = before.cross_entropy;

  auto save = [&] {
    std::ostringstream r;
    r << rng;
    state.rng = r.str();
    state.optimizer_steps = optimizer.steps();
    state.first_moments = optimizer.first_moments();
    state.second_moments = optimizer.second_moments();
    save_checkpoint(result.checkpoint_path, state);
    if (cache) cache->save();
  };

  const double budget = o.hours * 3600;
  auto total_steps = [&]() -> double {
    if (o.steps > 0) return static_cast<double>(o.steps);
    if (state.step == 0 || state.elapsed_seconds <= 0) return 1e9;
    return static_cast<double>(state.step) * budget / state.elapsed_seconds;  // at the pace so far
  };
  auto done = [&] { return o.steps > 0 ? state.step >= o.steps : state.elapsed_seconds >= budget; };

  double recent_loss = 0, tokens = 0, seconds = 0, held = state.best_held_out, held_kl = before.kl;
  int64_t recent = 0, run_steps = 0;
  while (!done()) {
    if (stop && stop->load()) {
      save();
      result.interrupted = true;
      result.step = state.step;
      result.held_out_before = state.held_out_before;
      result.held_out_best = state.best_held_out;
      result.best_step = state.best_step;
      result.samples_made = sampler.made;
      result.samples_with_context = sampler.with_context;
      result.sample_seconds = sampler.seconds;
      if (teacher) result.teacher_runs = teacher->runs();
      return result;
    }
    const auto start = Clock::now();
    std::vector<Sample> batch;
    double targets = 0;
    for (int64_t i = 0; i < o.batch; ++i) {
      batch.push_back(sampler.draw(files.train, rng));
      targets += target_count(batch.back());
    }
    Adapter<float> grads = state.adapter.zeros_like();
    double loss = 0;
    for (const Sample& s : batch) {
      // Each sample's mean, weighted by its share of the batch's targets.
      const double w = target_count(s) / targets;
      if (cache) {
        const Distillation d{&cache->get(s), o.distill_weight, o.temperature};
        loss += w * model->loss<float>(state.adapter, s, &grads, w, &d);
      } else {
        loss += w * model->loss<float>(state.adapter, s, &grads, w);
      }
    }
    if (!std::isfinite(loss)) throw std::runtime_error("the training loss became " + std::to_string(loss));
    clip_gradients(grads, o.clip);
    const double total = total_steps();
    const double lr = learning_rate(static_cast<double>(state.step), total, o.warmup_share * total, o.learning_rate);
    optimizer.step(state.adapter, grads, lr);
    ++state.step;
    const double dt = std::chrono::duration<double>(Clock::now() - start).count();
    state.elapsed_seconds += dt;
    seconds += dt;
    for (const Sample& s : batch) tokens += static_cast<double>(s.tokens.size());
    recent_loss += loss;
    ++recent;

    TuneProgress p;
    p.step = state.step;
    p.total_steps = std::max(state.step, static_cast<int64_t>(std::min(total_steps(), 1e12)));
    p.loss = recent_loss / static_cast<double>(recent);
    if (state.step % o.eval_every == 0 || done()) {
      const Evaluation e = evaluate(*model, state.adapter, held_out, cache.get(), o);
      held = e.loss;
      held_kl = e.kl;
      if (held < state.best_held_out) {
        state.best_held_out = held;
        state.best_step = state.step;
        state.best = state.adapter;
      }
      p.evaluated = true;
      recent_loss = 0;
      recent = 0;
    }
    p.held_out = held;
    p.distilling = cache != nullptr;
    p.held_out_kl = held_kl;
    p.tokens_per_second = seconds > 0 ? tokens / seconds : 0;
    ++run_steps;
    p.eta_seconds = o.steps > 0 ? seconds / static_cast<double>(run_steps) * static_cast<double>(o.steps - state.step)
                                : std::max(0.0, budget - state.elapsed_seconds);
    if (progress) progress(p);
  }
  save();

  result.step = state.step;
  result.held_out_before = state.held_out_before;
  result.held_out_best = state.best_held_out;
  result.best_step = state.best_step;
  result.tokens_per_second = seconds > 0 ? tokens / seconds : 0;
  result.samples_made = sampler.made;
  result.samples_with_context = sampler.with_context;
  result.sample_seconds = sampler.seconds;
  if (cache) {
    const Evaluation after = evaluate(*model, state.best, held_out, cache.get(), o);
    result.kl_after = after.kl;
    result.cross_entropy_after = after.cross_entropy;
    result.teacher_runs = teacher->runs();
  }
  const engine::LoraAdapter best = to_lora_adapter(state.best, arch, model->hparams().expert_count);
  const std::string base = model->hparams().name.empty() ? o.model_path : model->hparams().name;
  if (o.write_peft) {
    result.peft_dir = (std::filesystem::path(o.out_dir) / "adapter").string();
    engine::write_peft_adapter(best, result.peft_dir, base);
  }
  if (o.write_gguf) {
    result.gguf_path = (std::filesystem::path(o.out_dir) / "adapter.gguf").string();
    engine::write_gguf_adapter(best, result.gguf_path);
  }
  return result;
}

}  // namespace astfill::train
