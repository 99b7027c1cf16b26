// What `astfill complete` and `astfill batch` share: the options that choose
// the model, the workspace and the completion settings, and the setup they
// describe (a completion service with the model loaded, the workspace's
// index brought up to date), plus turning one result into JSON.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "cli/args.h"
#include "cli/model_options.h"
#include "cli/project_index.h"
#include "completion/service.h"

namespace astfill::cli {

struct CompletionSetupOptions {
  ModelOptions model;
  ProjectIndexOptions index;
  std::string root = ".";
  completion::Options completion;
  bool context = true;
  size_t context_tokens = 4096;
  void add_to(ArgParser& p);
};

struct CompletionSetup {
  std::shared_ptr<completion::CompletionService> service;
  std::shared_ptr<index::Index> index;  // null with --no-context
  std::filesystem::path root;
  std::string name;  // the workspace's name
  std::string error;  // set when the setup failed
};

// Loads the model and opens and syncs the index (printing progress on a
// terminal). On failure `error` names what went wrong.
CompletionSetup set_up_completion(const CompletionSetupOptions& options);

// The file's languageId by extension, or "" (with an error message).
std::string language_for(const std::string& path);

// The task's path relative to the root when it lies inside it.
std::string workspace_path(const CompletionSetup& setup, const std::string& path);

// The inline completion request for `rel` (a workspace path, or absolute)
// with `text` and the cursor at byte `offset`, as the options ask.
completion::InlineCompletionRequest completion_request(const CompletionSetup& setup,
                                                       const CompletionSetupOptions& options, const std::string& rel,
                                                       const std::string& language, std::string text, size_t offset);

boost::json::object details_json(const completion::CompletionDetails& d);

}  // namespace astfill::cli
