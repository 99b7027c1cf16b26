// bench_speculation: what speculation from the prompt (engine/speculate.h)
// buys and costs. For each task, greedy generation of --max-tokens tokens
// after the task's text, with speculation off and on, each in a fresh session
// (the prompt's prefill is not timed): tokens per forward pass, accepted
// draft tokens, decode time per completion (median of --runs), and whether the
// two outputs are identical (they must be).
//
// Tasks (Python, plain left-to-right prompts):
//   edit-like: a renamed variable (a function repeated with one name changed,
//   cut inside the copy), a repeated call pattern (a run of similar asserts),
//   a second similar branch (an if/elif chain, cut at the next elif);
//   novel: code that repeats nothing before the cut.
// Default model: the bundled demo model (a small Qwen3 trained on Python, so
// it does continue patterns); --model takes any GGUF, e.g. bench_kv's random
// Qwen2.5-Coder-0.5B shapes for what verification rows cost at that size.
// Prints one JSON object.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "bench/args.h"
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
  return t;
}

using clock_type = std::chrono::steady_clock;

struct Outcome {
  std::vector<int32_t> tokens;
  GenerateStats stats;
  double seconds = 0;
};

Outcome run(const Model& model, const std::vector<int32_t>& prompt, bool speculate, int max_tokens) {
  Session session(model, prompt.size() + static_cast<size_t>(max_tokens) + 64);
  std::vector<int32_t> history;
  prefill(session, history, std::span<const int32_t>(prompt).first(prompt.size() - 1));  // untimed
  Sampler sampler;
  GenerateOptions o;
  o.max_tokens = max_tokens;
  o.speculate.enable = speculate;
  Outcome out;
  auto t0 = clock_type::now();
  out.stats = generate(session, history, prompt, o, sampler, [&](int32_t t, float) {
    out.tokens.push_back(t);
    return true;
  });
  out.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  astfill::support::prefer_passive_openmp_wait(argv);  // as astfill itself runs
  std::string model_path;
  int threads = 2, runs = 5, max_tokens = 32;
  astfill::ArgParser args(
      "bench_speculation",
      "Speculation from the prompt: greedy completions of edit-like and novel Python with\n"
      "speculation off and on; tokens per forward pass, accepted draft tokens, decode time per\n"
      "completion (median of runs), identical output. Prints one JSON object.");
  args.option("--model", "PATH", "the model (default: the bundled demo model)", astfill::bench::text_value(model_path));
  args.option("--threads", "N", "threads (default 2)", astfill::bench::count_value(threads, "thread count", 1, 256));
  args.option("--runs", "N", "runs per task and mode; the median is reported (default 5)",
              astfill::bench::count_value(runs, "run count", 1, 1000));
  args.option("--max-tokens", "N", "tokens per completion (default 32)",
              astfill::bench::count_value(max_tokens, "token count", 1, 4096));
  astfill::bench::parse_args_or_exit(args, "bench_speculation", argc, argv);
  if (model_path.empty()) model_path = bundled_model_path().value_or("");
  if (model_path.empty()) {
    std::fprintf(stderr, "bench_speculation: no --model and no bundled model\n");
    return 2;
  }
  std::unique_ptr<Model> model;
  try {
    model = Model::open(model_path, {WeightMode::Int8, threads});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_speculation: %s\n", e.what());
    return 1;
  }
  json::array rows;
  json::object totals;
  std::map<std::string, std::pair<double, double>> by_kind;  // kind -> (off seconds, on seconds)
  for (const Task& task : tasks()) {
    auto prompt = model->tokenizer().encode(task.text, false);
    std::vector<double> off_s, on_s;
    Outcome off, on;
    for (int r = 0; r < runs; ++r) {  // interleaved, so that drift hits both alike
      off = run(*model, prompt, false, max_tokens);
      on = run(*model, prompt, true, max_tokens);
      off_s.push_back(off.seconds);
      on_s.push_back(on.seconds);
    }
    const double off_m = median(off_s), on_m = median(on_s);
    by_kind[task.kind].first += off_m;
    by_kind[task.kind].second += on_m;
    auto per_pass = [](const Outcome& o) {
      return o.stats.forward_passes ? static_cast<double>(o.stats.generated_tokens) / static_cast<double>(o.stats.forward_passes + 1) : 1.0;
    };
    rows.push_back(json::object{
        {"task", task.name},
        {"kind", task.kind},
        {"prompt_tokens", prompt.size()},
        {"generated_tokens", on.stats.generated_tokens},
        {"identical", on.tokens == off.tokens},
        {"forward_passes_off", off.stats.forward_passes + 1},
        {"forward_passes_on", on.stats.forward_passes + 1},
        {"tokens_per_pass_off", per_pass(off)},
        {"tokens_per_pass_on", per_pass(on)},
        {"drafted_tokens", on.stats.drafted_tokens},
        {"accepted_draft_tokens", on.stats.accepted_draft_tokens},
        {"ms_off", off_m * 1000},
        {"ms_on", on_m * 1000},
        {"speedup", on_m > 0 ? off_m / on_m : 0},
        {"text", model->tokenizer().decode(on.tokens)},
    });
  }
  for (auto& [kind, s] : by_kind)
    totals[kind] = json::object{{"ms_off", s.first * 1000}, {"ms_on", s.second * 1000},
                                {"on_over_off", s.first > 0 ? s.second / s.first : 0}};
  json::object out{{"benchmark", "speculation"},
                   {"model", model_path},
                   {"threads", threads},
                   {"runs", runs},
                   {"max_tokens", max_tokens},
                   {"note", "forward passes count the one after the prompt's prefill (the first token's); "
                            "ms: decode time per completion, median of runs"},
                   {"tasks", rows},
                   {"by_kind", totals}};
  std::printf("%s\n", json::serialize(out).c_str());
  return 0;
}
