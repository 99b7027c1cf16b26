// What a user can tune about completions. Plain data: lsp/ fills it from the
// client's `astfill.*` settings, the CLI from flags.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "completion/remote_backend.h"

namespace astfill::completion {

struct Options {
  bool enable = true;                      // astfill.enable
  std::map<std::string, bool> languages;   // astfill.languages: languageId -> enabled
  unsigned max_tokens = 64;                // astfill.maxTokens
  unsigned timeout_ms = 1000;              // astfill.timeoutMs
  std::string model;                       // astfill.model: a model path ("" = embedded default)
  unsigned prefix_tokens = 1024;           // astfill.context.prefixTokens
  unsigned suffix_tokens = 256;            // astfill.context.suffixTokens
  unsigned cross_file_tokens = 1024;       // astfill.context.crossFileTokens (0: no cross-file context)
  bool constrain = true;                   // astfill.constraints: syntax and API constraints while decoding
  bool api_constraint = true;              // with `constrain`: member names after `receiver.` from the index
  bool speculate = true;                   // astfill.speculate: draft from the prompt, verify in one pass (same output)
  bool heal = true;                        // astfill.tokenHealing: a cursor inside a word rewrites the word (completion/healing.h)
  bool kv_persist = true;                  // astfill.kvPersist: hot prompt prefixes' KV kept on disk across restarts
  // astfill.adapter: LoRA adapters on the local model, "PATH" or "PATH:SCALE"
  // each (engine/lora.h); empty: none.
  std::vector<std::string> adapters;
  std::string fim_template;                // astfill.fimTemplate: "qwen", "starcoder2", ... ("" = from the model)
  RemoteBackend backend;                   // astfill.backend: where decoding runs (url "" = here)

  bool enabled_for(const std::string& language_id) const {
    if (!enable) return false;
    auto it = languages.find(language_id);
    return it == languages.end() || it->second;
  }
};

}  // namespace astfill::completion
