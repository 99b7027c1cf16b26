#include "lsp/documents.h"

#include <sstream>

namespace astfill::lsp {
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

}  // namespace

std::optional<std::string> DocumentStore::open(std::string uri, std::string language_id,
                                               int64_t version, std::string text) {
  auto warning = utf8_warning(uri, text);
  docs_[std::move(uri)] =
      Doc{std::move(language_id), version, std::make_shared<const std::string>(std::move(text))};
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
  for (size_t i = 0; i < changes.size(); ++i) {
    const ContentChange& c = changes[i];
    std::string replacement = c.text;
    if (auto w = utf8_warning(uri, replacement)) result.warning = *w;
    if (!c.range) {
      text = std::move(replacement);
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
  }
  it->second.text = std::make_shared<const std::string>(std::move(text));
  if (version) it->second.version = *version;
  return result;
}

std::optional<std::string> DocumentStore::saved(const std::string& uri,
                                                std::optional<std::string> text) {
  auto it = docs_.find(uri);
  if (it == docs_.end() || !text) return std::nullopt;
  auto warning = utf8_warning(uri, *text);
  it->second.text = std::make_shared<const std::string>(std::move(*text));
  return warning;
}

bool DocumentStore::close(const std::string& uri) { return docs_.erase(uri) > 0; }

std::optional<DocumentSnapshot> DocumentStore::get(const std::string& uri) const {
  auto it = docs_.find(uri);
  if (it == docs_.end()) return std::nullopt;
  return DocumentSnapshot{uri, it->second.language_id, it->second.version, it->second.text};
}

std::vector<std::string> DocumentStore::uris() const {
  std::vector<std::string> out;
  for (auto& [uri, _] : docs_) out.push_back(uri);
  return out;
}

}  // namespace astfill::lsp
