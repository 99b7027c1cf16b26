// Does a file broken elsewhere block correct code? For FIM tasks cut from
// real code (bench/tasks.h, the code bench_quality is measured on), the file
// is broken at least --above lines above the hole (the last `)` or `]` at or
// above that line is dropped; in Python the last `)`, `]` or `:`), and the
// guard is asked
// whether the task's own middle leaves that file "whole" (SyntaxGuard::
// whole_with: no error the broken file did not already have). The middle is
// correct code, so every refusal is the guard blaming the completion for the
// file's own error: a completion the user would not get while a line above is
// half-edited. The same middles in the unbroken files are the control (all
// should be whole). Prints one JSON object: per language, the tasks, how many
// of their middles are whole in the clean and in the broken files, and the
// refused tasks.
#include <cstdio>
#include <string>
#include <vector>

#include "bench/args.h"
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
  astfill::bench::parse_args_or_exit(args, "bench_broken", argc, argv);

  const bench::TaskKind kinds[] = {bench::TaskKind::Line, bench::TaskKind::Block, bench::TaskKind::CallArgs};
  std::printf("{\"seed\":%u,\"tasks_per_kind\":%zu,\"above\":%zu,\"languages\":[", seed, per_kind, above);
  bool first = true;
  for (const auto& [language, where] : bench::default_task_roots(ASTFILL_BENCH_SOURCE_DIR)) {
    if (!only.empty() && ("," + only + ",").find("," + language + ",") == std::string::npos) continue;
    const std::string root = bench::resolve_task_root(where);
    size_t tasks = 0, clean_whole = 0, broken = 0, broken_whole = 0;
    std::vector<std::string> refused;
    for (bench::TaskKind kind : kinds) {
      for (const bench::FimTask& task : bench::cut_tasks(root, kind, per_kind, seed, language)) {
        ++tasks;
        completion::SyntaxGuard clean(language, task.prefix, task.suffix);
        clean_whole += clean.whole_with(task.middle);
        const std::string prefix = bench::break_above(task.prefix, language, above);
        if (prefix.empty()) continue;
        ++broken;
        completion::SyntaxGuard guard(language, prefix, task.suffix);
        if (guard.whole_with(task.middle)) ++broken_whole;
        else refused.push_back(std::string(bench::to_string(kind)) + " " + task.path);
      }
    }
    std::printf("%s\n {\"language\":%s,\"root\":%s,\"tasks\":%zu,\"whole_in_clean\":%zu,\"broken\":%zu,"
                "\"whole_in_broken\":%zu,\"whole_in_broken_rate\":%.3f,\"refused\":[",
                first ? "" : ",", json_string(language).c_str(), json_string(root).c_str(), tasks, clean_whole, broken,
                broken_whole, broken ? static_cast<double>(broken_whole) / static_cast<double>(broken) : 0.0);
    for (size_t i = 0; i < refused.size(); ++i) std::printf("%s%s", i ? "," : "", json_string(refused[i]).c_str());
    std::printf("]}");
    std::fflush(stdout);
    first = false;
  }
  std::printf("\n]}\n");
}
