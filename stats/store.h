// Local acceptance statistics (issue 21): what happened to each inline
// suggestion the daemon made, kept in a small SQLite file on this machine and
// never sent anywhere.
//
// The daemon records a suggestion when it answers an inline completion
// request (latency, language, model, trigger, how decoding ended and the
// constraint figures that `astfill complete --json` shows), or when the
// request was cancelled or superseded. Editors then report what the user did
// with it (`astfill/suggestionEvent`, docs/stats.md): shown, accepted whole,
// accepted partly by word or line, dismissed, typed over. `astfill stats` and
// the `astfill.stats` command summarise the store.
//
// The store is capped: rows older than the retention are deleted, and past
// the row cap the oldest go first; the file is created mode 0600. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace astfill::index {
class Database;
}

namespace astfill::stats {

// What the user did with a suggestion, as editors report it.
enum class Outcome { Pending, Shown, Accepted, AcceptedWord, AcceptedLine, Dismissed, TypedOver };
const char* to_string(Outcome outcome);
// "shown", "accepted", "acceptedWord", "acceptedLine", "dismissed", "typedOver".
std::optional<Outcome> parse_outcome(std::string_view name);

struct Suggestion {
  std::string id;             // the daemon's id for it (unique per store)
  int64_t time_ms = 0;        // Unix time, milliseconds
  std::string language;
  std::string model;          // the model file's name ("" when none)
  std::string trigger;        // "invoked" or "automatic"
  double latency_ms = 0;      // from the request's arrival to the answer
  size_t chars = 0;           // of the suggestion shown (0: empty)
  size_t lines = 0;
  bool cancelled = false;     // cancelled or superseded before it was answered
  bool from_cache = false;    // typed-through reuse
  std::string end;            // why decoding ended ("" when the model was not asked)
  size_t prompt_tokens = 0;
  size_t generated_tokens = 0;
  size_t rejected = 0;        // candidates the syntax check refused
  size_t restricted = 0;      // steps the API constraint restricted
  bool secret_cut = false;    // cut before a secret-shaped string
  double check_ms = 0;
};

struct Event {
  std::string id;
  Outcome outcome = Outcome::Shown;
  size_t accepted_chars = 0;  // accepted (partly): how much of it went into the file
  size_t accepted_lines = 0;
};

struct Limits {
  int64_t retention_days = 90;
  int64_t max_rows = 100000;  // ~20 MB at most
};

// One group of suggestions (all of them, a language, a model).
struct Summary {
  std::string key;              // the language or model ("" for all)
  int64_t suggestions = 0;      // requests answered or cancelled
  int64_t empty = 0;            // answered with nothing
  int64_t cancelled = 0;
  int64_t shown = 0;            // reported shown (or acted on, which implies it)
  int64_t accepted = 0;         // whole
  int64_t accepted_partly = 0;  // by word or line
  int64_t dismissed = 0;
  int64_t typed_over = 0;
  int64_t accepted_chars = 0;
  int64_t accepted_lines = 0;
  int64_t secret_cuts = 0;      // cut before a secret-shaped string (cancelled or not)
  double acceptance_rate = 0;   // (accepted + partly) / shown; 0 when none shown
  double empty_share = 0;       // empty / suggestions
  double cancelled_share = 0;   // cancelled / suggestions
  double latency_p50_ms = 0;    // over answered (not cancelled) suggestions
  double latency_p95_ms = 0;
};

struct Report {
  int64_t since_ms = 0;  // what it covers: suggestions made at or after this time
  Summary all;
  std::vector<Summary> by_language;  // most suggestions first
  std::vector<Summary> by_model;
};

class Store {
 public:
  // Opens (creating) the store at `path`, making its folder. Throws
  // std::runtime_error naming the file.
  explicit Store(const std::filesystem::path& path, Limits limits = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // <cache>/astfill/stats.db ($XDG_CACHE_HOME, else ~/.cache).
  static std::filesystem::path default_path();

  void record(const Suggestion& s);
  // False when no suggestion has that id (unknown, or pruned).
  bool record(const Event& e);
  Report report(int64_t since_ms) const;
  // Deletes what the limits say must go; `now_ms` is the current time.
  void prune(int64_t now_ms);
  int64_t rows() const;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  Limits limits_;
  mutable std::mutex mu_;
  void prune_locked(int64_t now_ms);

  std::unique_ptr<index::Database> db_;
  int64_t since_prune_ = 0;
};

// The current Unix time in milliseconds.
int64_t now_ms();
// "7d", "12h", "30m", "2w" -> milliseconds; nullopt when malformed.
std::optional<int64_t> parse_duration(std::string_view text);

}  // namespace astfill::stats
