// `astfill index PATH`: builds or brings up to date the index of a workspace
// folder (the daemon's database, unless --database says otherwise) and says
// what it did. A second run reparses only the files that changed.
#include <boost/json.hpp>

#include <chrono>
#include <cstdio>

#include "support/args.h"
#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "cli/project_index.h"
#include "support/log.h"

namespace astfill::cli {
namespace {

struct Summary {
  std::string root, database;
  index::IndexStats stats;
  index::IndexTotals totals;
  double seconds = 0;
  uint64_t database_bytes = 0;
};

// Files whose content did not change: skipped by mtime and size, or read and
// found to hash the same.
size_t unchanged(const index::IndexStats& s) { return s.unchanged + s.same_content; }

void print_json(const Summary& s) {
  boost::json::object o{{"root", s.root},
                        {"database", s.database},
                        {"files", s.totals.files},
                        {"parsed", s.stats.parsed},
                        {"unchanged", unchanged(s.stats)},
                        {"removed", s.stats.removed},
                        {"failed", s.stats.failed},
                        {"symbols", s.totals.symbols},
                        {"bytes", s.totals.bytes},
                        {"lines", s.totals.lines},
                        {"seconds", s.seconds},
                        {"database_bytes", s.database_bytes}};
  std::printf("%s\n", boost::json::serialize(o).c_str());
}

void print_text(const Summary& s) {
  std::printf("indexed %s in %.2f s: %zu files parsed, %zu unchanged, %zu removed, %zu failed\n", s.root.c_str(),
              s.seconds, s.stats.parsed, unchanged(s.stats), s.stats.removed, s.stats.failed);
  std::printf("index: %zu files, %zu symbols, %.1f MB, %llu lines\n", s.totals.files, s.totals.symbols,
              s.totals.bytes / 1e6, static_cast<unsigned long long>(s.totals.lines));
  std::printf("database: %s (%.1f MB)\n", s.database.c_str(), s.database_bytes / 1e6);
}

}  // namespace

int run_index(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  ProjectIndexOptions options;
  bool json = false;
  ArgParser p("astfill index PATH",
              "Indexes the workspace folder PATH (definitions, imports and code chunks of every\n"
              "file in a supported language, leaving out what .gitignore leaves out), or brings\n"
              "its index up to date: files whose size and mtime are unchanged are not read again.\n"
              "Shows a progress bar when stderr is a terminal. Exit code 1 when PATH or the\n"
              "database cannot be used.");
  p.flag("--json", "print one JSON object: root, database, files, parsed, unchanged, removed,\n"
                   "failed, symbols, bytes, lines, seconds, database_bytes",
         [&] { json = true; });
  options.add_to(p);
  p.positional("PATH", [&](const std::string& v) { paths.push_back(v); });
  auto usage_error = [](const std::string& message) {
    std::fprintf(stderr, "astfill index: %s\n", message.c_str());
    return 2;
  };
  if (auto err = p.parse(args)) return usage_error(*err);
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (paths.size() != 1) return usage_error("expected one PATH (see --help)");
  log::set_level(log::Level::Warn);

  auto start = std::chrono::steady_clock::now();
  OpenedIndex opened = open_index(paths[0], options);
  if (!opened.index) {
    std::fprintf(stderr, "astfill index: %s\n", opened.error.c_str());
    return 1;
  }
  index::Index& index = *opened.index;
  std::shared_ptr<ProgressBar> bar;
  if (stderr_is_terminal())
    bar = std::make_shared<ProgressBar>(stderr, [&index] { return index.stats().committed; }, "files");
  index.sync_with_disk(bar);
  index.wait_until_idle();
  if (bar) bar->finish();

  Summary s;
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  s.root = index.root().string();
  s.database = index.database_path().string();
  s.stats = index.stats();
  s.totals = index.totals();
  opened.index.reset();  // closing checkpoints the write-ahead log into the database file
  s.database_bytes = database_bytes(s.database);
  json ? print_json(s) : print_text(s);
  return 0;
}

}  // namespace astfill::cli
