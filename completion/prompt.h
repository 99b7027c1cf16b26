// Fill-in-the-middle prompts: each model family's template as data (the
// table in prompt.cpp), chosen by name or detected from a vocabulary, and the
// one function that renders a prompt from its parts.
//
// Order matters for speed as well as quality: everything stable comes first
// (the repository name, the context files, then the current file's prefix,
// then its suffix), so that between keystrokes the prompt changes as late as
// possible and a KV cache can keep the longest shared prefix.
//
// Templates with a repository layout (Qwen2.5-Coder, StarCoder2) give each
// context file its own section with its path. The others (DeepSeek-Coder,
// CodeLlama) were not trained with one; their context files become line
// comments, in the current file's language, at the top of the prefix.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace astfill::completion {

// A file (or an excerpt of one) shown to the model before the current file.
struct ContextFile {
  std::string path;  // relative to the workspace root
  std::string text;
  bool operator==(const ContextFile&) const = default;
};

struct PromptParts {
  std::string repo_name;
  std::vector<ContextFile> context_files;  // in prompt order
  std::string current_path;                // relative to the workspace root
  std::string language_id;                 // the current file's: chooses the comment syntax
  std::string prefix;                      // text before the cursor
  std::string suffix;                      // text after the cursor
};

// One model family's prompt layout. Patterns hold placeholders that
// render_prompt replaces in a single pass (so text that happens to contain
// "{prefix}" is never expanded): {repo}, {path}, {text}, {prefix}, {suffix}.
struct FimTemplate {
  std::string_view name;          // the setting's value: "qwen", "starcoder2", "deepseek", "codellama"
  std::string_view repo_header;   // {repo}; empty: the model has no repository layout
  std::string_view context_file;  // {path}, {text}; used only with a repo_header
  std::string_view current_file;  // {path} (repository layout only), {prefix}, {suffix}
  std::span<const std::string_view> stop;     // generation ends at any of these
  std::span<const std::string_view> markers;  // tokens a vocabulary of this family has, all of them

  bool repo_level() const { return !repo_header.empty(); }
};

// Every template, in detection order.
std::span<const FimTemplate> fim_templates();

// The template named `name`, or nullptr.
const FimTemplate* find_fim_template(std::string_view name);

// The first template whose markers the vocabulary has, or nullptr. `has_token`
// answers whether a token with exactly this text exists (for astfill's
// tokenizer: engine::Tokenizer::find_token). A marker also counts when the
// vocabulary spells it with SentencePiece's word-boundary mark ("▁<PRE>", as
// CodeLlama's does).
const FimTemplate* detect_fim_template(const std::function<bool(std::string_view)>& has_token);

// How `language_id` starts a line comment ("#", "//", "--"); "//" for
// languages it does not know.
std::string_view line_comment(std::string_view language_id);

std::string render_prompt(const FimTemplate& fim, const PromptParts& parts);

}  // namespace astfill::completion
