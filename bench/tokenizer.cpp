// Tokenizer throughput on real source code, one thread.
//
// usage: bench_tokenizer TOKENIZER_JSON [FILE...]
// Without files it reads the *.py files under /usr/lib/python3.11 (sorted,
// up to 20 MB). Prints one JSON object; only the encode calls are timed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/args.h"
#include "engine/errors.h"
#include "engine/tokenizer.h"
#include "support/files.h"

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxBytes = 20u << 20;

std::vector<fs::path> default_files() {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it("/usr/lib/python3.11", ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file() && it->path().extension() == ".py") files.push_back(it->path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positionals;
  astfill::bench::ArgParser args(
      "bench_tokenizer",
      "arguments: TOKENIZER_JSON [FILE...]\n\n"
      "Tokenizer throughput on source code, one thread: encodes the FILEs (default: the *.py\n"
      "files under /usr/lib/python3.11, sorted, up to 20 MB) with the tokenizer.json.\n"
      "Prints one JSON object; only the encode calls are timed.");
  args.positional("TOKENIZER_JSON [FILE...]", [&](const std::string& v) { positionals.push_back(v); });
  astfill::bench::parse_args_or_exit(args, "bench_tokenizer", argc, argv);
  if (positionals.empty()) {
    std::fprintf(stderr, "bench_tokenizer: no TOKENIZER_JSON (see 'bench_tokenizer --help')\n");
    return 2;
  }
  try {
    astfill::engine::Tokenizer tokenizer(astfill::engine::read_tokenizer_json(positionals[0]));
    std::vector<fs::path> paths =
        positionals.size() > 1 ? std::vector<fs::path>(positionals.begin() + 1, positionals.end()) : default_files();
    std::vector<std::string> texts;
    size_t bytes = 0;
    for (const auto& p : paths) {
      if (bytes >= kMaxBytes) break;
      std::string text;
      if (auto error = astfill::support::read_text(p, text)) {
        std::fprintf(stderr, "bench_tokenizer: %s\n", error->c_str());
        return 1;
      }
      bytes += text.size();
      texts.push_back(std::move(text));
    }
    size_t tokens = 0;
    auto start = std::chrono::steady_clock::now();
    for (const auto& t : texts) tokens += tokenizer.encode(t).size();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto stats = tokenizer.cache_stats();
    std::printf(
        "{\"files\": %zu, \"bytes\": %zu, \"tokens\": %zu, \"seconds\": %.3f, \"mb_per_s\": %.2f, "
        "\"tokens_per_s\": %.0f, \"cache_hit_rate\": %.4f}\n",
        texts.size(), bytes, tokens, seconds, bytes / seconds / 1e6, tokens / seconds,
        stats.lookups ? static_cast<double>(stats.hits) / stats.lookups : 0.0);
    return 0;
  } catch (const astfill::engine::ModelError& e) {
    std::fprintf(stderr, "bench_tokenizer: %s\n", e.what());
    return 1;
  }
}
