#include "workspace/documents.h"

#include <sstream>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace astfill::workspace {
namespace {

std::string describe(const Position& p) {
  return std::to_string(p.line) + ":" + std::to_string(p.character);
}

std::optional<std::string> utf8_warning(const std::string& uri, std::string& text) {
  auto bad = first_invalid_utf8(text);
  if (!bad) return std::nullopt;
  size_t n = sanitize_utf8(text);
  std::ostringstream os;
  os << uri << ": text is not valid UTF-8 (first bad byte at offset " << *bad << "); " << n
     << " invalid byte" << (n == 1 ? "" : "s") << " replaced with U+FFFD";
  return os.str();
}

// Past this size a document's text and trees take enough memory (a tree
// takes ~100x its text) that glibc's heap keeps hundreds of megabytes after
// they are freed: handing the free pages back is worth a malloc_trim.
constexpr size_t kTrimAfterBytes = 256 << 10;

void give_back_free_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

// A document's tree; the last holder of a large one (the store, a
// question's snapshot on a worker) gives the freed memory back to the
// system as it lets go.
std::shared_ptr<DocumentTree> tree_for(const std::string& language_id, std::shared_ptr<const std::string> text) {
  bool large = text->size() >= kTrimAfterBytes;
  return std::shared_ptr<DocumentTree>(new DocumentTree(language_id, std::move(text)), [large](DocumentTree* t) {
    delete t;
    if (large) give_back_free_memory();
  });
}

}  // namespace

// ---- DocumentTree -----------------------------------------------------------------

DocumentTree::DocumentTree(std::string language_id, std::shared_ptr<const std::string> text)
    : language_id_(std::move(language_id)), latest_text_(std::move(text)) {}

void DocumentTree::record_edit(uint64_t sequence, uint32_t start, uint32_t old_end, std::string new_text,
                               std::shared_ptr<const std::string> text) {
  std::lock_guard lock(mu_);
  if (text) {  // null for a change followed by others in the same notification
    latest_text_ = std::move(text);
    latest_sequence_ = sequence;
  }
  if (!tree_) return;  // the first question parses the latest text
  pending_.push_back(Edit{sequence, false, start, old_end, std::move(new_text), nullptr});
  if (pending_.size() > kMaxPending) {
    tree_.reset();
    pending_.clear();
  }
}

void DocumentTree::record_replace(uint64_t sequence, std::shared_ptr<const std::string> text) {
  std::lock_guard lock(mu_);
  latest_text_ = text;
  latest_sequence_ = sequence;
  if (!tree_) return;
  pending_.push_back(Edit{sequence, true, 0, 0, {}, std::move(text)});
  if (pending_.size() > kMaxPending) {
    tree_.reset();
    pending_.clear();
  }
}

std::shared_ptr<const parsing::Document> DocumentTree::at(uint64_t sequence, const parsing::ParseLimits& limits,
                                                         bool* timed_out) {
  std::lock_guard lock(mu_);
  auto ran_out = [&] {
    if (timed_out) *timed_out = true;
    return nullptr;
  };
  // A text known not to parse within this long is not tried again (a few
  // keystrokes change its size by nothing that matters).
  auto futile = [&](size_t bytes) {
    return limits.timeout.count() > 0 && too_long_timeout_.count() > 0 && limits.timeout <= too_long_timeout_ &&
           bytes >= too_long_bytes_;
  };
  auto note_timeout = [&](const parsing::Document& d) {
    if (d.status() != parsing::ParseStatus::TimedOut) return false;
    too_long_timeout_ = std::max(too_long_timeout_, limits.timeout);
    too_long_bytes_ = d.text().size() - d.text().size() / 8;
    return true;
  };
  if (!tree_) {
    // Only the newest text is kept before the first parse.
    if (sequence != latest_sequence_) return nullptr;
    if (futile(latest_text_->size())) return ran_out();
    tree_ = std::make_shared<parsing::Document>(language_id_, *latest_text_, limits);
    tree_sequence_ = latest_sequence_;
    pending_.clear();
    if (tree_->status() == parsing::ParseStatus::Unsupported) return nullptr;
    {
      std::lock_guard counts(counts_mu_);
      ++counts_.full;
    }
    if (note_timeout(*tree_)) return ran_out();
  }
  if (tree_->status() == parsing::ParseStatus::Unsupported || sequence < tree_sequence_) return nullptr;
  size_t applied = 0;
  for (; applied < pending_.size() && pending_[applied].sequence <= sequence; ++applied) {
    Edit& e = pending_[applied];
    if (e.replace) {
      tree_ = std::make_shared<parsing::Document>(language_id_, *e.text, limits);
      std::lock_guard counts(counts_mu_);
      ++counts_.full;
      // A replacement that ran out of time is noted below, after the edits.
    } else {
      // A question may still hold the old tree: edit a copy then (the text
      // and a ts_tree_copy).
      if (tree_.use_count() > 1) tree_ = std::make_shared<parsing::Document>(*tree_);
      tree_->edit(e.start, e.old_end, e.new_text, limits);
      std::lock_guard counts(counts_mu_);
      ++counts_.incremental;
    }
    tree_sequence_ = e.sequence;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(applied));
  if (tree_->status() == parsing::ParseStatus::Cancelled || tree_->status() == parsing::ParseStatus::TimedOut) {
    if (tree_->status() == parsing::ParseStatus::TimedOut && futile(tree_->text().size())) return ran_out();
    if (tree_.use_count() > 1) tree_ = std::make_shared<parsing::Document>(*tree_);
    tree_->reparse(limits);
    std::lock_guard counts(counts_mu_);
    ++counts_.incremental;
  }
  if (note_timeout(*tree_)) return ran_out();
  if (tree_sequence_ != sequence || tree_->status() != parsing::ParseStatus::Parsed) return nullptr;
  return tree_;
}

ParseCounts DocumentTree::counts() const {
  std::lock_guard lock(counts_mu_);
  return counts_;
}

// ---- DocumentStore ----------------------------------------------------------------

std::optional<std::string> DocumentStore::open(std::string uri, std::string language_id,
                                               int64_t version, std::string text) {
  auto warning = utf8_warning(uri, text);
  auto shared = std::make_shared<const std::string>(std::move(text));
  auto tree = tree_for(language_id, shared);
  docs_[std::move(uri)] = Doc{std::move(language_id), version, std::move(shared), std::move(tree), 0};
  return warning;
}

DocumentStore::ChangeResult DocumentStore::change(const std::string& uri,
                                                  std::optional<int64_t> version,
                                                  const std::vector<ContentChange>& changes,
                                                  PositionEncoding enc) {
  ChangeResult result;
  auto it = docs_.find(uri);
  if (it == docs_.end()) {
    result.ok = false;
    result.error = uri + ": didChange for a document that is not open";
    return result;
  }
  std::string text = *it->second.text;
  // What each change did to the bytes, for the tree once all are valid.
  struct Applied {
    std::optional<std::pair<size_t, size_t>> range;  // none: whole text
    std::string text;
  };
  std::vector<Applied> applied;
  for (size_t i = 0; i < changes.size(); ++i) {
    const ContentChange& c = changes[i];
    std::string replacement = c.text;
    if (auto w = utf8_warning(uri, replacement)) result.warning = *w;
    if (!c.range) {
      text = replacement;
      applied.push_back({std::nullopt, std::move(replacement)});
      continue;
    }
    auto fail = [&](const std::string& what) {
      std::ostringstream os;
      os << uri << ": contentChanges[" << i << "] range " << describe(c.range->start) << "-"
         << describe(c.range->end) << " " << what << "; the change was not applied (document stays at version "
         << it->second.version << ")";
      result.ok = false;
      result.error = os.str();
      return result;
    };
    if (c.range->end < c.range->start) return fail("ends before it starts");
    auto start = offset_at(text, c.range->start, enc);
    auto end = offset_at(text, c.range->end, enc);
    if (!start || !end) {
      return fail("lies outside the document, which has " + std::to_string(line_count(text)) +
                  " lines");
    }
    text.replace(*start, *end - *start, replacement);
    applied.push_back({std::pair{*start, *end}, std::move(replacement)});
  }
  Doc& doc = it->second;
  doc.text = std::make_shared<const std::string>(std::move(text));
  if (version) doc.version = *version;
  // The tree replays the changes one by one; intermediate texts exist only
  // as edits (only the last full text is kept).
  for (size_t i = 0; i < applied.size(); ++i) {
    ++doc.sequence;
    bool last = i + 1 == applied.size();
    auto& a = applied[i];
    if (!a.range) {
      doc.tree->record_replace(doc.sequence, last ? doc.text : std::make_shared<const std::string>(a.text));
    } else {
      doc.tree->record_edit(doc.sequence, static_cast<uint32_t>(a.range->first),
                            static_cast<uint32_t>(a.range->second), std::move(a.text),
                            last ? doc.text : nullptr);
    }
  }
  return result;
}

std::optional<std::string> DocumentStore::saved(const std::string& uri,
                                                std::optional<std::string> text) {
  auto it = docs_.find(uri);
  if (it == docs_.end() || !text) return std::nullopt;
  auto warning = utf8_warning(uri, *text);
  Doc& doc = it->second;
  if (*doc.text == *text) return warning;
  doc.text = std::make_shared<const std::string>(std::move(*text));
  doc.tree->record_replace(++doc.sequence, doc.text);
  return warning;
}

bool DocumentStore::close(const std::string& uri) { return docs_.erase(uri) > 0; }

std::optional<DocumentSnapshot> DocumentStore::get(const std::string& uri) const {
  auto it = docs_.find(uri);
  if (it == docs_.end()) return std::nullopt;
  const Doc& d = it->second;
  return DocumentSnapshot{uri, d.language_id, d.version, d.text, d.tree, d.sequence};
}

std::vector<std::string> DocumentStore::uris() const {
  std::vector<std::string> out;
  for (auto& [uri, _] : docs_) out.push_back(uri);
  return out;
}

}  // namespace astfill::workspace
