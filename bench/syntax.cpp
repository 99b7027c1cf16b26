// The cost of SyntaxGuard::viable, one thread, per language.
//
// usage: bench_syntax [--seeds N] [--tokens N] [--repeat K]
// The cursor sits in a function body after ~100 lines of code (the sample
// body of tests/completion/code_samples.h, repeated K times). Two loads:
//  - random: a random "model" proposes 8 fragments per step in random order,
//    the first viable one is accepted (as in the randomised test);
//  - replay: a correct body is written byte by byte (every call should be
//    viable: a rejection there is a false one).
// Prints one JSON object: per language and load, calls, the rejection rate,
// microseconds per viable() call (mean, p50, p99, max), how often the slow
// paths ran, and the cost of accept() and longest_valid_prefix().
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bench/args.h"
#include "code_samples.h"
#include "completion/syntax_guard.h"

using namespace astfill::completion;

namespace {

using Clock = std::chrono::steady_clock;

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Load {
  std::vector<double> viable_us, accept_us, valid_prefix_us;
  size_t calls = 0, rejected = 0, base_parses = 0, probes = 0;

  void add(const SyntaxGuard& guard) {
    base_parses += guard.stats().base_parses;
    probes += guard.stats().probes;
  }
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

bool timed_viable(SyntaxGuard& guard, std::string_view piece, Load& load) {
  auto start = Clock::now();
  bool ok = guard.viable(piece);
  load.viable_us.push_back(micros(Clock::now() - start));
  ++load.calls;
  load.rejected += !ok;
  return ok;
}

void timed_accept(SyntaxGuard& guard, std::string_view piece, Load& load) {
  auto start = Clock::now();
  guard.accept(piece);
  load.accept_us.push_back(micros(Clock::now() - start));
}

void timed_valid_prefix(const SyntaxGuard& guard, Load& load) {
  auto start = Clock::now();
  volatile size_t n = guard.longest_valid_prefix();
  (void)n;
  load.valid_prefix_us.push_back(micros(Clock::now() - start));
}

void print_load(const char* name, const Load& load, bool last) {
  const double calls = static_cast<double>(std::max<size_t>(load.calls, 1));
  std::printf(
      "      \"%s\": {\"calls\": %zu, \"rejection_rate\": %.4f, \"viable_us\": {\"mean\": %.1f, \"p50\": %.1f, "
      "\"p99\": %.1f, \"max\": %.1f}, \"base_parse_rate\": %.4f, "
      "\"probes_per_call\": %.4f, \"accept_us_mean\": %.1f, \"longest_valid_prefix_us_mean\": %.1f}%s\n",
      name, load.calls, static_cast<double>(load.rejected) / calls, mean(load.viable_us),
      percentile(load.viable_us, 0.5), percentile(load.viable_us, 0.99), percentile(load.viable_us, 1.0),
      static_cast<double>(load.base_parses) / calls,
      static_cast<double>(load.probes) / calls, mean(load.accept_us), mean(load.valid_prefix_us), last ? "" : ",");
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t seeds = 20;
  size_t tokens = 64, repeat = 14;
  astfill::bench::ArgParser args(
      "bench_syntax",
      "The cost of SyntaxGuard::viable, one thread, per language, with the cursor in a function\n"
      "body after ~100 lines of code: a random \"model\" proposing fragments, and a correct body\n"
      "replayed byte by byte. Prints one JSON object.");
  using astfill::bench::count_value;
  args.option("--seeds", "N", "random runs per language (default 20)", count_value(seeds, "seed count", 1, 100000));
  args.option("--tokens", "N", "fragments per random run (default 64)", count_value(tokens, "token count", 1, 100000));
  args.option("--repeat", "K", "copies of the sample body before the cursor (default 14)",
              count_value(repeat, "repeat count", 0, 10000));
  astfill::bench::parse_args_or_exit(args, "bench_syntax", argc, argv);
  std::printf("{\n  \"seeds\": %u, \"tokens\": %zu,\n  \"languages\": {\n", seeds, tokens);
  const auto& all = samples::all();
  for (size_t l = 0; l < all.size(); ++l) {
    const samples::Sample& s = all[l];
    std::string indent(s.prefix.substr(s.prefix.rfind('\n') + 1));
    std::string prefix(s.prefix);
    for (size_t k = 0; k < repeat; ++k) prefix += std::string(s.body) + indent;
    const std::string suffix(s.suffix);

    Load random;
    for (uint32_t seed = 1; seed <= seeds; ++seed) {
      SyntaxGuard guard(s.language, prefix, suffix);
      std::mt19937 rng(seed);
      std::uniform_int_distribution<size_t> pick(0, s.fragments.size() - 1);
      for (size_t step = 0; step < tokens; ++step) {
        bool taken = false;
        for (int k = 0; k < 8 && !taken; ++k) {
          std::string_view piece = s.fragments[pick(rng)];
          if ((taken = timed_viable(guard, piece, random))) timed_accept(guard, piece, random);
        }
        if (!taken) break;
      }
      timed_valid_prefix(guard, random);
      random.add(guard);
    }

    Load replay;
    SyntaxGuard guard(s.language, prefix, suffix);
    for (size_t i = 0; i < s.body.size(); ++i) {
      timed_viable(guard, s.body.substr(i, 1), replay);
      timed_accept(guard, s.body.substr(i, 1), replay);
    }
    timed_valid_prefix(guard, replay);
    replay.add(guard);

    size_t lines = static_cast<size_t>(std::count(prefix.begin(), prefix.end(), '\n')) + 1;
    std::printf("    \"%.*s\": {\n      \"prefix_lines\": %zu,\n", static_cast<int>(s.language.size()),
                s.language.data(), lines);
    print_load("random", random, false);
    print_load("replay", replay, true);
    std::printf("    }%s\n", l + 1 == all.size() ? "" : ",");
  }
  std::printf("  }\n}\n");
}
