// bench_secrets: the secret scanner on real code. Every finding in published
// library code (numpy, the Python standard library by default) counts as a
// false positive; reports findings per 10K lines, by rule, with where they
// are, and the scanning cost per KB. Also the recall on the rules' own
// examples. Prints JSON.
//
//   bench_secrets [--ext .py] [--runs N] [DIR...]
//
// --fixture: the recall on a generated project instead. For every rule, N
// secrets (--per-rule, default 8) are planted in the files of a project
// written to a fresh folder: each is one of the rule's examples with its
// secret redrawn at random (redraw: same length and structure, each random-
// looking run from its own classes, the rule's keywords kept), in a file of
// ordinary code. The files are read back and scanned; a planted
// secret is found when a finding overlaps it. Prints {planted, found,
// found_same_kind, other_findings, by_rule: {id: [planted, found]}, missed}.
//
//   bench_secrets --fixture [--per-rule N] [--seed K] [--keep DIR]
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/args.h"
#include "trust/secret_stream.h"
#include "trust/secrets.h"

namespace fs = std::filesystem;
using namespace astfill;

namespace {

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += c;
  }
  return out;
}

struct Corpus {
  std::string root;
  size_t files = 0, lines = 0, bytes = 0, findings = 0;
  double seconds = 0;
  double stream_check_us = 0;  // one SecretStreamCheck::check call on a growing completion
  size_t stream_checks = 0;
  std::map<std::string, size_t> by_rule;
  std::vector<std::string> where;  // "path:line rule"
};

Corpus measure(const std::string& root, const std::string& ext, size_t runs) {
  Corpus c;
  c.root = root;
  std::vector<std::pair<std::string, std::string>> texts;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec) || it->path().extension() != ext) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    texts.emplace_back(it->path().string(), ss.str());
  }
  std::sort(texts.begin(), texts.end());
  const trust::SecretScanner& scanner = trust::default_scanner();
  double best = 1e300;
  for (size_t run = 0; run < runs; ++run) {
    auto t0 = std::chrono::steady_clock::now();
    size_t n = 0;
    for (const auto& [path, text] : texts) n += scanner.scan(text).size();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
    if (n == 0) best = std::min(best, s);  // keeps the result live
  }
  c.seconds = best;
  // The decoding check: each file's first 2 KB as the prefix, its next 512
  // bytes written as a completion in 4-byte steps (about one token each).
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& [path, text] : texts) {
    if (text.size() < 2560) continue;
    trust::SecretStreamCheck check(std::string_view(text).substr(0, 2048), "");
    for (size_t n = 4; n <= 512; n += 4, ++c.stream_checks) check.check(std::string_view(text).substr(2048, n));
  }
  double stream_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  c.stream_check_us = c.stream_checks ? 1e6 * stream_s / static_cast<double>(c.stream_checks) : 0;
  for (const auto& [path, text] : texts) {
    ++c.files;
    c.bytes += text.size();
    c.lines += static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    for (const trust::Finding& f : scanner.scan(text)) {
      ++c.findings;
      ++c.by_rule[f.rule->id];
      size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(f.begin), '\n'));
      c.where.push_back(path.substr(root.size() + 1) + ":" + std::to_string(line) + " " + f.rule->id);
    }
  }
  return c;
}


// ---- the fixture project (--fixture) --------------------------------------

// `secret` redrawn: each run of letters and digits that looks random (6 or
// more, with a digit or both cases) gets new characters of its own classes
// (a hex run stays hex, a base32 run [A-Z2-7] stays base32), the parts that
// match one of the rule's keywords kept; the structure around the runs
// (`-----BEGIN RSA PRIVATE KEY-----`, `https://hooks.slack.com/services/`)
// stays as it is.
std::string redraw(std::string secret, const trust::SecretRule& rule, std::mt19937_64& rng) {
  std::vector<bool> keep(secret.size(), false);
  std::string lower = secret;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const std::string& k : rule.keywords)
    for (size_t at = lower.find(k); !k.empty() && at != std::string::npos; at = lower.find(k, at + 1))
      for (size_t i = at; i < at + k.size(); ++i) keep[i] = true;
  auto pick = [&](const char* set) { return set[std::uniform_int_distribution<size_t>(0, std::strlen(set) - 1)(rng)]; };
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (size_t b = 0; b < secret.size();) {
    if (!alnum(secret[b])) {
      ++b;
      continue;
    }
    size_t e = b;
    while (e < secret.size() && alnum(secret[e])) ++e;
    std::string_view run(secret.data() + b, e - b);
    auto has = [&](auto pred) { return std::any_of(run.begin(), run.end(), pred); };
    auto all = [&](auto pred) { return std::all_of(run.begin(), run.end(), pred); };
    bool digit = has([](char c) { return c >= '0' && c <= '9'; });
    bool upper = has([](char c) { return c >= 'A' && c <= 'Z'; }), lowr = has([](char c) { return c >= 'a' && c <= 'z'; });
    if (run.size() >= 6 && (digit || (upper && lowr))) {
      bool hex_lower = all([](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
      bool hex_upper = all([](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); });
      bool base32 = all([](char c) { return (c >= '2' && c <= '7') || (c >= 'A' && c <= 'Z'); });
      const char* digits = base32 && !hex_upper ? "234567" : "0123456789";
      const char* lowers = hex_lower ? "abcdef" : "abcdefghijklmnopqrstuvwxyz";
      const char* uppers = hex_upper ? "ABCDEF" : "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
      for (size_t i = b; i < e; ++i) {
        if (keep[i]) continue;
        char& c = secret[i];
        c = c >= '0' && c <= '9' ? pick(digits) : c >= 'a' && c <= 'z' ? pick(lowers) : pick(uppers);
      }
    }
    b = e;
  }
  return secret;
}

// Ordinary code around the planted lines, by file kind.
const char* filler_of(const std::string& ext) {
  if (ext == ".py")
    return "def handler(request, context):\n    \"\"\"Handles one request.\"\"\"\n    total = sum(x.size for x in "
           "request.items)\n    return {\"total\": total, \"id\": context.request_id}\n\n\n";
  if (ext == ".js")
    return "export function handler(request, context) {\n  const total = request.items.reduce((a, x) => a + x.size, "
           "0);\n  return { total, id: context.requestId };\n}\n\n";
  if (ext == ".go")
    return "func handler(r *Request, c *Context) map[string]int {\n\ttotal := 0\n\tfor _, x := range r.Items {\n"
           "\t\ttotal += x.Size\n\t}\n\treturn map[string]int{\"total\": total}\n}\n\n";
  return "# service settings\nservice:\n  name: handler\n  replicas: 3\n  timeout_seconds: 30\n\n";
}

struct Planted {
  std::string path;
  size_t begin = 0, end = 0;  // the secret's bytes in the file
  const trust::SecretRule* rule = nullptr;
};

int run_fixture(size_t per_rule, uint64_t seed, const std::string& keep) {
  const trust::SecretScanner& scanner = trust::default_scanner();
  std::mt19937_64 rng(seed);
  fs::path root = keep.empty() ? fs::temp_directory_path() / ("astfill-secrets-fixture-" + std::to_string(seed) + "-" +
                                                                std::to_string(::getpid()))
                               : fs::path(keep);
  std::error_code ec;
  if (!keep.empty() && fs::exists(root) && !fs::is_empty(root, ec)) {
    std::fprintf(stderr, "bench_secrets: --keep %s: the folder exists and is not empty\n", keep.c_str());
    return 2;
  }
  fs::create_directories(root);
  const char* exts[] = {".py", ".js", ".go", ".yaml"};
  // One file per rule and extension; each planted line between filler.
  std::map<std::string, std::string> files;
  std::vector<Planted> planted;
  for (const trust::SecretRule& rule : trust::builtin_rules()) {
    size_t n = 0;
    for (size_t attempt = 0; n < per_rule && attempt < per_rule * 20; ++attempt) {
      const std::string& example = rule.examples[attempt % rule.examples.size()];
      std::vector<trust::Finding> found = scanner.scan(example);
      auto own = std::find_if(found.begin(), found.end(), [&](const trust::Finding& f) { return f.rule->id == rule.id; });
      if (own == found.end()) continue;  // an example another rule's finding overlaps
      std::string secret = redraw(example.substr(own->begin, own->end - own->begin), rule, rng);
      std::string line = example.substr(0, own->begin) + secret + example.substr(own->end);
      std::string ext = exts[n % 4];
      std::string path = std::string(rule.kind.find("private") != std::string::npos ? "keys/" : "src/") +
                         rule.id + ext;
      std::string& text = files[path];
      if (text.empty()) text = filler_of(ext);
      Planted p{path, text.size() + own->begin, text.size() + own->begin + secret.size(), &rule};
      text += line + "\n\n" + filler_of(ext);
      planted.push_back(p);
      ++n;
    }
  }
  for (const auto& [path, text] : files) {
    fs::create_directories((root / path).parent_path());
    std::ofstream(root / path, std::ios::binary) << text;
  }
  // Read back and scan.
  std::map<std::string, std::pair<size_t, size_t>> by_rule;  // id -> planted, found
  size_t found_any = 0, found_same_kind = 0, other = 0;
  std::vector<std::string> missed;
  std::map<std::string, std::vector<trust::Finding>> findings;
  for (const auto& [path, text] : files) {
    std::ifstream in(root / path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    findings[path] = scanner.scan(ss.str());
  }
  for (const Planted& p : planted) {
    auto& fs_of = findings[p.path];
    ++by_rule[p.rule->id].first;
    auto hit = std::find_if(fs_of.begin(), fs_of.end(),
                            [&](const trust::Finding& f) { return f.begin < p.end && p.begin < f.end; });
    if (hit == fs_of.end()) {
      missed.push_back(p.path + ":" + files[p.path].substr(p.begin, p.end - p.begin));
      continue;
    }
    ++found_any;
    ++by_rule[p.rule->id].second;
    if (hit->rule->kind == p.rule->kind) ++found_same_kind;
  }
  for (const auto& [path, fs_of] : findings)
    for (const trust::Finding& f : fs_of) {
      bool planted_here = std::any_of(planted.begin(), planted.end(), [&](const Planted& p) {
        return p.path == path && f.begin < p.end && p.begin < f.end;
      });
      other += planted_here ? 0 : 1;
    }
  size_t lines = 0;
  for (const auto& [path, text] : files) lines += static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  std::printf("{\n  \"fixture\": \"%s\", \"files\": %zu, \"lines\": %zu, \"seed\": %llu, \"per_rule\": %zu,\n",
              json_escape(root.string()).c_str(), files.size(), lines, static_cast<unsigned long long>(seed), per_rule);
  std::printf("  \"planted\": %zu, \"found\": %zu, \"found_same_kind\": %zu, \"recall\": %.4f, \"other_findings\": %zu,\n",
              planted.size(), found_any, found_same_kind,
              planted.empty() ? 0.0 : static_cast<double>(found_any) / static_cast<double>(planted.size()), other);
  std::printf("  \"by_rule\": {");
  size_t k = 0;
  for (const auto& [id, pf] : by_rule) std::printf("%s\"%s\": [%zu, %zu]", k++ ? ", " : "", id.c_str(), pf.first, pf.second);
  std::printf("},\n  \"missed\": [");
  for (size_t i = 0; i < missed.size(); ++i) std::printf("%s\"%s\"", i ? ", " : "", json_escape(missed[i]).c_str());
  std::printf("]\n}\n");
  if (keep.empty()) fs::remove_all(root);
  return planted.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string ext = ".py";
  size_t runs = 3;
  std::vector<std::string> roots;
  bool fixture = false;
  size_t per_rule = 8;
  uint64_t seed = 1;
  std::string keep;
  bench::ArgParser args("bench_secrets", "The secret scanner's false positives and cost on real code (JSON)");
  args.option("--ext", "EXT", "file extension to scan (default .py)", bench::text_value(ext));
  args.option("--runs", "N", "timing runs, best taken (default 3)", bench::count_value(runs, "run count", 1, 100));
  args.flag("--fixture", "the recall on a generated project with secrets planted for every rule (JSON)",
            [&] { fixture = true; });
  args.option("--per-rule", "N", "with --fixture: secrets planted per rule (default 8)",
              bench::count_value(per_rule, "secret count", 1, 1000));
  args.option("--seed", "K", "with --fixture: the random seed (default 1)",
              bench::count_value(seed, "seed", 0, 1000000000));
  args.option("--keep", "DIR", "with --fixture: write the project to DIR (new or empty) and keep it", bench::text_value(keep));
  args.positional("DIR", [&](const std::string& d) { roots.push_back(d); });
  bench::parse_args_or_exit(args, "bench_secrets", argc, argv);
  if (fixture) return run_fixture(per_rule, seed, keep);
  if (roots.empty()) roots = {"/usr/lib/python3/dist-packages/numpy", "/usr/lib/python3.11"};

  size_t examples = 0, found = 0;
  for (const trust::SecretRule& rule : trust::builtin_rules())
    for (const std::string& e : rule.examples) {
      ++examples;
      found += trust::default_scanner().scan(e).empty() ? 0 : 1;
    }

  std::printf("{\n  \"rules\": %zu,\n  \"recall_on_rule_examples\": {\"examples\": %zu, \"found\": %zu},\n",
              trust::builtin_rules().size(), examples, found);
  std::printf("  \"corpora\": [\n");
  for (size_t i = 0; i < roots.size(); ++i) {
    Corpus c = measure(roots[i], ext, runs);
    std::printf("    {\"root\": \"%s\", \"files\": %zu, \"lines\": %zu, \"bytes\": %zu, \"findings\": %zu,\n",
                json_escape(c.root).c_str(), c.files, c.lines, c.bytes, c.findings);
    std::printf("     \"findings_per_10k_lines\": %.3f, \"scan_us_per_kb\": %.3f, \"scan_mb_per_s\": %.1f,\n",
                c.lines ? 1e4 * static_cast<double>(c.findings) / static_cast<double>(c.lines) : 0.0,
                c.bytes ? 1e6 * c.seconds / (static_cast<double>(c.bytes) / 1024) : 0.0,
                c.seconds > 0 ? static_cast<double>(c.bytes) / 1e6 / c.seconds : 0.0);
    std::printf("     \"stream_checks\": %zu, \"stream_check_us\": %.2f,\n", c.stream_checks, c.stream_check_us);
    std::printf("     \"by_rule\": {");
    size_t k = 0;
    for (const auto& [rule, n] : c.by_rule) std::printf("%s\"%s\": %zu", k++ ? ", " : "", rule.c_str(), n);
    std::printf("},\n     \"where\": [");
    for (size_t j = 0; j < c.where.size(); ++j)
      std::printf("%s\"%s\"", j ? ", " : "", json_escape(c.where[j]).c_str());
    std::printf("]}%s\n", i + 1 < roots.size() ? "," : "");
  }
  std::printf("  ]\n}\n");
  return 0;
}
