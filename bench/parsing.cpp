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
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "parsing/document.h"
#include "parsing/extract.h"

namespace fs = std::filesystem;
using namespace astfill::parsing;

namespace {

struct Source {
  std::string language, text;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void add(const fs::path& path, std::vector<Source>* out) {
  std::string language = language_of_path(path.string());
  if (!language.empty()) out->push_back({language, read_file(path)});
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
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
    else roots.emplace_back(argv[i]);
  }
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
