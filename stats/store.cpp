#include "stats/store.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <stdexcept>

#include "index/database.h"
#include "index/files.h"

namespace astfill::stats {
namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS suggestions (
  id TEXT PRIMARY KEY,
  time INTEGER NOT NULL,
  language TEXT NOT NULL,
  model TEXT NOT NULL,
  trigger TEXT NOT NULL,
  latency_us INTEGER NOT NULL,
  chars INTEGER NOT NULL,
  lines INTEGER NOT NULL,
  cancelled INTEGER NOT NULL,
  from_cache INTEGER NOT NULL,
  end_reason TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  generated_tokens INTEGER NOT NULL,
  rejected INTEGER NOT NULL,
  restricted INTEGER NOT NULL,
  secret_cut INTEGER NOT NULL,
  check_us INTEGER NOT NULL,
  shown INTEGER NOT NULL DEFAULT 0,
  outcome TEXT NOT NULL DEFAULT 'pending',
  accepted_chars INTEGER NOT NULL DEFAULT 0,
  accepted_lines INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS suggestions_time ON suggestions(time);
)sql";

// Prune every this many inserts (and when opened).
constexpr int64_t kPruneEvery = 256;

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // Nearest rank.
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

struct Tally {
  Summary s;
  std::vector<double> latencies;

  void add(bool cancelled, int64_t chars, double latency, bool shown, const std::string& outcome, int64_t acc_chars,
           int64_t acc_lines, bool secret_cut) {
    ++s.suggestions;
    if (secret_cut) ++s.secret_cuts;
    if (cancelled) {
      ++s.cancelled;
      return;
    }
    latencies.push_back(latency);
    if (chars == 0) ++s.empty;
    if (shown) ++s.shown;
    if (outcome == "accepted") ++s.accepted;
    else if (outcome == "acceptedWord" || outcome == "acceptedLine") ++s.accepted_partly;
    else if (outcome == "dismissed") ++s.dismissed;
    else if (outcome == "typedOver") ++s.typed_over;
    s.accepted_chars += acc_chars;
    s.accepted_lines += acc_lines;
  }

  Summary done(std::string key) {
    s.key = std::move(key);
    if (s.shown > 0) s.acceptance_rate = static_cast<double>(s.accepted + s.accepted_partly) / static_cast<double>(s.shown);
    if (s.suggestions > 0) {
      s.empty_share = static_cast<double>(s.empty) / static_cast<double>(s.suggestions);
      s.cancelled_share = static_cast<double>(s.cancelled) / static_cast<double>(s.suggestions);
    }
    s.latency_p50_ms = percentile(latencies, 0.50);
    s.latency_p95_ms = percentile(latencies, 0.95);
    return s;
  }
};

std::vector<Summary> ordered(std::map<std::string, Tally>& groups) {
  std::vector<Summary> out;
  for (auto& [key, t] : groups) out.push_back(t.done(key));
  std::stable_sort(out.begin(), out.end(), [](const Summary& a, const Summary& b) { return a.suggestions > b.suggestions; });
  return out;
}

}  // namespace

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::Pending: return "pending";
    case Outcome::Shown: return "shown";
    case Outcome::Accepted: return "accepted";
    case Outcome::AcceptedWord: return "acceptedWord";
    case Outcome::AcceptedLine: return "acceptedLine";
    case Outcome::Dismissed: return "dismissed";
    case Outcome::TypedOver: return "typedOver";
  }
  return "pending";
}

std::optional<Outcome> parse_outcome(std::string_view name) {
  for (Outcome o : {Outcome::Shown, Outcome::Accepted, Outcome::AcceptedWord, Outcome::AcceptedLine, Outcome::Dismissed,
                    Outcome::TypedOver})
    if (name == to_string(o)) return o;
  return std::nullopt;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<int64_t> parse_duration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  int64_t unit = 0;
  switch (text.back()) {
    case 'm': unit = 60'000; break;
    case 'h': unit = 3'600'000; break;
    case 'd': unit = 86'400'000; break;
    case 'w': unit = 7 * 86'400'000LL; break;
    default: return std::nullopt;
  }
  int64_t n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
    if (n > 1'000'000) return std::nullopt;  // past ~2,700 years of days
  }
  return n * unit;
}

std::filesystem::path Store::default_path() { return index::cache_home() / "astfill" / "stats.db"; }

Store::Store(const std::filesystem::path& path, Limits limits) : path_(path), limits_(limits) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  try {
    db_ = std::make_unique<index::Database>(path.string(), index::Database::Mode::ReadWrite);
    db_->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    int64_t version = db_->integer_of("PRAGMA user_version");
    if (version > kSchemaVersion)
      throw std::runtime_error("written by a newer astfill (schema " + std::to_string(version) + ")");
    db_->exec(kSchema);
    db_->exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
  } catch (const std::exception& e) {
    throw std::runtime_error("statistics store '" + path.string() + "': " + e.what());
  }
  prune(now_ms());
}

Store::~Store() = default;

void Store::record(const Suggestion& s) {
  std::lock_guard lock(mu_);
  db_->query(
         "INSERT OR REPLACE INTO suggestions (id, time, language, model, trigger, latency_us, chars, lines, cancelled, "
         "from_cache, end_reason, prompt_tokens, generated_tokens, rejected, restricted, secret_cut, check_us) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(1, s.id)
      .bind(2, s.time_ms)
      .bind(3, s.language)
      .bind(4, s.model)
      .bind(5, s.trigger)
      .bind(6, static_cast<int64_t>(std::llround(std::max(0.0, s.latency_ms) * 1000)))
      .bind(7, static_cast<int64_t>(s.chars))
      .bind(8, static_cast<int64_t>(s.lines))
      .bind(9, int64_t{s.cancelled})
      .bind(10, int64_t{s.from_cache})
      .bind(11, s.end)
      .bind(12, static_cast<int64_t>(s.prompt_tokens))
      .bind(13, static_cast<int64_t>(s.generated_tokens))
      .bind(14, static_cast<int64_t>(s.rejected))
      .bind(15, static_cast<int64_t>(s.restricted))
      .bind(16, int64_t{s.secret_cut})
      .bind(17, static_cast<int64_t>(std::llround(std::max(0.0, s.check_ms) * 1000)))
      .run();
  if (++since_prune_ >= kPruneEvery) {
    since_prune_ = 0;
    prune_locked(now_ms());
  }
}

bool Store::record(const Event& e) {
  std::lock_guard lock(mu_);
  const char* sql = nullptr;
  switch (e.outcome) {
    case Outcome::Pending: return false;
    case Outcome::Shown:
      sql = "UPDATE suggestions SET shown = 1 WHERE id = ?1";
      break;
    case Outcome::Accepted:
      // Whole: what the editor says went in, else the whole suggestion.
      sql = "UPDATE suggestions SET shown = 1, outcome = 'accepted', "
            "accepted_chars = CASE WHEN ?2 > 0 THEN ?2 ELSE chars END, "
            "accepted_lines = CASE WHEN ?2 > 0 THEN ?3 ELSE lines END WHERE id = ?1";
      break;
    case Outcome::AcceptedWord:
    case Outcome::AcceptedLine:
      // Partial accepts add up; a later whole accept replaces them.
      sql = "UPDATE suggestions SET shown = 1, "
            "outcome = CASE WHEN outcome = 'accepted' THEN outcome ELSE ?4 END, "
            "accepted_chars = accepted_chars + ?2, accepted_lines = accepted_lines + ?3 WHERE id = ?1";
      break;
    case Outcome::Dismissed:
    case Outcome::TypedOver:
      // What was accepted (partly) stays accepted.
      sql = "UPDATE suggestions SET shown = 1, "
            "outcome = CASE WHEN outcome IN ('pending', 'dismissed', 'typedOver') THEN ?4 ELSE outcome END "
            "WHERE id = ?1";
      break;
  }
  auto q = db_->query(sql);
  q.bind(1, e.id);
  if (e.outcome != Outcome::Shown) {
    if (e.outcome != Outcome::Dismissed && e.outcome != Outcome::TypedOver) {
      q.bind(2, static_cast<int64_t>(e.accepted_chars)).bind(3, static_cast<int64_t>(e.accepted_lines));
    }
    if (e.outcome != Outcome::Accepted) q.bind(4, to_string(e.outcome));
  }
  q.run();
  return db_->changes() > 0;
}

Report Store::report(int64_t since_ms) const {
  std::lock_guard lock(mu_);
  Report r;
  r.since_ms = since_ms;
  Tally all;
  std::map<std::string, Tally> languages, models;
  auto q = db_->query(
      "SELECT language, model, cancelled, chars, latency_us, shown, outcome, accepted_chars, accepted_lines, "
      "secret_cut FROM suggestions WHERE time >= ?");
  q.bind(1, since_ms);
  while (q.step()) {
    std::string language = q.text(0), model = q.text(1), outcome = q.text(6);
    bool cancelled = q.integer(2) != 0, shown = q.integer(5) != 0, secret_cut = q.integer(9) != 0;
    int64_t chars = q.integer(3), acc_chars = q.integer(7), acc_lines = q.integer(8);
    double latency = static_cast<double>(q.integer(4)) / 1000;
    for (Tally* t : {&all, &languages[language], &models[model]})
      t->add(cancelled, chars, latency, shown, outcome, acc_chars, acc_lines, secret_cut);
  }
  r.all = all.done("");
  r.by_language = ordered(languages);
  r.by_model = ordered(models);
  return r;
}

void Store::prune(int64_t now) {
  std::lock_guard lock(mu_);
  prune_locked(now);
}

void Store::prune_locked(int64_t now) {
  db_->query("DELETE FROM suggestions WHERE time < ?").bind(1, now - limits_.retention_days * 86'400'000LL).run();
  db_->query("DELETE FROM suggestions WHERE id IN (SELECT id FROM suggestions ORDER BY time DESC LIMIT -1 OFFSET ?)")
      .bind(1, limits_.max_rows)
      .run();
}

int64_t Store::rows() const {
  std::lock_guard lock(mu_);
  return db_->integer_of("SELECT count(*) FROM suggestions");
}

}  // namespace astfill::stats
