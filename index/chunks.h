// Cutting a file into chunks of code for similar-code retrieval (BM25 over
// FTS5), and turning a window of code into the query that finds them.
//
// Chunking. A chunk is a run of whole lines, normally 20 to 40 of them. It
// ends where a definition starts, so that a chunk tends to hold whole
// functions and classes with their neighbours rather than two halves:
//   - a chunk starting at line s ends at the first top-level definition that
//     starts in [s + min_lines, s + max_lines];
//   - failing that, at the first nested definition (a method, a member)
//     starting in that range;
//   - failing that, after the last blank line in it;
//   - failing that, at s + max_lines (a long function is cut into windows);
//   - a chunk also ends once it holds max_bytes (minified code), at a line
//     boundary; a single longer line is a chunk of its own;
//   - a last chunk shorter than min_lines / 4 joins the one before it;
//   - chunks with no visible characters are dropped.
// Small definitions therefore share a chunk, and a chunk starts where a
// definition does whenever one is near.
//
// Retrieval (store.cpp) searches the chunks with FTS5 for the window's terms
// and ranks them by BM25; identifiers are single tokens ('_' is a token
// character), and terms found in most chunks are left out of the query.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parsing/symbols.h"

namespace astfill::index {

struct ChunkOptions {
  uint32_t min_lines = 20;
  uint32_t max_lines = 40;
  size_t max_bytes = 8 * 1024;
};

struct CodeChunk {
  uint32_t start_line = 0;  // zero-based
  uint32_t end_line = 0;    // exclusive
  std::string text;
};

std::vector<CodeChunk> chunk_file(std::string_view text, const std::vector<parsing::Definition>& definitions,
                                  const ChunkOptions& options = {});

// The words of a window of code to look for in chunks: its distinct
// identifiers, nearest the end (the cursor) first, at most `max_terms`,
// leaving out one-letter names, numbers and keywords common to many languages.
std::vector<std::string> window_terms(std::string_view window, size_t max_terms = 48);

// An FTS5 MATCH expression for chunks holding any of `terms`: each quoted (so
// that FTS5 syntax in them is just text), joined with OR. "" for no terms.
std::string match_any(const std::vector<std::string>& terms);

}  // namespace astfill::index
