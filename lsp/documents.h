// The open documents of one client session, as the client sees them.
//
// Owned by the IO loop thread. Work on other threads gets an immutable
// snapshot (shared text + version), so an edit never races a completion.
// Edits are validated before anything changes: a didChange whose ranges fall
// outside the document is refused whole and the document keeps its last good
// text and version.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lsp/positions.h"

namespace astfill::lsp {

struct DocumentSnapshot {
  std::string uri;
  std::string language_id;
  int64_t version = 0;
  std::shared_ptr<const std::string> text;
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
  };
  std::map<std::string, Doc> docs_;
};

}  // namespace astfill::lsp
