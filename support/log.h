// The daemon's log: one line per event, with time, level and thread, to stderr
// (never stdout, which carries the protocol in stdio mode) or to a file.
// Thread-safe; cheap when a level is off (the message is not formatted).
#pragma once

#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace astfill::log {

enum class Level { Off = -1, Error = 0, Warn = 1, Info = 2, Debug = 3, Trace = 4 };

std::optional<Level> parse_level(std::string_view name);
const char* level_name(Level level);

// Sends the log to `path` (appending). Returns an error message on failure and
// keeps the previous sink.
std::optional<std::string> set_file(const std::string& path);
void set_level(Level level);
Level level();
inline bool enabled(Level l) { return static_cast<int>(l) <= static_cast<int>(level()); }

void write(Level level, std::string_view message);

template <typename... Args>
void emit(Level l, const Args&... args) {
  if (!enabled(l)) return;
  std::ostringstream os;
  (os << ... << args);
  write(l, os.str());
}

template <typename... Args> void error(const Args&... a) { emit(Level::Error, a...); }
template <typename... Args> void warn(const Args&... a) { emit(Level::Warn, a...); }
template <typename... Args> void info(const Args&... a) { emit(Level::Info, a...); }
template <typename... Args> void debug(const Args&... a) { emit(Level::Debug, a...); }
template <typename... Args> void trace(const Args&... a) { emit(Level::Trace, a...); }

}  // namespace astfill::log
