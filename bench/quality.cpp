// bench_quality: does a completion leave the file whole, judged by each
// language's own front end (bench/judge.h: CPython's ast.parse, the
// TypeScript compiler's parser, gofmt -e, gcc/g++ -fsyntax-only, rustfmt,
// javac's parser), on fill-in-the-middle tasks cut from real code no one here
// wrote (bench/tasks.h): a third the rest of a line, a third a whole short
// block, a third the arguments of a call.
//
// Per language, kind and variant (constraints off / syntax / syntax + API, in
// one run; --context adds the same three with cross-file context from an index
// of the task project): the share of tasks whose completed file passes the
// judge (an empty answer is counted as empty, never as whole), the same among
// the non-empty answers, the empty share, exact match, edit similarity, and
// the constraints' cost (the syntax checks' milliseconds against the decode's).
// A task whose original file fails its own judge is dropped and counted (the
// true middle's pass rate is the ceiling); the file without the middle is
// judged too ("an empty answer would pass").
// JSON on stdout; a Markdown table on stderr.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>
#include <unistd.h>

#include <boost/json.hpp>

#include "bench/args.h"
#include "bench/harness.h"
#include "bench/judge.h"
#include "bench/score.h"
#include "bench/tasks.h"
#include "completion/service.h"
#include "engine/bundled_model.h"
#include "engine/lora.h"
#include "support/log.h"
#include "support/openmp_env.h"

using namespace astfill;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

unsigned max_tokens_for(bench::TaskKind kind) { return kind == bench::TaskKind::Block ? 128 : 48; }

const bench::TaskKind kKinds[] = {bench::TaskKind::Line, bench::TaskKind::Block, bench::TaskKind::CallArgs};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

json::object tally_json(const bench::Tally& t) {
  json::object o;
  o["tasks"] = t.tasks;
  o["whole"] = t.whole_rate();  // over all tasks; an empty answer is not whole
  o["whole_non_empty"] = t.whole_rate_non_empty();
  o["empty"] = t.empty_share();
  o["exact_match"] = t.exact_rate();
  o["edit_similarity"] = t.mean_similarity();
  o["check_ms"] = t.check_ms;
  o["decode_ms"] = t.decode_ms;
  o["check_share_of_decode"] = t.check_share();
  // The decoder's search: tasks it ran on, answers it gave, its time in all.
  o["search"] = {{"searched", t.searched}, {"found", t.search_found}, {"ms", t.search_ms}};
  o["latency_ms"] = {{"p50", bench::percentile(t.latency_ms, 0.5)}, {"p95", bench::percentile(t.latency_ms, 0.95)}};
  return o;
}

// JSON with numbers as people write them (0.123, not Boost's 1.23E-1).
void print_json(std::string& out, const json::value& v, int depth = 0) {
  switch (v.kind()) {
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, x] : v.get_object()) {
        if (!first) out += ", ";
        first = false;
        out += json::serialize(json::value(json::string(k)));
        out += ": ";
        print_json(out, x, depth + 1);
      }
      out += '}';
      break;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      std::string indent = "\n" + std::string(2 * (depth + 1), ' ');
      for (const auto& x : v.get_array()) {
        out += first ? indent : "," + indent;
        first = false;
        print_json(out, x, depth + 1);
      }
      out += "\n" + std::string(2 * depth, ' ') + "]";
      break;
    }
    case json::kind::double_: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.4g", v.get_double());
      out += buf;
      break;
    }
    default: out += json::serialize(v);
  }
}

struct Variant {
  std::string name;
  bool syntax, api, context;
  bool adapter = false;  // with --adapter: the same variant run with the adapters
};

struct LanguageRun {
  std::string language, root;
  std::unique_ptr<bench::Judge> judge;
  std::vector<bench::FimTask> tasks;
  size_t cut = 0, dropped = 0, empty_would_pass = 0, judged = 0;
  std::vector<std::string> dropped_examples;
  double judge_ms = 0;
  std::unique_ptr<bench::TaskIndex> index;
};

fs::path task_directory(const LanguageRun& run, const bench::FimTask& t) {
  return (fs::path(run.root) / t.path).parent_path();
}

bench::Verdict timed_judge(LanguageRun& run, const bench::FimTask& t, const std::string& text) {
  auto t0 = std::chrono::steady_clock::now();
  auto v = run.judge->judge(text, task_directory(run, t));
  run.judge_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ++run.judged;
  return v;
}

}  // namespace

// --save-broken: the completed file the judge refused, named by language,
// variant and a running number, with the answer's byte range beside it.
static void save_broken(const std::string& dir, const std::string& language, const std::string& variant,
                        const bench::FimTask& t, const std::string& completion) {
  static std::map<std::string, int> counts;
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string stem = language + "-" + variant + "-" + std::to_string(++counts[language + variant]);
  const std::string ext = fs::path(t.path).extension().string();
  std::ofstream(fs::path(dir) / (stem + ext), std::ios::binary) << t.prefix << completion << t.suffix;
  std::ofstream(fs::path(dir) / (stem + ".cut")) << t.path << " " << t.prefix.size() << " "
                                                  << t.prefix.size() + completion.size() << "\n";
}

int run_bench(int argc, char** argv) {
  std::string model, only, languages_arg;
  std::map<std::string, std::string> roots = bench::default_task_roots(ASTFILL_BENCH_SOURCE_DIR);
  size_t task_count = 30;
  uint32_t seed = 1;
  int threads = 2;
  bool dump = false, context = false;
  std::vector<std::string> adapters;  // --adapter PATH[:SCALE]
  std::string files_list;             // --files LIST
  std::string broken_dir;             // --save-broken DIR
  bench::ArgParser args(
      "bench_quality",
      "Does a completion leave the file whole? FIM tasks (a line, a block, call arguments) cut\n"
      "from real code in each language, completed with constraints off / syntax / syntax + API,\n"
      "each completed file judged by the language's own front end (CPython's ast.parse, the\n"
      "TypeScript compiler's parser, gofmt -e, gcc/g++ -fsyntax-only, rustfmt, javac's parser).\n"
      "Per language and kind: whole-file rate (over all tasks and over non-empty answers; an\n"
      "empty answer is never whole), empty share, exact match, edit similarity, the checks'\n"
      "cost. JSON on stdout; a Markdown table on stderr.");
  args.option("--model", "PATH", "the model (default: the bundled demo model)", bench::text_value(model));
  args.option("--languages", "LIST",
              "comma-separated languageIds (default: every language with a task source here:\n"
              "python,javascript,typescript,go,c,cpp,java; also typescriptreact, rust with --root)",
              bench::text_value(languages_arg));
  args.option("--root", "LANG=DIR", "the project to cut LANG's tasks from (repeatable)",
              [&roots](const std::string& v) -> std::optional<std::string> {
                size_t eq = v.find('=');
                if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
                  return "--root wants LANG=DIR, got '" + v + "'";
                roots[v.substr(0, eq)] = v.substr(eq + 1);
                return std::nullopt;
              });
  args.option("--tasks", "N", "tasks per language, a third of each kind (default 30)",
              bench::count_value(task_count, "task count", 1, 100000));
  args.option("--seed", "S", "seed of the task cutter (default 1)", bench::count_value(seed, "seed", 0, 0xffffffffull));
  args.option("--threads", "N", "threads for the kernels (default 2)", bench::count_value(threads, "thread count", 1, 256));
  args.option("--only", "VARIANTS", "run only these variants (comma-separated names as in the JSON, e.g. syntax+api)",
              bench::text_value(only));
  args.flag("--context", "also run each variant with cross-file context (indexes every task project)",
            [&] { context = true; });
  args.option("--adapter", "PATH[:SCALE]",
              "a LoRA adapter (PEFT directory or GGUF; repeatable): each variant also runs with the\n"
              "adapters, named VARIANT+adapter (base vs adapter in one run)",
              [&adapters](const std::string& v) -> std::optional<std::string> {
                try {
                  engine::parse_adapter_spec(v);
                } catch (const std::invalid_argument& e) {
                  return std::string(e.what());
                }
                adapters.push_back(v);
                return std::nullopt;
              });
  args.option("--files", "LIST",
              "cut tasks only from the files a text file lists, one path relative to the root a\n"
              "line (e.g. astfill tune's OUT/held_out_files.txt: files the adapter never saw)",
              bench::text_value(files_list));
  bool heal = true;
  args.flag("--no-heal", "no token healing (completion/healing.h): the prompt ends at the cursor even inside a word",
            [&] { heal = false; });
  args.flag("--dump", "each task, completion and verdict on stderr", [&] { dump = true; });
  args.option("--save-broken", "DIR",
              "write each completed file the judge refuses to DIR (LANGUAGE-VARIANT-N.EXT, with\n"
              "N.cut: the byte offsets of the answer), to judge it again by hand",
              bench::text_value(broken_dir));
  bench::parse_args_or_exit(args, "bench_quality", argc, argv);
  log::set_level(log::Level::Warn);

  std::vector<std::string> languages;
  if (languages_arg.empty()) {
    for (const char* l : {"python", "javascript", "typescript", "go", "c", "cpp", "java"}) languages.push_back(l);
    for (const char* l : {"typescriptreact", "rust"})
      if (roots.count(l)) languages.push_back(l);
  } else {
    languages = split(languages_arg, ',');
  }
  const auto& judged = bench::judged_languages();
  for (const auto& l : languages)
    if (std::find(judged.begin(), judged.end(), l) == judged.end()) {
      std::fprintf(stderr, "bench_quality: no judge for language '%s' (languages: python, javascript, typescript, "
                           "typescriptreact, go, c, cpp, rust, java)\n", l.c_str());
      return 2;
    }
  if (model.empty()) {
    auto bundled = engine::bundled_model_path();
    if (!bundled) {
      std::fprintf(stderr, "bench_quality: no --model and the bundled demo model was not found\n");
      return 1;
    }
    model = *bundled;
  }

  std::set<std::string> allowed_files;
  if (!files_list.empty()) {
    std::ifstream in(files_list);
    if (!in) {
      std::fprintf(stderr, "bench_quality: cannot read the file list '%s'\n", files_list.c_str());
      return 1;
    }
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) allowed_files.insert(line);
    if (allowed_files.empty()) {
      std::fprintf(stderr, "bench_quality: the file list '%s' names no file\n", files_list.c_str());
      return 1;
    }
  }

  // Judges first: a missing one is an error before minutes of decoding.
  std::vector<LanguageRun> runs;
  for (const auto& l : languages) {
    LanguageRun run;
    run.language = l;
    auto it = roots.find(l);
    if (it == roots.end()) {
      std::fprintf(stderr, "bench_quality: no task source for %s here: pass --root %s=DIR\n", l.c_str(), l.c_str());
      return 1;
    }
    run.root = bench::resolve_task_root(it->second);
    if (run.root.empty() || !fs::is_directory(run.root)) {
      std::fprintf(stderr, "bench_quality: %s's task source %s is not a directory (see scripts/setup)\n", l.c_str(),
                   it->second.c_str());
      return 1;
    }
    try {
      run.judge = bench::make_judge(l);
    } catch (const bench::JudgeUnavailable& e) {
      std::fprintf(stderr, "bench_quality: the %s judge is missing: %s\n", l.c_str(), e.what());
      return 1;
    }
    runs.push_back(std::move(run));
  }

  // Tasks: cut, then kept only where the original file passes its judge.
  size_t total_tasks = 0;
  for (auto& run : runs) {
    for (size_t k = 0; k < 3; ++k) {
      size_t want = task_count / 3 + (k < task_count % 3 ? 1 : 0);
      // Cut more than wanted: some originals fail their own judge (C's
      // headers, a file for a newer language version).
      // With --files: every file's task, then those of the listed files.
      auto some = bench::cut_tasks(run.root, kKinds[k], allowed_files.empty() ? want * 2 + 2 : SIZE_MAX,
                                   seed * 3 + static_cast<uint32_t>(k), run.language);
      if (!allowed_files.empty())
        std::erase_if(some, [&](const bench::FimTask& t) { return !allowed_files.count(t.path); });
      size_t kept = 0;
      for (auto& t : some) {
        if (kept >= want) break;
        ++run.cut;
        auto v = timed_judge(run, t, t.prefix + t.middle + t.suffix);
        if (!v.ok) {
          ++run.dropped;
          if (run.dropped_examples.size() < 3) run.dropped_examples.push_back(t.path + ": " + v.message);
          continue;
        }
        if (timed_judge(run, t, t.prefix + t.suffix).ok) ++run.empty_would_pass;
        run.tasks.push_back(std::move(t));
        ++kept;
      }
    }
    total_tasks += run.tasks.size();
    std::fprintf(stderr, "bench_quality: %s: %zu tasks from %s (%zu cut, %zu dropped: the original fails the judge, %s)\n",
                 run.language.c_str(), run.tasks.size(), run.root.c_str(), run.cut, run.dropped,
                 run.judge->description().c_str());
  }

  completion::CompletionService service(bench::bench_service_options(threads));
  try {
    service.load_model(model);
    // A bad adapter is named before minutes of decoding.
    if (!adapters.empty()) service.runner()->adapters(adapters);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_quality: %s\n", e.what());
    return 1;
  }

  std::vector<Variant> variants = {{"none", false, false, false}, {"syntax", true, false, false},
                                   {"syntax+api", true, true, false}};
  if (context)
    variants.insert(variants.end(), {{"none+context", false, false, true}, {"syntax+context", true, false, true},
                                     {"syntax+api+context", true, true, true}});
  if (!adapters.empty()) {
    const size_t n = variants.size();
    for (size_t i = 0; i < n; ++i) {
      Variant v = variants[i];
      v.name += "+adapter";
      v.adapter = true;
      variants.push_back(v);
    }
  }
  const std::vector<std::string> only_names = split(only, ',');
  // A name that matches no variant would silently run nothing of it.
  for (const auto& name : only_names) {
    if (std::none_of(variants.begin(), variants.end(), [&](const Variant& v) { return v.name == name; })) {
      std::string known;
      for (const auto& v : variants) known += (known.empty() ? "" : ", ") + v.name;
      std::fprintf(stderr, "bench_quality: --only: no variant named '%s' (with these options: %s)\n", name.c_str(),
                   known.c_str());
      return 2;
    }
  }

  json::object report;
  report["model"] = model;
  report["seed"] = seed;
  report["threads"] = threads;
  report["tasks_per_language"] = task_count;
  report["load_average_start"] = load_average();
  if (!adapters.empty()) {
    json::array a;
    for (const auto& spec : adapters) a.push_back(json::string(spec));
    report["adapters"] = a;
  }
  if (!files_list.empty()) report["files"] = files_list;
  json::array results;
  json::object languages_json;
  auto t_all = std::chrono::steady_clock::now();
  std::fprintf(stderr, "bench_quality: %zu tasks in %zu languages, model %s, load average %s\n", total_tasks,
               runs.size(), model.c_str(), load_average().c_str());

  for (auto& run : runs) {
    if (context) run.index = std::make_unique<bench::TaskIndex>(run.root, "bench-quality-" + run.language);
    for (const auto& v : variants) {
      if (!only_names.empty() && std::find(only_names.begin(), only_names.end(), v.name) == only_names.end()) continue;
      std::map<bench::TaskKind, bench::Tally> by_kind;
      auto t0 = std::chrono::steady_clock::now();
      for (const auto& t : run.tasks) {
        std::string text = t.prefix + t.suffix;
        std::shared_ptr<index::Index> idx = v.context ? run.index->get() : nullptr;
        if (idx) {
          idx->update_file(t.path, text);
          idx->wait_until_idle();
        }
        auto r = bench::request_for(t, run.root, idx);
        r.trigger = completion::Trigger::Invoked;
        r.options.max_tokens = max_tokens_for(t.kind);
        r.options.timeout_ms = 60000;
        r.options.constrain = v.syntax;
        r.options.api_constraint = v.api;
        r.options.heal = heal;
        if (v.adapter) r.options.adapters = adapters;
        NoProgress progress;
        auto result = service.complete_inline(r, {}, progress);
        std::string completion = result.items.empty() ? "" : result.items.front().insert_text;
        std::string want = bench::normalize(t.kind, t.middle), got = bench::normalize(t.kind, completion);
        bench::Outcome o;
        o.empty = bench::is_empty_answer(completion);
        bench::Verdict verdict;
        if (!o.empty) {
          verdict = timed_judge(run, t, t.prefix + completion + t.suffix);
          o.whole = verdict.ok;
        }
        o.exact = want == got;
        o.similarity = bench::edit_similarity(want, got);
        o.latency_ms = result.details.elapsed_ms;
        o.check_ms = result.details.check_ms;
        o.decode_ms = result.details.decode_ms;
        o.searched = result.details.search_branches > 0;
        o.search_found = result.details.search_found;
        o.search_ms = result.details.search_ms;
        by_kind[t.kind].add(o);
        if (!broken_dir.empty() && !o.empty && !o.whole) save_broken(broken_dir, run.language, v.name, t, completion);
        if (dump)
          std::fprintf(stderr, "[%s %s] %s %s %s%s%s\n  want: %s\n  got:  %s\n  raw:  %s (end: %s)\n",
                       run.language.c_str(), v.name.c_str(), bench::to_string(t.kind), t.path.c_str(), o.exact ? "EXACT " : "",
                       o.empty ? "EMPTY" : (o.whole ? "whole" : "BROKEN: "), verdict.message.c_str(), want.c_str(),
                       got.c_str(), result.details.raw.c_str(), result.details.end.c_str());
        if (idx) idx->close_file(t.path);
      }
      if (v.context) run.index->get()->wait_until_idle();
      bench::Tally all;
      json::object kinds_json;
      for (auto& [kind, s] : by_kind) {
        all.add(s);
        kinds_json[bench::to_string(kind)] = tally_json(s);
      }
      json::object o = tally_json(all);
      o["language"] = run.language;
      o["variant"] = v.name;
      o["adapter"] = v.adapter;
      o["constraints"] = v.syntax ? (v.api ? "syntax+api" : "syntax") : "none";
      o["context"] = v.context;
      o["by_kind"] = kinds_json;
      o["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      results.push_back(o);
      std::fprintf(stderr, "  %-16s %-20s done in %.0f s\n", run.language.c_str(), v.name.c_str(), o["seconds"].as_double());
    }
    json::object lj;
    lj["root"] = run.root;
    lj["judge"] = run.judge->description();
    json::object counts;
    for (auto k : kKinds) counts[bench::to_string(k)] = 0;
    for (const auto& t : run.tasks) counts[bench::to_string(t.kind)] = counts[bench::to_string(t.kind)].as_int64() + 1;
    lj["tasks"] = counts;
    lj["cut"] = run.cut;
    lj["dropped_original_fails_judge"] = run.dropped;
    json::array examples;
    for (const auto& e : run.dropped_examples) examples.push_back(json::string(e));
    lj["dropped_examples"] = examples;
    // The ceiling: the true middles pass on every kept task, by construction.
    lj["true_middle_whole"] = run.cut ? static_cast<double>(run.cut - run.dropped) / static_cast<double>(run.cut) : 0.0;
    lj["empty_answer_would_pass"] =
        run.tasks.empty() ? 0.0 : static_cast<double>(run.empty_would_pass) / static_cast<double>(run.tasks.size());
    lj["judge_ms_per_file"] = run.judge_ms / std::max<double>(1, static_cast<double>(run.judged));
    languages_json[run.language] = lj;
  }
  report["languages"] = languages_json;
  report["results"] = results;
  report["load_average_end"] = load_average();
  report["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count();
  std::string text;
  print_json(text, report);
  std::printf("%s\n", text.c_str());

  std::fprintf(stderr,
               "\n| language | constraints | context | tasks | whole: line | block | args | all | whole, non-empty |"
               " empty | exact | edit similarity | checks / decode |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : results) {
    const auto& o = r.as_object();
    const auto& k = o.at("by_kind").as_object();
    auto whole = [&](const char* kind) {
      auto it = k.find(kind);
      return it == k.end() ? 0.0 : 100 * it->value().as_object().at("whole").as_double();
    };
    std::fprintf(stderr,
                 "| %s | %s | %s | %lld | %.0f%% | %.0f%% | %.0f%% | **%.1f%%** | %.1f%% | %.1f%% | %.1f%% | %.3f | %.1f%% |\n",
                 o.at("language").as_string().c_str(), o.at("constraints").as_string().c_str(),
                 o.at("context").as_bool() ? (o.at("adapter").as_bool() ? "on, adapter" : "on")
                                           : (o.at("adapter").as_bool() ? "off, adapter" : "off"),
                 static_cast<long long>(o.at("tasks").to_number<int64_t>()),
                 whole("line"), whole("block"), whole("call_args"), 100 * o.at("whole").as_double(),
                 100 * o.at("whole_non_empty").as_double(), 100 * o.at("empty").as_double(),
                 100 * o.at("exact_match").as_double(), o.at("edit_similarity").as_double(),
                 100 * o.at("check_share_of_decode").as_double());
  }
  std::fprintf(stderr, "\n| language | judge | tasks kept / cut | true middle whole | an empty answer would pass |\n"
                       "|---|---|---|---|---|\n");
  for (const auto& run : runs) {
    const auto& lj = languages_json.at(run.language).as_object();
    std::fprintf(stderr, "| %s | %s | %zu / %zu | %.1f%% | %.1f%% |\n", run.language.c_str(),
                 run.judge->description().c_str(), run.tasks.size(), run.cut,
                 100 * lj.at("true_middle_whole").as_double(), 100 * lj.at("empty_answer_would_pass").as_double());
  }
  return 0;
}

int main(int argc, char** argv) {
  astfill::support::prefer_passive_openmp_wait(argv);  // as astfill itself runs
  try {
    return run_bench(argc, argv);
  } catch (const bench::JudgeUnavailable& e) {
    // A judge that stopped mid-run: its verdicts are missing, so no figures.
    std::fprintf(stderr, "bench_quality: %s\n", e.what());
    return 1;
  }
}
