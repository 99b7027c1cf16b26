#include "support/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <sys/syscall.h>
#include <unistd.h>

namespace astfill::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::Info)};
std::mutex g_mu;
std::FILE* g_out = nullptr;  // nullptr means stderr

std::FILE* out() { return g_out ? g_out : stderr; }

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
  if (name == "off") return Level::Off;
  if (name == "error") return Level::Error;
  if (name == "warn" || name == "warning") return Level::Warn;
  if (name == "info") return Level::Info;
  if (name == "debug") return Level::Debug;
  if (name == "trace" || name == "verbose") return Level::Trace;
  return std::nullopt;
}

const char* level_name(Level level) {
  switch (level) {
    case Level::Off: return "off";
    case Level::Error: return "error";
    case Level::Warn: return "warn";
    case Level::Info: return "info";
    case Level::Debug: return "debug";
    case Level::Trace: return "trace";
  }
  return "?";
}

std::optional<std::string> set_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (!f) return "cannot open log file '" + path + "' for appending";
  std::setvbuf(f, nullptr, _IOLBF, 0);
  std::lock_guard lock(g_mu);
  if (g_out) std::fclose(g_out);
  g_out = f;
  return std::nullopt;
}

void set_level(Level level) { g_level.store(static_cast<int>(level)); }
Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

void write(Level level, std::string_view message) {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t secs = system_clock::to_time_t(now);
  int ms = static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
  long tid = static_cast<long>(::syscall(SYS_gettid));
  std::lock_guard lock(g_mu);
  std::fprintf(out(), "%s.%03d %-5s [%ld] %.*s\n", stamp, ms, level_name(level), tid,
               static_cast<int>(message.size()), message.data());
  std::fflush(out());
}

}  // namespace astfill::log
