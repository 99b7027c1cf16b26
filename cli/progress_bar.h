// A progress bar for long CLI work: one line on a terminal, redrawn in place
// (carriage return) at most ten times a second, showing the percentage, the
// work's own message and a rate. Commands create one only when stderr is a
// terminal; redirected output gets no bar at all.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "support/progress.h"

namespace astfill::cli {

class ProgressBar final : public Progress {
 public:
  // `done` counts the items finished so far and `unit` names them ("files"),
  // for the rate. Reports may come from any thread.
  ProgressBar(std::FILE* out, std::function<size_t()> done, std::string unit);

  void report(std::optional<uint32_t> percentage, const std::string& message) override;
  // Erases the bar, so that what is printed next starts on a clean line.
  void finish();

 private:
  using Clock = std::chrono::steady_clock;
  void draw(uint32_t percentage, const std::string& message);

  std::FILE* out_;
  std::function<size_t()> done_;
  std::string unit_;
  Clock::time_point start_ = Clock::now();
  std::optional<Clock::time_point> last_draw_;
  bool drawn_ = false;
  std::mutex mu_;
};

// Whether stderr is a terminal (where a progress bar belongs).
bool stderr_is_terminal();

}  // namespace astfill::cli
