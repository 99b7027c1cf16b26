#include "hub/catalog.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace astfill::hub {

namespace {

// Qwen publishes GGUFs only of the Instruct models; completion wants the
// base models (trained for fill-in-the-middle), so these come from well-known
// converters. File names were checked against the repositories' file lists.
// The Q8_0 files are ggml-org's (llama.cpp's own FIM presets use them).
constexpr KnownModel kKnownModels[] = {
    {"qwen2.5-coder-0.5b:q8_0", "ggml-org/Qwen2.5-Coder-0.5B-Q8_0-GGUF", "qwen2.5-coder-0.5b-q8_0.gguf",
     "0.5 GB", "ggml-org"},
    {"qwen2.5-coder-0.5b:q4_k_m", "lmstudio-community/Qwen2.5-Coder-0.5B-GGUF", "Qwen2.5-Coder-0.5B-Q4_K_M.gguf",
     "0.4 GB", "lmstudio-community"},
    {"qwen2.5-coder-1.5b:q8_0", "ggml-org/Qwen2.5-Coder-1.5B-Q8_0-GGUF", "qwen2.5-coder-1.5b-q8_0.gguf",
     "1.6 GB", "ggml-org"},
    {"qwen2.5-coder-1.5b:q4_k_m", "mradermacher/Qwen2.5-Coder-1.5B-GGUF", "Qwen2.5-Coder-1.5B.Q4_K_M.gguf",
     "1.0 GB", "mradermacher"},
    {"qwen2.5-coder-3b:q8_0", "ggml-org/Qwen2.5-Coder-3B-Q8_0-GGUF", "qwen2.5-coder-3b-q8_0.gguf", "3.3 GB",
     "ggml-org"},
    {"qwen2.5-coder-3b:q4_k_m", "bartowski/Qwen2.5-Coder-3B-GGUF", "Qwen2.5-Coder-3B-Q4_K_M.gguf", "1.9 GB",
     "bartowski"},
    {"qwen2.5-coder-7b:q8_0", "ggml-org/Qwen2.5-Coder-7B-Q8_0-GGUF", "qwen2.5-coder-7b-q8_0.gguf", "8.1 GB",
     "ggml-org"},
    {"qwen2.5-coder-7b:q4_k_m", "QuantFactory/Qwen2.5-Coder-7B-GGUF", "Qwen2.5-Coder-7B.Q4_K_M.gguf", "4.7 GB",
     "QuantFactory"},
    // Vision-language (issue 19: images into the prompt): the LM and its vision
    // tower from ggml-org's repository (what llama.cpp's `-hf` users pull;
    // public projects pin these files): Qwen2.5-VL-3B-Instruct-Q4_K_M.gguf
    // 1,929,901,056 bytes and the F16 tower mmproj-Qwen2.5-VL-3B-Instruct-f16.gguf
    // 1,338,428,128 bytes at revision 5037fcf163dd95d1e41d1974465f0898ed108ca2. The F16 tower: astfill runs it
    // int8 itself (the last block and the merger f32), from exact weights.
    {"qwen2.5-vl-3b:q4_k_m", "ggml-org/Qwen2.5-VL-3B-Instruct-GGUF", "Qwen2.5-VL-3B-Instruct-Q4_K_M.gguf",
     "1.9+1.3 GB", "ggml-org", "mmproj-Qwen2.5-VL-3B-Instruct-f16.gguf"},
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// 'text' (built by appending: GCC 12 warns falsely about "'" + string).
std::string quoted(std::string_view text) {
  std::string out = "'";
  out += text;
  out += "'";
  return out;
}

// The last path segment of a URL, without query or fragment; "" when there is
// none or it could climb out of the models directory.
std::string url_file_name(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  auto slash = url.rfind('/');
  std::string name(slash == std::string_view::npos ? url : url.substr(slash + 1));
  if (name.empty() || name == "." || name == ".." || name.find('\\') != std::string::npos) return "";
  return name;
}

}  // namespace

std::span<const KnownModel> known_models() { return kKnownModels; }

const KnownModel* find_known_model(std::string_view name) {
  for (const auto& m : kKnownModels)
    if (iequals(m.name, name)) return &m;
  return nullptr;
}

std::string cached_file_name(const KnownModel& model) {
  std::string name = model.name;
  std::replace(name.begin(), name.end(), ':', '-');
  return name + ".gguf";
}

std::string cached_mmproj_file_name(const KnownModel& model) {
  std::string name = cached_file_name(model);
  return name.substr(0, name.size() - 5) + ".mmproj.gguf";
}

std::string hub_endpoint() {
  std::string endpoint = "https://huggingface.co";
  for (const char* var : {"ASTFILL_HF_ENDPOINT", "HF_ENDPOINT"}) {
    const char* value = std::getenv(var);
    if (value && *value) {
      endpoint = value;
      break;
    }
  }
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

std::optional<PullSource> parse_pull_source(std::string_view argument, std::string_view endpoint,
                                            std::string& error) {
  if (const KnownModel* m = find_known_model(argument)) {
    const std::string base = std::string(endpoint) + "/" + m->repo + "/resolve/main/";
    PullSource source{base + m->file, cached_file_name(*m), m->name, "", ""};
    if (m->mmproj) {
      source.mmproj_url = base + m->mmproj;
      source.mmproj_file_name = cached_mmproj_file_name(*m);
    }
    return source;
  }
  if (starts_with(argument, "hf://")) {
    // org/repo/path/in/repo.gguf: at least three segments.
    std::string_view rest = argument.substr(5);
    auto first = rest.find('/');
    auto second = first == std::string_view::npos ? first : rest.find('/', first + 1);
    if (second == std::string_view::npos || second + 1 >= rest.size()) {
      error = quoted(argument) + " is not hf://ORG/REPO/FILE";
      return std::nullopt;
    }
    std::string file = url_file_name(rest);
    if (file.empty()) {
      error = quoted(argument) + " names no file";
      return std::nullopt;
    }
    return PullSource{std::string(endpoint) + "/" + std::string(rest.substr(0, second)) + "/resolve/main/" +
                          std::string(rest.substr(second + 1)),
                      file, ""};
  }
  if (starts_with(argument, "https://") || starts_with(argument, "http://")) {
    std::string file = url_file_name(argument);
    if (file.empty()) {
      error = "the URL " + quoted(argument) + " does not end in a file name";
      return std::nullopt;
    }
    return PullSource{std::string(argument), file, ""};
  }
  error = quoted(argument) + " is not a known model, an http(s) URL or hf://ORG/REPO/FILE";
  return std::nullopt;
}

}  // namespace astfill::hub
