// Parse + extract throughput on real source code, one thread.
//
// usage: bench_parsing [--runs N] [DIR|FILE...]
// Without arguments it reads every file of a supported language under
// /usr/lib/python3.11 (the Python standard library, ~13 MB of .py files).
// Files are read into memory first; only parsing and extraction are timed.
// Prints one JSON object: bytes, files, seconds for parsing alone and for
// parse + extract, MB/s for both (best of N runs), and what was extracted.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/args.h"
#include "parsing/document.h"
#include "parsing/extract.h"
#include "support/files.h"

namespace fs = std::filesystem;
using namespace astfill::parsing;

namespace {

struct Source {
  std::string language, text;
};

void add(const fs::path& path, std::vector<Source>* out) {
  std::string language = language_of_path(path.string());
  if (language.empty()) return;
  std::string text;
  if (auto error = astfill::support::read_text(path, text)) {
    std::fprintf(stderr, "bench_parsing: %s (left out)\n", error->c_str());
    return;
  }
  out->push_back({language, std::move(text)});
}

std::vector<Source> collect(const std::vector<std::string>& roots) {
  std::vector<fs::path> paths;
  for (const std::string& root : roots) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
      paths.emplace_back(root);
      continue;
    }
    for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file()) paths.push_back(it->path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<Source> sources;
  for (const fs::path& p : paths) add(p, &sources);
  return sources;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Totals {
  size_t definitions = 0, references = 0, imports = 0, files_with_errors = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int runs = 3;
  std::vector<std::string> roots;
  astfill::bench::ArgParser args(
      "bench_parsing",
      "arguments: [DIR|FILE...]\n\n"
      "Parse + extract throughput on source code, one thread: every file of a supported\n"
      "language under the DIRs and the FILEs (default: /usr/lib/python3.11). Prints one JSON\n"
      "object (best of --runs runs).");
  args.option("--runs", "N", "runs to take the best of (default 3)", astfill::bench::count_value(runs, "run count", 1, 1000));
  args.positional("DIR|FILE...", [&](const std::string& v) { roots.push_back(v); });
  astfill::bench::parse_args_or_exit(args, "bench_parsing", argc, argv);
  if (roots.empty()) roots.emplace_back("/usr/lib/python3.11");
  std::vector<Source> sources = collect(roots);
  size_t bytes = 0;
  for (const Source& s : sources) bytes += s.text.size();
  if (sources.empty()) {
    std::fprintf(stderr, "bench_parsing: no source files found\n");
    return 1;
  }

  double best_parse = 1e30, best_total = 1e30;
  Totals totals;
  for (int run = 0; run < runs; ++run) {
    auto start = std::chrono::steady_clock::now();
    for (const Source& s : sources) Document doc(s.language, s.text);
    best_parse = std::min(best_parse, seconds_since(start));

    totals = Totals{};
    start = std::chrono::steady_clock::now();
    for (const Source& s : sources) {
      FileSymbols symbols = extract_symbols(s.language, s.text);
      totals.definitions += symbols.definitions.size();
      totals.references += symbols.references.size();
      totals.imports += symbols.imports.size();
      totals.files_with_errors += symbols.has_syntax_errors;
    }
    best_total = std::min(best_total, seconds_since(start));
  }
  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf(
      "{\"files\":%zu,\"bytes\":%zu,\"runs\":%d,\"parse_seconds\":%.3f,\"parse_mb_per_s\":%.2f,"
      "\"parse_extract_seconds\":%.3f,\"parse_extract_mb_per_s\":%.2f,\"definitions\":%zu,\"references\":%zu,"
      "\"imports\":%zu,\"files_with_syntax_errors\":%zu}\n",
      sources.size(), bytes, runs, best_parse, mb / best_parse, best_total, mb / best_total, totals.definitions,
      totals.references, totals.imports, totals.files_with_errors);
}
