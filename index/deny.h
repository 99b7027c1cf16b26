// Paths whose files hold credentials rather than code (`.env`, keys, cloud
// and package-registry credentials, `secrets/`): never indexed as context,
// and the workspace gives them no completions. Patterns use gitignore syntax
// (index/ignore.h) and apply at any depth; a setting adds more. Unlike an
// ignore file's, a deny pattern cannot be negated by `!` in .gitignore or
// .astfillignore: those only ever leave more files out.
//
// What a folder's .astfillignore files leave out is kept from completions
// too (astfill_ignored); .gitignore's patterns are not: an ignored build
// script or local config still gets completions, it is only not indexed.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "index/ignore.h"

namespace astfill::index {

class DenyList {
 public:
  // The built-in patterns, and `extra` ones (gitignore syntax, e.g. from the
  // `astfill.index.denyPaths` setting).
  explicit DenyList(const std::vector<std::string>& extra = {});

  static const std::vector<std::string>& builtin_patterns();

  // `path`: relative to the workspace root, '/'-separated. True when the file
  // or one of the directories above it matches a pattern.
  bool denied(std::string_view path) const;

 private:
  IgnoreFile patterns_;
};

// Whether the .astfillignore files from the workspace folder `root` down to
// the folder of `path` (relative to `root`, '/'-separated) leave the file
// out, itself or a directory above it. Only .astfillignore files count, not
// .gitignore or .git/info/exclude. They are read afresh on each call (one
// open per directory level, most of them absent), so an edit applies at once.
bool astfill_ignored(const std::filesystem::path& root, std::string_view path);

}  // namespace astfill::index
