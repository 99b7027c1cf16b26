// The client's `astfill.*` settings, from initializationOptions and
// workspace/didChangeConfiguration, mapped onto the core's Options.
//
// A setting with the wrong type is reported (naming the key) and ignored: the
// previous value stays. Unknown keys are reported once so typos are visible.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "workspace/settings.h"

namespace astfill::lsp {

using workspace::IndexSettings;
using workspace::Settings;

// `section` is the value of the "astfill" key. Returns warnings.
std::vector<std::string> apply_settings(const boost::json::value& section, Settings& settings);

boost::json::value to_json(const Settings& settings);

}  // namespace astfill::lsp
