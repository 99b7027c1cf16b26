// The bench programs' command lines, parsed with support/args.h's ArgParser: --help
// (or -h) prints the usage on stdout and exits 0 without running anything; an
// unknown option or a bad value is an error (exit 2), never ignored or taken
// for a path.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/args.h"

namespace astfill::bench {

using astfill::ArgParser;

// Parses argv[1..]; returns only when the benchmark should run.
inline void parse_args_or_exit(ArgParser& parser, const char* program, int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (auto error = parser.parse(args)) {
    std::fprintf(stderr, "%s: %s\n", program, error->c_str());
    std::exit(2);
  }
  if (parser.help_requested()) {
    std::fputs(parser.help().c_str(), stdout);
    std::exit(0);
  }
}

// Setters for ArgParser::option.
inline std::function<std::optional<std::string>(const std::string&)> text_value(std::string& out) {
  return [&out](const std::string& v) -> std::optional<std::string> {
    out = v;
    return std::nullopt;
  };
}

template <typename T>
std::function<std::optional<std::string>(const std::string&)> count_value(T& out, const char* what,
                                                                           unsigned long long lo,
                                                                           unsigned long long hi) {
  return [&out, what, lo, hi](const std::string& v) -> std::optional<std::string> {
    unsigned long long n = 0;
    if (auto error = parse_uint(v, what, lo, hi, n)) return error;
    out = static_cast<T>(n);
    return std::nullopt;
  };
}

// The items of a `sep`-separated list, empty ones included ("a,,b": three),
// so that a value's parser can name the empty item it refuses.
inline std::vector<std::string> split_list(const std::string& v, char sep = ',') {
  std::vector<std::string> items;
  size_t at = 0;
  while (true) {
    const size_t end = v.find(sep, at);
    items.push_back(v.substr(at, end == std::string::npos ? std::string::npos : end - at));
    if (end == std::string::npos) return items;
    at = end + 1;
  }
}

// A comma-separated list of counts ("1,2").
template <typename T>
std::function<std::optional<std::string>(const std::string&)> count_list_value(std::vector<T>& out,
                                                                                const char* what,
                                                                                unsigned long long lo,
                                                                                unsigned long long hi) {
  return [&out, what, lo, hi](const std::string& v) -> std::optional<std::string> {
    std::vector<T> values;
    std::stringstream ss(v);
    for (std::string item; std::getline(ss, item, ',');) {
      unsigned long long n = 0;
      if (auto error = parse_uint(item, what, lo, hi, n)) return error;
      values.push_back(static_cast<T>(n));
    }
    if (values.empty()) return "'" + v + "' is not a list of " + std::string(what) + "s";
    out = std::move(values);
    return std::nullopt;
  };
}

}  // namespace astfill::bench
