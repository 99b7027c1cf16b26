// Does a file broken elsewhere block correct code? For FIM tasks cut from
// real code (bench/tasks.h, the code bench_quality is measured on), the file
// is broken at least --above lines above the hole (bench::break_above: the
// last `)` or `]` at or above that line is dropped; in Python the last `)`,
// `]` or `:`), and the guard is asked whether the task's own middle leaves
// that file "whole" (SyntaxGuard::whole_with: no error the broken file did
// not already have). The middle is correct code, so every refusal is the
// guard blaming the completion for the file's own error: a completion the
// user would not get while a line above is half-edited. The same middles in
// the unbroken files are the control (all should be whole).
//
// With --judge, the language's own front end (bench/judge.h) is the lens:
// the middle's cuts (bench::middle_cuts: where a completion might stop
// short) are judged by it in the real file, and the guard's verdict on each,
// in the real file and in the broken one, is compared with it: a cut the
// guard takes that the front end refuses is a broken answer let through, one
// it refuses that the front end takes a correct answer lost. Tasks whose real
// file the front end refuses (a C file whose headers are not installed) are
// counted and left out.
//
// Prints one JSON object: per language, the tasks, how many of their middles
// are whole in the clean and in the broken files, the refused tasks, and with
// --judge the comparison.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/args.h"
#include "bench/judge.h"
#include "bench/tasks.h"
#include "completion/syntax_guard.h"

using namespace astfill;

namespace {

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  size_t per_kind = 40, above = 12;
  uint32_t seed = 5;
  std::string only;
  astfill::bench::ArgParser args(
      "bench_broken",
      "Does a file broken elsewhere block correct code? FIM tasks cut from real code in each\n"
      "language, the file broken --above lines or more above the hole (the last `)` or `]` there\n"
      "dropped; in Python the last `)`, `]` or `:`), and the guard asked whether the task's own\n"
      "middle leaves it whole (no error the broken file did not have). Prints one JSON object.");
  using astfill::bench::count_value;
  args.option("--tasks", "N", "tasks per kind and language (default 40)", count_value(per_kind, "task count", 1, 10000));
  args.option("--seed", "S", "seed of the task cutter (default 5)", count_value(seed, "seed", 0, 1u << 30));
  args.option("--above", "L", "lines above the hole's the break is at least (default 12)",
              count_value(above, "line count", 1, 100000));
  args.option("--languages", "LIST", "comma-separated languageIds (default: every language with a task source)",
              astfill::bench::text_value(only));
  bool judged = false;
  args.flag("--judge",
            "also judge the middles' cuts with the language's own front end, in the real file, and compare the "
            "guard's verdicts in the real and the broken file with it (minutes for the languages judged by one "
            "process a file: go, c, cpp, rust)",
            [&] { judged = true; });
  astfill::bench::parse_args_or_exit(args, "bench_broken", argc, argv);

  const bench::TaskKind kinds[] = {bench::TaskKind::Line, bench::TaskKind::Block, bench::TaskKind::CallArgs};
  std::printf("{\"seed\":%u,\"tasks_per_kind\":%zu,\"above\":%zu,\"languages\":[", seed, per_kind, above);
  bool first = true;
  for (const auto& [language, where] : bench::default_task_roots(ASTFILL_BENCH_SOURCE_DIR)) {
    if (!only.empty() && ("," + only + ",").find("," + language + ",") == std::string::npos) continue;
    const std::string root = bench::resolve_task_root(where);
    size_t tasks = 0, clean_whole = 0, broken = 0, broken_whole = 0;
    std::vector<std::string> refused;
    // --judge: the cuts, and the guard's verdicts against the front end's.
    struct Versus {
      size_t cuts = 0, front_end_takes = 0, taken_not_whole = 0, refused_whole = 0;
      std::vector<std::string> let_through;  // "kind path: answer"
    } in_clean, in_broken;
    size_t unjudgeable = 0;
    std::unique_ptr<bench::Judge> judge;
    if (judged) judge = bench::make_judge(language);  // a missing tool is an error naming it
    auto compare = [&](Versus& v, bool taken, bool whole, const std::string& where, const std::string& answer) {
      ++v.cuts;
      v.front_end_takes += whole;
      if (taken && !whole) {
        ++v.taken_not_whole;
        v.let_through.push_back(where + ": " + answer);
      }
      v.refused_whole += !taken && whole;
    };
    for (bench::TaskKind kind : kinds) {
      for (const bench::FimTask& task : bench::cut_tasks(root, kind, per_kind, seed, language)) {
        ++tasks;
        const std::string where = std::string(bench::to_string(kind)) + " " + task.path;
        completion::SyntaxGuard clean(language, task.prefix, task.suffix);
        clean_whole += clean.whole_with(task.middle);
        const std::string prefix = bench::break_above(task.prefix, language, above);
        std::optional<completion::SyntaxGuard> guard;
        if (!prefix.empty()) {
          ++broken;
          guard.emplace(language, prefix, task.suffix);
          if (guard->whole_with(task.middle)) ++broken_whole;
          else refused.push_back(where);
        }
        if (!judge) continue;
        // C and C++ look for the file's quoted includes beside it.
        const std::filesystem::path dir = (std::filesystem::path(root) / task.path).parent_path();
        if (!judge->judge(task.prefix + task.middle + task.suffix, dir).ok) {
          ++unjudgeable;
          continue;
        }
        for (size_t cut : bench::middle_cuts(task.middle)) {
          const std::string answer = task.middle.substr(0, cut);
          const bool whole = judge->judge(task.prefix + answer + task.suffix, dir).ok;
          compare(in_clean, clean.whole_with(answer), whole, where, answer);
          if (guard) compare(in_broken, guard->whole_with(answer), whole, where, answer);
        }
      }
    }
    std::printf("%s\n {\"language\":%s,\"root\":%s,\"tasks\":%zu,\"whole_in_clean\":%zu,\"broken\":%zu,"
                "\"whole_in_broken\":%zu,\"whole_in_broken_rate\":%.3f,\"refused\":[",
                first ? "" : ",", json_string(language).c_str(), json_string(root).c_str(), tasks, clean_whole, broken,
                broken_whole, broken ? static_cast<double>(broken_whole) / static_cast<double>(broken) : 0.0);
    for (size_t i = 0; i < refused.size(); ++i) std::printf("%s%s", i ? "," : "", json_string(refused[i]).c_str());
    std::printf("]");
    if (judge) {
      std::printf(",\"front_end\":%s,\"unjudgeable_tasks\":%zu", json_string(judge->description()).c_str(),
                  unjudgeable);
      for (const auto& [name, v] : {std::pair<const char*, const Versus&>{"clean", in_clean}, {"broken", in_broken}}) {
        std::printf(",\"cuts_in_%s\":{\"cuts\":%zu,\"front_end_takes\":%zu,\"taken_not_whole\":%zu,"
                    "\"refused_whole\":%zu,\"let_through\":[",
                    name, v.cuts, v.front_end_takes, v.taken_not_whole, v.refused_whole);
        for (size_t i = 0; i < v.let_through.size(); ++i)
          std::printf("%s%s", i ? "," : "", json_string(v.let_through[i]).c_str());
        std::printf("]}");
      }
    }
    std::printf("}");
    std::fflush(stdout);
    first = false;
  }
  std::printf("\n]}\n");
}
