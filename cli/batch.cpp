// `astfill batch`: completions for many tasks (JSON Lines in, JSON Lines
// out), for benchmarks and evaluation. A task's text stands in for the file
// on disk: its context sees the project as on disk with that one file
// replaced by the task's text (cli/task_index.h), so nothing of the on-disk
// version of that file, and nothing of another task's text, reaches the
// prompt. Rerunning with the same output skips the ids it already holds.
//
// --parallel N runs N tasks at once: their decoding shares the model's
// forward passes (engine/batcher.h), so N tasks take little more time per
// token than one. Tasks are prepared in input order on this thread and run
// on threads of their own (one task at a time too: --parallel 1); results
// are written in input order. Tasks on the same path run one after another
// (they share the path's KV slot). No task's text enters the workspace's
// index, so what a task sees does not depend on which others run beside it:
// the results are those of a sequential run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <set>

#include "cli/commands.h"
#include "cli/completion_setup.h"
#include "cli/progress_bar.h"
#include "cli/task_index.h"
#include "index/deny.h"
#include "support/files.h"
#include "workspace/positions.h"
#include "support/log.h"

namespace astfill::cli {
namespace json = boost::json;

namespace {

std::string id_text(const json::value& id) {
  return id.is_string() ? std::string(id.get_string()) : json::serialize(id);
}

}  // namespace

int run_batch(const std::vector<std::string>& args) {
  CompletionSetupOptions options;
  std::string input, output;
  // Tasks at once: 4, by measurement on this 2-core machine. 300 tasks
  // (node bench/batch_parallel.mjs --tasks 300, bundled model, 2 threads,
  // alternating rounds, load 2.5-4.7): --parallel 4 took 0.82-0.93 of the
  // time of one task after another in all four rounds (2: 0.98; 3: 0.90-0.91;
  // 6: 0.75-0.89; 8: 0.81-1.23), identical results: 6 is about as fast, 8
  // less steady, and each task at once holds a KV slot. The
  // gain is the tasks' own work (context, parsing, the guard) overlapping the
  // model's, since these tasks are mostly prefill on a compute-bound tiny
  // model; on a model bound by reading its weights, 4 sequences decode at
  // 3-3.8x the tokens/s of one (bench_batch). One core count was measured,
  // so the default does not follow the core count.
  size_t parallel = 4;
  ArgParser p("astfill batch",
              "Completes every task of a JSON Lines file. A task is {\"id\", \"path\", \"prefix\", \"suffix\"}\n"
              "(the file's text is prefix + suffix, the cursor between them) or {\"id\", \"path\", \"line\",\n"
              "\"character\"} (zero-based, in the file on disk). Each result is {\"id\", \"completion\",\n"
              "\"elapsed_ms\", \"prompt_tokens\", \"reused_tokens\", \"generated_tokens\", ...}. Ids already in\n"
              "the output file are skipped, so an interrupted run resumes.");
  options.add_to(p);
  p.option("--input", "FILE", "tasks, one JSON object per line", [&](const std::string& v) -> std::optional<std::string> {
    input = v;
    return std::nullopt;
  });
  p.option("--output", "FILE", "results, appended", [&](const std::string& v) -> std::optional<std::string> {
    output = v;
    return std::nullopt;
  });
  p.option("--parallel", "N",
           "tasks run at once, sharing the model's forward passes (default 4: on 2 cores, 0.82-0.93x the\n"
           "time of one after another over 300 tasks, as fast as 6 or 8 and steadier; 1: one after another)",
           [&](const std::string& v) -> std::optional<std::string> {
             char* end = nullptr;
             const unsigned long n = std::strtoul(v.c_str(), &end, 10);
             if (v.empty() || *end || n < 1 || n > 64) return "--parallel takes a count from 1 to 64, not '" + v + "'";
             parallel = n;
             return std::nullopt;
           });
  if (auto err = p.parse(args)) {
    std::fprintf(stderr, "astfill batch: %s\n", err->c_str());
    return 2;
  }
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (input.empty() || output.empty()) {
    std::fprintf(stderr, "astfill batch: --input and --output are required\n");
    return 2;
  }
  // Tasks first, so that a malformed file fails before the model loads.
  std::ifstream in(input, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "astfill batch: cannot read '%s'\n", input.c_str());
    return 1;
  }
  std::vector<json::object> tasks;
  std::string line_text;
  for (size_t n = 1; std::getline(in, line_text); ++n) {
    if (line_text.find_first_not_of(" \t\r") == std::string::npos) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line_text, ec);
    if (ec || !v.is_object() || !v.get_object().contains("id") || !v.get_object().contains("path")) {
      std::fprintf(stderr, "astfill batch: %s:%zu: expected a JSON object with \"id\" and \"path\"%s%s\n",
                   input.c_str(), n, ec ? ": " : "", ec ? ec.message().c_str() : "");
      return 1;
    }
    tasks.push_back(std::move(v.get_object()));
  }
  std::set<std::string> done;
  {
    std::ifstream previous(output, std::ios::binary);
    while (previous && std::getline(previous, line_text)) {
      boost::system::error_code ec;
      json::value v = json::parse(line_text, ec);
      if (!ec && v.is_object())
        if (auto* id = v.get_object().if_contains("id")) done.insert(id_text(*id));
    }
  }
  std::ofstream out(output, std::ios::binary | std::ios::app);
  if (!out) {
    std::fprintf(stderr, "astfill batch: cannot write '%s'\n", output.c_str());
    return 1;
  }
  log::set_level(log::Level::Warn);
  CompletionSetup setup = set_up_completion(options);
  if (!setup.error.empty()) {
    std::fprintf(stderr, "astfill batch: %s\n", setup.error.c_str());
    return 1;
  }

  size_t finished = 0, skipped = 0, failed = 0;
  std::shared_ptr<ProgressBar> bar;
  if (stderr_is_terminal()) bar = std::make_shared<ProgressBar>(stderr, [&] { return finished; }, "tasks");
  auto service = setup.workspace->model()->service();
  if (!service || !service->has_model()) {
    std::fprintf(stderr, "astfill batch: no model is loaded\n");
    return 1;
  }
  if (parallel > 1)
    if (auto runner = service->runner()) runner->set_slots(parallel);
  // The files on disk, for resolving the imports of each task's text.
  std::shared_ptr<const TaskFiles> disk_files;
  const index::DenyList deny(setup.workspace->settings().index.deny_paths);

  // Results are written in input order: a finished task's result waits for
  // the tasks before it.
  std::map<size_t, std::optional<json::object>> ready;  // nullopt: skipped (already on disk)
  size_t next_to_write = 0;
  auto write_ready = [&] {
    for (auto it = ready.begin(); it != ready.end() && it->first == next_to_write; it = ready.erase(it)) {
      if (it->second) out << json::serialize(*it->second) << '\n';
      ++next_to_write;
    }
    out.flush();
  };
  // Tasks running on their threads, oldest first, with the document each is about.
  struct Running {
    size_t index;
    std::string uri;
    json::object result;
    std::future<completion::InlineCompletionResult> answer;
  };
  std::deque<Running> running;
  std::map<std::string, size_t> open_uses;  // running tasks per open document
  auto finish = [&](Running& r) {
    auto answer = r.answer.get();
    r.result["completion"] = json_text(answer.items.empty() ? std::string() : answer.items.front().insert_text);
    for (auto& [k, v] : details_json(answer.details)) r.result[k] = v;
    if (--open_uses[r.uri] == 0) open_uses.erase(r.uri);
    ready.emplace(r.index, std::move(r.result));
    ++finished;
    write_ready();
    if (bar) bar->report(static_cast<uint32_t>(next_to_write * 100 / std::max<size_t>(tasks.size(), 1)), "");
  };
  // Waits until fewer than `most` tasks run (and none holds `uri`, when given).
  auto drain = [&](size_t most, const std::string& uri) {
    while (running.size() >= most || (!uri.empty() && open_uses.count(uri))) {
      bool any = false;
      for (auto it = running.begin(); it != running.end();)
        if (it->answer.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready) {
          finish(*it);
          it = running.erase(it);
          any = true;
        } else {
          ++it;
        }
      if (!any && !running.empty()) running.front().answer.wait_for(std::chrono::milliseconds(2));
    }
  };
  for (size_t i = 0; i < tasks.size(); ++i) {
    const json::object& task = tasks[i];
    std::string id = id_text(task.at("id"));
    if (done.count(id)) {
      ++skipped;
      ready.emplace(i, std::nullopt);
      write_ready();
      continue;
    }
    json::object result{{"id", task.at("id")}};
    std::string error;
    std::string path = task.at("path").is_string() ? std::string(task.at("path").get_string()) : "";
    std::string rel = path.empty() ? "" : workspace_path(setup, path);
    std::string language = rel.empty() ? "" : language_for(rel);
    std::string text;
    std::optional<size_t> offset;
    if (rel.empty()) error = "\"path\" must be a string";
    else if (language.empty()) error = "'" + rel + "' is not in a language astfill completes";
    else if (task.contains("prefix") || task.contains("suffix")) {
      auto* prefix = task.if_contains("prefix");
      auto* suffix = task.if_contains("suffix");
      if (!prefix || !suffix || !prefix->is_string() || !suffix->is_string()) {
        error = "\"prefix\" and \"suffix\" must both be strings";
      } else {
        text = std::string(prefix->get_string()) + std::string(suffix->get_string());
        offset = prefix->get_string().size();
      }
    } else {
      auto* l = task.if_contains("line");
      auto* c = task.if_contains("character");
      std::string absolute = std::filesystem::path(rel).is_absolute() ? rel : (setup.root / rel).string();
      if (!l || !c || !l->is_int64() || !c->is_int64() || l->get_int64() < 0 || c->get_int64() < 0) {
        error = "a task needs \"prefix\" and \"suffix\", or \"line\" and \"character\" (non-negative integers)";
      } else if (auto err = support::read_text(absolute, text)) {
        error = *err;
      } else {
        offset = workspace::offset_at(
            text, workspace::Position{static_cast<uint32_t>(l->get_int64()), static_cast<uint32_t>(c->get_int64())},
            workspace::PositionEncoding::Utf32);
        if (!offset) error = "line " + std::to_string(l->get_int64()) + " is past the end of '" + rel + "'";
      }
    }
    if (!error.empty()) {
      ++failed;
      ++finished;
      result["error"] = json_text(error);
      std::fprintf(stderr, "astfill batch: task %s: %s\n", id.c_str(), error.c_str());
      ready.emplace(i, std::move(result));
      write_ready();
      continue;
    }
    // The task's text is the editor's text of that file, the only file open:
    // its context is the disk's project with that file replaced by the text.
    std::string uri = document_uri(setup, rel);
    drain(parallel, uri);
    completion::ProjectContext project = setup.workspace->project_context(uri);
    project.recent_edits.clear();
    project.open_paths = {project.path};
    if (project.index) {
      if (!disk_files) disk_files = std::make_shared<const TaskFiles>(setup.root, setup.workspace->settings().index.include_dirs);
      project.index = std::make_shared<const TaskIndex>(project.index, disk_files, project.path, language, text);
    }
    const bool denied = deny.denied(project.path);  // a credentials file: no completion, as in the editor
    completion::InlineCompletionRequest request{
        completion::DocumentText{uri, language, 1, std::make_shared<const std::string>(std::move(text))}, *offset,
        completion::Trigger::Invoked, setup.workspace->settings().completion, std::move(project)};
    ++open_uses[uri];
    running.push_back(Running{i, uri, std::move(result),
                              std::async(std::launch::async, [service, denied, request = std::move(request)] {
                                NoProgress progress;
                                if (denied) {
                                  completion::InlineCompletionResult r;
                                  r.empty_reason = completion::EmptyReason::Disabled;
                                  return r;
                                }
                                return service->complete_inline(request, {}, progress);
                              })});
  }
  drain(1, "");
  if (bar) bar->finish();
  std::fprintf(stderr, "astfill batch: %zu completed, %zu already done, %zu failed\n", finished - failed, skipped,
               failed);
  return failed > 0 && finished == failed ? 1 : 0;
}

}  // namespace astfill::cli
