// What `astfill complete` and `astfill batch` share: the options that choose
// the model, the workspace and the completion settings, and the setup they
// describe: the workspace core (workspace/workspace.h) of the folder, with the
// model loaded and the folder's index brought up to date, exactly as the
// daemon has it for an editor session; plus turning one result into JSON.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "support/args.h"
#include "cli/model_options.h"
#include "cli/project_index.h"
#include "completion/service.h"
#include "workspace/workspace.h"

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
  std::unique_ptr<workspace::Workspace> workspace;
  std::filesystem::path root;
  std::string name;   // the workspace's name
  std::string error;  // set when the setup failed
};

// Loads the model and opens and syncs the index (printing progress on a
// terminal). On failure `error` names what went wrong.
CompletionSetup set_up_completion(const CompletionSetupOptions& options);

// The file's languageId by extension, or "" (with an error message).
std::string language_for(const std::string& path);

// The task's path relative to the root when it lies inside it.
std::string workspace_path(const CompletionSetup& setup, const std::string& path);

// The document URI of `rel` (a workspace path, or absolute).
std::string document_uri(const CompletionSetup& setup, const std::string& rel);

// Waits until the index holds what the workspace fed it (the documents just
// opened or closed), so that a completion's context reflects them.
void wait_for_index(CompletionSetup& setup);

boost::json::object details_json(const completion::CompletionDetails& d);

// `text` as a JSON string, invalid UTF-8 replaced by U+FFFD.
boost::json::string json_text(std::string text);

}  // namespace astfill::cli
