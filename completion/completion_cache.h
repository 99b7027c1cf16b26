// Completions already computed, for typed-through reuse: when the user types
// the first characters of a shown suggestion, the rest is served from here
// without touching the model (and typing back within it too).
//
// An entry remembers where it was made: the document, the prefix's length and
// its last bytes (the anchor), and the rest of the cursor's line. A request
// whose prefix is that prefix plus the first k bytes of the completion, with
// the same rest of line, gets the completion's remaining bytes. Least recently
// used entries go first. An entry also remembers what the model ran with
// besides the text (its LoRA adapters: `made_with`, the session's adapter
// key), and serves only requests made with the same. Thread-safe.
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace astfill::completion {

class CompletionCache {
 public:
  explicit CompletionCache(size_t capacity = 256) : capacity_(capacity) {}

  // `prefix` is the document text before the cursor; `line_rest` the text
  // after the cursor up to the end of its line.
  void put(std::string_view document, std::string_view prefix, std::string_view line_rest, std::string completion,
           std::string_view made_with = {});

  struct Hit {
    std::string rest;   // what is left of the completion
    size_t typed = 0;   // how many of its bytes the user has typed since
  };
  std::optional<Hit> lookup(std::string_view document, std::string_view prefix, std::string_view line_rest,
                            std::string_view made_with = {});

  // Forgets a document's entries (closed, or edited away from the cursor).
  void forget(std::string_view document);
  size_t size() const;
  size_t hits() const;

 private:
  static constexpr size_t kAnchorBytes = 256;
  struct Entry {
    std::string document;
    size_t prefix_length = 0;
    std::string anchor;  // the prefix's last bytes
    std::string line_rest;
    std::string completion;
    std::string made_with;
  };
  mutable std::mutex mu_;
  std::list<Entry> entries_;  // most recently used first
  size_t capacity_;
  size_t hits_ = 0;
};

}  // namespace astfill::completion
