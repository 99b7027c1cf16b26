// `astfill inspect MODEL`: what a model file holds.
#include <boost/json.hpp>
#include <cstdio>
#include <map>

#include "support/args.h"
#include "cli/commands.h"
#include "cli/model_name.h"
#include "engine/errors.h"
#include "engine/model_file.h"

namespace astfill::cli {
namespace json = boost::json;
using namespace astfill::engine;

namespace {

std::string human_bytes(uint64_t n) {
  char buf[32];
  if (n >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", n / double(1ull << 30));
  else if (n >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", n / double(1ull << 20));
  else if (n >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", n / 1024.0);
  else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  return buf;
}

std::string shape(const std::vector<int64_t>& ne) {
  std::string s;
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? " x " : "") + std::to_string(ne[i]);
  return s;
}

size_t special_count(const TokenizerData& t) {
  size_t n = 0;
  for (auto type : t.token_types) n += type == TokenType::Control || type == TokenType::UserDefined;
  return n;
}

json::object hparams_json(const HyperParams& hp) {
  json::object o{{"architecture", hp.arch},
                 {"name", hp.name},
                 {"context_length", hp.context_length},
                 {"embedding_length", hp.embedding_length},
                 {"block_count", hp.block_count},
                 {"feed_forward_length", hp.feed_forward_length},
                 {"head_count", hp.head_count},
                 {"head_count_kv", hp.head_count_kv},
                 {"head_dim", hp.head_dim},
                 {"rms_norm_eps", hp.rms_norm_eps},
                 {"rope_freq_base", hp.rope_freq_base},
                 {"rope_scaling", json::object{{"type", hp.rope_scaling.type},
                                               {"factor", hp.rope_scaling.factor},
                                               {"original_context_length", hp.rope_scaling.original_context_length}}},
                 {"vocab_size", hp.vocab_size},
                 {"tied_embeddings", hp.tied_embeddings}};
  if (hp.arch == "qwen3moe") {
    o["expert_count"] = hp.expert_count;
    o["expert_used_count"] = hp.expert_used_count;
    o["expert_feed_forward_length"] = hp.expert_feed_forward_length;
    o["norm_topk_prob"] = hp.norm_topk_prob;
  }
  return o;
}

void print_json(const ModelFile& m) {
  json::array tensors;
  for (const auto& t : m.tensors()) {
    json::array ne;
    for (auto d : t.ne) ne.push_back(d);
    tensors.push_back(json::object{{"name", t.name}, {"type", type_info(t.type).name},
                                   {"shape", std::move(ne)}, {"bytes", t.bytes}});
  }
  const auto& tok = m.tokenizer();
  json::object tokenizer{{"model", tok.model}, {"pre", tok.pre}, {"tokens", tok.tokens.size()},
                         {"special_tokens", special_count(tok)}, {"merges", tok.merges.size()}};
  if (tok.bos_id) tokenizer["bos_id"] = *tok.bos_id;
  if (tok.eos_id) tokenizer["eos_id"] = *tok.eos_id;
  json::object out{{"path", m.path()},
                   {"format", m.format()},
                   {"hparams", hparams_json(m.hparams())},
                   {"tokenizer", std::move(tokenizer)},
                   {"tensor_bytes", m.tensor_bytes()},
                   {"tensors", std::move(tensors)}};
  if (m.gguf()) {
    out["gguf_version"] = m.gguf()->version();
    json::object meta;
    for (const auto& [k, v] : m.gguf()->metadata()) meta[k] = v.summary();
    out["metadata"] = std::move(meta);
  }
  std::puts(json::serialize(out).c_str());
}

void print_text(const ModelFile& m) {
  const auto& hp = m.hparams();
  std::printf("model:        %s\n", m.path().c_str());
  std::printf("format:       %s", m.format().c_str());
  if (m.gguf()) std::printf(" v%u, %s", m.gguf()->version(), human_bytes(m.gguf()->file_bytes()).c_str());
  std::printf("\narchitecture: %s%s%s\n", hp.arch.c_str(), hp.name.empty() ? "" : "  ", hp.name.c_str());
  std::printf("  layers %u, hidden %u, heads %u (kv %u), head_dim %u, ", hp.block_count,
              hp.embedding_length, hp.head_count, hp.head_count_kv, hp.head_dim);
  if (hp.arch == "qwen3moe")
    std::printf("experts %u (top-%u, ffn %u), ", hp.expert_count, hp.expert_used_count,
                hp.expert_feed_forward_length);
  else
    std::printf("ffn %u, ", hp.feed_forward_length);
  std::printf("vocab %u\n  context %u, rope base %g%s, rms eps %g, %s embeddings\n", hp.vocab_size,
              hp.context_length, hp.rope_freq_base,
              hp.rope_scaling.type == "none" ? "" : (" (" + hp.rope_scaling.type + " x" + std::to_string(hp.rope_scaling.factor) + ")").c_str(),
              hp.rms_norm_eps, hp.tied_embeddings ? "tied" : "separate output");
  const auto& tok = m.tokenizer();
  std::printf("tokenizer:    %s/%s, %zu tokens (%zu special), %zu merges", tok.model.c_str(),
              tok.pre.c_str(), tok.tokens.size(), special_count(tok), tok.merges.size());
  if (tok.eos_id) std::printf(", eos %d", *tok.eos_id);
  std::printf("\n");
  std::map<std::string, std::pair<size_t, uint64_t>> by_type;
  for (const auto& t : m.tensors()) {
    auto& e = by_type[type_info(t.type).name];
    e.first++;
    e.second += t.bytes;
  }
  std::printf("tensors:      %zu, %s:", m.tensors().size(), human_bytes(m.tensor_bytes()).c_str());
  for (auto& [type, e] : by_type) std::printf(" %s %zu (%s)", type.c_str(), e.first, human_bytes(e.second).c_str());
  std::printf("\n\n  %-40s %-5s %-22s %s\n", "name", "type", "shape", "bytes");
  for (const auto& t : m.tensors())
    std::printf("  %-40s %-5s %-22s %zu\n", t.name.c_str(), type_info(t.type).name, shape(t.ne).c_str(), t.bytes);
}

}  // namespace

int run_inspect(const std::vector<std::string>& args) {
  bool as_json = false;
  std::vector<std::string> rest;
  ArgParser p("astfill inspect MODEL",
              "Prints a model's architecture, hyperparameters, tokenizer summary and tensor table.\n"
              "MODEL is a GGUF file, a Hugging Face checkpoint directory, or the name of a model\n"
              "`astfill pull` downloaded.");
  p.flag("--json", "print one JSON object instead of text", [&] { as_json = true; });
  p.positional("MODEL", [&](const std::string& v) { rest.push_back(v); });
  if (auto err = p.parse(args)) {
    std::fprintf(stderr, "astfill inspect: %s\n", err->c_str());
    return 2;
  }
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (rest.size() != 1) {
    std::fprintf(stderr, "astfill inspect: expected one MODEL path (see --help)\n");
    return 2;
  }
  try {
    ModelFile m = ModelFile::open(resolve_model_argument(rest[0]));
    if (as_json) print_json(m);
    else print_text(m);
  } catch (const ModelError& e) {
    std::fprintf(stderr, "astfill inspect: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {  // e.g. a filesystem error: still an answer, not an abort
    std::fprintf(stderr, "astfill inspect: %s: %s\n", rest[0].c_str(), e.what());
    return 1;
  }
  return 0;
}

}  // namespace astfill::cli
