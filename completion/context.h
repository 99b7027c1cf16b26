// What the model sees besides the cursor: the current file's prefix and suffix
// cut to their budgets, and cross-file context from the project index (the
// API of imported modules, definitions of the names used near the cursor,
// similar code elsewhere) and from recently edited files.
//
// Every source has its own token budget, and a total caps them all so the
// model keeps room to generate. No one file may take more than a share of
// the cross-file budget, whatever sources it comes through.
//
// Text from the workspace is data (docs/security.md): secrets anywhere in the
// prompt are replaced by typed placeholders (trust/secrets.h) before anything
// is counted, and cross-file text loses its invisible and bidirectional-
// control characters (trust/invisible.h). When a file that is not open does
// not fit, its code is tried without its comments and docs. Context files are ordered stably (imported
// API, then definitions, then similar chunks, then recent edits; within each
// by path and position), and the prefix's first line moves in steps of
// several lines, so that between keystrokes the prompt keeps a long
// unchanged beginning for the KV cache to reuse.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "completion/excerpt.h"  // TokenCounter
#include "completion/prompt.h"
#include "index/symbol_index.h"
#include "support/cancel.h"

namespace astfill::completion {

// Budgets in tokens. A path shown with a context file counts towards its
// source's budget.
struct ContextBudgets {
  size_t prefix = 1024;
  size_t suffix = 256;
  size_t definitions = 384;  // definitions of names used near the cursor
  size_t imports = 256;      // the API of the modules the file imports
  size_t similar = 384;      // similar chunks of other files
  size_t recent = 256;       // excerpts of recently edited files
  // Everything together, context files, prefix and suffix. Cross-file
  // sources share what prefix and suffix leave, in the order definitions,
  // imports, similar chunks, recent edits.
  size_t total = 2048;
  // The most one file may take of the cross-file context (the sum of the
  // four sources' budgets, as far as the total leaves room), in percent.
  size_t file_share_percent = 50;
};

struct ContextRequest {
  const index::SymbolIndex* index = nullptr;  // null: no context from the index
  std::string path;                           // the current file, relative to the workspace root
  std::string language_id;
  std::string_view text;  // the current file's full text; must outlive the call
  size_t cursor = 0;      // byte offset in text
  std::string repo_name;  // the workspace's name
  std::vector<ContextFile> recent_edits;  // excerpts of recently edited files, most recent first
  // Files open in the editor, relative to the workspace root. Other files'
  // comments and docs are the first to go when their code does not fit.
  std::vector<std::string> open_paths;
  TokenCounter count_tokens;              // null: one token per 4 bytes, rounded up
  ContextBudgets budgets;
  size_t similar_chunks = 4;  // at most this many similar chunks
};

// What one source contributed.
struct SourceReport {
  size_t items = 0;   // definitions, chunks, excerpts or lines
  size_t tokens = 0;  // as the request's counter counts them
  bool operator==(const SourceReport&) const = default;
};

// What went into a prompt, for `--json` output and logs.
struct ContextReport {
  SourceReport prefix, suffix, imports, definitions, similar, recent;
  size_t prefix_first_line = 0;  // zero-based line of the file where the prefix starts
  size_t secrets_redacted = 0;   // secrets replaced by placeholders, in all parts
  size_t invisible_removed = 0;  // invisible and bidi-control characters removed from cross-file text
  size_t code_only_files = 0;    // context files shown without their comments or docs to fit
};

struct Context {
  PromptParts parts;
  ContextReport report;
};

// Never throws on odd input (a cursor past the end is the end; a file of one
// long line keeps the end of that line nearest the cursor). When cancelled,
// returns what it had gathered; the caller drops it anyway.
Context build_context(const ContextRequest& request, const CancellationToken& cancel = {});

}  // namespace astfill::completion
