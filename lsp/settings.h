// The client's `astfill.*` settings, from initializationOptions and
// workspace/didChangeConfiguration, mapped onto the core's Options.
//
// A setting with the wrong type is reported (naming the key) and ignored: the
// previous value stays. Unknown keys are reported once so typos are visible.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "completion/options.h"

namespace astfill::lsp {

// astfill.index.*: how the workspace folders are indexed. A change reopens
// the folders' indexes (incrementally: only what changed is reparsed).
struct IndexSettings {
  bool enable = true;
  unsigned max_file_kb = 1024;            // larger files are skipped
  std::vector<std::string> include_dirs;  // C/C++ include directories, relative to the folder
  bool operator==(const IndexSettings&) const = default;
};

struct Settings {
  completion::Options completion;
  IndexSettings index;
  std::string log_level;  // "" = leave as started
};

// `section` is the value of the "astfill" key. Returns warnings.
std::vector<std::string> apply_settings(const boost::json::value& section, Settings& settings);

boost::json::value to_json(const Settings& settings);

}  // namespace astfill::lsp
