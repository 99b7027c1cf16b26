// `astfill models`: the models `astfill pull` downloaded (the .gguf files of
// the models directory), each with what its GGUF header says: architecture,
// parameter count, layers, context length and weight type. Reads only the
// header and tensor directory; no weights are loaded.
#include <boost/json.hpp>

#include <cstdio>
#include <map>

#include "support/args.h"
#include "cli/commands.h"
#include "cli/model_name.h"
#include "engine/gguf.h"
#include "hub/model_cache.h"

namespace astfill::cli {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

struct ModelSummary {
  hub::CachedModel file;
  std::string architecture, model_name, weight_type, error;
  uint64_t parameters = 0;
  int64_t block_count = 0, context_length = 0;
};

ModelSummary summarize(const hub::CachedModel& file) {
  ModelSummary s;
  s.file = file;
  try {
    auto gguf = engine::GgufFile::open(file.path.string());
    s.architecture = gguf.get_string("general.architecture");
    if (const auto* name = gguf.find("general.name"); name && name->type == engine::GgufType::String)
      s.model_name = name->s;
    s.block_count = gguf.get_int_opt(s.architecture + ".block_count").value_or(0);
    s.context_length = gguf.get_int_opt(s.architecture + ".context_length").value_or(0);
    // The weight type is the one most of the 2-D tensors' bytes are in (a
    // Q4_K_M file is mostly Q4_K, with some Q6_K).
    std::map<std::string, uint64_t> bytes_by_type;
    for (const auto& t : gguf.tensors()) {
      s.parameters += static_cast<uint64_t>(t.elements());
      if (t.ne.size() >= 2) bytes_by_type[engine::type_info(t.type).name] += t.bytes;
    }
    uint64_t most = 0;
    for (const auto& [type, bytes] : bytes_by_type)
      if (bytes > most) most = bytes, s.weight_type = type;
  } catch (const std::exception& e) {
    s.error = e.what();
  }
  return s;
}

std::string human_count(uint64_t n) {
  char buf[32];
  if (n >= 1000000000ull) std::snprintf(buf, sizeof buf, "%.2fB", n / 1e9);
  else if (n >= 1000000ull) std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
  else std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  return buf;
}

json::object to_json(const ModelSummary& s) {
  json::object o{{"name", s.file.name}, {"path", s.file.path.string()}, {"bytes", s.file.bytes}};
  if (s.file.mmproj) o["mmproj"] = s.file.mmproj->string();
  if (!s.error.empty()) {
    o["error"] = s.error;
    return o;
  }
  o["architecture"] = s.architecture;
  o["model_name"] = s.model_name;
  o["parameters"] = s.parameters;
  o["block_count"] = s.block_count;
  o["context_length"] = s.context_length;
  o["weight_type"] = s.weight_type;
  return o;
}

}  // namespace

int run_models(const std::vector<std::string>& args) {
  bool as_json = false;
  std::string dir;
  ArgParser p("astfill models",
              "Lists the models in the models directory (what `astfill pull` downloaded; --model\n"
              "accepts their names): name, size, architecture, parameters and weight type, read\n"
              "from each GGUF header.");
  p.flag("--json", "print a JSON array of {name, path, bytes, architecture, model_name,\n"
                   "parameters, block_count, context_length, weight_type, mmproj (a VL model's\n"
                   "vision tower, when pulled beside it)} (or error)",
         [&] { as_json = true; });
  p.option("--dir", "DIR", "list DIR instead of the models directory",
           [&](const std::string& v) -> std::optional<std::string> {
             dir = v;
             return std::nullopt;
           });
  if (auto err = p.parse(args)) {
    std::fprintf(stderr, "astfill models: %s\n", err->c_str());
    return 2;
  }
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  fs::path models = dir.empty() ? default_models_dir() : fs::path(dir);
  std::vector<ModelSummary> summaries;
  for (const auto& file : hub::list_cached_models(models)) summaries.push_back(summarize(file));

  if (as_json) {
    json::array out;
    for (const auto& s : summaries) out.push_back(to_json(s));
    std::printf("%s\n", json::serialize(out).c_str());
    return 0;
  }
  if (summaries.empty()) {
    std::printf("no models in %s (astfill pull NAME downloads one; astfill pull --list names them)\n",
                models.c_str());
    return 0;
  }
  std::printf("%-28s %10s  %-10s %8s  %-6s  %s\n", "NAME", "SIZE", "ARCH", "PARAMS", "TYPE", "PATH");
  for (const auto& s : summaries) {
    if (!s.error.empty()) {
      std::printf("%-28s %7.1f MB  unreadable: %s\n", s.file.name.c_str(), s.file.bytes / 1e6, s.error.c_str());
      continue;
    }
    std::printf("%-28s %7.1f MB  %-10s %8s  %-6s  %s\n", s.file.name.c_str(), s.file.bytes / 1e6,
                s.architecture.c_str(), human_count(s.parameters).c_str(), s.weight_type.c_str(),
                s.file.path.c_str());
    if (s.file.mmproj) std::printf("%-28s %10s  vision tower %s\n", "", "", s.file.mmproj->c_str());
  }
  return 0;
}

}  // namespace astfill::cli
