// How bench_quality and bench_completion count a judged completion: an empty
// answer is its own outcome, never a file left whole (the file without the
// middle is usually valid, so counting "nothing" as valid rewards a guard that
// gives up); the whole-file rate is reported over all tasks and over the
// non-empty answers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace astfill::bench {

// One task's answer, judged.
struct Outcome {
  bool empty = false;   // nothing suggested (or only whitespace)
  bool whole = false;   // the completed file passes the language's own front end (ignored when empty)
  bool exact = false;   // the normalised completion equals the normalised middle
  double similarity = 0;
  double latency_ms = 0, check_ms = 0, decode_ms = 0;
  // The decoder's search for a whole answer: whether it ran, whether the
  // answer given came from it, its time.
  bool searched = false, search_found = false;
  double search_ms = 0;
};

// An answer is empty when it has nothing but whitespace.
bool is_empty_answer(std::string_view completion);

struct Tally {
  size_t tasks = 0, empty = 0, whole = 0, exact = 0;
  double similarity = 0, check_ms = 0, decode_ms = 0;
  size_t searched = 0, search_found = 0;
  double search_ms = 0;
  std::vector<double> latency_ms;

  void add(const Outcome& o);
  void add(const Tally& o);
  size_t non_empty() const { return tasks - empty; }
  // Whole files among all tasks (an empty answer counts against it).
  double whole_rate() const;
  // Whole files among the non-empty answers (0 when every answer was empty).
  double whole_rate_non_empty() const;
  double empty_share() const;
  double exact_rate() const;
  double mean_similarity() const;
  // The syntax checks' time as a share of decode time.
  double check_share() const;
};

}  // namespace astfill::bench
