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

struct Settings {
  completion::Options completion;
  std::string log_level;  // "" = leave as started
};

// `section` is the value of the "astfill" key. Returns warnings.
std::vector<std::string> apply_settings(const boost::json::value& section, Settings& settings);

boost::json::value to_json(const Settings& settings);

}  // namespace astfill::lsp
