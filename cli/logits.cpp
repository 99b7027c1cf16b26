// `astfill logits` and `astfill perplexity`: the model's raw predictions over
// a text, for comparing engines, weight paths and quantisations.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "engine/errors.h"
#include "support/files.h"

namespace astfill::cli {
using namespace astfill::engine;

namespace {

// Evaluates `ids` in windows of `context` tokens (each window starts a fresh
// cache) and hands every position's logits to `row(i, logits)`.
template <typename Fn>
void evaluate_all(const Model& model, const std::vector<int32_t>& ids, size_t context, const cli::ModelOptions& mo,
                  Fn&& row) {
  Session s(model, context);
  mo.apply_adapters(s);
  const size_t V = model.hparams().vocab_size;
  for (size_t start = 0; start < ids.size(); start += context) {
    s.truncate(0);
    size_t end = std::min(ids.size(), start + context);
    Session::Batch b{{ids.begin() + static_cast<std::ptrdiff_t>(start), ids.begin() + static_cast<std::ptrdiff_t>(end)},
                     {}, std::vector<bool>(end - start, true)};
    auto logits = s.evaluate(b);
    for (size_t i = 0; i < end - start; ++i) row(start + i, logits.data() + i * V);
  }
}

double log_softmax_at(const float* l, size_t V, size_t at) {
  double max = l[0];
  for (size_t v = 1; v < V; ++v) max = std::max(max, double(l[v]));
  double z = 0;
  for (size_t v = 0; v < V; ++v) z += std::exp(l[v] - max);
  return l[at] - max - std::log(z);
}

int fail(const char* cmd, const std::string& msg, int code) {
  std::fprintf(stderr, "astfill %s: %s\n", cmd, msg.c_str());
  return code;
}

}  // namespace

int run_logits(const std::vector<std::string>& args) {
  ModelOptions mo;
  std::string text_file, out;
  bool all = false;
  ArgParser p("astfill logits",
              "Writes the logits of the last position of TEXT (or of every position with --all) as\n"
              "little-endian float32 to OUT, and prints the token ids used as a JSON array.");
  mo.add_to(p);
  p.option("--text-file", "F", "the text (required)", [&](const std::string& v) -> std::optional<std::string> { text_file = v; return std::nullopt; });
  p.option("--out", "O.bin", "where the logits go (required)", [&](const std::string& v) -> std::optional<std::string> { out = v; return std::nullopt; });
  p.flag("--all", "every position's logits, row after row", [&] { all = true; });
  if (auto err = p.parse(args)) return fail("logits", *err, 2);
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (mo.model.empty() || text_file.empty() || out.empty())
    return fail("logits", "--model, --text-file and --out are required", 2);
  std::string text;
  if (auto e = support::read_text(text_file, text)) return fail("logits", *e, 1);
  try {
    auto model = Model::open(mo.model, mo.load);
    auto ids = model->tokenizer().encode(text);
    if (ids.empty()) return fail("logits", "the text has no tokens", 1);
    std::ofstream o(out, std::ios::binary | std::ios::trunc);
    if (!o) return fail("logits", "cannot write '" + out + "'", 1);
    Session s(*model, ids.size());
    mo.apply_adapters(s);
    auto logits = s.evaluate({ids, {}, all ? std::vector<bool>(ids.size(), true) : std::vector<bool>{}});
    o.write(reinterpret_cast<const char*>(logits.data()), static_cast<std::streamsize>(logits.size() * sizeof(float)));
    if (!o) return fail("logits", "write to '" + out + "' failed", 1);
    std::printf("[");
    for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? ",%d" : "%d", ids[i]);
    std::printf("]\n");
  } catch (const ModelError& e) {
    return fail("logits", e.what(), 1);
  }
  return 0;
}

int run_perplexity(const std::vector<std::string>& args) {
  ModelOptions mo;
  std::string text_file, kl_base;
  unsigned long long context = 512;
  bool json = false;
  ArgParser p("astfill perplexity",
              "Perplexity of the model on a text, in windows of --context tokens. With --kl-base,\n"
              "also compares every position's distribution with logits saved by 'astfill logits --all'\n"
              "(same text, same tokenizer): mean KL divergence and top-1 agreement.");
  mo.add_to(p);
  p.option("--text-file", "F", "the text (required)", [&](const std::string& v) -> std::optional<std::string> { text_file = v; return std::nullopt; });
  p.option("--context", "N", "tokens per window (default 512)", [&](const std::string& v) { return parse_uint(v, "token count", 2, 1u << 20, context); });
  p.option("--kl-base", "O.bin", "logits of a base run to compare against", [&](const std::string& v) -> std::optional<std::string> { kl_base = v; return std::nullopt; });
  p.flag("--json", "print one JSON object", [&] { json = true; });
  if (auto err = p.parse(args)) return fail("perplexity", *err, 2);
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (mo.model.empty() || text_file.empty()) return fail("perplexity", "--model and --text-file are required", 2);
  std::string text;
  if (auto e = support::read_text(text_file, text)) return fail("perplexity", *e, 1);
  try {
    auto model = Model::open(mo.model, mo.load);
    auto ids = model->tokenizer().encode(text);
    if (ids.size() < 2) return fail("perplexity", "the text needs at least two tokens", 1);
    const size_t V = model->hparams().vocab_size;
    std::vector<float> base;
    if (!kl_base.empty()) {
      std::string bytes;
      if (auto e = support::read_text(kl_base, bytes, support::kNoSizeLimit)) return fail("perplexity", *e, 1);
      if (bytes.size() != ids.size() * V * sizeof(float))
        return fail("perplexity", kl_base + " holds " + std::to_string(bytes.size() / 4) + " floats; " +
                                      std::to_string(ids.size()) + " positions x " + std::to_string(V) +
                                      " expected (write it with 'astfill logits --all' on the same text and model family)", 1);
      base.resize(bytes.size() / 4);
      std::memcpy(base.data(), bytes.data(), bytes.size());
    }
    double nll = 0, kl = 0;
    size_t predicted = 0, agree = 0;
    evaluate_all(*model, ids, context, mo, [&](size_t i, const float* l) {
      // Only positions inside a window predict (the first of each has no past).
      if (i + 1 < ids.size() && (i + 1) % context != 0) {
        nll -= log_softmax_at(l, V, static_cast<size_t>(ids[i + 1]));
        ++predicted;
      }
      if (!base.empty()) {
        const float* b = base.data() + i * V;
        double mb = *std::max_element(b, b + V), ml = *std::max_element(l, l + V), zb = 0, zl = 0;
        for (size_t v = 0; v < V; ++v) {
          zb += std::exp(b[v] - mb);
          zl += std::exp(l[v] - ml);
        }
        double d = 0;
        for (size_t v = 0; v < V; ++v) {
          double lb = b[v] - mb - std::log(zb), ll = l[v] - ml - std::log(zl);
          d += std::exp(lb) * (lb - ll);
        }
        kl += d;
        agree += (std::max_element(b, b + V) - b) == (std::max_element(l, l + V) - l);
      }
    });
    double ppl = std::exp(nll / static_cast<double>(predicted));
    if (json) {
      std::printf("{\"tokens\":%zu,\"predicted\":%zu,\"perplexity\":%.6f", ids.size(), predicted, ppl);
      if (!base.empty())
        std::printf(",\"mean_kl\":%.6g,\"top1_agreement\":%.6f", kl / ids.size(), double(agree) / ids.size());
      std::printf("}\n");
    } else {
      std::printf("perplexity %.4f over %zu predicted tokens\n", ppl, predicted);
      if (!base.empty())
        std::printf("vs %s: mean KL %.6g, top-1 agreement %.2f%%\n", kl_base.c_str(), kl / ids.size(),
                    100.0 * agree / ids.size());
    }
  } catch (const ModelError& e) {
    return fail("perplexity", e.what(), 1);
  }
  return 0;
}

}  // namespace astfill::cli
