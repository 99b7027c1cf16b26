// `astfill stats`: the local acceptance statistics the daemon keeps
// (stats/store.h, docs/stats.md): acceptance rate, accepted characters and
// lines, latency percentiles, empty and cancelled shares, secret cuts, by
// language and by model. Reads the local store only; nothing is sent anywhere.
#include <boost/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cli/commands.h"
#include "lsp/protocol.h"
#include "stats/store.h"
#include "support/args.h"

namespace astfill::cli {
namespace {

void print_row(const char* label, const stats::Summary& s) {
  std::printf("  %-22s %8lld %7lld %7.1f%% %9lld %7lld %8.0f %8.0f %6.1f%% %6.1f%% %7lld\n", label,
              static_cast<long long>(s.suggestions), static_cast<long long>(s.shown), 100 * s.acceptance_rate,
              static_cast<long long>(s.accepted_chars), static_cast<long long>(s.accepted_lines), s.latency_p50_ms,
              s.latency_p95_ms, 100 * s.empty_share, 100 * s.cancelled_share, static_cast<long long>(s.secret_cuts));
}

void print_table(const char* title, const std::vector<stats::Summary>& rows) {
  if (rows.empty()) return;
  std::printf("\nby %s:\n", title);
  for (const auto& s : rows) print_row(s.key.empty() ? "(none)" : s.key.c_str(), s);
}

}  // namespace

int run_stats(const std::vector<std::string>& args) {
  bool as_json = false;
  std::string since, database;
  ArgParser p("stats",
              "Prints the local statistics of inline suggestions that the daemon recorded and the\n"
              "editors reported on (shown, accepted whole or partly, dismissed, typed over):\n"
              "acceptance rate, accepted characters and lines, p50/p95 latency, empty and\n"
              "cancelled shares, and suggestions cut before a secret-shaped string (secrets),\n"
              "by language and by model. The store is local (mode 0600) and nothing in it is\n"
              "sent anywhere.");
  p.flag("--json", "print the statistics as JSON (the shape of the astfill.stats command's answer)",
         [&] { as_json = true; });
  p.option("--since", "DURATION", "only suggestions made in the last DURATION: 30m, 12h, 7d, 2w (default: all kept)",
           [&](const std::string& v) -> std::optional<std::string> {
             if (!stats::parse_duration(v)) return "--since: '" + v + "' is not a duration such as 30m, 12h, 7d or 2w";
             since = v;
             return std::nullopt;
           });
  p.option("--database", "FILE", "the statistics store (default: $ASTFILL_STATS_DB, else the daemon's, under\n"
                                  "$XDG_CACHE_HOME/astfill/stats.db)",
           [&](const std::string& v) -> std::optional<std::string> {
             database = v;
             return std::nullopt;
           });
  if (auto err = p.parse(args)) {
    std::fprintf(stderr, "astfill stats: %s\n", err->c_str());
    return 2;
  }
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (database.empty()) {
    const char* env = std::getenv("ASTFILL_STATS_DB");
    database = env && *env ? std::string(env) : stats::Store::default_path().string();
  }
  int64_t since_ms = since.empty() ? 0 : stats::now_ms() - *stats::parse_duration(since);
  stats::Report report;
  try {
    if (!std::filesystem::exists(database)) {
      // Nothing recorded yet: an empty report, and no file made by asking.
      report.since_ms = since_ms;
    } else {
      stats::Store store(database);
      report = store.report(since_ms);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "astfill stats: %s\n", e.what());
    return 1;
  }
  if (as_json) {
    auto v = lsp::to_json(report);
    v.as_object()["store"] = database;
    std::printf("%s\n", boost::json::serialize(v).c_str());
    return 0;
  }
  std::printf("astfill statistics (%s), %s\n\n", database.c_str(),
              since.empty() ? "everything kept" : ("the last " + since).c_str());
  std::printf("  %-22s %8s %7s %8s %9s %7s %8s %8s %7s %7s %7s\n", "", "requests", "shown", "accepted", "acc chars",
              "acc lns", "p50 ms", "p95 ms", "empty", "cancel", "secrets");
  print_row("all", report.all);
  print_table("language", report.by_language);
  print_table("model", report.by_model);
  return 0;
}

}  // namespace astfill::cli
