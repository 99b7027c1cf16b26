// bench_speculation: what speculation from the prompt (engine/speculate.h)
// buys and costs. For each task, greedy generation of --max-tokens tokens
// after the task's text, with speculation off and on, each in a fresh session
// (the prompt's prefill but its last token is not timed): tokens per forward
// pass, accepted draft tokens, wall time per completion (median of --runs),
// and whether the two outputs are identical (they must be).
//
// Speculation on runs under three policies (engine/speculate.h DraftLength):
// "acceptance" (the default: the draft length by acceptance alone), "cost"
// (SpeculateOptions::cost_aware: drafts no longer than their rows pay for, a
// row's cost timed on this model) and, with --cost-model, "cost@model" (the
// cap at the cost model's row cost, as that model would draft under it).
//
// Two paths (--paths):
//   plain: engine::generate alone, no constraints;
//   guarded: completion::decode as the daemon runs it, with the syntax guard,
//   the stop rule (multi-line) and the mask over every row; drafts are
//   screened on a copy of the guard's state (GuardHooks::fork) before they
//   are verified. The stop rule may end a completion before the cap.
//
// Tasks: edit-like (a renamed variable, a repeated call pattern, a second
// similar branch), novel code (repeating nothing before the cut) and
// lookalike lines (alike at the start, different after: lookups match and
// mostly guess wrong), in Python and a few other languages, plain
// left-to-right prompts.
//
// What verification costs on a bandwidth-bound model (--cost-model PATH, or
// 0.5b for the random Qwen2.5-Coder-0.5B shapes bench_kv writes): the time
// of one forward pass carrying 1..max_draft+1 rows is measured on both
// models, and each completion's model time is re-priced at the other
// model's: projected = wall - passes priced at the bench model + the same
// passes priced at the cost model (a draft's rows at the mean draft length).
// The acceptance policy drafts alike on both models, so its projection is
// the product's; for the cost cap read cost@model's.
// Random weights draft nothing useful themselves, so this prices the trained
// model's drafting, acceptance and checks at the larger shape's pass times.
//
// The fork's cost: GuardHooks::fork on guards over 1 KiB, 16 KiB and 256 KiB
// of Python (the daemon holds at most 256 KiB of prefix), against one
// forward pass.
//
// Default model: the bundled demo model. Prints one JSON object.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "bench/args.h"
#include "bench/random_model.h"
#include "completion/decoder.h"
#include "completion/guard_hooks.h"
#include "completion/model_runner.h"
#include "engine/bundled_model.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "support/openmp_env.h"

using namespace astfill::engine;
namespace json = boost::json;

namespace {

struct Task {
  const char* name;
  const char* kind;
  std::string text;
  const char* language = "python";
};

std::vector<Task> tasks() {
  std::vector<Task> t;
  t.push_back({"renamed_variable", "edit-like",
               "def mean_of(values):\n"
               "    total = 0\n"
               "    count = 0\n"
               "    for value in values:\n"
               "        total += value\n"
               "        count += 1\n"
               "    if count == 0:\n"
               "        return 0.0\n"
               "    return total / count\n"
               "\n\n"
               "def mean_of_weights(weights):\n"
               "    total = 0\n"
               "    count = 0\n"
               "    for weight in weights:\n"});
  t.push_back({"repeated_call", "edit-like",
               "import unittest\n\n\n"
               "class ParseTest(unittest.TestCase):\n"
               "    def test_numbers(self):\n"
               "        self.assertEqual(parse_number(\"1\"), 1)\n"
               "        self.assertEqual(parse_number(\"12\"), 12)\n"
               "        self.assertEqual(parse_number(\"-3\"), -3)\n"
               "        self.assertEqual(parse_number(\"0\"), 0)\n"
               "        self.assertEqual(parse_number(\"42\"), 42)\n"
               "        self.assertEqual(parse_number(\""});
  t.push_back({"second_branch", "edit-like",
               "def describe(kind, node):\n"
               "    if kind == \"function\":\n"
               "        name = node.name\n"
               "        args = [a.arg for a in node.args.args]\n"
               "        return \"%s(%s)\" % (name, \", \".join(args))\n"
               "    elif kind == \"method\":\n"
               "        name = node.name\n"
               "        args = [a.arg for a in node.args.args[1:]]\n"
               "        return \"%s(%s)\" % (name, \", \".join(args))\n"
               "    elif kind == \"lambda\":\n"});
  t.push_back({"novel_function", "novel",
               "import os\nimport sys\n\n\n"
               "def find_config(start):\n"
               "    \"\"\"Walk up from start until a setup.cfg or pyproject.toml is found.\"\"\"\n"
               "    here = os.path.abspath(start)\n"
               "    while True:\n"});
  t.push_back({"novel_class", "novel",
               "class LineBuffer:\n"
               "    \"\"\"Collects bytes from a socket and yields complete lines.\"\"\"\n\n"
               "    def __init__(self, sock, limit=65536):\n"});
  t.push_back({"repeated_call_js", "edit-like",
               "test('parses numbers', () => {\n"
               "  expect(parseNumber('1')).toBe(1);\n"
               "  expect(parseNumber('12')).toBe(12);\n"
               "  expect(parseNumber('-3')).toBe(-3);\n"
               "  expect(parseNumber('0')).toBe(0);\n"
               "  expect(parseNumber('",
               "javascript"});
  t.push_back({"novel_go", "novel",
               "package cache\n\n"
               "import (\n\t\"sync\"\n\t\"time\"\n)\n\n"
               "// Entry is a value with the time it stops being fresh.\n"
               "type Entry struct {\n\tValue   []byte\n\tExpires time.Time\n}\n\n"
               "// Get returns the entry for key if it has not expired.\n"
               "func (c *Cache) Get(key string) ([]byte, bool) {\n",
               "go"});
  t.push_back({"novel_cpp", "novel",
               "#include <string>\n#include <vector>\n\n"
               "// Splits text at every separator; empty fields are kept.\n"
               "std::vector<std::string> split(const std::string& text, char separator) {\n",
               "cpp"});
  // Lines that begin alike and go on differently: lookups find matches
  // whose continuations are mostly wrong (the worst case for drafting).
  t.push_back({"lookalike_args", "lookalike",
               "def parse_args(argv):\n"
               "    parser = argparse.ArgumentParser(description=\"Serve a directory over HTTP.\")\n"
               "    parser.add_argument(\"--host\", default=\"127.0.0.1\", help=\"address to bind\")\n"
               "    parser.add_argument(\"--port\", type=int, default=8000, help=\"port to listen on\")\n"
               "    parser.add_argument(\"--root\", default=os.getcwd(), help=\"directory to serve\")\n"
               "    parser.add_argument(\"--"});
  t.push_back({"lookalike_switch", "lookalike",
               "static const char* opcode_name(int op) {\n"
               "  switch (op) {\n"
               "    case OP_LOAD: return \"load\";\n"
               "    case OP_STORE: return \"store\";\n"
               "    case OP_JUMP: return \"jump\";\n"
               "    case OP_",
               "c"});
  return t;
}

using clock_type = std::chrono::steady_clock;
namespace completion = astfill::completion;

double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Outcome {
  std::vector<int32_t> tokens;
  GenerateStats stats;
  completion::DraftScreening screening;  // guarded path only
  double check_seconds = 0;              // guarded path only: the syntax hooks, screening included
  double seconds = 0;
};

Outcome run_plain(const Model& model, const std::vector<int32_t>& prompt, const SpeculateOptions& speculate,
                  int max_tokens) {
  Session session(model, prompt.size() + static_cast<size_t>(max_tokens) + 64);
  std::vector<int32_t> history;
  prefill(session, history, std::span<const int32_t>(prompt).first(prompt.size() - 1));  // untimed
  Sampler sampler;
  GenerateOptions o;
  o.max_tokens = max_tokens;
  o.speculate = speculate;
  Outcome out;
  auto t0 = clock_type::now();
  out.stats = generate(session, history, prompt, o, sampler, [&](int32_t t, float) {
    out.tokens.push_back(t);
    return true;
  });
  out.seconds = since(t0);
  return out;
}

// As the daemon decodes: the syntax guard over the task's text (nothing
// after the cursor), the multi-line stop rule, the mask on every row.
Outcome run_guarded(completion::ModelRunner& runner, const Task& task, const std::vector<int32_t>& prompt,
                    const SpeculateOptions& speculate, int max_tokens) {
  static size_t slot = 0;
  auto lease = runner.acquire("run" + std::to_string(slot++), {});
  std::vector<int32_t>& history = lease->history();
  prefill(lease->session(), history, std::span<const int32_t>(prompt).first(prompt.size() - 1));  // untimed
  completion::SyntaxGuard guard(task.language, task.text, "");
  completion::StopRule stop(guard, completion::CompletionMode::MultiLine);
  completion::GuardHooks hooks(guard, stop, true, nullptr);
  completion::DecodeOptions o;
  o.max_tokens = max_tokens;
  o.time_budget = std::chrono::seconds(600);
  o.unwritable = &runner.unwritable_tokens();
  o.speculate = speculate;
  Outcome out;
  auto t0 = clock_type::now();
  completion::DecodeResult r = completion::decode(*lease, runner.tokenizer(), prompt, task.text, &hooks, nullptr, o, {});
  out.seconds = since(t0);
  out.tokens = r.tokens;
  out.stats = r.stats;
  out.screening = r.screening;
  out.check_seconds = r.check_seconds;
  return out;
}

// Seconds of one forward pass carrying n rows with logits on every row (a
// draft's verification: the sampled token and n - 1 draft tokens) after
// `context` tokens, for n = 1..max_rows (index n - 1); the least of `reps`
// (the model's own cost: other work on the machine only adds time).
std::vector<double> pass_times(const Model& model, size_t context, size_t max_rows, int reps) {
  std::vector<int32_t> prompt(context);
  for (size_t i = 0; i < context; ++i) prompt[i] = static_cast<int32_t>(100 + i % 200);
  Session session(model, context + max_rows + 8);
  std::vector<int32_t> history;
  prefill(session, history, prompt);
  std::vector<double> out;
  for (size_t n = 1; n <= max_rows; ++n) {
    std::vector<double> times;
    for (int r = 0; r < reps; ++r) {
      Session::Batch batch{std::vector<int32_t>(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(n)), {}, {}};
      batch.logits.assign(n, true);
      auto t0 = clock_type::now();
      session.evaluate(batch);
      times.push_back(since(t0));
      session.truncate(context);
    }
    out.push_back(*std::min_element(times.begin(), times.end()));
  }
  return out;
}

// The model time of a completion's passes at `table`'s prices: passes
// without a draft at one row, those with one at the mean draft's rows
// (interpolated).
double priced(const GenerateStats& s, const std::vector<double>& table) {
  auto at = [&](double rows) {
    rows = std::clamp(rows, 1.0, static_cast<double>(table.size()));
    size_t lo = static_cast<size_t>(rows);
    double frac = rows - static_cast<double>(lo);
    double t = table[lo - 1];
    if (lo < table.size()) t += frac * (table[lo] - table[lo - 1]);
    return t;
  };
  // The first token comes from the prompt's last row (a one-row pass too).
  const double plain = static_cast<double>(s.forward_passes + 1 - s.verified_drafts);
  double t = plain * table[0];
  if (s.verified_drafts > 0)
    t += static_cast<double>(s.verified_drafts) *
         at(1.0 + static_cast<double>(s.drafted_tokens) / static_cast<double>(s.verified_drafts));
  return t;
}

// Python source of about `bytes` bytes: distinct functions, parsing cleanly.
std::string python_of_size(size_t bytes) {
  std::string text;
  for (int i = 0; text.size() < bytes; ++i) {
    std::string n = std::to_string(i);
    text += "def weighted_mean_" + n + "(values, weights):\n"
            "    total = 0.0\n"
            "    for value, weight in zip(values, weights):\n"
            "        total += value * weight * " + n + "\n"
            "    return total / max(len(values), 1)\n\n\n";
  }
  return text + "def last(values):\n    ";
}

// GuardHooks::fork's cost (copy and destruction, as the decoder makes and
// drops one per draft), and one check on the copy for scale; medians.
json::object fork_cost(size_t bytes, int reps) {
  completion::SyntaxGuard guard("python", python_of_size(bytes), "");
  completion::StopRule stop(guard, completion::CompletionMode::MultiLine);
  completion::GuardHooks hooks(guard, stop, true, nullptr);
  for (const char* piece : {"total", " =", " sum", "(values"}) hooks.accept(piece);
  std::vector<double> fork_s, check_s;
  // The first fork makes the stop rule its successors reuse.
  auto t0 = clock_type::now();
  hooks.fork().reset();
  const double first = since(t0);
  for (int r = 0; r < reps; ++r) {
    t0 = clock_type::now();
    std::unique_ptr<completion::SyntaxHooks> fork = hooks.fork();
    fork_s.push_back(since(t0));
    t0 = clock_type::now();
    bool ok = fork->viable(")");
    check_s.push_back(since(t0));
    t0 = clock_type::now();
    fork.reset();
    fork_s.back() += since(t0);
    if (!ok) std::fprintf(stderr, "bench_speculation: the fork refused ')' after 'sum(values'\n");
  }
  // A draft of six tokens screened as the decoder does: fork, then check
  // and accept each piece on the copy.
  std::vector<double> screen_s;
  for (int r = 0; r < std::max(3, reps / 4); ++r) {
    t0 = clock_type::now();
    std::unique_ptr<completion::SyntaxHooks> fork = hooks.fork();
    for (const char* piece : {")", " +", " len", "(values", ")", "\n"}) {
      if (!fork->viable(piece)) break;
      fork->accept(piece);
      if (fork->should_stop()) break;
    }
    fork.reset();
    screen_s.push_back(since(t0));
  }
  return json::object{{"prefix_bytes", guard.prefix().size()},
                      {"screen_6_tokens_ms", median(screen_s) * 1000},
                      {"first_fork_ms", first * 1000},
                      {"fork_ms", median(fork_s) * 1000},
                      {"check_on_fork_ms", median(check_s) * 1000}};
}

}  // namespace

int main(int argc, char** argv) {
  astfill::support::prefer_passive_openmp_wait(argv);  // as astfill itself runs
  std::string model_path, cost_model, paths_arg = "plain,guarded";
  int threads = 2, runs = 5, max_tokens = 32;
  astfill::ArgParser args(
      "bench_speculation",
      "Speculation from the prompt: greedy completions of edit-like and novel code with\n"
      "speculation off and on, without constraints and through the syntax guard; tokens per\n"
      "forward pass, accepted draft tokens, wall time per completion (median of runs), identical\n"
      "output; the guard's fork cost; optionally the same completions priced at a larger\n"
      "model's pass times. Prints one JSON object.");
  args.option("--model", "PATH", "the model (default: the bundled demo model)", astfill::bench::text_value(model_path));
  args.option("--threads", "N", "threads (default 2)", astfill::bench::count_value(threads, "thread count", 1, 256));
  args.option("--runs", "N", "runs per task and mode; the median is reported (default 5)",
              astfill::bench::count_value(runs, "run count", 1, 1000));
  args.option("--max-tokens", "N", "tokens per completion (default 32)",
              astfill::bench::count_value(max_tokens, "token count", 1, 4096));
  args.option("--paths", "LIST", "plain, guarded or both (default plain,guarded)", [&](const std::string& v) {
    if (v != "plain" && v != "guarded" && v != "plain,guarded" && v != "guarded,plain")
      return std::optional<std::string>("'" + v + "' is not plain, guarded or plain,guarded");
    paths_arg = v;
    return std::optional<std::string>();
  });
  args.option("--cost-model", "PATH",
              "price the completions at this model's pass times too ('0.5b': the random\n"
              "Qwen2.5-Coder-0.5B shapes, written to the temp directory once)",
              astfill::bench::text_value(cost_model));
  astfill::bench::parse_args_or_exit(args, "bench_speculation", argc, argv);
  if (model_path.empty()) model_path = bundled_model_path().value_or("");
  if (model_path.empty()) {
    std::fprintf(stderr, "bench_speculation: no --model and no bundled model\n");
    return 2;
  }
  const bool plain_path = paths_arg.find("plain") != std::string::npos;
  const bool guarded_path = paths_arg.find("guarded") != std::string::npos;
  std::unique_ptr<Model> model, costing;
  std::unique_ptr<completion::ModelRunner> runner;
  try {
    model = Model::open(model_path, {WeightMode::Int8, threads});
    if (guarded_path) {
      completion::RunnerOptions ro;
      ro.model_path = model_path;
      ro.load = {WeightMode::Int8, threads};
      ro.context_tokens = 512 + static_cast<size_t>(max_tokens) + 64;
      runner = std::make_unique<completion::ModelRunner>(ro);
    }
    if (cost_model == "0.5b") {
      auto dir = std::filesystem::temp_directory_path() / "astfill-bench";
      std::filesystem::create_directories(dir);
      cost_model = (dir / "qwen2.5-0.5b-shapes.q8_0.gguf").string();
      if (!std::filesystem::exists(cost_model)) write_random_model(cost_model, astfill::bench::qwen_05b_shapes_spec());
    }
    if (!cost_model.empty()) costing = Model::open(cost_model, {WeightMode::Int8, threads});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_speculation: %s\n", e.what());
    return 1;
  }

  // Pass times by rows, at the length of a typical task prompt.
  const SpeculateOptions defaults;
  const size_t max_rows = defaults.max_draft + 1;
  const int table_reps = std::max(5, runs * 2);
  const std::vector<double> model_passes = pass_times(*model, 128, max_rows, table_reps);
  std::vector<double> cost_passes;
  if (costing) cost_passes = pass_times(*costing, 128, max_rows, table_reps);
  auto table_json = [](const std::vector<double>& t) {
    json::array a;
    for (double x : t) a.push_back(x * 1000);
    return a;
  };

  // Speculation off, and on under each policy: "acceptance" (the default:
  // acceptance alone), "cost" (drafts capped by what their rows cost, timed
  // on this model), and with a cost model "cost@model" (the cap at the cost
  // model's row cost: the drafting that model would do under it).
  struct Policy {
    std::string name;
    SpeculateOptions options;
  };
  std::vector<Policy> policies;
  {
    SpeculateOptions cost, acceptance;
    acceptance.cost_aware = false;
    cost.cost_aware = true;
    policies.push_back({"acceptance", acceptance});
    policies.push_back({"cost", cost});
    if (costing) {
      SpeculateOptions at_model;
      at_model.cost_aware = true;
      at_model.fixed_row_cost = (cost_passes.back() - cost_passes.front()) / static_cast<double>(max_rows - 1) / cost_passes.front();
      policies.push_back({"cost@model", at_model});
    }
  }
  SpeculateOptions off_options;
  off_options.enable = false;

  json::array rows;
  // path -> policy -> kind -> (off seconds, on seconds, projected off, projected on)
  std::map<std::string, std::map<std::string, std::map<std::string, std::array<double, 4>>>> by_kind;
  auto per_pass = [](const Outcome& o) {
    return static_cast<double>(o.stats.generated_tokens) / static_cast<double>(o.stats.forward_passes + 1);
  };
  for (const Task& task : tasks()) {
    auto prompt = model->tokenizer().encode(task.text, false);
    for (const char* path : {"plain", "guarded"}) {
      const bool guarded = std::string(path) == "guarded";
      if (guarded ? !guarded_path : !plain_path) continue;
      auto run = [&](const SpeculateOptions& o) {
        return guarded ? run_guarded(*runner, task, prompt, o, max_tokens) : run_plain(*model, prompt, o, max_tokens);
      };
      auto projected = [&](const Outcome& o) {
        return o.seconds - priced(o.stats, model_passes) + priced(o.stats, cost_passes);
      };
      std::vector<double> off_s, off_p;
      std::vector<std::vector<double>> on_s(policies.size()), on_p(policies.size());
      Outcome off;
      std::vector<Outcome> on(policies.size());
      for (int r = 0; r < runs; ++r) {  // interleaved, so that drift hits all alike
        off = run(off_options);
        off_s.push_back(off.seconds);
        if (costing) off_p.push_back(projected(off));
        for (size_t i = 0; i < policies.size(); ++i) {
          on[i] = run(policies[i].options);
          on_s[i].push_back(on[i].seconds);
          if (costing) on_p[i].push_back(projected(on[i]));
        }
      }
      const double off_m = median(off_s);
      for (size_t i = 0; i < policies.size(); ++i) {
        const Outcome& o = on[i];
        const double on_m = median(on_s[i]);
        auto& k = by_kind[path][policies[i].name][task.kind];
        k[0] += off_m;
        k[1] += on_m;
        k[2] += median(off_p);
        k[3] += median(on_p[i]);
        json::object row{
            {"task", task.name},
            {"kind", task.kind},
            {"language", task.language},
            {"path", path},
            {"policy", policies[i].name},
            {"prompt_tokens", prompt.size()},
            {"generated_tokens", o.stats.generated_tokens},
            {"identical", o.tokens == off.tokens},
            {"forward_passes_off", off.stats.forward_passes + 1},
            {"forward_passes_on", o.stats.forward_passes + 1},
            {"tokens_per_pass_off", per_pass(off)},
            {"tokens_per_pass_on", per_pass(o)},
            {"verified_drafts", o.stats.verified_drafts},
            {"drafted_tokens", o.stats.drafted_tokens},
            {"accepted_draft_tokens", o.stats.accepted_draft_tokens},
            {"ms_off", off_m * 1000},
            {"ms_on", on_m * 1000},
            {"on_over_off", off_m > 0 ? on_m / off_m : 0},
        };
        if (i == 0) row["text"] = model->tokenizer().decode(o.tokens);
        if (o.tokens != off.tokens) {
          size_t at = 0;
          while (at < o.tokens.size() && at < off.tokens.size() && o.tokens[at] == off.tokens[at]) ++at;
          std::fprintf(stderr, "bench_speculation: %s, %s, %s: the output differs from one-token decoding at token %zu\n",
                       task.name, path, policies[i].name.c_str(), at);
        }
        if (guarded) {
          row["screened_drafts"] = o.screening.drafts;
          row["drafts_cut"] = o.screening.cut;
          row["drafts_cut_by_syntax"] = o.screening.cut_by_syntax;
          row["forks"] = o.screening.forks;
          row["fork_ms_per_draft"] =
              o.screening.forks ? o.screening.fork_seconds * 1000 / static_cast<double>(o.screening.forks) : 0.0;
          row["screen_ms_per_draft"] =
              o.screening.drafts ? o.screening.seconds * 1000 / static_cast<double>(o.screening.drafts) : 0.0;
          row["check_ms_off"] = off.check_seconds * 1000;
          row["check_ms_on"] = o.check_seconds * 1000;
        }
        if (costing) {
          row["projected_ms_off"] = median(off_p) * 1000;
          row["projected_ms_on"] = median(on_p[i]) * 1000;
        }
        rows.push_back(std::move(row));
      }
    }
  }
  json::object totals;
  for (auto& [path, by_policy] : by_kind) {
    json::object p;
    for (auto& [policy, kinds] : by_policy) {
      json::object q;
      for (auto& [kind, s] : kinds) {
        json::object k{{"ms_off", s[0] * 1000}, {"ms_on", s[1] * 1000}, {"on_over_off", s[0] > 0 ? s[1] / s[0] : 0}};
        if (costing) {
          k["projected_ms_off"] = s[2] * 1000;
          k["projected_ms_on"] = s[3] * 1000;
          k["projected_on_over_off"] = s[2] > 0 ? s[3] / s[2] : 0;
        }
        q[kind] = std::move(k);
      }
      p[policy] = std::move(q);
    }
    totals[path] = std::move(p);
  }
  json::array forks;
  for (size_t bytes : {size_t{1} << 10, size_t{16} << 10, size_t{256} << 10}) forks.push_back(fork_cost(bytes, 21));
  json::object out{{"benchmark", "speculation"},
                   {"model", model_path},
                   {"threads", threads},
                   {"runs", runs},
                   {"max_tokens", max_tokens},
                   {"note", "forward passes count the one after the prompt's prefill (the first token's); "
                            "ms: wall time per completion, median of runs (guarded: the syntax checks, "
                            "screening and stop rule included); pass_ms: one forward pass carrying 1.."
                            + std::to_string(max_rows) + " rows after 128 tokens, the least of the reps"},
                   {"policies", "acceptance: by acceptance alone (the default); cost: drafts capped by what their "
                                "rows cost, timed on this model; cost@model: capped at the cost model's row cost"},
                   {"pass_ms", table_json(model_passes)},
                   {"tasks", rows},
                   {"by_kind", totals},
                   {"fork", forks}};
  if (costing) {
    out["cost_model"] = cost_model;
    out["cost_model_pass_ms"] = table_json(cost_passes);
    out["cost_model_row_cost"] = policies.back().options.fixed_row_cost;
  }
  std::printf("%s\n", json::serialize(out).c_str());
  return 0;
}
