// bench_typing: what one keystroke costs. At the cursor positions of 12
// consecutive lines of a real module, a cold request (a fresh session: the
// whole prompt prefilled) and then the request after one more typed character
// (the same session: the prompt shares everything up to the cursor, so only
// what follows it is prefilled again: in Qwen's prefix-suffix-middle order,
// the whole suffix section) are timed to their last token (--max-tokens,
// greedy). Reported per setting: p50 prefilled tokens and milliseconds, cold
// and after a keystroke, and their ratio (the target: <= 40%).
// Settings: the suffix budget (astfill.context.suffixTokens, 256 by default)
// and speculation (on by default).
// Prompts: <|fim_prefix|> about 1024 tokens before the cursor, from a line
// start that stays put while typing <|fim_suffix|> the first N tokens after
// it <|fim_middle|>. Prints one JSON
// object.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "bench/args.h"
#include "bench/random_model.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "tests/fixtures/random_model.h"
#include "support/openmp_env.h"

using namespace astfill::engine;
namespace json = boost::json;

namespace {
using clock_type = std::chrono::steady_clock;

double p50(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Setting {
  size_t suffix_tokens;
  bool speculate;
};
}  // namespace

int main(int argc, char** argv) {
  astfill::support::prefer_passive_openmp_wait(argv);  // as astfill itself runs
  std::string model_path, model_dir = (std::filesystem::temp_directory_path() / "astfill-bench").string();
  std::string file = "/usr/lib/python3.11/textwrap.py";
  int threads = 2, max_tokens = 32;
  size_t first_line = 120, lines = 12, prefix_tokens = 1024;
  astfill::bench::ArgParser args(
      "bench_typing",
      "What one keystroke costs: cold requests and the request after one more typed character at\n"
      "12 lines of a real module, prefilled tokens and time to the last token (p50), by suffix\n"
      "budget and speculation. By default the random model with Qwen2.5-Coder-0.5B's shapes\n"
      "(Q8_0, written once to --model-dir). Prints one JSON object.");
  args.option("--model", "PATH", "measure this model file instead", astfill::bench::text_value(model_path));
  args.option("--model-dir", "DIR", "where the random model is kept (default: $TMPDIR/astfill-bench)",
              astfill::bench::text_value(model_dir));
  args.option("--file", "PATH", "the module typed in (default /usr/lib/python3.11/textwrap.py)",
              astfill::bench::text_value(file));
  args.option("--line", "N", "the first line (default 120)", astfill::bench::count_value(first_line, "line", 1, 1000000));
  args.option("--lines", "N", "lines (default 12)", astfill::bench::count_value(lines, "line count", 1, 1000));
  args.option("--threads", "N", "threads (default 2)", astfill::bench::count_value(threads, "thread count", 1, 256));
  args.option("--max-tokens", "N", "tokens per completion (default 32)",
              astfill::bench::count_value(max_tokens, "token count", 1, 4096));
  astfill::bench::parse_args_or_exit(args, "bench_typing", argc, argv);
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "bench_typing: cannot read %s\n", file.c_str());
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (model_path.empty()) {
    std::filesystem::create_directories(model_dir);
    model_path = model_dir + "/qwen2.5-0.5b-shapes.q8_0.gguf";
    if (!std::filesystem::exists(model_path)) write_random_model(model_path, astfill::bench::qwen_05b_shapes_spec());
  }
  auto model = Model::open(model_path, {WeightMode::Int8, threads});
  const Tokenizer& tok = model->tokenizer();
  auto special = [&](const char* s) {
    auto id = tok.find_token(s);
    if (!id) {
      std::fprintf(stderr, "bench_typing: the model has no %s token\n", s);
      std::exit(1);
    }
    return *id;
  };
  const int32_t fim_prefix = special("<|fim_prefix|>"), fim_suffix = special("<|fim_suffix|>"),
                fim_middle = special("<|fim_middle|>");
  // Cursors: in each line, after its indentation and three more characters.
  std::vector<size_t> cursors;
  size_t at = 0, line = 1;
  while (at < text.size() && cursors.size() < lines) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (line >= first_line) {
      size_t c = text.find_first_not_of(" \t", at);
      if (c != std::string::npos && c + 4 < end) cursors.push_back(c + 3);
    }
    at = end + 1;
    ++line;
  }
  // The prefix starts at a line start chosen once per cursor (about
  // --prefix-tokens before it), as the prompt builder keeps its window where
  // it was while the user types: a window that slid with every character
  // would share no tokens with the last prompt.
  auto prefix_start = [&](size_t cursor) {
    size_t start = cursor;
    while (start > 0) {
      const size_t nl = start >= 2 ? text.rfind('\n', start - 2) : std::string::npos;
      const size_t candidate = nl == std::string::npos ? 0 : nl + 1;  // the line start before start - 1
      if (tok.encode(std::string_view(text).substr(candidate, cursor - candidate), false).size() > prefix_tokens) break;
      start = candidate;
    }
    return start;
  };
  auto prompt_at = [&](size_t start, size_t cursor, size_t suffix_tokens) {
    auto p = tok.encode(std::string_view(text).substr(start, cursor - start), false);
    auto s = tok.encode(std::string_view(text).substr(cursor), false);
    std::vector<int32_t> out{fim_prefix};
    out.insert(out.end(), p.begin(), p.end());
    out.push_back(fim_suffix);
    out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(std::min(s.size(), suffix_tokens)));
    out.push_back(fim_middle);
    return out;
  };
  json::array rows;
  for (Setting setting : {Setting{256, false}, Setting{256, true}, Setting{64, true}}) {
    std::vector<double> cold_ms, key_ms, cold_tokens, key_tokens;
    for (size_t cursor : cursors) {
      const size_t start = prefix_start(cursor);
      Session session(*model, 4096);
      std::vector<int32_t> history;
      GenerateOptions o;
      o.max_tokens = max_tokens;
      o.speculate.enable = setting.speculate;
      for (int keystroke = 0; keystroke < 2; ++keystroke) {
        auto prompt = prompt_at(start, cursor + static_cast<size_t>(keystroke), setting.suffix_tokens);
        Sampler sampler;
        auto t0 = clock_type::now();
        auto stats = generate(session, history, prompt, o, sampler, nullptr);
        const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
        (keystroke ? key_ms : cold_ms).push_back(ms);
        (keystroke ? key_tokens : cold_tokens).push_back(static_cast<double>(stats.prompt_tokens - stats.reused_tokens));
      }
    }
    const double c = p50(cold_ms), k = p50(key_ms);
    rows.push_back(json::object{{"suffix_tokens", setting.suffix_tokens},
                                {"speculate", setting.speculate},
                                {"cold_ms_p50", c},
                                {"keystroke_ms_p50", k},
                                {"keystroke_over_cold", c > 0 ? k / c : 0},
                                {"cold_prefilled_tokens_p50", p50(cold_tokens)},
                                {"keystroke_prefilled_tokens_p50", p50(key_tokens)}});
  }
  json::object out{{"benchmark", "typing"},      {"model", model_path}, {"file", file},
                   {"cursors", cursors.size()},  {"threads", threads},  {"max_tokens", max_tokens},
                   {"prefix_tokens", prefix_tokens}, {"settings", rows}};
  std::printf("%s\n", json::serialize(out).c_str());
  return 0;
}
