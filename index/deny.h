// Paths whose files hold credentials rather than code (`.env`, keys, cloud
// and package-registry credentials, `secrets/`): never indexed as context,
// and the workspace gives them no completions. Patterns use gitignore syntax
// (index/ignore.h) and apply at any depth; a setting adds more. Unlike an
// ignore file's, a deny pattern cannot be negated by `!` in .gitignore or
// .astfillignore: those only ever leave more files out.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "index/ignore.h"

namespace astfill::index {

class DenyList {
 public:
  // The built-in patterns, and `extra` ones (gitignore syntax, e.g. from the
  // `astfill.trust.denyPaths` setting).
  explicit DenyList(const std::vector<std::string>& extra = {});

  static const std::vector<std::string>& builtin_patterns();

  // `path`: relative to the workspace root, '/'-separated. True when the file
  // or one of the directories above it matches a pattern.
  bool denied(std::string_view path) const;

 private:
  IgnoreFile patterns_;
};

}  // namespace astfill::index
