// The settings a workspace session works with, as C++ data. Front ends fill
// them: lsp/settings.* from the client's `astfill.*` JSON, the CLI from flags.
//
// Which settings belong to whom (docs/architecture.md, "Sessions and the
// daemon"):
//  - per session: everything in completion::Options but `model` (enable,
//    languages, maxTokens, timeoutMs, context.*, constraints, fimTemplate,
//    adapter: a LoRA adapter runs per session on the shared model) and
//    index.* (a session whose index settings differ gets its own index of the
//    folder; sessions with the same settings share one);
//  - per daemon: `model` (one model is loaded for every session: a second
//    copy would double the memory) and `logLevel` (one log). A session that
//    changes them changes them for all, and every session's status shows the
//    same model and model state.
#pragma once

#include <string>
#include <vector>

#include "completion/options.h"

namespace astfill::workspace {

// astfill.index.*: how the workspace folders are indexed. A change reopens
// the folders' indexes (incrementally: only what changed is reparsed).
struct IndexSettings {
  bool enable = true;
  unsigned max_file_kb = 1024;            // larger files are skipped
  std::vector<std::string> include_dirs;  // C/C++ include directories, relative to the folder
  // astfill.index.denyPaths: patterns (gitignore syntax) added to the built-in
  // deny-list of credential files (index/deny.h): not indexed, no completions.
  std::vector<std::string> deny_paths;
  bool operator==(const IndexSettings&) const = default;
};

// astfill.vision: the vision-language model of the image commands (issue 19,
// workspace/images.h), per daemon like `model`. `model` is the VL model's
// language model (GGUF, or a Hugging Face checkpoint that also holds the
// tower), `mmproj` its vision tower ("" = the tower is in `model`); names of
// pulled models are resolved like astfill.model's.
struct VisionSettings {
  std::string model;
  std::string mmproj;
  unsigned max_image_tokens = 256;
  bool operator==(const VisionSettings&) const = default;
};

struct Settings {
  completion::Options completion;
  IndexSettings index;
  VisionSettings vision;
  std::string log_level;  // "" = leave as started
};

}  // namespace astfill::workspace
