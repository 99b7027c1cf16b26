// From a cursor to the model's input tokens: the context (completion/
// context.h) within budgets derived from the settings, rendered with the
// model's FIM template (completion/prompt.h), encoded by the model's
// tokenizer. Shared by inline completions, fills and API suggestions.
//
// Text from the workspace never becomes a special token: the template's
// markers that appear in code (astfill's own sources mention <|fim_prefix|>)
// are broken up before rendering, so a file cannot steer the prompt. Secrets
// are already placeholders by then (build_context), so none is tokenised.
#pragma once

#include <string>
#include <vector>

#include "completion/context.h"
#include "completion/options.h"
#include "completion/prompt.h"
#include "engine/tokenizer.h"

namespace astfill::completion {

struct ModelPromptRequest {
  const index::SymbolIndex* index = nullptr;
  std::string path;
  std::string language_id;
  std::string_view text;
  size_t cursor = 0;        // the prefix ends here
  size_t suffix_begin = 0;  // the suffix starts here (>= cursor: a fill replaces what lies between)
  std::string repo_name;
  std::vector<ContextFile> recent_edits;
  std::vector<std::string> open_paths;  // files open in the editor (ContextRequest::open_paths)
  ContextBudgets budgets;
};

struct ModelPrompt {
  std::vector<int32_t> tokens;
  std::vector<int32_t> stop_tokens;
  const FimTemplate* fim = nullptr;
  ContextReport report;
};

// The budgets `options` ask for (cross_file_tokens shared among the sources;
// 0: no cross-file context), with room for `generate` tokens in a context of
// `context_tokens`.
ContextBudgets budgets_for(const Options& options, size_t context_tokens, size_t generate);

// The template `name` names, else the one the vocabulary has, else Qwen's.
const FimTemplate& template_for(const engine::Tokenizer& tokenizer, const std::string& name);

ModelPrompt build_model_prompt(const engine::Tokenizer& tokenizer, const FimTemplate& fim,
                               const ModelPromptRequest& request, const CancellationToken& cancel);

}  // namespace astfill::completion
