// What `astfill pull` can fetch by name: a small table of known GGUF models
// on Hugging Face, and the parsing of a pull argument (a known name, a full
// http(s) URL, or hf://org/repo/file.gguf) into a URL and the file name it is
// cached under.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace astfill::hub {

struct KnownModel {
  const char* name;       // what users type: "qwen2.5-coder-1.5b:q8_0"
  const char* repo;       // Hugging Face repository: "ggml-org/Qwen2.5-Coder-1.5B-Q8_0-GGUF"
  const char* file;       // the file in the repository
  const char* size;       // approximate download size, for the list ("1.6 GB")
  const char* publisher;  // who converted it (the official Qwen org publishes no base GGUFs)
  // A vision-language model's vision tower (llama.cpp's mmproj GGUF) in the
  // same repository, pulled with it; null for text models.
  const char* mmproj = nullptr;
};

std::span<const KnownModel> known_models();

// The known model of that name (case-insensitive), or null.
const KnownModel* find_known_model(std::string_view name);

// The file a known model is cached under: its name with ':' turned into '-',
// plus ".gguf" ("qwen2.5-coder-1.5b-q8_0.gguf"), whatever the upstream name.
std::string cached_file_name(const KnownModel& model);

// The file its vision tower is cached under, beside the model's:
// "qwen2.5-vl-3b-q4_k_m.mmproj.gguf" (projector_file_for finds it from the
// model's path).
std::string cached_mmproj_file_name(const KnownModel& model);

// Where Hugging Face is: $ASTFILL_HF_ENDPOINT, else $HF_ENDPOINT (what
// huggingface_hub reads, for mirrors), else https://huggingface.co. No
// trailing slash.
std::string hub_endpoint();

struct PullSource {
  std::string url;        // what to download
  std::string file_name;  // the file name in the models directory
  std::string name;       // the known model's name, or "" for a URL
  // A known vision-language model's vision tower, downloaded after the
  // model; both empty otherwise.
  std::string mmproj_url;
  std::string mmproj_file_name;
};

// A pull argument: a known name, http(s)://…/file, or hf://org/repo/path/file
// (resolved against `endpoint` at revision main). Sets `error` and returns
// nullopt for anything else, naming what was not understood.
std::optional<PullSource> parse_pull_source(std::string_view argument, std::string_view endpoint,
                                            std::string& error);

}  // namespace astfill::hub
