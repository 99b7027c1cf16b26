#include "cli/progress_bar.h"

#include <algorithm>
#include <unistd.h>

namespace astfill::cli {

namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr int kBarWidth = 24;

}  // namespace

ProgressBar::ProgressBar(std::FILE* out, std::function<size_t()> done, std::string unit)
    : out_(out), done_(std::move(done)), unit_(std::move(unit)) {}

void ProgressBar::report(std::optional<uint32_t> percentage, const std::string& message) {
  std::lock_guard lock(mu_);
  auto now = Clock::now();
  uint32_t percent = std::min<uint32_t>(percentage.value_or(0), 100);
  // The last report (100%) is always drawn, so the bar never stops short.
  if (percent < 100 && last_draw_ && now - *last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  draw(percent, message);
}

void ProgressBar::draw(uint32_t percent, const std::string& message) {
  double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  size_t done = done_ ? done_() : 0;
  std::string bar(kBarWidth, ' ');
  for (int i = 0; i < kBarWidth * static_cast<int>(percent) / 100; ++i) bar[i] = '#';
  char rate[64] = "";
  if (seconds > 0.05 && done > 0) std::snprintf(rate, sizeof rate, "  %.0f %s/s", done / seconds, unit_.c_str());
  // "\033[K" clears what a longer previous line left to the right.
  std::fprintf(out_, "\r[%s] %3u%%  %s%s\033[K", bar.c_str(), percent, message.c_str(), rate);
  std::fflush(out_);
  drawn_ = true;
}

void ProgressBar::finish() {
  std::lock_guard lock(mu_);
  if (!drawn_) return;
  std::fputs("\r\033[K", out_);
  std::fflush(out_);
  drawn_ = false;
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace astfill::cli
