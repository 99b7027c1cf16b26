// bench_completion: completions on FIM tasks cut from a real project no one
// here wrote (default: Debian's numpy sources), in four variants in one run
// (constraints on/off x cross-file context on/off), printing JSON:
//   - whole-file rate: the completed file passes CPython's own parser
//     (ast.parse, bench/judge.h; tasks are cut from files that pass it), over
//     all tasks (an empty answer is empty, never whole: bench/score.h) and
//     over the non-empty answers; the empty share; exact match and edit
//     similarity of the line;
//   - the syntax checks' cost in microseconds per generated token and as a
//     share of decode time;
//   - request latency p50/p95 cold (a new prompt) and warm (the same task
//     after typing one more character: the KV cache holds the prompt, only
//     the changed tokens are prefilled).
//
// The default model is a random-weight model of Qwen2.5-Coder-0.5B's shapes
// (as bench_engine writes it): its text is noise, so exact match means
// nothing with it, but validity under constraints, the checks' cost against
// a real decode step and the prefill savings are what they would be with
// real weights. Pass --model for a trained model.
//
//   bench_completion [--model PATH] [--root DIR] [--tasks N] [--seed S]
//                    [--max-tokens N] [--threads N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>
#include <unistd.h>

#include "bench/args.h"
#include "bench/harness.h"
#include "bench/tasks.h"
#include "bench/judge.h"
#include "bench/random_model.h"
#include "bench/score.h"
#include "completion/service.h"
#include "index/parsed.h"
#include "support/log.h"
#include "tests/fixtures/random_model.h"
#include "support/openmp_env.h"

using namespace astfill;
namespace fs = std::filesystem;

namespace {

std::string_view first_line_trimmed(std::string_view s) {
  s = s.substr(0, s.find('\n'));
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string default_model() {
  fs::path dir = fs::temp_directory_path() / "astfill-bench";
  fs::create_directories(dir);
  fs::path path = dir / "qwen2.5-0.5b-shapes.q8_0.gguf";
  if (fs::exists(path)) return path.string();
  engine::write_random_model(path.string(), bench::qwen_05b_shapes_spec());
  return path.string();
}

}  // namespace

int main(int argc, char** argv) {
  astfill::support::prefer_passive_openmp_wait(argv);  // as astfill itself runs
  std::string model, root = "/usr/lib/python3/dist-packages/numpy";
  size_t task_count = 30;
  uint32_t seed = 1;
  unsigned max_tokens = 24;
  int threads = 2;
  bool dump = false;
  std::string only;  // --only VARIANT: run one variant
  bench::ArgParser args(
      "bench_completion",
      "Completions on FIM tasks (the rest of a line) cut from a real Python project, in four\n"
      "variants (constraints on/off x cross-file context on/off): the share of completed files\n"
      "CPython's parser accepts (an empty answer is counted as empty, never as whole), exact\n"
      "match, edit similarity, the syntax checks' cost, request latency cold and warm. Prints\n"
      "JSON. The default model is a random-weight model of Qwen2.5-Coder-0.5B's shapes.");
  args.option("--model", "PATH", "the model (default: the random one, written once to $TMPDIR/astfill-bench)",
              bench::text_value(model));
  args.option("--root", "DIR", "the project to cut tasks from (default " + root + ")", bench::text_value(root));
  args.option("--tasks", "N", "tasks (default 30)", bench::count_value(task_count, "task count", 1, 100000));
  args.option("--seed", "S", "seed of the task cutter (default 1)", bench::count_value(seed, "seed", 0, 0xffffffffull));
  args.option("--max-tokens", "N", "tokens per completion (default 24)",
              bench::count_value(max_tokens, "token count", 1, 4096));
  args.option("--threads", "N", "threads for the kernels (default 2)", bench::count_value(threads, "thread count", 1, 256));
  args.option("--only", "VARIANT",
              "run one variant: 'constrained+context', 'unconstrained+context',\n"
              "'constrained, no context' or 'unconstrained, no context'",
              bench::text_value(only));
  args.flag("--dump", "each task and completion on stderr", [&] { dump = true; });
  bench::parse_args_or_exit(args, "bench_completion", argc, argv);
  log::set_level(log::Level::Warn);
  if (!fs::is_directory(root)) {
    std::fprintf(stderr, "bench_completion: %s is not a directory\n", root.c_str());
    return 1;
  }
  std::unique_ptr<bench::Judge> judge;
  try {
    judge = bench::make_judge("python");
  } catch (const bench::JudgeUnavailable& e) {
    std::fprintf(stderr, "bench_completion: the python judge is missing: %s\n", e.what());
    return 1;
  }
  if (model.empty()) model = default_model();
  // Tasks whose original file fails CPython's parser are dropped (and counted).
  size_t dropped = 0;
  std::vector<bench::FimTask> tasks;
  for (auto& t : bench::cut_tasks(root, bench::TaskKind::Line, task_count * 2, seed)) {
    if (tasks.size() >= task_count) break;
    if (judge->judge(t.prefix + t.middle + t.suffix).ok) tasks.push_back(std::move(t));
    else ++dropped;
  }

  bench::TaskIndex task_index(root, "bench-completion");
  const auto& idx = task_index.get();
  completion::CompletionService service(bench::bench_service_options(threads));
  service.load_model(model);

  struct Variant {
    const char* name;
    bool constrain, context;
  };
  const Variant variants[] = {{"constrained+context", true, true},
                              {"unconstrained+context", false, true},
                              {"constrained, no context", true, false},
                              {"unconstrained, no context", false, false}};
  std::printf("{\"model\": \"%s\", \"root\": \"%s\", \"tasks\": %zu, \"dropped_original_fails_judge\": %zu,"
              " \"judge\": \"%s\", \"max_tokens\": %u, \"threads\": %d,\n \"variants\": [",
              model.c_str(), root.c_str(), tasks.size(), dropped, judge->description().c_str(), max_tokens, threads);
  bool first_variant = true;
  for (const auto& v : variants) {
    if (!only.empty() && only != v.name) continue;
    size_t exact = 0, generated = 0, reused_warm = 0, prompt_warm = 0;
    double similarity = 0, check_ms = 0, decode_ms = 0;
    bench::Tally tally;
    std::vector<double> cold, warm;
    for (size_t i = 0; i < tasks.size(); ++i) {
      const bench::FimTask& t = tasks[i];
      std::string text = t.prefix + t.suffix;
      idx->update_file(t.path, text);
      idx->wait_until_idle();
      auto r = bench::request_for(t, root, v.context ? idx : nullptr);
      r.options.max_tokens = max_tokens;
      r.options.timeout_ms = 60000;
      r.options.constrain = v.constrain;
      NoProgress progress;
      auto result = service.complete_inline(r, {}, progress);
      std::string completion = result.items.empty() ? "" : result.items.front().insert_text;
      cold.push_back(result.details.elapsed_ms);
      generated += result.details.generated_tokens + result.details.retried_tokens;  // decode_ms covers both
      check_ms += result.details.check_ms;
      decode_ms += result.details.decode_ms;
      bench::Outcome outcome;
      outcome.empty = bench::is_empty_answer(completion);
      bench::Verdict verdict;
      if (!outcome.empty) verdict = judge->judge(t.prefix + completion + t.suffix);
      outcome.whole = !outcome.empty && verdict.ok;
      tally.add(outcome);
      if (dump)
        std::fprintf(stderr, "[%s] %s %s%s: want %s | got %s | raw %s | end %s\n", v.name, t.path.c_str(),
                     outcome.empty ? "EMPTY" : (outcome.whole ? "whole" : "BROKEN: "), verdict.message.c_str(),
                     std::string(first_line_trimmed(t.middle)).c_str(), completion.c_str(),
                     result.details.raw.c_str(), result.details.end.c_str());
      std::string_view want = first_line_trimmed(t.middle), got = first_line_trimmed(completion);
      if (want == got) ++exact;
      similarity += bench::edit_similarity(want, got);
      // Warm: the user typed the middle's first character.
      if (!t.middle.empty()) {
        completion::InlineCompletionRequest w = r;
        std::string typed = t.prefix + t.middle.substr(0, 1) + t.suffix;
        w.document.text = std::make_shared<const std::string>(typed);
        w.offset = t.prefix.size() + 1;
        auto again = service.complete_inline(w, {}, progress);
        warm.push_back(again.details.elapsed_ms);
        reused_warm += again.details.reused_tokens;
        prompt_warm += again.details.prompt_tokens;
      }
      idx->close_file(t.path);
    }
    idx->wait_until_idle();
    double n = tasks.empty() ? 1 : static_cast<double>(tasks.size());
    std::printf("%s\n  {\"variant\": \"%s\", \"whole\": %.3f, \"whole_non_empty\": %.3f, \"empty\": %.3f, \"exact_match\": %.3f, \"edit_similarity\": %.3f,"
                " \"generated_tokens\": %zu, \"check_us_per_token\": %.1f, \"check_share_of_decode\": %.3f,"
                " \"latency_ms\": {\"cold_p50\": %.0f, \"cold_p95\": %.0f, \"warm_p50\": %.0f, \"warm_p95\": %.0f},"
                " \"warm_prompt_tokens_reused\": %.3f}",
                first_variant ? "" : ",", v.name, tally.whole_rate(), tally.whole_rate_non_empty(), tally.empty_share(),
                static_cast<double>(exact) / n,
                similarity / n, generated, generated ? check_ms * 1000 / static_cast<double>(generated) : 0,
                decode_ms > 0 ? check_ms / decode_ms : 0, bench::percentile(cold, 0.5), bench::percentile(cold, 0.95),
                bench::percentile(warm, 0.5), bench::percentile(warm, 0.95),
                prompt_warm ? static_cast<double>(reused_warm) / static_cast<double>(prompt_warm) : 0);
    std::fflush(stdout);
    first_variant = false;
  }
  std::printf("\n]}\n");
  return 0;
}
