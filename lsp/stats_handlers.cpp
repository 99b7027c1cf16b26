// Local acceptance statistics over LSP (docs/stats.md): the record of each
// inline completion, `astfill/suggestionEvent` from the editor (what the user
// did with a suggestion), and the `astfill.stats` command. Nothing here leaves
// the machine: the store is a local SQLite file (stats/store.h).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "lsp/server.h"
#include "support/log.h"

namespace astfill::lsp {

std::shared_ptr<stats::Store> daemon_stats() {
  static const std::shared_ptr<stats::Store> store = []() -> std::shared_ptr<stats::Store> {
    const char* off = std::getenv("ASTFILL_STATS");
    if (off && (std::string_view(off) == "off" || std::string_view(off) == "0")) return nullptr;
    const char* path = std::getenv("ASTFILL_STATS_DB");
    try {
      return std::make_shared<stats::Store>(path && *path ? std::filesystem::path(path) : stats::Store::default_path());
    } catch (const std::exception& e) {
      log::warn("statistics are not recorded: ", e.what());
      return nullptr;
    }
  }();
  return store;
}

namespace {

// Ids unique across the daemon's runs: a random run prefix and a counter.
std::string next_suggestion_id() {
  static const std::string run = [] {
    std::random_device rd;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
    return std::string(buf);
  }();
  static std::atomic<uint64_t> counter{0};
  return run + "-" + std::to_string(++counter);
}

std::string file_name(const std::string& path) {
  return path.empty() ? std::string() : std::filesystem::path(path).filename().string();
}

}  // namespace

stats::Suggestion LanguageServer::new_suggestion(const workspace::DocumentSnapshot& doc, int trigger_kind) const {
  stats::Suggestion s;
  s.id = next_suggestion_id();
  s.time_ms = stats::now_ms();
  s.language = doc.language_id;
  s.model = file_name(workspace_->model()->model_path());
  s.trigger = trigger_kind == 1 ? "invoked" : "automatic";
  return s;
}

void LanguageServer::record_cancelled(const InFlight& f) {
  // Without a model there is no suggestion to count.
  if (!f.suggestion || f.suggestion->model.empty()) return;
  auto store = stats_store();
  if (!store) return;
  stats::Suggestion s = *f.suggestion;
  s.cancelled = true;
  s.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - f.started).count();
  try {
    store->record(s);
  } catch (const std::exception& e) {
    log::warn("statistics: ", e.what());
  }
}

void LanguageServer::on_suggestion_event(const json::value& params) {
  Notification note{"astfill/suggestionEvent", params};
  auto e = decode_notification<stats::Event>(note);
  // What the user took of a suggestion (all of it, or its first characters
  // word by word or line by line) is drafted from in later completions.
  if (e && (e->outcome == stats::Outcome::Accepted || e->outcome == stats::Outcome::AcceptedWord ||
            e->outcome == stats::Outcome::AcceptedLine)) {
    std::string text;
    {
      std::lock_guard lock(shown_->mu);
      for (const auto& [id, shown] : shown_->texts)
        if (id == e->id) text = shown;
    }
    if (e->outcome != stats::Outcome::Accepted && e->accepted_chars < text.size()) text.resize(e->accepted_chars);
    workspace_->note_accepted(std::move(text));
  }
  auto store = e ? stats_store() : nullptr;
  if (!store) return;
  try {
    if (!store->record(*e))
      log::debug(options_.peer, ": astfill/suggestionEvent for an unknown suggestion '", e->id, "'");
  } catch (const std::exception& ex) {
    log::warn("statistics: ", ex.what());
  }
}

void LanguageServer::on_stats(const ExecuteCommandParams& params, const Reply& reply) {
  // arguments: [] or [{since: "7d"}] (the default: everything kept).
  std::string since = "";
  if (!params.arguments.empty()) {
    const auto* o = params.arguments[0].if_object();
    const json::value* v = o ? o->if_contains("since") : nullptr;
    if (params.arguments.size() != 1 || !o || (v && !v->is_string()))
      return reply.error(ErrorCode::InvalidParams, "astfill.stats: expected arguments [] or [{since: \"7d\"}]");
    if (v) since = std::string(v->get_string());
  }
  int64_t since_ms = 0;
  if (!since.empty()) {
    auto d = stats::parse_duration(since);
    if (!d)
      return reply.error(ErrorCode::InvalidParams,
                         "astfill.stats: since '" + since + "' is not a duration such as 30m, 12h, 7d or 2w");
    since_ms = stats::now_ms() - *d;
  }
  auto store = stats_store();
  if (!store)
    return reply.error(ErrorCode::RequestFailed,
                       "astfill.stats: statistics are off (ASTFILL_STATS=off, or the store could not be opened)");
  reply.later(RequestKind::IndexQuestion, "", params.work_done_token, "astfill: statistics",
              [store, since_ms](const CancellationToken&, Progress&) -> Result {
                auto v = to_json(store->report(since_ms));
                v.as_object()["store"] = store->path().string();
                return v;
              });
}

}  // namespace astfill::lsp
