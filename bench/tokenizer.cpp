// Tokenizer throughput on real source code, one thread.
//
// usage: bench_tokenizer TOKENIZER_JSON [FILE...]
// Without files it reads the *.py files under /usr/lib/python3.11 (sorted,
// up to 20 MB). Prints one JSON object; only the encode calls are timed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/errors.h"
#include "engine/tokenizer.h"

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxBytes = 20u << 20;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

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
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_tokenizer TOKENIZER_JSON [FILE...]\n");
    return 2;
  }
  try {
    astfill::engine::Tokenizer tokenizer(astfill::engine::read_tokenizer_json(argv[1]));
    std::vector<fs::path> paths = argc > 2 ? std::vector<fs::path>(argv + 2, argv + argc) : default_files();
    std::vector<std::string> texts;
    size_t bytes = 0;
    for (const auto& p : paths) {
      if (bytes >= kMaxBytes) break;
      texts.push_back(read_file(p));
      bytes += texts.back().size();
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
