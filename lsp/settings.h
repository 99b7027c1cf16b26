// The client's `astfill.*` settings, from initializationOptions and
// workspace/didChangeConfiguration, mapped onto the core's Options.
//
// A setting with the wrong type is reported (naming the key) and ignored: the
// previous value stays. Unknown keys are reported once so typos are visible.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "workspace/folders.h"
#include "workspace/settings.h"

namespace astfill::lsp {

using workspace::IndexSettings;
using workspace::Settings;

// `section` is the value of the "astfill" key. Returns warnings. A relative
// astfill.adapter path is taken against `base_dir` (the workspace root: the
// first workspace folder), not the daemon's working directory; with no
// base_dir it stays as written.
std::vector<std::string> apply_settings(const boost::json::value& section, Settings& settings,
                                        const std::string& base_dir = "");

// The directory relative settings paths are taken against: the first
// folder's path, or "" for none (or a folder that is not a file: URI).
std::string settings_base_dir(const std::vector<workspace::Folder>& folders);

boost::json::value to_json(const Settings& settings);

}  // namespace astfill::lsp
