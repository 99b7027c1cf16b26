#include "bench/score.h"

namespace astfill::bench {

namespace {
double ratio(double a, double b) { return b > 0 ? a / b : 0; }
}  // namespace

bool is_empty_answer(std::string_view completion) {
  return completion.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

void Tally::add(const Outcome& o) {
  ++tasks;
  if (o.empty) ++empty;
  else if (o.whole) ++whole;  // an empty answer is never counted whole
  if (o.exact) ++exact;
  similarity += o.similarity;
  check_ms += o.check_ms;
  decode_ms += o.decode_ms;
  searched += o.searched;
  search_found += o.search_found;
  search_ms += o.search_ms;
  latency_ms.push_back(o.latency_ms);
}

void Tally::add(const Tally& o) {
  tasks += o.tasks;
  empty += o.empty;
  whole += o.whole;
  exact += o.exact;
  similarity += o.similarity;
  check_ms += o.check_ms;
  decode_ms += o.decode_ms;
  searched += o.searched;
  search_found += o.search_found;
  search_ms += o.search_ms;
  latency_ms.insert(latency_ms.end(), o.latency_ms.begin(), o.latency_ms.end());
}

double Tally::whole_rate() const { return ratio(static_cast<double>(whole), static_cast<double>(tasks)); }
double Tally::whole_rate_non_empty() const {
  return ratio(static_cast<double>(whole), static_cast<double>(non_empty()));
}
double Tally::empty_share() const { return ratio(static_cast<double>(empty), static_cast<double>(tasks)); }
double Tally::exact_rate() const { return ratio(static_cast<double>(exact), static_cast<double>(tasks)); }
double Tally::mean_similarity() const { return ratio(similarity, static_cast<double>(tasks)); }
double Tally::check_share() const { return ratio(check_ms, decode_ms); }

}  // namespace astfill::bench
