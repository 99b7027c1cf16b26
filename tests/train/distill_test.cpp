// Distillation (`astfill tune --teacher`, train/distill.h): the KL term's
// gradient against finite differences in double, a distill weight of 0 that
// trains bit for bit as without a teacher, a student that moves toward its
// teacher, the teacher's cache reused (the teacher not run again) and rebuilt
// when damaged, and a teacher with another tokenizer refused.
#include <catch2/catch.hpp>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "tests/engine/temp_dir.h"
#include "tests/fixtures/random_model.h"
#include "train/checkpoint.h"
#include "train/distill.h"
#include "train/tune.h"

using namespace astfill;
using astfill::testing::TempDir;
using train::Adapter;
using train::Target;

namespace {

const std::vector<Target> kAllTargets = {Target::Q, Target::K, Target::V, Target::O,
                                         Target::Gate, Target::Up, Target::Down};

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::filesystem::path write_repository(const TempDir& dir) {
  const std::filesystem::path root = dir.path() / "repo";
  for (int f = 0; f < 4; ++f) {
    std::string text = "def step_" + std::to_string(f) + "(total):\n";
    for (int i = 0; i < 20; ++i) text += "    total = total + " + std::to_string(i % 3) + "\n";
    text += "    return total\n";
    write(root / ("pkg/mod" + std::to_string(f) + ".py"), text);
  }
  return root;
}

std::string write_model(const TempDir& dir, const std::string& name, uint32_t seed, float scale = 0.02f,
                        uint32_t vocab = 0) {
  engine::RandomModelSpec spec = engine::tiny_spec("qwen2");
  spec.seed = seed;
  spec.weight_scale = scale;
  if (vocab) spec.hp.vocab_size = vocab;
  const std::string path = dir.file(name);
  engine::write_random_model(path, spec);
  return path;
}

train::TuneOptions options(const TempDir& dir, const std::filesystem::path& root, const std::string& model,
                           const std::string& out) {
  train::TuneOptions o;
  o.root = root;
  o.model_path = model;
  o.out_dir = dir.file(out);
  o.rank = 4;
  o.alpha = 8;
  o.targets = kAllTargets;
  o.steps = 8;
  o.threads = 1;
  o.learning_rate = 1e-2;
  o.eval_every = 4;
  o.eval_samples = 3;
  o.samples.max_tokens = 128;
  o.samples.max_middle_tokens = 16;
  o.batch = 2;
  o.write_peft = false;
  o.weights = engine::WeightMode::F32;
  o.teacher_top_k = 8;
  return o;
}

// A made-up teacher: k distinct ids per row, log-probabilities of a random
// distribution over the vocabulary (so they sum to less than 1).
train::TeacherTopK random_teacher(size_t rows, int32_t k, int32_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  train::TeacherTopK t;
  t.k = k;
  for (size_t r = 0; r < rows; ++r) {
    std::vector<int32_t> ids(static_cast<size_t>(vocab));
    for (int32_t i = 0; i < vocab; ++i) ids[static_cast<size_t>(i)] = i;
    std::shuffle(ids.begin(), ids.end(), rng);
    for (int32_t i = 0; i < k; ++i) {
      t.ids.push_back(ids[static_cast<size_t>(i)]);
      t.logprobs.push_back(-0.5f - 0.4f * static_cast<float>(i) - static_cast<float>(rng() % 100) * 0.01f);
    }
  }
  return t;
}

}  // namespace

TEST_CASE("distillation: the KL term's gradient matches finite differences (double)", "[train][distill]") {
  TempDir dir;
  const auto model = train::FrozenModel::open(write_model(dir, "m.gguf", 7, 0.08f), engine::WeightMode::F32);
  const Adapter<float> f = model->new_adapter(kAllTargets, 2, 4.0, 11);
  Adapter<double> ad;
  ad.rank = f.rank;
  ad.alpha = f.alpha;
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-0.2, 0.2);
  for (const auto& p : f.pairs) {
    train::LoraPair<double> q{p.layer, p.target, p.in, p.out, {p.a.begin(), p.a.end()}, {}};
    for (auto& v : q.a) v *= 4;
    q.b.resize(p.b.size());
    for (auto& v : q.b) v = u(rng);
    ad.pairs.push_back(std::move(q));
  }
  const auto V = static_cast<int32_t>(model->hparams().vocab_size);
  train::Sample s;
  for (int i = 0; i < 10; ++i) s.tokens.push_back(static_cast<int32_t>(rng() % static_cast<uint32_t>(V)));
  s.target_begin = 5;
  s.target_end = 10;
  const train::TeacherTopK teacher = random_teacher(5, 6, V, 3);
  for (const auto& [lambda, temp] : {std::pair{1.0, 1.0}, std::pair{0.5, 2.0}}) {
    const train::Distillation d{&teacher, lambda, temp};
    Adapter<double> grads = ad.zeros_like();
    train::LossTerms terms;
    const double loss = model->loss(ad, s, &grads, 1.0, &d, &terms);
    CAPTURE(lambda, temp, loss, terms.cross_entropy, terms.kl);
    REQUIRE(terms.kl > 0);
    CHECK(std::abs(loss - ((1 - lambda) * terms.cross_entropy + lambda * temp * temp * terms.kl)) < 1e-12 * loss);
    for (size_t pi = 0; pi < ad.pairs.size(); pi += 3) {
      for (int which = 0; which < 2; ++which) {
        std::vector<double>& w = which == 0 ? ad.pairs[pi].a : ad.pairs[pi].b;
        const std::vector<double>& g = which == 0 ? grads.pairs[pi].a : grads.pairs[pi].b;
        double largest = 0;
        for (double v : g) largest = std::max(largest, std::abs(v));
        CAPTURE(pi, which);
        REQUIRE(largest > 1e-7);
        for (int probe = 0; probe < 2; ++probe) {
          const size_t i = rng() % w.size();
          const double saved = w[i], h = 1e-5;
          w[i] = saved + h;
          const double up = model->loss(ad, s, nullptr, 1.0, &d);
          w[i] = saved - h;
          const double down = model->loss(ad, s, nullptr, 1.0, &d);
          w[i] = saved;
          const double numeric = (up - down) / (2 * h);
          CAPTURE(i, numeric, g[i]);
          CHECK(std::abs(numeric - g[i]) <= 1e-6 * largest + 1e-4 * std::abs(numeric) + 1e-10);
        }
      }
    }
  }
  // The teacher's rows must be the sample's.
  const train::TeacherTopK short_teacher = random_teacher(4, 6, V, 3);
  const train::Distillation bad{&short_teacher, 0.5, 1.0};
  CHECK_THROWS_WITH(model->loss(ad, s, nullptr, 1.0, &bad), Catch::Contains("rows"));
}

TEST_CASE("distillation: a weight of 0 trains bit for bit as without a teacher", "[train][distill]") {
  TempDir dir;
  const auto root = write_repository(dir);
  const std::string student = write_model(dir, "student.gguf", 3), teacher = write_model(dir, "teacher.gguf", 9, 0.1f);
  train::TuneOptions o = options(dir, root, student, "plain");
  const train::TuneResult plain = train::tune(o, {});
  o.out_dir = dir.file("zero");
  o.teacher_path = teacher;
  o.distill_weight = 0;
  const train::TuneResult zero = train::tune(o, {});
  CHECK(zero.distilled);
  CHECK(zero.kl_before > 0);
  CHECK(zero.held_out_before == plain.held_out_before);
  CHECK(zero.held_out_best == plain.held_out_best);
  CHECK(zero.best_step == plain.best_step);
  const auto a = train::load_checkpoint(plain.checkpoint_path), b = train::load_checkpoint(zero.checkpoint_path);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(a->adapter.pairs.size() == b->adapter.pairs.size());
  for (size_t i = 0; i < a->adapter.pairs.size(); ++i) {
    CHECK(a->adapter.pairs[i].a == b->adapter.pairs[i].a);
    CHECK(a->adapter.pairs[i].b == b->adapter.pairs[i].b);
  }
}

TEST_CASE("distillation: the student moves toward its teacher, the cache is reused and rebuilt", "[train][distill]") {
  TempDir dir;
  const auto root = write_repository(dir);
  const std::string student = write_model(dir, "student.gguf", 3), teacher = write_model(dir, "teacher.gguf", 9, 0.1f);
  train::TuneOptions o = options(dir, root, student, "out");
  o.teacher_path = teacher;
  o.distill_weight = 1;
  o.temperature = 2;
  int reports_with_kl = 0;
  const train::TuneResult first = train::tune(o, [&](const train::TuneProgress& p) {
    if (p.distilling && p.evaluated && p.held_out_kl > 0) ++reports_with_kl;
  });
  CAPTURE(first.kl_before, first.kl_after);
  CHECK(reports_with_kl == 2);
  CHECK(first.kl_after < first.kl_before * 0.9);
  CHECK(first.teacher_runs >= 8);  // every training step's sample and the held-out ones
  CHECK_FALSE(first.teacher_cache_rebuilt);
  REQUIRE(std::filesystem::exists(first.teacher_cache_path));

  // The same run again: every top-k comes from the cache, none from the teacher.
  std::filesystem::remove(first.checkpoint_path);
  const train::TuneResult again = train::tune(o, {});
  CHECK(again.teacher_runs == 0);
  CHECK(again.kl_after == first.kl_after);
  CHECK(again.held_out_best == first.held_out_best);

  // A damaged cache is not trusted: rebuilt, with the same result.
  std::filesystem::remove(first.checkpoint_path);
  {
    std::fstream f(first.teacher_cache_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(first.teacher_cache_path) / 2));
    f.put('\x5a');
  }
  const train::TuneResult rebuilt = train::tune(o, {});
  CHECK(rebuilt.teacher_cache_rebuilt);
  CHECK(rebuilt.teacher_runs == first.teacher_runs);
  CHECK(rebuilt.kl_after == first.kl_after);

  // A truncated one too.
  std::filesystem::remove(first.checkpoint_path);
  std::filesystem::resize_file(first.teacher_cache_path, std::filesystem::file_size(first.teacher_cache_path) - 100);
  const train::TuneResult truncated = train::tune(o, {});
  CHECK(truncated.teacher_cache_rebuilt);
  CHECK(truncated.teacher_runs == first.teacher_runs);

  // Another k is another cache file: the teacher runs again.
  std::filesystem::remove(first.checkpoint_path);
  o.teacher_top_k = 4;
  const train::TuneResult other_k = train::tune(o, {});
  CHECK(other_k.teacher_cache_path != first.teacher_cache_path);
  CHECK(other_k.teacher_runs == first.teacher_runs);
  CHECK_FALSE(other_k.teacher_cache_rebuilt);
}

TEST_CASE("distillation: a teacher with another tokenizer is refused", "[train][distill]") {
  TempDir dir;
  const auto root = write_repository(dir);
  const std::string student = write_model(dir, "student.gguf", 3);
  train::TuneOptions o = options(dir, root, student, "out");
  o.teacher_path = write_model(dir, "wide.gguf", 4, 0.02f, 640);
  CHECK_THROWS_AS(train::tune(o, {}), std::invalid_argument);
  CHECK_THROWS_WITH(train::tune(o, {}), Catch::Contains("wide.gguf") && Catch::Contains("tokenizer") &&
                                            Catch::Contains("640") && Catch::Contains("512"));
  // The same size, other tokens (20 merges: other tokens where the 200 merges made theirs).
  const engine::Tokenizer a(engine::tiny_tokenizer(512, 200)), b(engine::tiny_tokenizer(512, 20));
  CHECK_THROWS_WITH(train::check_same_tokenizer(b, a, "t.gguf"), Catch::Contains("token") && Catch::Contains("t.gguf"));
  CHECK_NOTHROW(train::check_same_tokenizer(a, a, "t.gguf"));
  // Bad distillation settings.
  o.teacher_path = write_model(dir, "teacher.gguf", 9);
  o.distill_weight = 1.5;
  CHECK_THROWS_WITH(train::tune(o, {}), Catch::Contains("--distill-weight"));
  o.distill_weight = 0.5;
  o.temperature = 0;
  CHECK_THROWS_WITH(train::tune(o, {}), Catch::Contains("--temperature"));
  o.temperature = 1;
  o.teacher_top_k = 100000;
  CHECK_THROWS_WITH(train::tune(o, {}), Catch::Contains("top-k"));
}

TEST_CASE("distillation: the teacher's rows line up with the student's (a model as its own teacher)", "[train][distill]") {
  TempDir dir;
  const std::string path = write_model(dir, "m.gguf", 7, 0.08f);
  const auto model = train::FrozenModel::open(path, engine::WeightMode::F32);
  const train::Adapter<float> base = model->new_adapter({Target::Q}, 2, 4.0, 1);  // B = 0: the base model
  const auto V = static_cast<int64_t>(model->hparams().vocab_size);
  std::mt19937 rng(4);
  train::Sample s;
  for (int i = 0; i < 12; ++i) s.tokens.push_back(static_cast<int32_t>(rng() % static_cast<uint32_t>(V)));
  s.target_begin = 7;
  s.target_end = 11;  // the last token is not a target: the teacher must not need it
  train::Teacher teacher(path, engine::WeightMode::F32, *model, 5);
  const train::TeacherTopK t = teacher.run(s);
  CHECK(teacher.runs() == 1);
  REQUIRE(t.rows() == 4);
  // The student's own log-softmax on the same rows: the teacher's top-5 are its 5 largest.
  const std::vector<float> logits = model->logits(base, s.tokens);
  const double kT = 4;
  double expected_kl = 0;
  for (size_t r = 0; r < 4; ++r) {
    const float* z = logits.data() + (s.target_begin - 1 + r) * static_cast<size_t>(V);
    double mx = z[0];
    for (int64_t j = 1; j < V; ++j) mx = std::max(mx, double(z[j]));
    double sum = 0;
    for (int64_t j = 0; j < V; ++j) sum += std::exp(double(z[j]) - mx);
    const double lse = mx + std::log(sum);
    std::vector<int32_t> order(static_cast<size_t>(V));
    for (int32_t j = 0; j < V; ++j) order[static_cast<size_t>(j)] = j;
    std::partial_sort(order.begin(), order.begin() + 5, order.end(), [z](int32_t a, int32_t b) { return z[a] > z[b]; });
    for (size_t i = 0; i < 5; ++i) {
      CAPTURE(r, i);
      CHECK(t.ids[r * 5 + i] == order[i]);
      CHECK(std::abs(t.logprobs[r * 5 + i] - (double(z[order[i]]) - lse)) < 1e-4);
    }
    // At temperature T, p is softmax(z / T) renormalised on the top-k: KL(p || q) =
    // -log(the mass of softmax(z / T) there), the truncation's floor.
    double all = 0, top = 0;
    for (int64_t j = 0; j < V; ++j) all += std::exp((double(z[j]) - mx) / kT);
    for (size_t i = 0; i < 5; ++i) top += std::exp((double(z[order[i]]) - mx) / kT);
    expected_kl += -std::log(top / all) / 4;
  }
  REQUIRE(expected_kl > 1e-3);
  const train::Distillation d{&t, 1.0, kT};
  train::LossTerms terms;
  model->loss<float>(base, s, nullptr, 1.0, &d, &terms);
  CHECK(terms.kl == Approx(expected_kl).epsilon(1e-4));
}

TEST_CASE("distillation: an interrupted run resumes from its checkpoint and the teacher's cache", "[train][distill]") {
  TempDir dir;
  const auto root = write_repository(dir);
  const std::string student = write_model(dir, "student.gguf", 3), teacher = write_model(dir, "teacher.gguf", 9, 0.1f);
  train::TuneOptions o = options(dir, root, student, "whole");
  o.teacher_path = teacher;
  const train::TuneResult whole = train::tune(o, {});
  o.out_dir = dir.file("parts");
  std::atomic<bool> stop{false};
  const train::TuneResult first = train::tune(o, [&](const train::TuneProgress& p) {
    if (p.step == 3) stop = true;
  }, &stop);
  CHECK(first.interrupted);
  CHECK(first.teacher_runs == whole.teacher_runs);  // the whole run's samples were computed up front
  const train::TuneResult second = train::tune(o, {});
  CHECK(second.resumed);
  CHECK(second.teacher_runs == 0);
  CHECK(second.kl_before == whole.kl_before);
  CHECK(second.kl_after == whole.kl_after);
  CHECK(second.held_out_best == whole.held_out_best);
  const auto a = train::load_checkpoint(whole.checkpoint_path), b = train::load_checkpoint(second.checkpoint_path);
  REQUIRE(a);
  REQUIRE(b);
  for (size_t i = 0; i < a->adapter.pairs.size(); ++i) CHECK(a->adapter.pairs[i].b == b->adapter.pairs[i].b);
  // Another teacher against that checkpoint is refused, as other settings are.
  o.teacher_path = write_model(dir, "other.gguf", 10, 0.1f);
  CHECK_THROWS_WITH(train::tune(o, {}), Catch::Contains("other settings"));
}

TEST_CASE("distillation: with a time budget the teacher runs as samples come, and its cache is saved", "[train][distill]") {
  TempDir dir;
  const auto root = write_repository(dir);
  const std::string student = write_model(dir, "student.gguf", 3), teacher = write_model(dir, "teacher.gguf", 9, 0.1f);
  train::TuneOptions o = options(dir, root, student, "out");
  o.teacher_path = teacher;
  o.steps = 0;
  o.hours = 0.3 / 3600;
  const train::TuneResult r = train::tune(o, {});
  CHECK(r.step >= 1);
  CHECK(r.teacher_runs >= static_cast<uint64_t>(o.eval_samples));
  REQUIRE(std::filesystem::exists(r.teacher_cache_path));
  // The same run again (the same sample stream) finds in the file the top-k
  // of the held-out samples and of the first run's steps: the teacher runs
  // only on steps past those.
  std::filesystem::remove(r.checkpoint_path);
  const train::TuneResult again = train::tune(o, {});
  CHECK(again.kl_before == r.kl_before);
  CHECK(static_cast<int64_t>(again.teacher_runs) <= std::max<int64_t>(0, again.step - r.step) * o.batch);
  CHECK_FALSE(again.teacher_cache_rebuilt);
}
