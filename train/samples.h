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
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "completion/context.h"
#include "completion/prompt.h"
#include "engine/tokenizer.h"
#include "index/symbol_index.h"
#include "train/lora_model.h"

namespace astfill::train {

// How a sample's middle is cut, as completion is asked for one:
//  - Line: from a cursor inside a line to its end (the rest of a line);
//  - Block: the statements of a short block (2-8 lines, after a line ending
//    in `:` or `{` and indented deeper), from its first statement;
//  - CallArgs: the arguments of a call on one line, from after its `(` (the
//    suffix starts with the `)`);
//  - Span: from a cursor inside a line to that line's end and 0-3 lines more
//    (the only cut before these; a middle that ends at no boundary of the
//    code's own).
// A file with no block or call for the cut drawn gets a Line cut.
enum class FimCut { Line, Block, CallArgs, Span };
const char* to_string(FimCut cut);

struct SampleOptions {
  size_t max_tokens = 512;               // a whole sample: prompt, middle and end token
  // A longer middle is cut to this many tokens and has no end token (the
  // fill is not complete there, so ending is not what the model should learn).
  size_t max_middle_tokens = 128;
  uint64_t max_file_bytes = 256 << 10;   // larger files are left out (data, not code)
  double held_out_share = 0.1;           // of the files, by path hash
  // The end token's weight in the loss, against 1 for each token of the
  // middle (Sample::weights). A model unsure of the middle spreads its
  // probability thin; an end token it learns to expect about once in every
  // middle's length is then the likeliest token at many places inside a
  // middle, and completions stop early. Measured on numpy with the demo
  // model (bench_tune --objective): at a weight of 1 the end was the most
  // likely token at 10-17% of the positions inside held-out middles after
  // 400 samples, at 0.3 at 1-3.5% after 1,200 (answers still ended early),
  // at 0.1 at under 0.5%, as for the base model.
  double end_weight = 0.1;
  // The mix of cuts (relative weights): what completion is asked, mostly.
  double line_weight = 0.3, block_weight = 0.3, call_args_weight = 0.3, span_weight = 0.1;
  // Cross-file context, as completion's astfill.context.crossFileTokens: with
  // a project index, a sample's prompt carries what completion would show
  // from other files (imported API, definitions of names near the cursor,
  // similar code) within the share of a context of max_tokens that completion
  // gives it (at most a quarter when the context is small). 0: none.
  size_t cross_file_tokens = 1024;
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

// A cut of `text`: the middle is [cursor, suffix_begin).
struct FimSpan {
  size_t cursor = 0, suffix_begin = 0;
};

// A random cut of `kind` in `text` (the cuts FimCut describes); nullopt when
// the text has none of that kind.
std::optional<FimSpan> pick_cut(std::string_view text, FimCut kind, std::mt19937_64& rng);

// The cut drawn from the options' mix (a Line cut where the file has none of
// the kind drawn; nullopt for a file without a non-blank line).
std::optional<FimSpan> draw_cut(std::string_view text, const SampleOptions& options, std::mt19937_64& rng,
                                FimCut* kind = nullptr);

// The fill-in-the-middle sample of `file` for a cut: the prompt around it
// as completion builds it (repository layout: with `index`, an index of the
// repository, cross-file context from it as SampleOptions::cross_file_tokens
// says, the current file never among it; prefix and suffix in completion's
// proportions within the room a context of max_tokens leaves once the middle
// fits), then the middle's tokens and the end-of-text token (none when the
// middle was cut to max_middle_tokens), which are the sample's targets. Empty
// tokens when the cut has no room. `report` (may be null) gets what went into
// the prompt.
Sample make_fim_sample(const engine::Tokenizer& tokenizer, const completion::FimTemplate& fim,
                       const std::string& repo_name, const SourceFile& file, FimSpan cut,
                       const SampleOptions& options, const index::SymbolIndex* index = nullptr,
                       completion::ContextReport* report = nullptr);

// A sample of `file` at a cut drawn from the options' mix.
Sample make_fim_sample(const engine::Tokenizer& tokenizer, const completion::FimTemplate& fim,
                       const std::string& repo_name, const SourceFile& file, std::mt19937_64& rng,
                       const SampleOptions& options, const index::SymbolIndex* index = nullptr,
                       completion::ContextReport* report = nullptr);

}  // namespace astfill::train
