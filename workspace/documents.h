// The open documents of one workspace session, as the editor sees them, with
// their syntax trees kept in sync with the edits.
//
// Owned by the session's thread (the daemon's loop thread). Work on other
// threads gets an immutable snapshot (shared text + version), so an edit never
// races a completion. Edits are validated before anything changes: a change
// whose ranges fall outside the document is refused whole and the document
// keeps its last good text and version.
//
// Syntax trees. Each document keeps a tree-sitter tree (parsing::Document)
// that follows the text by incremental reparses: an edit only records what
// moved (cheap, on the session's thread); the first question that needs the
// tree brings it up to date on the worker that asks, applying each recorded
// edit with one incremental reparse (tree-sitter reuses every subtree the edit
// did not touch). So a keystroke costs one incremental parse at most, and a
// question on an unchanged document costs none. `parses` counts them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "parsing/document.h"
#include "support/cancel.h"
#include "workspace/positions.h"

namespace astfill::workspace {

// How often a document's tree was parsed: once from scratch when first
// needed (and after a whole-text replacement), then once per edit.
struct ParseCounts {
  uint64_t full = 0;
  uint64_t incremental = 0;
};

// A document's syntax tree, brought up to date on demand. Thread-safe.
class DocumentTree {
 public:
  DocumentTree(std::string language_id, std::shared_ptr<const std::string> text);

  // Records an edit of the text: bytes [start, old_end) became `new_text`;
  // `sequence` is the document's edit count after it.
  // `text` is the whole text after it (null when more edits of the same change follow).
  void record_edit(uint64_t sequence, uint32_t start, uint32_t old_end, std::string new_text,
                   std::shared_ptr<const std::string> text);
  // Records a whole-text replacement (a change without a range, didSave with text).
  void record_replace(uint64_t sequence, std::shared_ptr<const std::string> text);

  // The tree of the document as it was after edit `sequence`, parsed now if
  // needed; null when the language has no grammar, when parsing was cancelled
  // or timed out, or when the tree has already moved past `sequence` (a newer
  // edit arrived and another question brought the tree up to it).
  // With a timeout in `limits`: a text that did not parse within a timeout
  // is not tried again with one as short (unless it shrank), so a huge
  // document costs its questions nothing once it is known not to fit; then
  // `*timed_out` is set, as it is when the parse runs out of time.
  std::shared_ptr<const parsing::Document> at(uint64_t sequence, const parsing::ParseLimits& limits = {},
                                              bool* timed_out = nullptr);

  // Never waits for a parse in progress (the loop thread asks, for status).
  ParseCounts counts() const;

 private:
  struct Edit {
    uint64_t sequence;
    bool replace;  // the whole text replaced by `text`
    uint32_t start, old_end;
    std::string new_text;
    std::shared_ptr<const std::string> text;
  };

  // Edits no question asked for pile up in `pending_`; past this many the
  // tree is dropped and the next question parses the latest text afresh.
  static constexpr size_t kMaxPending = 1024;

  mutable std::mutex mu_;
  std::string language_id_;
  std::shared_ptr<const std::string> latest_text_;  // the text after the newest edit
  uint64_t latest_sequence_ = 0;
  std::shared_ptr<parsing::Document> tree_;         // null until first needed
  uint64_t tree_sequence_ = 0;                       // the edit the tree's text is at
  std::vector<Edit> pending_;                        // edits after tree_sequence_, oldest first
  // The longest timeout a parse of a text of at least `too_long_bytes_` ran
  // out of (0: none did).
  std::chrono::milliseconds too_long_timeout_{0};
  size_t too_long_bytes_ = 0;
  // Separate from mu_, which is held through parses.
  mutable std::mutex counts_mu_;
  ParseCounts counts_;
};

struct DocumentSnapshot {
  std::string uri;
  std::string language_id;
  int64_t version = 0;
  std::shared_ptr<const std::string> text;
  // The document's tree and the edit this text is at, for tree->at(sequence).
  std::shared_ptr<DocumentTree> tree;
  uint64_t sequence = 0;
};

struct ContentChange {
  std::optional<Range> range;  // absent: the text replaces the whole document
  std::string text;
};

class DocumentStore {
 public:
  // Opens (or reopens) a document. Invalid UTF-8 is replaced by U+FFFD; the
  // returned string, when set, is a warning describing the replacement.
  std::optional<std::string> open(std::string uri, std::string language_id, int64_t version,
                                   std::string text);

  // Applies the changes in order, atomically. On failure nothing changes and
  // the error names the change and what was wrong with it.
  struct ChangeResult {
    bool ok = true;
    std::string error;    // when !ok
    std::string warning;  // e.g. invalid UTF-8 replaced
  };
  ChangeResult change(const std::string& uri, std::optional<int64_t> version,
                      const std::vector<ContentChange>& changes, PositionEncoding enc);

  // Replaces the text when a didSave carries it (includeText). Same rules as open.
  std::optional<std::string> saved(const std::string& uri, std::optional<std::string> text);

  bool close(const std::string& uri);
  std::optional<DocumentSnapshot> get(const std::string& uri) const;
  std::vector<std::string> uris() const;
  size_t size() const { return docs_.size(); }

 private:
  struct Doc {
    std::string language_id;
    int64_t version = 0;
    std::shared_ptr<const std::string> text;
    std::shared_ptr<DocumentTree> tree;
    uint64_t sequence = 0;  // edits applied since open
  };
  std::map<std::string, Doc> docs_;
};

}  // namespace astfill::workspace
