// What `astfill tune` learns from: the repository's files as the index sees
// them (ignore files honoured, .git and deny-listed credentials left out),
// less vendored, generated, minified and huge files; a held-out share of the
// files (chosen by a hash of the path, so the same files every run) for
// evaluation; and fill-in-the-middle samples cut from them, rendered by the
// very prompt builder completion uses (completion/model_prompt.h), so the
// adapter learns the layout it will be asked in.
#pragma once

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "completion/prompt.h"
#include "engine/tokenizer.h"
#include "train/lora_model.h"

namespace astfill::train {

struct SampleOptions {
  size_t max_tokens = 512;               // a whole sample: prompt, middle and end token
  size_t max_middle_tokens = 64;
  uint64_t max_file_bytes = 256 << 10;   // larger files are left out (data, not code)
  double held_out_share = 0.1;           // of the files, by path hash
};

struct SourceFile {
  std::string path;  // relative to the root
  std::string language_id;
  std::string text;
};

struct RepositoryFiles {
  std::vector<SourceFile> train, held_out;
  // What was left out, and why.
  size_t ignored = 0, vendored = 0, generated = 0, minified = 0, too_large = 0, binary_or_empty = 0;
};

// Why a file is not training material ("vendored", "generated", "minified"),
// or empty when it is.
std::string_view unwanted_file_reason(std::string_view path, std::string_view text);

// Whether a path belongs to the held-out share (a stable hash of the path).
bool is_held_out(std::string_view path, double share);

// The repository's source files (those the index would parse), split into
// training and held-out files. Throws std::runtime_error when the root is
// not a readable directory.
RepositoryFiles collect_files(const std::filesystem::path& root, const SampleOptions& options);

// A fill-in-the-middle sample of `file`: a cursor inside a random line, a
// middle to that line's end and up to a few lines more, the prompt around
// it as completion builds it (repository layout, prefix and suffix within
// the budgets), then the middle's tokens and the end-of-text token, which
// are the sample's targets. Empty tokens when the file has no room for one.
Sample make_fim_sample(const engine::Tokenizer& tokenizer, const completion::FimTemplate& fim,
                       const std::string& repo_name, const SourceFile& file, std::mt19937_64& rng,
                       const SampleOptions& options);

}  // namespace astfill::train
