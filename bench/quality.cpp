// bench_quality: completion quality on fill-in-the-middle tasks cut from code
// the model never saw (default: the Python sources of Debian's python3-numpy;
// the demo model was trained on the Python standard library), in six variants
// in one run: no constraints, syntax constraints, syntax + API constraints,
// each with and without cross-file context from the project's index.
//
// Tasks (bench/tasks.h), a third of each kind: the rest of a line, a whole
// short block, the arguments of a call. Per variant and kind: exact match
// (after trailing whitespace), edit similarity, the share of completions that
// leave the file free of new syntax errors, the share left empty, and request
// latency p50/p95.
// JSON on stdout; a Markdown table on stderr.
//
//   bench_quality [--model PATH] [--root DIR] [--tasks N] [--seed S]
//                 [--threads N] [--only VARIANT] [--dump]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>
#include <unistd.h>

#include <boost/json.hpp>

#include "bench/args.h"
#include "bench/harness.h"
#include "bench/tasks.h"
#include "completion/service.h"
#include "completion/syntax_guard.h"
#include "engine/bundled_model.h"
#include "index/parsed.h"
#include "parsing/document.h"
#include "support/log.h"

using namespace astfill;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

size_t errors(std::string text) {
  parsing::Document doc("python", std::move(text));
  return completion::count_syntax_errors(doc);
}

unsigned max_tokens_for(bench::TaskKind kind) { return kind == bench::TaskKind::Block ? 128 : 48; }

struct Score {
  size_t n = 0, exact = 0, no_new_errors = 0, empty = 0;
  double similarity = 0;
  std::vector<double> latency;
  void add(const Score& o) {
    n += o.n;
    exact += o.exact;
    no_new_errors += o.no_new_errors;
    empty += o.empty;
    similarity += o.similarity;
    latency.insert(latency.end(), o.latency.begin(), o.latency.end());
  }
  json::object to_json() const {
    double d = n ? static_cast<double>(n) : 1;
    json::object o;
    o["tasks"] = n;
    o["exact_match"] = static_cast<double>(exact) / d;
    o["edit_similarity"] = similarity / d;
    o["no_new_syntax_errors"] = static_cast<double>(no_new_errors) / d;
    o["empty"] = static_cast<double>(empty) / d;  // nothing suggested
    o["latency_ms"] = {{"p50", bench::percentile(latency, 0.5)}, {"p95", bench::percentile(latency, 0.95)}};
    return o;
  }
};

// JSON with numbers as people write them (0.123, not Boost's 1.23E-1).
void print_json(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, x] : v.get_object()) {
        if (!first) out += ", ";
        first = false;
        out += json::serialize(json::value(json::string(k)));
        out += ": ";
        print_json(out, x);
      }
      out += '}';
      break;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& x : v.get_array()) {
        out += first ? "\n  " : ",\n  ";
        first = false;
        print_json(out, x);
      }
      out += "\n]";
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

}  // namespace

int main(int argc, char** argv) {
  std::string model, root = "/usr/lib/python3/dist-packages/numpy", only;
  size_t task_count = 300;
  uint32_t seed = 1;
  int threads = 2;
  bool dump = false;
  bench::ArgParser args(
      "bench_quality",
      "Completion quality on FIM tasks (a line, a block, call arguments) cut from code the\n"
      "model never saw, in six variants (no constraints, syntax, syntax + API; each with and\n"
      "without cross-file context): exact match, edit similarity, no new syntax errors,\n"
      "empty completions, latency. JSON on stdout; a Markdown table on stderr.");
  args.option("--model", "PATH", "the model (default: the bundled demo model)", bench::text_value(model));
  args.option("--root", "DIR", "the project to cut tasks from (default " + root + ")", bench::text_value(root));
  args.option("--tasks", "N", "tasks, a third of each kind (default 300)",
              bench::count_value(task_count, "task count", 1, 100000));
  args.option("--seed", "S", "seed of the task cutter (default 1)", bench::count_value(seed, "seed", 0, 0xffffffffull));
  args.option("--threads", "N", "threads for the kernels (default 2)", bench::count_value(threads, "thread count", 1, 256));
  args.option("--only", "VARIANT", "run one variant (its name in the JSON, e.g. syntax+api)", bench::text_value(only));
  args.flag("--dump", "each task and completion on stderr", [&] { dump = true; });
  bench::parse_args_or_exit(args, "bench_quality", argc, argv);
  log::set_level(log::Level::Warn);
  if (!fs::is_directory(root)) {
    std::fprintf(stderr, "bench_quality: %s is not a directory (Debian: apt install python3-numpy)\n", root.c_str());
    return 1;
  }
  if (model.empty()) {
    auto bundled = engine::bundled_model_path();
    if (!bundled) {
      std::fprintf(stderr, "bench_quality: no --model and the bundled demo model was not found\n");
      return 1;
    }
    model = *bundled;
  }

  const bench::TaskKind kinds[] = {bench::TaskKind::Line, bench::TaskKind::Block, bench::TaskKind::CallArgs};
  std::vector<bench::FimTask> tasks;
  for (size_t k = 0; k < 3; ++k) {
    size_t want = task_count / 3 + (k < task_count % 3 ? 1 : 0);
    auto some = bench::cut_tasks(root, kinds[k], want, seed * 3 + static_cast<uint32_t>(k));
    tasks.insert(tasks.end(), std::make_move_iterator(some.begin()), std::make_move_iterator(some.end()));
  }

  bench::TaskIndex task_index(root, "bench-quality");
  const auto& idx = task_index.get();
  completion::CompletionService service(bench::bench_service_options(threads));
  try {
    service.load_model(model);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_quality: %s\n", e.what());
    return 1;
  }

  struct Variant {
    const char* name;
    bool syntax, api, context;
  };
  const Variant variants[] = {
      {"none+context", false, false, true},  {"syntax+context", true, false, true},
      {"syntax+api+context", true, true, true}, {"none", false, false, false},
      {"syntax", true, false, false},        {"syntax+api", true, true, false},
  };

  json::object report;
  report["model"] = model;
  report["root"] = root;
  report["seed"] = seed;
  report["threads"] = threads;
  json::object counts;
  for (auto k : kinds) counts[bench::to_string(k)] = 0;
  for (const auto& t : tasks) counts[bench::to_string(t.kind)] = counts[bench::to_string(t.kind)].as_int64() + 1;
  report["tasks"] = counts;
  json::array results;

  std::fprintf(stderr, "bench_quality: %zu tasks from %s, model %s\n", tasks.size(), root.c_str(), model.c_str());
  for (const auto& v : variants) {
    if (!only.empty() && only != v.name) continue;
    std::map<bench::TaskKind, Score> by_kind;
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < tasks.size(); ++i) {
      const auto& t = tasks[i];
      std::string text = t.prefix + t.suffix;
      if (v.context) {
        idx->update_file(t.path, text);
        idx->wait_until_idle();
      }
      auto r = bench::request_for(t, root, v.context ? idx : nullptr);
      r.trigger = completion::Trigger::Invoked;
      r.options.max_tokens = max_tokens_for(t.kind);
      r.options.timeout_ms = 60000;
      r.options.constrain = v.syntax;
      r.options.api_constraint = v.api;
      NoProgress progress;
      auto result = service.complete_inline(r, {}, progress);
      std::string completion = result.items.empty() ? "" : result.items.front().insert_text;
      // The item may replace more than the cursor position (never here: the
      // service inserts at the cursor); score what the file would read.
      std::string want = bench::normalize(t.kind, t.middle), got = bench::normalize(t.kind, completion);
      Score& s = by_kind[t.kind];
      ++s.n;
      if (got.empty()) ++s.empty;
      bool exact = want == got;
      if (exact) ++s.exact;
      s.similarity += bench::edit_similarity(want, got);
      bool no_new = errors(t.prefix + completion + t.suffix) <= errors(text);
      if (no_new) ++s.no_new_errors;
      s.latency.push_back(result.details.elapsed_ms);
      if (dump)
        std::fprintf(stderr, "[%s] %s %s %s%s\n  want: %s\n  got:  %s\n", v.name, bench::to_string(t.kind), t.path.c_str(),
                     exact ? "EXACT" : "", no_new ? "" : " NEW-ERRORS", want.c_str(), got.c_str());
      if (v.context) idx->close_file(t.path);
    }
    if (v.context) idx->wait_until_idle();
    Score all;
    json::object kinds_json;
    for (auto& [kind, s] : by_kind) {
      all.add(s);
      kinds_json[bench::to_string(kind)] = s.to_json();
    }
    json::object o = all.to_json();
    o["variant"] = v.name;
    o["constraints"] = v.syntax ? (v.api ? "syntax+api" : "syntax") : "none";
    o["context"] = v.context;
    o["by_kind"] = kinds_json;
    o["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    results.push_back(o);
    std::fprintf(stderr, "  %-20s done in %.0f s\n", v.name, o["seconds"].as_double());
  }
  report["variants"] = results;
  std::string text;
  print_json(text, report);
  std::printf("%s\n", text.c_str());

  // The table: exact match per kind, then the overall figures.
  std::fprintf(stderr,
               "\n| constraints | context | exact: line | block | args | all | edit similarity | no new syntax errors |"
               " empty | p50 ms | p95 ms |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : results) {
    const auto& o = r.as_object();
    const auto& k = o.at("by_kind").as_object();
    auto em = [&](const char* kind) {
      auto it = k.find(kind);
      return it == k.end() ? 0.0 : 100 * it->value().as_object().at("exact_match").as_double();
    };
    std::fprintf(stderr, "| %s | %s | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.3f | %.1f%% | %.1f%% | %.0f | %.0f |\n",
                 o.at("constraints").as_string().c_str(), o.at("context").as_bool() ? "on" : "off", em("line"),
                 em("block"), em("call_args"), 100 * o.at("exact_match").as_double(),
                 o.at("edit_similarity").as_double(), 100 * o.at("no_new_syntax_errors").as_double(),
                 100 * o.at("empty").as_double(),
                 o.at("latency_ms").as_object().at("p50").as_double(),
                 o.at("latency_ms").as_object().at("p95").as_double());
  }
  return 0;
}
