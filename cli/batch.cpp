// `astfill batch`: completions for many tasks (JSON Lines in, JSON Lines
// out), for benchmarks and evaluation. A task's text stands in for the file
// on disk: the index is given the task's text for the task's path before it
// runs, so nothing of the on-disk version of that file reaches the prompt.
// Rerunning with the same output skips the ids it already holds.
#include <cstdio>
#include <fstream>
#include <set>

#include "cli/commands.h"
#include "cli/completion_setup.h"
#include "cli/progress_bar.h"
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
  std::string editor_uri;  // the document whose text the workspace (and its index) holds from a task
  for (size_t i = 0; i < tasks.size(); ++i) {
    const json::object& task = tasks[i];
    std::string id = id_text(task.at("id"));
    if (done.count(id)) {
      ++skipped;
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
    if (error.empty()) {
      // The task's text is the editor's text of that file: the index is given
      // it (and the previous task's file goes back to the disk's version).
      std::string uri = document_uri(setup, rel);
      if (!editor_uri.empty() && editor_uri != uri) setup.workspace->close(editor_uri);
      if (auto warning = setup.workspace->open(uri, language, 1, std::move(text)))
        std::fprintf(stderr, "astfill batch: task %s: %s\n", id.c_str(), warning->c_str());
      editor_uri = uri;
      wait_for_index(setup);
      auto doc = setup.workspace->document(uri);
      NoProgress progress;
      auto r = setup.workspace->inline_completion(*doc, *offset, completion::Trigger::Invoked)({}, progress);
      result["completion"] = json_text(r.items.empty() ? std::string() : r.items.front().insert_text);
      for (auto& [k, v] : details_json(r.details)) result[k] = v;
    } else {
      ++failed;
      result["error"] = json_text(error);
      std::fprintf(stderr, "astfill batch: task %s: %s\n", id.c_str(), error.c_str());
    }
    out << json::serialize(result) << '\n';
    out.flush();
    ++finished;
    if (bar) bar->report(static_cast<uint32_t>((i + 1) * 100 / tasks.size()), id);
  }
  if (!editor_uri.empty()) setup.workspace->close(editor_uri);
  wait_for_index(setup);
  if (bar) bar->finish();
  std::fprintf(stderr, "astfill batch: %zu completed, %zu already done, %zu failed\n", finished - failed, skipped,
               failed);
  return failed > 0 && finished == failed ? 1 : 0;
}

}  // namespace astfill::cli
